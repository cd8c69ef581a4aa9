// The civgrid web map: a MapLibre GL JS map over civgrid's own tiles, with
// an emergency mode and a planner mode. Served by `civgrid serve` at `/`.
import maplibregl from 'maplibre-gl';
import { apply, language, onLanguage, setLanguage, t } from './i18n.js';
import { CELLS_ZOOM, controls, style } from './layers.js';
import * as emergency from './emergency.js';
import * as planner from './planner.js';
import { escape, loadPalette, status } from './format.js';
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

  // The territory's places, most cells first (the map opens on the first
  // unless the URL names a view: #zoom/lat/lon), and the risk colours of
  // the served tiles.
  const [places] = await Promise.all([
    fetchOwn('/api/v1/places').then((r) => {
      if (r.status === 401) refused = true;
      return r.ok ? r.json() : { places: [] };
    }).then((b) => b.places).catch(() => []),
    loadPalette(),
  ]);
  const shared = /^#\d+(\.\d+)?\/-?\d+(\.\d+)?\/-?\d+(\.\d+)?/.test(location.hash);
  const first = shared ? undefined : places[0]?.bounds;
  const map = new maplibregl.Map({
    container: 'map',
    style: style(),
    hash: true,
    bounds: first,
    fitBoundsOptions: { padding: 20 },
    center: first || shared ? undefined : [120.15, 30.27],
    zoom: first || shared ? undefined : 11,
    attributionControl: false,
    fadeDuration: 0,
    canvasContextAttributes: { preserveDrawingBuffer: true },
    transformRequest,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  window.civgrid = { map, places };
  placeList(map, places);

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
    areaHover(map);
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

/** The place list: every place of the territory; choosing one flies there. */
function placeList(map, places) {
  const select = document.getElementById('places');
  const draw = () => {
    select.innerHTML = places.map((p, i) =>
      `<option value="${i}">${escape(t('places.cells', { name: p.name, cells: p.cells.toLocaleString() }))}</option>`).join('');
  };
  draw();
  onLanguage(draw);
  document.getElementById('places-row').hidden = places.length < 2;
  select.addEventListener('change', () => {
    const p = places[Number(select.value)];
    if (p) map.fitBounds(p.bounds, { padding: 20, duration: 0 });
  });
}

/** Below the cells' zoom, hovering a community shows its cells per level. */
function areaHover(map) {
  const popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false, className: 'area-popup' });
  map.on('mousemove', 'communities-fill', (e) => {
    const f = e.features?.[0];
    if (!f || map.getZoom() >= CELLS_ZOOM) return;
    const p = f.properties;
    const text = t('area.counts', {
      name: p.name ?? p.code,
      level: p.level ? t(`level.${p.level}`) : '—',
      cells: p.cells, red: p.red, orange: p.orange, yellow: p.yellow, blue: p.blue,
    });
    popup.setLngLat(e.lngLat).setText(text).addTo(map);
  });
  map.on('mouseleave', 'communities-fill', () => popup.remove());
}

start();
