// The e2e tests' real parts: a civgrid store built by the debug binary
// (synthetic test city and a small far community, unit cells, household
// grids, plus a red and an orange hazard so that the map shows all four
// risk levels), the server on
// a free port with a writer token, and Debian's Chromium driven by
// playwright-core. Nothing is mocked. A missing Chromium fails the tests.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The civgrid binary (CIVGRID_BIN, default target/debug/civgrid). */
export const BIN = process.env.CIVGRID_BIN ?? join(root, 'target/debug/civgrid');
/** Debian's Chromium (CHROMIUM, default /usr/bin/chromium). */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** The writers' token the server is started with. */
export const TOKEN = 'e2e-writer-token';

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** GET/POST JSON against the server; throws with the body on a failure. */
export async function json(base, path, { method = 'GET', body, token } = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** The far community of the e2e store (near Helsinki). */
export const FAR = {
  type: 'Feature',
  properties: { code: '990101001001', name: 'far community', kind: 'urban' },
  geometry: { type: 'Polygon', coordinates: [[[24.94, 60.17], [24.946, 60.17], [24.946, 60.173], [24.94, 60.173], [24.94, 60.17]]] },
};

/** The centroid of a cell's first ring (lon, lat). */
export function centre(feature) {
  let ring = feature.geometry.coordinates;
  while (Array.isArray(ring[0][0])) ring = ring[0];
  const pts = ring.slice(0, -1);
  return [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];
}

/**
 * Builds a store in a temporary folder and serves it. Returns the base URL,
 * the hazards added and `stop()`.
 */
export async function startServer() {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run cargo build -p civgrid-service first`);
  const dir = mkdtempSync(join(tmpdir(), 'civgrid-e2e-'));
  const store = join(dir, 'e2e.gpkg');
  const run = (...args) => execFileSync(BIN, ['--store', store, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  run('synth', '--preset', 'test');
  // A second place 2,000 km away, much smaller: the map must open on the
  // town, not on the span of both.
  const far = join(dir, 'far-communities.geojson');
  writeFileSync(far, JSON.stringify({ type: 'FeatureCollection', features: [FAR] }));
  run('import', far);
  run('cells');
  run('grids');
  const first = await serve(store, ['--writer-token', TOKEN]);
  const { base } = first;
  // A red and an orange hazard inside two cells, so that every level shows.
  const cells = (await json(base, '/ogc/collections/cells/items?limit=1000')).features;
  const hazards = [];
  for (const [i, level] of [[40, 'red'], [160, 'orange']]) {
    const [lon, lat] = centre(cells[i]);
    const body = { type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties: { kind: 'chemical_store', name: `e2e ${level}`, level } };
    const r = await fetch(`${base}/api/v1/hazards`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/geo+json' }, body: JSON.stringify(body) });
    if (r.status !== 201) throw new Error(`POST hazard: ${r.status} ${await r.text()}`);
    hazards.push({ level, lon, lat, cell: cells[i].properties.code });
  }
  const others = [];
  return {
    base,
    hazards,
    dir,
    store,
    /** Another server over the same store, with `args` (e.g. an access file). */
    serveAgain: async (args) => {
      const s = await serve(store, args);
      others.push(s);
      return s;
    },
    stop: async () => {
      for (const s of [first, ...others]) await s.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `civgrid serve` of `store` on a free port with `args`, once it answers /health. */
async function serve(store, args) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ['--store', store, 'serve', '--listen', `127.0.0.1:${port}`, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`civgrid serve exited (${child.exitCode}): ${stderr}`);
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() - started > 30_000) throw new Error(`civgrid serve did not answer /health in 30 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}

/** Debian's Chromium, headless, with WebGL by SwiftShader (MapLibre needs it). */
export async function browser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the web map tests need Debian's chromium (scripts/install-deps.sh installs it)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
  });
}

/** Opens the page and waits until the map has drawn its first tiles. */
export async function openMap(b, base, query = '') {
  const page = await b.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Requests the page cancels itself (MapLibre drops the tiles it no
  // longer needs, a reload drops all) are not failures.
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') errors.push(`${r.url()}: ${r.failure()?.errorText}`);
  });
  await page.goto(`${base}/${query}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return { page, errors };
}

/** Waits until the map has loaded every tile and drawn (MapLibre `idle`). */
export async function idle(page) {
  await page.evaluate(() => new Promise((ok) => {
    const { map } = window.civgrid;
    if (map.loaded() && map.areTilesLoaded()) { map.once('idle', ok); map.triggerRepaint(); } else map.once('idle', ok);
  }));
}
