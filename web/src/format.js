// Numbers, times and risk levels as the panels show them.
import { t } from './i18n.js';
import shipped from '../../styles/risk.json';

/** The risk colours: the shipped styles/risk.json until [`loadPalette`]. */
const palette = { ...shipped };

/** The four risk levels, highest first, with their colours. */
export const LEVELS = ['red', 'orange', 'yellow', 'blue'].map((level) => ({ level, colour: palette[level] }));

/**
 * Takes the colours the service draws its risk tiles with (`civgrid serve
 * --styles`), so that the legend matches the map; keeps the shipped ones if
 * the service cannot say.
 */
export async function loadPalette() {
  try {
    const served = await fetch('/web/palette.json').then((r) => (r.ok ? r.json() : {}));
    for (const l of LEVELS) {
      if (/^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$/.test(served[l.level] ?? '')) {
        palette[l.level] = served[l.level];
        l.colour = served[l.level];
      }
    }
  } catch { /* the shipped palette stays */ }
}

/** Metres: "850 m" or "1.35 km". */
export function metres(m) {
  return m < 1000 ? t('unit.m', { n: Math.round(m) }) : t('unit.km', { n: (m / 1000).toFixed(2) });
}

/** Seconds: "45 s" or "2 min 35 s". */
export function seconds(s) {
  const r = Math.round(s);
  return r < 60 ? t('unit.s', { n: r }) : t('unit.min', { m: Math.floor(r / 60), s: r % 60 });
}

/** A risk level as a coloured badge (HTML). */
export function levelBadge(level) {
  if (!level) return '–';
  const colour = palette[level] ?? '#888';
  return `<span class="level level-${level}" style="background:${colour}">${escape(t(`level.${level}`))}</span>`;
}

/** Text made safe for innerHTML. */
export function escape(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** A two-column table (HTML) from [label, html] rows. */
export function table(rows) {
  return `<table class="kv">${rows.map(([k, v]) => `<tr><td>${escape(k)}</td><td>${v}</td></tr>`).join('')}</table>`;
}

/** Shows a message in the status line (an error in red). */
export function status(message, error = false) {
  const el = document.getElementById('status');
  el.textContent = message;
  el.classList.toggle('error', error);
}
