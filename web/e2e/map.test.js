// The web map in a real headless Chromium over a real civgrid server:
// the page loads offline and draws tiles in the four risk colours; a click
// lists the same responders as the API, with routes drawn; a hazard click
// shows its impact; a grid edit is validated, saved, and still there after
// a reload; the language switch relabels the page.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { browser, centre, FAR, idle, json, openMap, startServer, TOKEN } from './harness.js';
import palette from '../../styles/risk.json' with { type: 'json' };

let server;
let chrome;
let started;

/**
 * The server and the browser, started once by the first test that needs
 * them. Set up inside the tests (not in a `before` hook) so that a missing
 * Chromium or binary fails every test rather than cancelling them.
 */
function ready() {
  started ??= (async () => {
    server = await startServer();
    chrome = await browser();
  })();
  return started;
}

after(async () => {
  await chrome?.close();
  await server?.stop();
});

const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

/** Page coordinates of a lon/lat on the map. */
async function at(page, lon, lat) {
  const box = await page.locator('#map').boundingBox();
  const p = await page.evaluate(([x, y]) => window.civgrid.map.project([x, y]), [lon, lat]);
  return { x: box.x + p.x, y: box.y + p.y };
}

async function clickAt(page, lon, lat) {
  const { x, y } = await at(page, lon, lat);
  await page.mouse.click(x, y);
}

