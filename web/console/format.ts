/** How the page shows times, durations and numbers. */

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const dateFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const numberFormat = new Intl.NumberFormat();

export function time(ms: number | undefined): string {
  if (ms === undefined) return '';
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return today ? timeFormat.format(d) : `${dateFormat.format(d)} ${timeFormat.format(d)}`;
}

export function duration(ms: number | undefined): string {
  if (ms === undefined || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} m ${Math.floor((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.floor((ms % 3_600_000) / 60_000)} m`;
}

export function count(n: number): string {
  return numberFormat.format(n);
}

/** Tokens are long base64; the page shows their random tail, which is what tells them apart. */
export function shortToken(token: string): string {
  const bare = token.replace(/=+$/, '');
  return bare.length > 12 ? `…${bare.slice(-10)}` : bare;
}
