// The civgrid web map: a MapLibre GL JS map over civgrid's own tiles, with
// an emergency mode and a planner mode. Served by `civgrid serve` at `/`.
import maplibregl from 'maplibre-gl';
import { apply, language, setLanguage, t } from './i18n.js';
import { controls, style } from './layers.js';
import * as emergency from './emergency.js';
import * as planner from './planner.js';
import { loadPalette, status } from './format.js';
import { fetchOwn, getToken, setToken, transformRequest } from './api.js';

const MODES = { emergency, planner };

async function start() {
  apply();
  const lang = document.getElementById('lang');
  const label = () => { lang.textContent = t('lang.switch'); };
  label();
  lang.addEventListener('click', () => { setLanguage(language() === 'zh' ? 'en' : 'zh'); label(); });
  status(t('status.loading'));

  // The token: for writes, and for reads on a server that wants one. When
  // the page could not read without it, typing it reloads the page.
  let refused = false;
  const token = document.getElementById('token');
  token.value = getToken();
  token.addEventListener('input', (e) => setToken(e.target.value));
  token.addEventListener('change', () => { if (refused) location.reload(); });

  // The territory's extent, from the TileJSON of the unit cells, and the
  // risk colours of the served tiles.
  const [extent] = await Promise.all([
    fetchOwn('/tiles/cells.json').then((r) => {
      if (r.status === 401) refused = true;
      return r.json();
    }).catch(() => ({})),
    loadPalette(),
  ]);
  const map = new maplibregl.Map({
    container: 'map',
    style: style(),
    bounds: extent.bounds,
    fitBoundsOptions: { padding: 20 },
    center: extent.bounds ? undefined : [120.15, 30.27],
    zoom: extent.bounds ? undefined : 11,
    attributionControl: false,
    fadeDuration: 0,
    canvasContextAttributes: { preserveDrawingBuffer: true },
    transformRequest,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  window.civgrid = { map };

  let mode = new URLSearchParams(location.search).get('mode') === 'planner' ? 'planner' : 'emergency';
  const setMode = (m) => {
    MODES[mode].clear?.(map);
    mode = m;
    document.body.dataset.mode = m;
    for (const b of document.querySelectorAll('#modes button')) b.classList.toggle('active', b.dataset.mode === m);
  };
  for (const b of document.querySelectorAll('#modes button')) b.addEventListener('click', () => setMode(b.dataset.mode));

  map.on('load', () => {
    controls(map);
    emergency.init(map);
    planner.init(map);
    setMode(mode);
    map.on('click', (e) => MODES[mode].click(map, e));
    for (const id of ['grids-fill', 'hazards', 'hazard-areas', 'facilities']) {
      map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
      map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
    }
    map.once('idle', () => {
      document.body.dataset.ready = 'true';
      if (refused) status(t('status.need_token'), true);
      else status(t('status.ready'));
    });
  });
  map.on('error', (e) => {
    if (refused) status(t('status.need_token'), true);
    else status(t('status.error', { detail: e.error?.message ?? String(e) }), true);
  });
}

start();
