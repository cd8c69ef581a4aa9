// Emergency mode: a click on the map asks for the nearest responders by
// road time (routes drawn) and by straight line, the place (cell, grid,
// worker, overlay zones) and the risk there; a
// click on a hazard shows its impact range; coverage within N minutes
// (uncovered cells) and search by cell or grid code.
import * as api from './api.js';
import { t, onLanguage } from './i18n.js';
import { setOverlay } from './layers.js';
import { escape, levelBadge, metres, seconds, status, table } from './format.js';

const kinds = () => document.getElementById('responder-kinds').value;
let last = null; // the last answers, redrawn on a language switch

/** Handles a map click in emergency mode. */
export async function click(map, e) {
  const hazard = map.queryRenderedFeatures(e.point, { layers: ['hazards', 'hazard-areas'] })[0];
  if (hazard) return showImpact(map, hazard.id ?? hazard.properties.id);
  const { lng: lon, lat } = e.lngLat;
  window.civgrid.lastClick = { lon, lat, kinds: kinds() };
  setOverlay(map, 'click', [point(lon, lat, {})]);
  status(t('status.loading'));
  try {
    const [byTime, byDistance, risk, place] = await Promise.all([
      api.nearest(lon, lat, 'time', kinds()).catch((err) => ({ error: err.message })),
      api.nearest(lon, lat, 'distance', kinds()),
      api.risk(lon, lat).catch((err) => ({ error: err.message })),
      api.locate(lon, lat).catch((err) => ({ error: err.message })),
    ]);
    last = { byTime, byDistance, risk, place };
    drawResponders(map, byTime, byDistance);
    render();
    status(t('status.ready'));
  } catch (err) {
    status(t('status.error', { detail: err.message }), true);
  }
}

function point(lon, lat, properties) {
  return { type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties };
}

function drawResponders(map, byTime, byDistance) {
  const routes = [];
  (byTime.nearest ?? []).forEach((n, i) => routes.push({ type: 'Feature', geometry: n.route, properties: { by: 'time', rank: i + 1, id: n.facility.id } }));
  byDistance.nearest.forEach((n, i) => routes.push({
    type: 'Feature',
    geometry: { type: 'LineString', coordinates: [[byDistance.lon, byDistance.lat], [n.facility.lon, n.facility.lat]] },
    properties: { by: 'distance', rank: i + 1, id: n.facility.id },
  }));
  setOverlay(map, 'routes', routes);
  const seen = new Map();
  for (const n of [...(byTime.nearest ?? []), ...byDistance.nearest]) seen.set(n.facility.id, n.facility);
  setOverlay(map, 'responders', [...seen.values()].map((f) => point(f.lon, f.lat, { id: f.id })));
}

function render() {
  if (!last) return;
  const { byTime, byDistance, risk, place } = last;
  const time = document.getElementById('responders-time');
  if (byTime.error) {
    time.innerHTML = `<li class="bad">${escape(byTime.error)}</li>`;
  } else {
    time.innerHTML = byTime.nearest.length ? byTime.nearest.map((n) => `<li data-id="${n.facility.id}">${escape(n.facility.name)} <span class="eta">${escape(t('responders.eta', {
      eta: seconds(n.eta_s), turnout: seconds(n.turnout_s), drive: seconds(n.drive_s), km: metres(n.distance_m),
    }))}</span></li>`).join('') : `<li>${t('responders.none')}</li>`;
    if (byTime.unreachable?.length) {
      time.insertAdjacentHTML('beforeend', `<p class="hint">${escape(t('responders.unreachable', { names: byTime.unreachable.map((u) => u.facility.name).join('、') }))}</p>`);
    }
  }
  document.getElementById('responders-distance').innerHTML = byDistance.nearest.length
    ? byDistance.nearest.map((n) => `<li data-id="${n.facility.id}">${escape(n.facility.name)} <span>${escape(metres(n.distance_m))}</span></li>`).join('')
    : `<li>${t('responders.none')}</li>`;
  document.getElementById('place-detail').innerHTML = placeHtml(place);
  document.getElementById('risk-detail').innerHTML = riskHtml(risk);
}

/** Where a click is: community, unit cell, household grid and its worker,
 * and every overlay zone (police beat, school-safety zone…) holding it. */
function placeHtml(p) {
  if (p.error) return `<h3>${t('place.title')}</h3><p class="hint">${escape(p.error)}</p>`;
  const none = t('place.none');
  // Without a token the service leaves the worker out (null: nobody).
  const worker = p.grid && !('worker' in p.grid)
    ? `<span class="hint">${t('people.withheld')}</span>`
    : p.grid?.worker ? `${escape(p.grid.worker.name)} ${escape(p.grid.worker.phone ?? '')}` : none;
  const zones = p.zones.length
    ? `<ul id="place-zones">${p.zones.map((z) => `<li data-layer="${escape(z.layer)}" data-code="${escape(z.code)}">${escape(z.name)} <span class="hint">${escape(z.layer)} ${escape(z.code)}</span></li>`).join('')}</ul>`
    : none;
  return `<h3>${t('place.title')}</h3>${table([
    [t('place.community'), escape(p.community ? `${p.community.name ?? ''} ${p.community.code}` : none)],
    [t('place.cell'), escape(p.cell?.code ?? none)],
    [t('place.grid'), escape(p.grid?.code ?? none)],
    [t('place.worker'), worker],
    [t('place.zones'), zones],
  ])}`;
}

