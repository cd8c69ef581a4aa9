// `civgrid export tiles` read back by protomaps' own PMTiles reader (the
// npm package, not the Rust crate that wrote the archive): every tile of
// every zoom over the territory's places is the served one, byte for byte
// (the served layers joined in the archive's order), and tiles with
// nothing in them are not in the archive.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { PMTiles } from 'pmtiles';
import { BIN, startServer } from './harness.js';

/** A PMTiles source over a local file (the package's FileSource is the browser's). */
class NodeFile {
  constructor(path) { this.path = path; this.fd = openSync(path, 'r'); }
  getKey() { return this.path; }
  async getBytes(offset, length) {
    const buf = Buffer.alloc(length);
    const n = readSync(this.fd, buf, 0, length, offset);
    return { data: buf.buffer.slice(buf.byteOffset, buf.byteOffset + n) };
  }
  close() { closeSync(this.fd); }
}

/** The XYZ tile of a lon/lat at zoom z. */
function tileOf(lon, lat, z) {
  const n = 2 ** z;
  const r = (lat * Math.PI) / 180;
  return [Math.floor(((lon + 180) / 360) * n), Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)];
}

let server;
after(async () => { await server?.stop(); });

test('an exported PMTiles archive holds the served tiles of every zoom', async () => {
  server = await startServer();
  const out = join(server.dir, 'city.pmtiles');
  const maxzoom = 15;
  const summary = execFileSync(BIN, ['--store', server.store, 'export', 'tiles', '--out', out, '--maxzoom', String(maxzoom)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  console.log(`# ${summary.trim()}`);
  const file = new NodeFile(out);
  const archive = new PMTiles(file);
  const header = await archive.getHeader();
  assert.equal(header.tileType, 1, 'vector tiles');
  assert.equal(header.minZoom, 0);
  assert.equal(header.maxZoom, maxzoom);
  const meta = await archive.getMetadata();
  const layers = meta.civgrid_layers;
  assert.deepEqual(layers, ['base', 'areas', 'cells', 'grids', 'facilities', 'hazards', 'components', 'zones']);
  const ids = meta.vector_layers.map((l) => l.id);
  for (const id of ['water', 'roads', 'districts', 'communities', 'cells', 'grids', 'facilities']) assert.ok(ids.includes(id), `${id} in ${ids}`);
  assert.ok(Object.keys(meta.vector_layers.find((l) => l.id === 'cells').fields).includes('level'));
  const minzoom = {};
  for (const l of layers) minzoom[l] = (await (await fetch(`${server.base}/tiles/${l}.json`)).json()).minzoom;
  const { places } = await (await fetch(`${server.base}/api/v1/places`)).json();
  let present = 0;
  let absent = 0;
  const seen = new Set();
  for (let z = 0; z <= maxzoom; z++) {
    for (const p of places) {
      const [w, s, e, n] = p.bounds;
      const [x0, y0] = tileOf(w, n, z);
      const [x1, y1] = tileOf(e, s, z);
      for (let x = x0; x <= x1; x++) {
        for (let y = y0; y <= y1; y++) {
          if (seen.has(`${z}/${x}/${y}`)) continue;
          seen.add(`${z}/${x}/${y}`);
          const parts = [];
          for (const l of layers) {
            if (z < minzoom[l]) continue;
            const r = await fetch(`${server.base}/tiles/${l}/${z}/${x}/${y}.mvt`);
            assert.equal(r.status, 200, `${l} ${z}/${x}/${y}`);
            parts.push(Buffer.from(await r.arrayBuffer()));
          }
          const served = Buffer.concat(parts);
          const got = await archive.getZxy(z, x, y);
          if (served.length === 0) {
            assert.equal(got, undefined, `${z}/${x}/${y} holds nothing`);
            absent += 1;
          } else {
            assert.ok(got, `${z}/${x}/${y} is in the archive`);
            assert.ok(Buffer.from(got.data).equals(served), `${z}/${x}/${y}: the served bytes`);
            present += 1;
          }
        }
      }
    }
  }
  file.close();
  console.log(`# ${present} tiles equal to the served ones, ${absent} empty ones left out`);
  assert.ok(present > 20, `${present} tiles compared`);
});
