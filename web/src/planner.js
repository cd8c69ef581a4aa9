// Planner mode: select a household grid (households, bounds, worker);
// move a unit cell or a building into it, or redraw its outline; every
// change is validated by the service (`?dry_run=true`) before it can be
// saved, with the violating grids and new gaps drawn; save, undo and the
// community's edit history.
import * as api from './api.js';
import { t, onLanguage } from './i18n.js';
import { refresh, setOverlay } from './layers.js';
import { escape, status, table } from './format.js';

const state = {
  grid: null, // the selected grid (GeoJSON Feature)
  summary: null, // its community's summary row
  tool: null, // 'move' | 'redraw' | null
  points: [], // the outline being drawn
  pending: null, // the edit body waiting for save
  result: null, // the dry run's answer
  history: [],
};

const $ = (id) => document.getElementById(id);
const author = () => $('author').value.trim();

/** Handles a map click in planner mode. */
export async function click(map, e) {
  if (state.tool === 'redraw') {
    state.points.push([e.lngLat.lng, e.lngLat.lat]);
    drawOutline(map);
    if (state.points.length >= 3) await propose(map, { op: 'redraw', grid: state.grid.properties.code, geometry: polygon() });
    else renderValidation();
    return;
  }
  if (state.tool === 'move') {
    const cell = map.queryRenderedFeatures(e.point, { layers: ['cells-fill'] })[0];
    if (cell && cell.properties.community !== state.grid.properties.community) {
      status(t('planner.other_community', { cell: cell.properties.code }), true);
    } else if (cell) {
      await propose(map, { op: 'move_cell', cell: cell.properties.code, to: state.grid.properties.code });
    }
    return;
  }
  if (state.tool === 'building') {
    const building = map.queryRenderedFeatures(e.point, { layers: ['buildings'] })[0];
    if (building?.id !== undefined) await propose(map, { op: 'move_building', building: Number(building.id), to: state.grid.properties.code });
    return;
  }
  const hit = map.queryRenderedFeatures(e.point, { layers: ['grids-fill'] })[0];
  if (hit) await select(map, hit.properties.code);
}

/** Selects grid `code`: its detail, its community's bounds and history. */
export async function select(map, code) {
  try {
    const grid = await api.grid(code);
    const summary = await api.gridSummary(grid.properties.community);
    state.grid = grid;
    state.summary = summary.communities[0];
    setOverlay(map, 'selected', [grid]);
    cancel(map);
    renderGrid();
    await loadHistory();
  } catch (err) {
    status(t('status.error', { detail: err.message }), true);
  }
}

function renderGrid() {
  const g = state.grid;
  if (!g) { $('grid-info').innerHTML = `<p class="hint">${t('planner.need_grid')}</p>`; return; }
  const p = g.properties;
  const b = state.summary?.bounds;
  const outside = state.summary?.outside_bounds?.includes(p.code);
  // `worker_name` etc.: left out without a token, null for nobody.
  const person = (role) => {
    if (!(`${role}_name` in p)) return `<span class="hint">${t('people.withheld')}</span>`;
    const [name, phone] = [p[`${role}_name`], p[`${role}_phone`]];
    return name || phone ? escape(`${name ?? ''}${phone ? ` ${phone}` : ''}`.trim()) : `<span class="bad">${t('grid.nobody')}</span>`;
  };
  $('grid-info').innerHTML = table([
    [t('grid.code'), `<span id="grid-code">${escape(p.code)}</span>`],
    [t('grid.name'), escape(p.name || '–')],
    [t('grid.community'), escape(`${state.summary?.name ?? ''} ${p.community}`)],
    [t('grid.kind'), escape(t(`gridkind.${p.kind}`))],
    [t('grid.households'), `<span id="grid-households">${p.households}</span>`],
    [t('grid.bounds'), b ? `${b.min}–${b.max} <span class="${outside ? 'bad' : 'ok'}" id="grid-bounds">${t(outside ? 'grid.outside' : 'grid.within')}</span>` : '–'],
    [t('grid.worker'), `<span id="grid-worker">${person('worker')}</span>`],
    [t('grid.leader'), person('leader')],
  ]);
}

function polygon() {
  return { type: 'Polygon', coordinates: [[...state.points, state.points[0]]] };
}

function drawOutline(map) {
  const pts = state.points;
  const features = pts.map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} }));
  if (pts.length >= 2) features.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: pts.length >= 3 ? [...pts, pts[0]] : pts }, properties: {} });
  setOverlay(map, 'drawing', features);
}

let asked = 0;

/** The editing tools and their buttons. */
const TOOLS = { move: 'tool-move', building: 'tool-building', redraw: 'tool-redraw' };

/** Validates an edit without storing it; shows the outcome; keeps it for save. */
async function propose(map, body) {
  if (!api.getToken()) { status(t('planner.need_token'), true); return; }
  if (!author()) { status(t('planner.need_author'), true); return; }
  const mine = ++asked;
  try {
    const r = await api.edit({ ...body, author: author() }, true);
    if (mine !== asked) return; // a later change is being validated
    state.pending = { ...body, author: author() };
    state.result = r;
    // How many outline points the shown validation is for (a redraw).
    $('validation').dataset.vertices = body.geometry ? body.geometry.coordinates[0].length - 1 : '';
    const bad = new Set(r.violations.map((v) => v.grid));
    setOverlay(map, 'preview', r.grids.features);
    setOverlay(map, 'violations', r.grids.features.filter((f) => bad.has(f.properties.code)));
    setOverlay(map, 'gaps', r.validation?.gaps?.features ?? []);
    renderValidation();
    $('save').disabled = !r.accepted;
    status(t('status.ready'));
  } catch (err) {
    if (mine !== asked) return;
    state.pending = null;
    state.result = null;
    for (const o of ['preview', 'violations', 'gaps']) setOverlay(map, o, []);
    $('save').disabled = true;
    $('validation').innerHTML = `<p class="bad">${escape(err.message)}</p>`;
    status(t('status.error', { detail: err.message }), true);
  }
}