/** The risk detail of a cell: level, score and the factors behind it. */
function riskHtml(r) {
  if (r.error) return `<h3>${t('risk.title')}</h3><p class="hint">${escape(r.error)}</p>`;
  const f = r.factors;
  const fire = f.fire_response;
  const fireText = fire?.seconds !== undefined ? seconds(fire.seconds) : escape(fire?.kind ?? '–');
  const hazards = r.hazards.length
    ? `<ul>${r.hazards.map((h) => `<li>${escape(h.name)} ${levelBadge(h.level)} ${escape(metres(h.distance_m))} × ${h.influence.toFixed(2)}</li>`).join('')}</ul>`
    : t('risk.none');
  return `<h3>${t('risk.title')}</h3>${table([
    [t('risk.cell'), escape(r.cell)],
    [t('risk.level'), `<span id="risk-level" data-level="${r.level}">${levelBadge(r.level)}</span>`],
    [t('risk.score'), `<span id="risk-score">${r.score.toFixed(3)}</span>`],
    [t('risk.floor'), levelBadge(r.floor)],
    [t('risk.hazard_term'), f.hazard_term.toFixed(3)],
    [t('risk.exposure'), f.exposure.toFixed(3)],
    [t('risk.response'), f.response.toFixed(3)],
    [t('risk.households'), String(f.households)],
    [t('risk.vulnerable'), String(f.vulnerable.length)],
    [t('risk.fire_response'), fireText],
    [t('risk.hazards'), hazards],
  ])}`;
}

let impactShown = null;

async function showImpact(map, id) {
  try {
    const r = await api.impact(id);
    impactShown = r;
    map.setFilter('impact', ['in', ['get', 'code'], ['literal', r.cells.map((c) => c.code)]]);
    renderImpact();
  } catch (err) {
    status(t('status.error', { detail: err.message }), true);
  }
}

function renderImpact() {
  const r = impactShown;
  if (!r) return;
  document.getElementById('impact').innerHTML = `<h3>${t('impact.title')}</h3><p id="impact-summary" data-cells="${r.cells.length}">${escape(t('impact.summary', {
    name: r.hazard.name, kind: r.hazard.kind, level: t(`level.${r.hazard.level}`), radius: metres(r.zone.radius_m),
    cells: r.cells.length, grids: r.grids.length, households: r.households, vulnerable: r.vulnerable.length,
  }))}</p>`;
}

let coverageShown = null;

/** The map's view as [minlon, minlat, maxlon, maxlat]. */
function view(map) {
  const b = map.getBounds();
  const clamp = (v, m) => +Math.min(m, Math.max(-m, v)).toFixed(6);
  return [clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180), clamp(b.getNorth(), 90)];
}

/** Asks for coverage and draws the uncovered cells in view (the search is kept by the server: moving the map only lists cells). */
async function showCoverage(map) {
  const minutes = document.getElementById('coverage-minutes').value || '5';
  try {
    const r = await api.coverage(kinds(), minutes, view(map));
    coverageShown = r;
    setOverlay(map, 'uncovered', r.uncovered.features);
    renderCoverage();
  } catch (err) {
    status(t('status.error', { detail: err.message }), true);
  }
}

function renderCoverage() {
  const r = coverageShown;
  document.getElementById('coverage-result').textContent = r ? t('coverage.result', {
    minutes: r.minutes, covered: r.cells.covered, total: r.cells.total, share: `${(r.cells.share * 100).toFixed(1)}%`,
    hcovered: r.households.covered, htotal: r.households.total, uncovered: r.cells.total - r.cells.covered,
  }) : '';
}

/** Finds a unit cell or household grid by its 15-digit code and shows it. */
async function search(map, code) {
  const out = document.getElementById('search-result');
  const [cell, grid] = await Promise.all([api.cell(code).catch(() => null), api.grid(code).catch(() => null)]);
  const found = [cell && ['search.cell', cell], grid && ['search.grid', grid]].filter(Boolean);
  if (!found.length) {
    out.textContent = t('search.none', { code });
    setOverlay(map, 'found', []);
    return;
  }
  out.innerHTML = found.map(([k, f]) => `<div>${t(k)} ${escape(f.properties.code)} ${escape(f.properties.name ?? '')}</div>`).join('');
  setOverlay(map, 'found', found.map(([, f]) => f));
  const coords = found.flatMap(([, f]) => f.geometry.coordinates.flat(3));
  const xs = [], ys = [];
  for (let i = 0; i < coords.length; i += 2) { xs.push(coords[i]); ys.push(coords[i + 1]); }
  map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 80, maxZoom: 17, duration: 0 });
}

/** Wires the mode's controls. */
export function init(map) {
  document.getElementById('coverage-show').addEventListener('click', () => showCoverage(map));
  map.on('moveend', () => { if (coverageShown) showCoverage(map); });
  document.getElementById('coverage-clear').addEventListener('click', () => {
    coverageShown = null;
    setOverlay(map, 'uncovered', []);
    renderCoverage();
  });
  document.getElementById('search').addEventListener('submit', (e) => {
    e.preventDefault();
    const code = document.getElementById('search-code').value.trim();
    if (code) search(map, code);
  });
  onLanguage(() => { render(); renderImpact(); renderCoverage(); });
}

/** Clears what the mode drew. */
export function clear(map) {
  for (const o of ['click', 'routes', 'responders', 'uncovered', 'found']) setOverlay(map, o, []);
  map.setFilter('impact', ['in', ['get', 'code'], ['literal', []]]);
}
