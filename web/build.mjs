// Builds the web map into dist/: app.js (the page's modules and MapLibre
// GL JS, bundled by esbuild), app.css, maplibre-gl.css and index.html.
// `node build.mjs --check` builds into a temporary folder and fails when
// dist/ differs from it (dist/ is committed so that `cargo build` needs no
// npm; scripts/test.sh runs the check).
import { build } from 'esbuild';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const check = process.argv.includes('--check');
const out = check ? mkdtempSync(join(tmpdir(), 'civgrid-web-')) : join(here, 'dist');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'src/main.js')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  legalComments: 'eof',
  outfile: join(out, 'app.js'),
  logLevel: 'warning',
});
copyFileSync(join(here, 'src/index.html'), join(out, 'index.html'));
copyFileSync(join(here, 'src/app.css'), join(out, 'app.css'));
copyFileSync(join(here, 'node_modules/maplibre-gl/dist/maplibre-gl.css'), join(out, 'maplibre-gl.css'));

if (check) {
  const dist = join(here, 'dist');
  const names = (d) => readdirSync(d).sort();
  const fresh = names(out);
  let differ = names(dist).join() !== fresh.join() ? [`files: ${names(dist)} ≠ ${fresh}`] : [];
  for (const f of fresh) {
    let committed;
    try { committed = readFileSync(join(dist, f)); } catch { continue; }
    if (!committed.equals(readFileSync(join(out, f)))) differ.push(f);
  }
  rmSync(out, { recursive: true, force: true });
  if (differ.length) {
    console.error(`web/dist is stale (${differ.join(', ')}): run \`npm run build\` in web/ and commit dist/`);
    process.exit(1);
  }
  console.error('web/dist matches a fresh build');
} else {
  for (const f of readdirSync(out).sort()) {
    console.error(`dist/${f} ${readFileSync(join(out, f)).length} bytes`);
  }
}
