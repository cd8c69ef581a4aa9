// The map's sources and layers over civgrid's own tiles (nothing from
// outside), the layer switcher, the risk legend and the heat-map filters.
// Colours: the served risk palette (styles/risk.json by default) and
// styles/web.json (the rest).
import { t, onLanguage } from './i18n.js';
import { LEVELS } from './format.js';
import web from '../../styles/web.json';

const tiles = (layer, ext, query = '') => [`${location.origin}/tiles/${layer}/{z}/{x}/{y}.${ext}${query}`];
// The least zoom each layer is served at (its TileJSON's minzoom; see
// docs/tiles.md): MapLibre asks for no tile below it.
const MINZOOM = { cells: 13, grids: 12, components: 13 };
const vector = (layer) => ({ type: 'vector', tiles: tiles(layer, 'mvt'), minzoom: MINZOOM[layer] ?? 0, maxzoom: 22 });
const empty = () => ({ type: 'geojson', data: { type: 'FeatureCollection', features: [] } });

/** Layer groups of the switcher: the MapLibre layers each one shows. */
export const GROUPS = {
  base: ['water', 'roads-casing', 'roads', 'buildings'],
  areas: ['communities-fill', 'communities-line', 'subdistricts-line', 'districts-line'],
  labels: ['district-labels', 'subdistrict-labels', 'community-labels', 'road-labels', 'facility-labels'],
  risk: ['risk'],
  heat: ['heat'],
  cells: ['cells', 'cells-fill'],
  grids: ['grids-fill', 'grids'],
  facilities: ['facilities'],
  hazards: ['hazard-areas', 'hazards'],
  components: ['component-areas', 'component-lines', 'components'],
  zones: ['zones'],
};
const VISIBLE = new Set(['base', 'areas', 'labels', 'risk', 'cells', 'grids', 'facilities', 'hazards']);

// Labels are drawn by the browser from the fonts the machine has (the
// style has no `glyphs`: MapLibre renders every glyph locally with
// TinySDF), so Chinese names need no glyph server and no request leaves
// the service. The list is a CSS font-family cascade (docs/web.md).
const FONT = ['Noto Sans CJK SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', 'PingFang SC', 'sans-serif'];
const halo = { 'text-color': web.labels.text, 'text-halo-color': web.labels.halo, 'text-halo-width': 1.5 };
const label = (id, source, sourceLayer, extra) => ({
  id, type: 'symbol', source, 'source-layer': sourceLayer, ...extra,
  layout: { 'text-field': ['get', 'name'], 'text-font': FONT, 'text-allow-overlap': false, 'text-padding': 4, ...extra.layout },
  paint: { ...halo, ...extra.paint },
});

/** Zoom from which cells are drawn; below, communities by their highest level. */
export const CELLS_ZOOM = MINZOOM.cells;

/** Overlays drawn by the modes (GeoJSON sources of the same name). */
export const OVERLAYS = ['uncovered', 'impact', 'selected', 'preview', 'violations', 'gaps', 'drawing', 'routes', 'click', 'responders', 'found'];

const facilityColour = ['match', ['get', 'kind'],
  ...Object.entries(web.facilities).filter(([k]) => k !== 'other').flat(), web.facilities.other];
const byKey = (key, colours, other) => ['match', ['get', key],
  ...Object.entries(colours).filter(([k]) => k !== 'other').flat(), other];
const componentColour = byKey('state', web.components, web.components.good);
const zoneColour = byKey('layer', web.zones, web.zones.other);
const levelColour = () => ['match', ['get', 'level'], ...LEVELS.flatMap((l) => [l.level, l.colour]), '#888888'];