function renderValidation() {
  const el = $('validation');
  if (state.tool === 'redraw' && state.points.length < 3) {
    el.innerHTML = `<p class="hint">${t('planner.drawing', { n: state.points.length })}</p>`;
    return;
  }
  const r = state.result;
  if (!r) { el.innerHTML = ''; return; }
  if (r.accepted) {
    el.innerHTML = `<p class="ok" data-accepted="true">${t('planner.valid')}</p>`;
    return;
  }
  const items = r.violations.map((v) => `<li>${escape(v.grid)}: ${escape(t(`violation.${v.rule}`))}${v.rule === 'bounds' ? ` (${v.households}; ${v.min}–${v.max})` : ''}</li>`);
  if (r.new_gap_m2 > 0) items.push(`<li>${escape(t('planner.gap', { area: t('unit.m2', { n: r.new_gap_m2.toFixed(0) }) }))}</li>`);
  el.innerHTML = `<p class="bad" data-accepted="false">${t('planner.invalid')}</p><ul>${items.join('')}</ul>`;
}

async function save(map) {
  if (!state.pending) return;
  try {
    const r = await api.edit(state.pending, false);
    if (!r.stored) { state.result = r; renderValidation(); return; }
    status(t('planner.saved', { id: r.edit }));
    const code = state.grid.properties.code;
    cancel(map);
    refresh(map, 'grids');
    await select(map, code);
  } catch (err) {
    status(t('status.error', { detail: err.message }), true);
  }
}

async function loadHistory() {
  if (!state.grid) return;
  try {
    const r = await api.edits(state.grid.properties.community);
    state.history = r.edits.slice().reverse().slice(0, 20);
    renderHistory();
  } catch (err) {
    // The edit log (authors, workers) is for planner and admin tokens.
    if (!(err instanceof api.ApiError) || ![401, 403].includes(err.status)) throw err;
    state.history = [];
    $('history').innerHTML = `<li class="hint">${t('planner.history_token')}</li>`;
  }
}

function renderHistory() {
  const el = $('history');
  if (!state.history.length) { el.innerHTML = `<li>${t('planner.no_history')}</li>`; return; }
  el.innerHTML = state.history.map((e) => {
    const undoable = e.op !== 'revert' && e.op !== 'plan' && !e.reverted_by;
    return `<li data-id="${e.id}" class="${e.reverted_by ? 'reverted' : ''}">#${e.id} ${escape(e.op)} · ${escape(e.author)} · ${escape((e.at ?? '').slice(0, 16).replace('T', ' '))}${e.reverted_by ? ` (${t('planner.reverted')})` : ''}${undoable ? ` <button type="button" data-undo="${e.id}">${t('planner.undo')}</button>` : ''}</li>`;
  }).join('');
}

async function undo(map, id) {
  try {
    const r = await api.revert(id, author() || 'web');
    status(t('planner.undone', { id, new: r.edit }));
    refresh(map, 'grids');
    if (state.grid) await select(map, state.grid.properties.code).catch(() => {});
    await loadHistory();
  } catch (err) {
    status(t('status.error', { detail: err.message }), true);
  }
}

/** Drops the edit in progress (not the selection). */
export function cancel(map) {
  state.tool = null;
  state.points = [];
  state.pending = null;
  state.result = null;
  asked++;
  $('validation').dataset.vertices = '';
  map.doubleClickZoom.enable();
  for (const o of ['drawing', 'preview', 'violations', 'gaps']) setOverlay(map, o, []);
  $('save').disabled = true;
  $('draw-finish').disabled = true;
  $('edit-cancel').disabled = true;
  for (const b of Object.values(TOOLS)) $(b).classList.remove('active');
  renderValidation();
}

function startTool(map, tool) {
  if (!state.grid) { status(t('planner.need_grid'), true); return; }
  cancel(map);
  state.tool = tool;
  // Points of an outline may be clicked quickly: no zooming in then.
  if (tool === 'redraw') map.doubleClickZoom.disable();
  $(TOOLS[tool]).classList.add('active');
  $('edit-cancel').disabled = false;
  $('draw-finish').disabled = tool !== 'redraw';
  const code = state.grid.properties.code;
  status(tool === 'redraw' ? t('planner.drawing', { n: 0 }) : t(tool === 'move' ? 'planner.pick_cell' : 'planner.pick_building', { grid: code }));
  renderValidation();
}

/** Wires the mode's controls. */
export function init(map) {
  $('author').value = localStorage.getItem('civgrid.author') ?? '';
  $('author').addEventListener('input', (e) => localStorage.setItem('civgrid.author', e.target.value));
  for (const [tool, id] of Object.entries(TOOLS)) $(id).addEventListener('click', () => startTool(map, tool));
  $('draw-finish').addEventListener('click', () => {
    if (state.points.length >= 3) propose(map, { op: 'redraw', grid: state.grid.properties.code, geometry: polygon() });
  });
  $('edit-cancel').addEventListener('click', () => cancel(map));
  $('save').addEventListener('click', () => save(map));
  $('history').addEventListener('click', (e) => {
    const id = e.target.dataset?.undo;
    if (id) undo(map, Number(id));
  });
  renderGrid();
  onLanguage(() => { renderGrid(); renderValidation(); renderHistory(); });
}

/** Clears what the mode drew. */
export function clear(map) {
  cancel(map);
}

