// The civgrid HTTP API, as the page calls it. Errors are RFC 9457 problems:
// an ApiError carries the status and the problem's `detail`.

/** A failed call: HTTP status, the problem's detail and the whole body. */
export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.body = body;
  }
}

let token = sessionStorage.getItem('civgrid.token') || '';

/**
 * Sets the bearer token typed into the page (kept for the tab): sent with
 * every call and tile request, for writes and for servers whose reads need
 * a token.
 */
export function setToken(value) {
  token = value.trim();
  sessionStorage.setItem('civgrid.token', token);
}

/** The token, or ''. */
export function getToken() {
  return token;
}

/** The Authorization header of the token, if one is set. */
const authorization = () => (token ? { Authorization: `Bearer ${token}` } : {});

/** fetch() of one of the service's own URLs, with the token. */
export const fetchOwn = (path) => fetch(path, { headers: authorization() });

/**
 * MapLibre's `transformRequest`: the token goes with the tiles and
 * TileJSON of the service, never to another origin.
 */
export function transformRequest(url) {
  return new URL(url, location.href).origin === location.origin ? { url, headers: authorization() } : { url };
}

async function call(method, path, body, { accept = [] } = {}) {
  const headers = { Accept: 'application/json', ...authorization() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await r.json().catch(() => null);
  if (!r.ok && !accept.includes(r.status)) {
    throw new ApiError(r.status, json?.detail || `${r.status} ${r.statusText}`, json);
  }
  return json;
}

const query = (params) =>
  new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString();

/** GET path?params → JSON. */
export const get = (path, params = {}) => call('GET', params && Object.keys(params).length ? `${path}?${query(params)}` : path);

/** The nearest responders of `kinds` to a point, by `distance` or `time`. */
export const nearest = (lon, lat, by, kinds, k = 5) => get('/api/v1/nearest', { lon, lat, by, kind: kinds, k });

/** The areas, cell, grid (with its worker) and overlay zones holding a point. */
export const locate = (lon, lat) => get('/api/v1/locate', { lon, lat });

/** The risk of the unit cell holding a point. */
export const risk = (lon, lat) => get('/api/v1/risk', { lon, lat });

/**
 * Covered shares within `minutes`, and the most urgent uncovered cells
 * meeting `bbox` ([minlon, minlat, maxlon, maxlat], the view), up to `limit`.
 */
export const coverage = (kinds, minutes, bbox, limit = 2000) =>
  get('/api/v1/coverage', { kind: kinds, minutes, bbox: bbox.join(','), limit });

/** A hazard's zone of influence: cells, grids, households. */
export const impact = (id) => get(`/api/v1/hazards/${encodeURIComponent(id)}/impact`);

/** One active household grid (GeoJSON Feature). */
export const grid = (code) => get(`/api/v1/grids/${encodeURIComponent(code)}`);

/** The summary of one community's grids (bounds, grids outside them). */
export const gridSummary = (community) => get('/api/v1/grids/summary', { community });

/** One unit cell (OGC API Features item). */
export const cell = (code) => get(`/ogc/collections/cells/items/${encodeURIComponent(code)}`);

/**
 * A planner edit: validated only (`dryRun`) or stored. A refused edit
 * (422) is answered, not thrown: its body holds the violations.
 */
export const edit = (body, dryRun) =>
  call('POST', `/api/v1/grids/edits${dryRun ? '?dry_run=true' : ''}`, body, { accept: [422] });

/** The edit log of a community. */
export const edits = (community) => get('/api/v1/grids/edits', { community });

/** Undoes edit `id`. */
export const revert = (id, author) => call('POST', `/api/v1/grids/edits/${id}/revert`, { author });