/** The MapLibre style: civgrid's base, risk, heat and vector layers, then the overlays. */
export function style() {
  const sources = {
    base: vector('base'),
    areas: vector('areas'),
    cells: vector('cells'),
    grids: vector('grids'),
    facilities: vector('facilities'),
    hazards: vector('hazards'),
    components: vector('components'),
    zones: vector('zones'),
    risk: { type: 'raster', tiles: tiles('risk', 'png'), tileSize: 256, minzoom: 0, maxzoom: 22 },
    heat: { type: 'raster', tiles: tiles('heat', 'png'), tileSize: 256, minzoom: 0, maxzoom: 22 },
  };
  for (const o of OVERLAYS) sources[o] = empty();
  const layers = [
    { id: 'background', type: 'background', paint: { 'background-color': web.background } },
    { id: 'water', type: 'fill', source: 'base', 'source-layer': 'water', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': web.water } },
    { id: 'risk', type: 'raster', source: 'risk', paint: { 'raster-opacity': 1, 'raster-resampling': 'nearest', 'raster-fade-duration': 0 } },
    { id: 'heat', type: 'raster', source: 'heat', layout: { visibility: 'none' }, paint: { 'raster-opacity': 0.85, 'raster-fade-duration': 0 } },
    { id: 'roads-casing', type: 'line', source: 'base', 'source-layer': 'roads', paint: { 'line-color': web.roads.casing, 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 1, 17, 9] } },
    { id: 'roads', type: 'line', source: 'base', 'source-layer': 'roads', paint: { 'line-color': web.roads.major, 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 0.5, 17, 7] } },
    { id: 'buildings', type: 'fill', source: 'base', 'source-layer': 'buildings', paint: { 'fill-color': web.buildings.fill, 'fill-outline-color': web.buildings.outline } },
    { id: 'communities-fill', type: 'fill', source: 'areas', 'source-layer': 'communities', maxzoom: CELLS_ZOOM,
      paint: { 'fill-color': levelColour(), 'fill-opacity': 0.55, 'fill-outline-color': '#ffffff' } },
    { id: 'communities-line', type: 'line', source: 'areas', 'source-layer': 'communities', minzoom: 11, paint: { 'line-color': web.areas.community, 'line-width': 0.8 } },
    { id: 'subdistricts-line', type: 'line', source: 'areas', 'source-layer': 'subdistricts', paint: { 'line-color': web.areas.subdistrict, 'line-width': 1.4 } },
    { id: 'districts-line', type: 'line', source: 'areas', 'source-layer': 'districts', paint: { 'line-color': web.areas.district, 'line-width': 2.2 } },
    { id: 'uncovered', type: 'fill', source: 'uncovered', paint: { 'fill-color': web.uncovered, 'fill-opacity': 0.55 } },
    { id: 'impact', type: 'fill', source: 'cells', 'source-layer': 'cells', filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'fill-color': web.impact, 'fill-opacity': 0.45 } },
    { id: 'cells-fill', type: 'fill', source: 'cells', 'source-layer': 'cells', minzoom: 13, paint: { 'fill-color': '#000000', 'fill-opacity': 0 } },
    { id: 'cells', type: 'line', source: 'cells', 'source-layer': 'cells', minzoom: 13, paint: { 'line-color': web.cells, 'line-width': 0.6, 'line-opacity': 0.7 } },
    { id: 'grids-fill', type: 'fill', source: 'grids', 'source-layer': 'grids', paint: { 'fill-color': web.grids, 'fill-opacity': 0 } },
    { id: 'grids', type: 'line', source: 'grids', 'source-layer': 'grids', paint: { 'line-color': web.grids, 'line-width': 2.2 } },
    { id: 'zones', type: 'line', source: 'zones', 'source-layer': 'zones', paint: { 'line-color': zoneColour, 'line-width': 2, 'line-dasharray': [4, 2] } },
    { id: 'component-areas', type: 'fill', source: 'components', 'source-layer': 'components', minzoom: 14, filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': componentColour, 'fill-opacity': 0.3 } },
    { id: 'component-lines', type: 'line', source: 'components', 'source-layer': 'components', minzoom: 14, filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': componentColour, 'line-width': 2 } },
    { id: 'selected', type: 'line', source: 'selected', paint: { 'line-color': web.selected, 'line-width': 4 } },
    { id: 'preview', type: 'line', source: 'preview', paint: { 'line-color': web.preview, 'line-width': 2.5, 'line-dasharray': [2, 1] } },
    { id: 'violations', type: 'fill', source: 'violations', paint: { 'fill-color': web.violation, 'fill-opacity': 0.45 } },
    { id: 'gaps', type: 'fill', source: 'gaps', paint: { 'fill-color': web.violation, 'fill-opacity': 0.8 } },
    { id: 'found', type: 'line', source: 'found', paint: { 'line-color': web.search, 'line-width': 4, 'line-dasharray': [1, 1] } },
    { id: 'drawing-line', type: 'line', source: 'drawing', paint: { 'line-color': web.drawing, 'line-width': 2, 'line-dasharray': [3, 2] } },
    { id: 'drawing-points', type: 'circle', source: 'drawing', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 4, 'circle-color': web.drawing } },
    { id: 'hazard-areas', type: 'fill', source: 'hazards', 'source-layer': 'hazards', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': levelColour(), 'fill-opacity': 0.35, 'fill-outline-color': '#000000' } },
    { id: 'routes', type: 'line', source: 'routes', layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': ['match', ['get', 'by'], 'time', web.route_time, web.route_distance], 'line-width': ['match', ['get', 'by'], 'time', 4, 2], 'line-dasharray': ['match', ['get', 'by'], 'time', ['literal', [1, 0]], ['literal', [2, 2]]], 'line-opacity': ['match', ['get', 'rank'], 1, 1, 0.55] } },
    { id: 'facilities', type: 'circle', source: 'facilities', 'source-layer': 'facilities',
      paint: { 'circle-color': facilityColour, 'circle-radius': ['match', ['get', 'kind'], 'fire_hydrant', 2.5, 5], 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1 } },
    { id: 'hazards', type: 'circle', source: 'hazards', 'source-layer': 'hazards', filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-color': levelColour(), 'circle-radius': 7, 'circle-stroke-color': '#000000', 'circle-stroke-width': 2 } },
    { id: 'components', type: 'circle', source: 'components', 'source-layer': 'components', minzoom: 14, filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-color': componentColour, 'circle-radius': 3, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 0.5 } },
    { id: 'responders', type: 'circle', source: 'responders', paint: { 'circle-radius': 8, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': web.route_time, 'circle-stroke-width': 3 } },
    { id: 'click', type: 'circle', source: 'click', paint: { 'circle-radius': 6, 'circle-color': '#000000', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 } },
    // Names, above everything; MapLibre places them without collisions,
    // the coarser ones first (symbol-sort-key).
    label('road-labels', 'base', 'roads', { minzoom: 13, layout: { 'symbol-placement': 'line', 'text-size': 12, 'symbol-sort-key': 3 } }),
    label('facility-labels', 'facilities', 'facilities', { minzoom: 15, filter: ['!=', ['get', 'kind'], 'fire_hydrant'],
      layout: { 'text-size': 11, 'text-offset': [0, 0.9], 'text-anchor': 'top', 'text-optional': true, 'symbol-sort-key': 4 } }),
    label('community-labels', 'areas', 'area_labels', { minzoom: 12, filter: ['==', ['get', 'area'], 'community'], layout: { 'text-size': 13, 'symbol-sort-key': 2 } }),
    label('subdistrict-labels', 'areas', 'area_labels', { minzoom: 9, maxzoom: 14, filter: ['==', ['get', 'area'], 'subdistrict'], layout: { 'text-size': 14, 'symbol-sort-key': 1 } }),
    label('district-labels', 'areas', 'area_labels', { maxzoom: 12, filter: ['==', ['get', 'area'], 'district'], layout: { 'text-size': 16, 'symbol-sort-key': 0 }, paint: { 'text-halo-width': 2 } }),
  ];
  return { version: 8, sources, layers };
}

/** Replaces an overlay's features. */
export function setOverlay(map, name, features) {
  map.getSource(name).setData({ type: 'FeatureCollection', features });
}

/** Reloads a vector source's tiles (after an edit changed them). */
export function refresh(map, source) {
  const s = map.getSource(source);
  s.setTiles([`${location.origin}/tiles/${source}/{z}/{x}/{y}.mvt?v=${Date.now()}`]);
}

/** The layer switcher (checkboxes), the legend and the heat filters. */
export function controls(map) {
  const switcher = document.getElementById('switcher');
  const draw = () => {
    switcher.innerHTML = '';
    for (const [group, ids] of Object.entries(GROUPS)) {
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.name = group;
      box.checked = map.getLayoutProperty(ids[0], 'visibility') !== 'none';
      box.addEventListener('change', () => {
        for (const id of ids) map.setLayoutProperty(id, 'visibility', box.checked ? 'visible' : 'none');
        if (group === 'heat') document.getElementById('heat-controls').disabled = !box.checked;
      });
      label.append(box, ` ${t(`layer.${group}`)}`);
      switcher.append(label);
    }
    document.getElementById('legend').innerHTML = LEVELS.map(({ level, colour }) =>
      `<li data-level="${level}"><span class="swatch" style="background:${colour}"></span>${t(`level.${level}`)}</li>`).join('');
  };
  for (const [group, ids] of Object.entries(GROUPS)) {
    if (!VISIBLE.has(group)) for (const id of ids) map.setLayoutProperty(id, 'visibility', 'none');
  }
  draw();
  onLanguage(draw);
  document.getElementById('heat-controls').disabled = true;
  const heat = () => {
    const params = new URLSearchParams();
    const kind = document.getElementById('heat-kind').value;
    const from = document.getElementById('heat-from').value;
    const to = document.getElementById('heat-to').value;
    if (kind) params.set('kind', kind);
    // Dates are local days: from the start of `from` to the end of `to`.
    if (from) params.set('from', String(Math.floor(new Date(`${from}T00:00:00`).getTime() / 1000)));
    if (to) params.set('to', String(Math.floor(new Date(`${to}T23:59:59`).getTime() / 1000)));
    const q = params.toString();
    map.getSource('heat').setTiles(tiles('heat', 'png', q ? `?${q}` : ''));
  };
  for (const id of ['heat-kind', 'heat-from', 'heat-to']) document.getElementById(id).addEventListener('change', heat);
}

