/**
 * The side-by-side chart (SVG, no dependency): one group of horizontal bars per throughput row (/s),
 * a bar per system and the ceiling where there is one, each bar's length relative to
 * the largest in its group (the rows have different units), its figure written beside it.
 */
import { LABELS, SYSTEMS, type SystemId } from './systems.js';
import type { Row } from './row.js';
import { rate } from '../lib/stats.js';

const COLOURS: Record<SystemId | 'ceiling', string> = {
  tocsin: '#d9480f',
  'tocsin-pg': '#ff922b',
  bullmq: '#1c7ed6',
  'bullmq-aof': '#74c0fc',
  graphile: '#2f9e44',
  ceiling: '#adb5bd',
};

const WIDTH = 900;
const LABEL = 250;
const BAR = 14;
const GAP = 3;
const GROUP_GAP = 16;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function chartSvg(rows: readonly Row[], title: string): string {
  const groups = rows.filter((r) => r.unit.endsWith('/s') && Object.keys(r.values).length > 0);
  const parts: string[] = [];
  let y = 40;
  for (const r of groups) {
    const bars = [...SYSTEMS.filter((s) => r.values[s] !== undefined).map((s) => ({ key: s as SystemId | 'ceiling', name: LABELS[s], value: r.values[s]! }))];
    if (r.ceiling !== undefined) bars.push({ key: 'ceiling', name: `ceiling (${r.ceilingName ?? ''})`, value: r.ceiling });
    const max = Math.max(...bars.map((b) => b.value));
    // The group's title on a line of its own (some are wider than the label column), each bar named at its left.
    parts.push(`<text x="8" y="${y + 11}"><tspan font-weight="bold">${esc(`${r.workload}: ${r.figure}`)}</tspan> <tspan fill="#555">${esc(r.unit)}</tspan></text>`);
    y += BAR + GAP + 2;
    for (const b of bars) {
      const w = max > 0 ? Math.max(1, ((WIDTH - LABEL - 90) * b.value) / max) : 1;
      parts.push(`<text x="16" y="${y + 11}">${esc(b.name)}</text>`);
      parts.push(`<rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" fill="${COLOURS[b.key]}"/>`);
      parts.push(`<text x="${(LABEL + w + 4).toFixed(1)}" y="${y + 11}">${esc(rate(b.value))}</text>`);
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
