/**
 * The side-by-side chart (SVG, no dependency): one group of horizontal bars per throughput row (/s),
 * a bar per system and the ceiling where there is one, each bar's length relative to
 * the largest in its group (the rows have different units), its figure written beside it.
 */
import { HEADS, SYSTEMS, type SystemId } from './systems.js';
import type { Row } from './report.js';
import { rate } from '../lib/stats.js';

const COLOURS: Record<SystemId | 'ceiling', string> = {
  tocsin: '#d9480f',
  bullmq: '#1c7ed6',
  'bullmq-aof': '#74c0fc',
  graphile: '#2f9e44',
  ceiling: '#adb5bd',
};

const WIDTH = 1000;
const LABEL = 260;
const BAR = 14;
const GAP = 3;
const GROUP_GAP = 16;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function chartSvg(rows: readonly Row[], title: string): string {
  const groups = rows.filter((r) => r.unit.endsWith('/s') && Object.keys(r.values).length > 0);
  const parts: string[] = [];
  let y = 40;
  for (const r of groups) {
    const bars = [...SYSTEMS.filter((s) => r.values[s] !== undefined).map((s) => ({ key: s as SystemId | 'ceiling', name: HEADS[s], value: r.values[s]! }))];
    if (r.ceiling !== undefined) bars.push({ key: 'ceiling', name: `ceiling (${r.ceilingName ?? ''})`, value: r.ceiling });
    const max = Math.max(...bars.map((b) => b.value));
    parts.push(`<text x="8" y="${y + 11}" font-weight="bold">${esc(`${r.workload}: ${r.figure}`)}</text>`);
    parts.push(`<text x="8" y="${y + 25}" fill="#555">${esc(r.unit)}</text>`);
    for (const b of bars) {
      const w = max > 0 ? Math.max(1, ((WIDTH - LABEL - 240) * b.value) / max) : 1;
      parts.push(`<rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" fill="${COLOURS[b.key]}"><title>${esc(b.name)}</title></rect>`);
      parts.push(`<text x="${(LABEL + w + 4).toFixed(1)}" y="${y + 11}">${esc(`${rate(b.value)} ${b.name}`)}</text>`);
      y += BAR + GAP;
    }
    y += GROUP_GAP;
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="20" font-size="13" font-weight="bold">${esc(title)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