describe('web map', () => {
  test('loads with nothing from outside and draws tiles in the four risk colours', async () => {
    await ready();
    const page = await chrome.newPage({ viewport: { width: 1280, height: 800 } });
    const outside = [];
    const tiles = new Map();
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(server.base) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      outside.push(url);
      return route.abort();
    });
    page.on('response', (r) => {
      const m = r.url().match(/\/tiles\/(\w+)\//);
      if (m && r.status() === 200) tiles.set(m[1], (tiles.get(m[1]) ?? 0) + 1);
    });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const started = Date.now();
    await page.goto(server.base);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    await idle(page);
    console.log(`# page ready with tiles drawn in ${Date.now() - started} ms`);
    assert.deepEqual(outside, [], 'no request leaves the service');
    assert.deepEqual(errors, [], 'no script error');
    for (const layer of ['base', 'risk', 'cells', 'grids', 'facilities', 'hazards']) {
      assert.ok(tiles.get(layer) > 0, `${layer} tiles loaded: ${JSON.stringify([...tiles])}`);
    }
    // The map only (the legend is in the side panel, outside it).
    const png = PNG.sync.read(await page.locator('#map').screenshot());
    const counts = Object.fromEntries(Object.keys(palette).map((k) => [k, 0]));
    const colours = new Set();
    const targets = Object.entries(palette).map(([k, hex]) => [k, rgb(hex)]);
    for (let i = 0; i < png.data.length; i += 4) {
      const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
      colours.add((r << 16) | (g << 8) | b);
      for (const [k, [tr, tg, tb]] of targets) {
        if (Math.abs(r - tr) <= 3 && Math.abs(g - tg) <= 3 && Math.abs(b - tb) <= 3) counts[k] += 1;
      }
    }
    const pixels = png.width * png.height;
    console.log(`# ${png.width}×${png.height} map: ${colours.size} colours; risk pixels ${JSON.stringify(counts)}`);
    assert.ok(colours.size > 50, `not blank: ${colours.size} colours`);
    for (const [k, n] of Object.entries(counts)) {
      assert.ok(n > 200, `${k} ${palette[k]}: ${n} of ${pixels} pixels`);
    }
    // The legend shows the same four colours, named.
    const legend = await page.$$eval('#legend li', (lis) => lis.map((li) => [li.dataset.level, getComputedStyle(li.querySelector('.swatch')).backgroundColor]));
    assert.deepEqual(legend, Object.entries(palette).map(([k, hex]) => [k, `rgb(${rgb(hex).join(', ')})`]));
    await page.close();
  });

  test('a click lists the nearest responders the API gives, with routes; the risk there', async () => {
    await ready();
    const { page, errors } = await openMap(chrome, server.base);
    const cells = (await json(server.base, '/ogc/collections/cells/items?limit=1000')).features;
    const [lon, lat] = centre(cells[100]);
    await clickAt(page, lon, lat);
    await page.waitForSelector('#responders-time li[data-id]');
    await page.waitForSelector('#risk-level');
    const click = await page.evaluate(() => window.civgrid.lastClick);
    assert.ok(Math.abs(click.lon - lon) < 1e-4 && Math.abs(click.lat - lat) < 1e-4, JSON.stringify(click));
    const q = `lon=${click.lon}&lat=${click.lat}&kind=${click.kinds}`;
    const byTime = await json(server.base, `/api/v1/nearest?${q}&by=time&k=5`);
    const byDistance = await json(server.base, `/api/v1/nearest?${q}&by=distance&k=5`);
    const ids = (sel) => page.$$eval(`${sel} li[data-id]`, (lis) => lis.map((li) => Number(li.dataset.id)));
    assert.ok(byTime.nearest.length >= 2, 'the city has several fire responders');
    assert.deepEqual(await ids('#responders-time'), byTime.nearest.map((n) => n.facility.id));
    assert.deepEqual(await ids('#responders-distance'), byDistance.nearest.map((n) => n.facility.id));
    // Routes drawn: the road routes of the answer, and straight lines.
    const routes = await page.evaluate(() => window.civgrid.map.getSource('routes').serialize().data.features);
    const timeRoutes = routes.filter((f) => f.properties.by === 'time');
    assert.deepEqual(timeRoutes.map((f) => f.properties.id), byTime.nearest.map((n) => n.facility.id));
    timeRoutes.forEach((f, i) => assert.deepEqual(f.geometry.coordinates, byTime.nearest[i].route.coordinates));
    assert.ok(timeRoutes.every((f) => f.geometry.coordinates.length >= 2));
    assert.equal(routes.filter((f) => f.properties.by === 'distance').length, byDistance.nearest.length);
    // Risk detail: level and score of the API.
    const risk = await json(server.base, `/api/v1/risk?lon=${click.lon}&lat=${click.lat}`);
    assert.equal(await page.getAttribute('#risk-level', 'data-level'), risk.level);
    assert.equal(Number(await page.textContent('#risk-score')), Number(risk.score.toFixed(3)));
    // The place: the overlay zones the API's locate gives (a police beat at least).
    const place = await json(server.base, `/api/v1/locate?lon=${click.lon}&lat=${click.lat}`);
    const zones = await page.$$eval('#place-zones li', (lis) => lis.map((li) => `${li.dataset.layer}:${li.dataset.code}`));
    assert.deepEqual(zones, place.zones.map((z) => `${z.layer}:${z.code}`));
    assert.ok(zones.some((z) => z.startsWith('police_beats:')), JSON.stringify(zones));
    assert.ok((await page.textContent('#place-detail')).includes(place.cell.code));
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('on a server whose reads need a token, the page asks for it and reads with it', async () => {
    await ready();
    const reader = 'e2e-reader-token';
    const access = join(server.dir, 'access.toml');
    writeFileSync(access, `reads = "token"\n[[token]]\nname = "e2e-reader"\nrole = "dispatcher"\nsha256 = "${createHash('sha256').update(reader).digest('hex')}"\n`);
    const guarded = await server.serveAgain(['--access', access]);
    assert.equal((await fetch(`${guarded.base}/tiles/cells.json`)).status, 401, 'reads are guarded');
    // Without the token: the page says what is missing.
    const bare = await chrome.newPage({ viewport: { width: 1280, height: 800 } });
    await bare.goto(`${guarded.base}/`);
    await bare.waitForFunction(() => {
      const el = document.getElementById('status');
      return el.classList.contains('error') && el.textContent.includes('令牌');
    }, null, { timeout: 30_000 });
    await bare.close();
    // With it (typed before, kept for the tab): tiles and answers come.
    const page = await chrome.newPage({ viewport: { width: 1280, height: 800 } });
    await page.addInitScript((t) => sessionStorage.setItem('civgrid.token', t), reader);
    const tiles = [];
    page.on('response', (r) => { if (/\/tiles\/(risk|cells)\//.test(r.url())) tiles.push(r.status()); });
    await page.goto(`${guarded.base}/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    await idle(page);
    assert.ok(tiles.length > 0 && tiles.every((s) => s === 200), JSON.stringify(tiles));
    const cells = (await json(guarded.base, '/ogc/collections/cells/items?limit=1000', { token: reader })).features;
    const [lon, lat] = centre(cells[100]);
    await clickAt(page, lon, lat);
    await page.waitForSelector('#risk-level');
    const click = await page.evaluate(() => window.civgrid.lastClick);
    const risk = await json(guarded.base, `/api/v1/risk?lon=${click.lon}&lat=${click.lat}`, { token: reader });
    assert.equal(await page.getAttribute('#risk-level', 'data-level'), risk.level);
    await page.close();
  });

  test('a click on a hazard shows its impact range', async () => {
    await ready();
    const { page } = await openMap(chrome, server.base);
    const red = server.hazards.find((h) => h.level === 'red');
    await clickAt(page, red.lon, red.lat);
    await page.waitForSelector('#impact-summary');
    const hazards = (await json(server.base, '/ogc/collections/hazards/items?limit=100')).features;
    const mine = hazards.find((f) => f.properties.name === 'e2e red');
    const impact = await json(server.base, `/api/v1/hazards/${mine.id}/impact`);
    assert.equal(Number(await page.getAttribute('#impact-summary', 'data-cells')), impact.cells.length);
    const filter = await page.evaluate(() => window.civgrid.map.getFilter('impact'));
    assert.deepEqual(filter[2][1].slice().sort(), impact.cells.map((c) => c.code).sort());
    await page.close();
  });

  test('a grid edit is validated live, saved, and still there after a reload', async () => {
    await ready();
    const base = server.base;
    const cells = (await json(base, '/ogc/collections/cells/items?limit=1000')).features;
    // A move the service accepts: a cell into a neighbouring grid.
    const where = async (cell) => json(base, `/api/v1/locate?lon=${centre(cell)[0]}&lat=${centre(cell)[1]}`);
    let move = null;
    let refused = null;
    for (const cell of cells.slice(0, 120)) {
      const here = await where(cell);
      if (here.cell.code !== cell.properties.code) continue;
      const grids = (await json(base, `/api/v1/grids?community=${cell.properties.community}`)).features;
      for (const g of grids) {
        if (g.properties.code === here.grid.code) continue;
        const r = await fetch(`${base}/api/v1/grids/edits?dry_run=true`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ op: 'move_cell', cell: cell.properties.code, to: g.properties.code, author: 'probe' }),
        });
        const body = await r.json();
        // One that changes the grid's households, so that a reload can tell.
        const after = r.status === 200 && body.grids.features.find((f) => f.properties.code === g.properties.code);
        if (after && after.properties.households !== g.properties.households && !move) move = { cell, from: here.grid.code, to: g.properties.code, body };
        if (r.status === 422 && body.violations.length && !refused) refused = { cell, to: g.properties.code, body };
      }
      if (move && refused) break;
    }
    assert.ok(move, 'some cell with households can move to another grid');
    assert.ok(refused, 'some move is refused');
    const toBefore = (await json(base, `/api/v1/grids/${move.to}`)).properties.households;
    const expected = move.body.grids.features.find((f) => f.properties.code === move.to).properties.households;
    // A cell of the target grid to click on (its centre lies in the grid).
    const inside = async (code) => {
      for (const c of cells) if (c !== move.cell && (await where(c)).grid?.code === code) return centre(c);
      throw new Error(`no cell of ${code}`);
    };

    const { page, errors } = await openMap(chrome, base, '?mode=planner');
    await page.fill('#token', TOKEN);
    await page.fill('#author', 'e2e planner');
    // A refused move first: its violations are listed and drawn.
    const [rx, ry] = await inside(refused.to);
    await clickAt(page, rx, ry);
    await page.waitForFunction((code) => document.getElementById('grid-code')?.textContent === code, refused.to);
    await page.click('#tool-move');
    await clickAt(page, ...centre(refused.cell));
    await page.waitForSelector('#validation [data-accepted="false"]');
    assert.equal(await page.isDisabled('#save'), true, 'a refused edit cannot be saved');
    const drawn = await page.evaluate(() => window.civgrid.map.getSource('violations').serialize().data.features.map((f) => f.properties.code));
    assert.deepEqual(drawn.sort(), [...new Set(refused.body.violations.map((v) => v.grid))].sort());
    await page.click('#edit-cancel');

    // The accepted move: validated, then saved.
    const [tx, ty] = await inside(move.to);
    await clickAt(page, tx, ty);
    await page.waitForFunction((code) => document.getElementById('grid-code')?.textContent === code, move.to);
    assert.equal(Number(await page.textContent('#grid-households')), toBefore);
    await page.click('#tool-move');
    await clickAt(page, ...centre(move.cell));
    await page.waitForSelector('#validation [data-accepted="true"]');
    const preview = await page.evaluate(() => window.civgrid.map.getSource('preview').serialize().data.features.map((f) => [f.properties.code, f.properties.households]));
    assert.deepEqual(preview.sort(), move.body.grids.features.map((f) => [f.properties.code, f.properties.households]).sort());
    assert.notEqual(expected, toBefore);
    await page.click('#save');
    await page.waitForFunction(() => /#\d+/.test(document.getElementById('status').textContent));
    await page.waitForFunction((n) => document.getElementById('grid-households')?.textContent === String(n), expected);
    const log = (await json(base, `/api/v1/grids/edits?community=${move.cell.properties.community}`, { token: TOKEN })).edits;
    const saved = log.at(-1);
    assert.equal(saved.op, 'move_cell');
    assert.equal(saved.author, 'e2e planner');
    assert.deepEqual(saved.request.cell, move.cell.properties.code);
    await page.waitForSelector(`#history li[data-id="${saved.id}"]`);

    // After a reload the grid holds the moved cell.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await idle(page);
    await clickAt(page, tx, ty);
    await page.waitForFunction((code) => document.getElementById('grid-code')?.textContent === code, move.to);
    const api = (await json(base, `/api/v1/grids/${move.to}`)).properties.households;
    assert.equal(api, expected);
    assert.equal(Number(await page.textContent('#grid-households')), api);
    const located = await json(base, `/api/v1/locate?lon=${centre(move.cell)[0]}&lat=${centre(move.cell)[1]}`);
    assert.equal(located.grid.code, move.to, 'the cell is in its new grid');

    // Undo from the history restores the grid.
    await page.fill('#token', TOKEN);
    await page.click(`#history button[data-undo="${saved.id}"]`);
    await page.waitForFunction((n) => document.getElementById('grid-households')?.textContent === String(n), toBefore);
    assert.equal((await json(base, `/api/v1/grids/${move.to}`)).properties.households, toBefore);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a redrawn outline is validated live as it is drawn, as the API validates it', async () => {
    await ready();
    const base = server.base;
    // The grid at the middle of the main place, so that the outline is on screen.
    const [w, so, e, n] = (await json(base, '/api/v1/places')).places[0].bounds;
    const cells = (await json(base, '/ogc/collections/cells/items?limit=1000')).features;
    const mid = [(w + e) / 2, (so + n) / 2];
    const start = cells.map(centre).sort((p, q) => Math.hypot(p[0] - mid[0], p[1] - mid[1]) - Math.hypot(q[0] - mid[0], q[1] - mid[1]))[0];
    const code = (await json(base, `/api/v1/locate?lon=${start[0]}&lat=${start[1]}`)).grid.code;
    const grid = await json(base, `/api/v1/grids/${code}`);
    const { page, errors } = await openMap(chrome, base, '?mode=planner');
    await page.fill('#token', TOKEN);
    await page.fill('#author', 'e2e planner');
    await clickAt(page, ...start);
    await page.waitForFunction((code) => document.getElementById('grid-code')?.textContent === code, grid.properties.code);
    await page.click('#tool-redraw');
    // A square of about 300 m around the grid's cell, point by point.
    const d = 0.0015;
    const corners = [[-d, -d], [d, -d], [d, d], [-d, d]].map(([x, y]) => [start[0] + x, start[1] + y]);
    await clickAt(page, ...corners[0]);
    await clickAt(page, ...corners[1]);
    const points = (n) => page.waitForFunction((k) => window.civgrid.map.getSource('drawing').serialize().data.features.filter((f) => f.geometry.type === 'Point').length === k, n);
    await points(2);
    assert.match(await page.textContent('#validation'), /2/, 'two points: not validated yet');
    assert.equal(await page.$('#validation [data-accepted]'), null);
    await clickAt(page, ...corners[2]);
    await page.waitForSelector('#validation [data-accepted]');
    await clickAt(page, ...corners[3]);
    // The outline drawn is what the page validates: ask the API the same.
    await points(4);
    const ring = await page.evaluate(() => window.civgrid.map.getSource('drawing').serialize().data.features.find((f) => f.geometry.type === 'LineString').geometry.coordinates);
    assert.equal(ring.length, 5);
    const r = await fetch(`${base}/api/v1/grids/edits?dry_run=true`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ op: 'redraw', grid: grid.properties.code, geometry: { type: 'Polygon', coordinates: [ring] }, author: 'probe' }),
    });
    const api = await r.json();
    await page.waitForSelector('#validation[data-vertices="4"] [data-accepted]');
    assert.equal(await page.getAttribute('#validation [data-accepted]', 'data-accepted'), String(api.accepted));
    const preview = await page.evaluate(() => window.civgrid.map.getSource('preview').serialize().data.features.map((f) => [f.properties.code, f.properties.households]).sort());
    assert.deepEqual(preview, api.grids.features.map((f) => [f.properties.code, f.properties.households]).sort());
    const violating = await page.evaluate(() => window.civgrid.map.getSource('violations').serialize().data.features.map((f) => f.properties.code).sort());
    assert.deepEqual(violating, [...new Set(api.violations.map((v) => v.grid))].sort());
    assert.equal(await page.isDisabled('#save'), !api.accepted);
    // Nothing was stored.
    assert.equal((await json(base, `/api/v1/grids/${grid.properties.code}`)).properties.households, grid.properties.households);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the layer switcher, heat filters, coverage and search', async () => {
    await ready();
    const { page, errors } = await openMap(chrome, server.base);
    const heat = [];
    page.on('request', (r) => { if (r.url().includes('/tiles/heat/')) heat.push(new URL(r.url()).search); });
    const visible = (id) => page.evaluate((l) => window.civgrid.map.getLayoutProperty(l, 'visibility') ?? 'visible', id);
    // Risk off and on again.
    assert.equal(await visible('risk'), 'visible');
    await page.uncheck('#switcher input[name="risk"]');
    assert.equal(await visible('risk'), 'none');
    await page.check('#switcher input[name="risk"]');
    assert.equal(await visible('risk'), 'visible');
    // Overlay zones: off at first; on, every police beat of the API is drawn.
    assert.equal(await visible('zones'), 'none');
    await page.check('#switcher input[name="zones"]');
    await idle(page);
    const beats = (await json(server.base, '/api/v1/zones/police_beats')).features.map((f) => f.properties.code).sort();
    const drawnBeats = await page.evaluate(() => [...new Set(window.civgrid.map.queryRenderedFeatures({ layers: ['zones'] })
      .filter((f) => f.properties.layer === 'police_beats').map((f) => f.properties.code))].sort());
    assert.deepEqual(drawnBeats, beats);
    // Components: on, and close in on one; the points drawn are the API's there.
    await page.check('#switcher input[name="components"]');
    const list = (await json(server.base, '/api/v1/components?limit=10000')).features;
    const lamp = list.find((f) => f.geometry.type === 'Point');
    await page.evaluate(([lon, lat]) => window.civgrid.map.jumpTo({ center: [lon, lat], zoom: 17 }), lamp.geometry.coordinates);
    await idle(page);
    const { drawn, bounds } = await page.evaluate(() => {
      const { map } = window.civgrid;
      const b = map.getBounds();
      return {
        drawn: [...new Set(map.queryRenderedFeatures({ layers: ['components'] }).map((f) => f.properties.code))],
        bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
      };
    });
    const within = (f, m) => {
      const [x, y] = f.geometry.coordinates;
      const dx = (bounds[2] - bounds[0]) * m;
      const dy = (bounds[3] - bounds[1]) * m;
      return x > bounds[0] + dx && x < bounds[2] - dx && y > bounds[1] + dy && y < bounds[3] - dy;
    };
    const points = list.filter((f) => f.geometry.type === 'Point');
    assert.ok(drawn.includes(lamp.id), `${lamp.id} drawn: ${drawn}`);
    for (const f of points.filter((f) => within(f, 0.05))) assert.ok(drawn.includes(f.id), `${f.id} inside the view is drawn`);
    const near = new Set(points.filter((f) => within(f, -0.05)).map((f) => f.id));
    for (const code of drawn) assert.ok(near.has(code), `${code} is drawn only near the view`);
    // The heat map, then filtered to fires in 2024 (the test city's year).
    assert.equal(await visible('heat'), 'none');
    await page.check('#switcher input[name="heat"]');
    assert.equal(await visible('heat'), 'visible');
    await idle(page);
    assert.ok(heat.includes(''), `unfiltered heat tiles: ${heat}`);
    await page.selectOption('#heat-kind', 'fire');
    await page.fill('#heat-from', '2024-01-01');
    const filtered = page.waitForRequest((r) => /\/tiles\/heat\/.*kind=fire.*from=.*to=/.test(r.url()));
    await page.fill('#heat-to', '2024-12-31');
    await page.locator('#heat-to').dispatchEvent('change');
    const query = new URL((await filtered).url()).searchParams;
    const from = Number(query.get('from'));
    assert.equal(from, Math.floor(new Date('2024-01-01T00:00:00').getTime() / 1000));
    // Coverage within one minute: the uncovered cells are the API's.
    // The map asks for the cells in its view; the count is the whole area's.
    await page.fill('#coverage-minutes', '1');
    const asked = page.waitForRequest((r) => r.url().includes('/api/v1/coverage'));
    await page.click('#coverage-show');
    const bbox = new URL((await asked).url()).searchParams.get('bbox').split(',').map(Number);
    const mapView = await page.evaluate(() => window.civgrid.map.getBounds().toArray().flat());
    bbox.forEach((v, i) => assert.ok(Math.abs(v - mapView[i]) < 1e-5, `the view ${mapView} asked as ${bbox}`));
    const api = await json(server.base, `/api/v1/coverage?kind=fire_station,micro_fire_station&minutes=1&bbox=${bbox}&limit=2000`);
    const all = await json(server.base, '/api/v1/coverage?kind=fire_station,micro_fire_station&minutes=1&limit=10000');
    assert.ok(api.uncovered.features.length > 0, 'one minute leaves cells uncovered in view');
    assert.equal(all.uncovered.numberMatched, all.cells.total - all.cells.covered);
    await page.waitForFunction((n) => window.civgrid.map.getSource('uncovered').serialize().data.features.length === n, api.uncovered.features.length);
    const shown = await page.evaluate(() => window.civgrid.map.getSource('uncovered').serialize().data.features.map((f) => f.properties.code).sort());
    assert.deepEqual(shown, api.uncovered.features.map((f) => f.properties.code).sort());
    const everyUncovered = new Set(all.uncovered.features.map((f) => f.properties.code));
    assert.ok(shown.every((c) => everyUncovered.has(c)), 'the cells shown are uncovered ones');
    assert.match(await page.textContent('#coverage-result'), new RegExp(`${all.uncovered.numberMatched}`));
    // Search by grid code.
    const grid = (await json(server.base, '/api/v1/grids')).features[5];
    await page.fill('#search-code', grid.properties.code);
    await page.click('#search button');
    await page.waitForFunction(() => window.civgrid.map.getSource('found').serialize().data.features.length > 0);
    assert.match(await page.textContent('#search-result'), new RegExp(grid.properties.code));
    const found = await page.evaluate(() => window.civgrid.map.getSource('found').serialize().data.features.map((f) => f.properties.code));
    assert.ok(found.includes(grid.properties.code), JSON.stringify(found));
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the map opens on the main place, lists the others, shares its view and shows areas from afar', async () => {
    await ready();
    const { places } = await json(server.base, '/api/v1/places');
    assert.equal(places.length, 2, JSON.stringify(places));
    assert.ok(places[0].cells > places[1].cells, JSON.stringify(places));
    const { page, errors } = await openMap(chrome, server.base);
    const outside = [];
    page.on('request', (r) => { if (!r.url().startsWith(server.base) && !/^(data|blob):/.test(r.url())) outside.push(r.url()); });
    const view = () => page.evaluate(() => {
      const b = window.civgrid.map.getBounds();
      return { west: b.getWest(), south: b.getSouth(), east: b.getEast(), north: b.getNorth(), zoom: window.civgrid.map.getZoom() };
    });
    const holds = (v, [w, s, e, n]) => v.west <= w + 1e-9 && v.south <= s + 1e-9 && v.east >= e - 1e-9 && v.north >= n - 1e-9;
    // The first view holds the town and not the far community.
    let v = await view();
    assert.ok(holds(v, places[0].bounds), `${JSON.stringify(v)} holds ${places[0].bounds}`);
    const [flon, flat] = FAR.geometry.coordinates[0][0];
    assert.ok(flon > v.east || flat > v.north, `the far place is outside the first view: ${JSON.stringify(v)}`);
    assert.ok(v.zoom > 12, `a town's zoom, not a continent's: ${v.zoom}`);
    // The place list names both; choosing the second goes there.
    const options = await page.$$eval('#places option', (os) => os.map((o) => o.textContent));
    assert.equal(options.length, 2);
    assert.ok(options[1].includes('far community'), options.join(' | '));
    await page.selectOption('#places', '1');
    v = await view();
    assert.ok(holds(v, places[1].bounds), `${JSON.stringify(v)} holds ${places[1].bounds}`);
    // The view is in the URL: #zoom/lat/lon, and opening it comes back there.
    await page.waitForFunction(() => Number(location.hash.split('/')[1]) > 50);
    const hash = await page.evaluate(() => location.hash);
    const [zoom, lat, lon] = hash.slice(1).split('/').map(Number);
    assert.ok(Math.abs(lat - (places[1].bounds[1] + places[1].bounds[3]) / 2) < 0.01 && Math.abs(lon - (places[1].bounds[0] + places[1].bounds[2]) / 2) < 0.01, hash);
    const again = await openMap(chrome, server.base, `#${zoom}/${lat}/${lon}`);
    const w = await again.page.evaluate(() => [window.civgrid.map.getZoom(), window.civgrid.map.getCenter().lat]);
    assert.ok(Math.abs(w[0] - zoom) < 0.01 && Math.abs(w[1] - lat) < 1e-3, `${w} from ${hash}`);
    assert.deepEqual(again.errors, []);
    await again.page.close();
    // At city zoom the communities show in their highest level's colour,
    // with their counts on hover, as the API counts them.
    const [tw, ts, te, tn] = places[0].bounds;
    await page.evaluate(([lon, lat]) => window.civgrid.map.jumpTo({ center: [lon, lat], zoom: 11.5 }), [(tw + te) / 2, (ts + tn) / 2]);
    await idle(page);
    const communities = await page.evaluate(() => window.civgrid.map.queryRenderedFeatures({ layers: ['communities-fill'] }).map((f) => f.properties));
    assert.ok(communities.length > 0, 'communities drawn at zoom 11.5');
    const { areas } = await json(server.base, '/api/v1/risk/counts?level=community');
    for (const c of communities) {
      const a = areas.find((x) => x.code === c.code);
      assert.ok(a, `community ${c.code} in risk/counts`);
      for (const k of ['red', 'orange', 'yellow', 'blue', 'level']) assert.equal(c[k], a[k], `${c.code} ${k}`);
    }
    const one = communities.find((c) => c.level === 'red') ?? communities[0];
    const box = await page.locator('#map').boundingBox();
    const spot = await page.evaluate((code) => {
      const map = window.civgrid.map;
      const f = map.queryRenderedFeatures({ layers: ['communities-fill'] }).find((x) => x.properties.code === code);
      let ring = f.geometry.coordinates;
      while (Array.isArray(ring[0][0])) ring = ring[0];
      // A point just inside the ring's first corner, towards its centre.
      const c = ring.slice(0, -1).reduce((s, p) => [s[0] + p[0] / (ring.length - 1), s[1] + p[1] / (ring.length - 1)], [0, 0]);
      const inside = [c[0] * 0.9 + ring[0][0] * 0.1, c[1] * 0.9 + ring[0][1] * 0.1];
      const p = map.project(inside);
      return { x: p.x, y: p.y };
    }, one.code);
    await page.mouse.move(box.x + spot.x, box.y + spot.y);
    const popup = await page.waitForSelector('.area-popup', { timeout: 5_000 });
    const text = await popup.textContent();
    assert.ok(text.includes(String(one.cells)), `${text} has ${one.cells} cells`);
    // Below the cells' zoom no cell tile is asked for.
    const cellTiles = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /\/tiles\/cells\/(\d+)\//.test(n) && Number(n.match(/\/tiles\/cells\/(\d+)\//)[1]) < 13));
    assert.deepEqual(cellTiles, []);
    assert.deepEqual(outside, [], 'no request leaves the service');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('names of places, roads and facilities are drawn in Chinese with no glyph server', async () => {
    await ready();
    const { page, errors } = await openMap(chrome, server.base);
    const asked = [];
    page.on('request', (r) => asked.push(r.url()));
    const style = await page.evaluate(() => window.civgrid.map.getStyle());
    assert.equal(style.glyphs, undefined, 'no glyphs URL: the browser draws every glyph');
    const { places } = await json(server.base, '/api/v1/places');
    const [w, s, e, n] = places[0].bounds;
    const rendered = async (zoom, layers) => {
      await page.evaluate(([lon, lat, z]) => window.civgrid.map.jumpTo({ center: [lon, lat], zoom: z }), [(w + e) / 2, (s + n) / 2, zoom]);
      await idle(page);
      return page.evaluate((ids) => Object.fromEntries(ids.map((id) => [id, window.civgrid.map.queryRenderedFeatures({ layers: [id] }).map((f) => f.properties.name)])), layers);
    };
    const cjk = /[\u4e00-\u9fff]/;
    const near = await rendered(15.5, ['road-labels', 'facility-labels', 'community-labels']);
    const mid = await rendered(13, ['subdistrict-labels']);
    const far = await rendered(10.5, ['district-labels']);
    const all = { ...near, ...mid, ...far };
    for (const [id, names] of Object.entries(all)) {
      assert.ok(names.length > 0, `${id} placed: ${JSON.stringify(all)}`);
      assert.ok(names.some((x) => cjk.test(x)), `${id} in Chinese: ${names.slice(0, 5)}`);
    }
    // An area's name is placed once, not once per tile it spans.
    for (const names of [mid['subdistrict-labels'], far['district-labels']]) {
      assert.equal(new Set(names).size, names.length, `${names}`);
    }
    assert.deepEqual(asked.filter((u) => !u.startsWith(server.base) || /glyph|fonts|\.pbf/.test(u)), []);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the language switch relabels the page', async () => {
    await ready();
    const { page } = await openMap(chrome, server.base);
    assert.equal(await page.textContent('h1'), 'civgrid 网格化管理地图');
    assert.equal(await page.textContent('#legend li[data-level="red"]'), '重大');
    await page.click('#lang');
    assert.equal(await page.textContent('h1'), 'civgrid grid governance map');
    assert.equal(await page.textContent('#legend li[data-level="red"]'), 'Major');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.textContent('h1'), 'civgrid grid governance map', 'the choice is kept');
    await page.close();
  });
});
