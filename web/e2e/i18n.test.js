// The two string tables hold the same keys, none empty, with the same
// `{placeholders}`; every key the page's HTML names is in them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

globalThis.localStorage ??= { getItem: () => null, setItem: () => {} };
const { STRINGS } = await import('../src/i18n.js');

test('Chinese and English tables have the same keys and placeholders', () => {
  const zh = STRINGS.zh;
  const en = STRINGS.en;
  assert.deepEqual(Object.keys(en).sort(), Object.keys(zh).sort());
  const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const k of Object.keys(zh)) {
    assert.ok(zh[k].trim() && en[k].trim(), `${k} is empty`);
    assert.deepEqual(holes(en[k]), holes(zh[k]), `${k}: placeholders differ`);
  }
});

test('every data-i18n key of the page is in the tables', () => {
  const html = readFileSync(new URL('../src/index.html', import.meta.url), 'utf8');
  const keys = [...html.matchAll(/data-i18n(?:-placeholder)?="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(keys.length > 30, `${keys.length} keys`);
  for (const k of keys) assert.ok(k in STRINGS.zh, `${k} is not in the tables`);
});
