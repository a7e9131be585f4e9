/**
 * Date formats of IDOL responses, in the server's local time (idol-reference.md §1, §5).
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

const pad2 = (n: number): string => (n < 10 ? '0' + n : String(n));

// Recently formatted seconds: a record's times and the events of one batch mostly share a few.
const recent = new Map<number, string>();
const RECENT_KEPT = 16;

/** `2026-Nov-29 14:02:11`: the `queued_time` format of QueueInfo records. */
export function formatActionTime(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  let text = recent.get(second);
  if (text === undefined) {
    const d = new Date(epochMs);
    text = `${d.getFullYear()}-${MONTHS[d.getMonth()]}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
    if (recent.size >= RECENT_KEPT) recent.delete(recent.keys().next().value!);
    recent.set(second, text);
  }
  return text;
}

/** `09 Jul 08 15:48:22`: the `errortime` format of ACI errors. */
export function formatErrorTime(date: Date): string {
  return `${pad2(date.getDate())} ${MONTHS[date.getMonth()]} ${pad2(date.getFullYear() % 100)} ${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

/**
 * Parse a time filter value (QueueInfo `Queued-After` and friends): epoch seconds, the action
 * time format above, or an ISO 8601 date. Returns epoch ms or undefined.
 */
export function parseTimeFilter(value: string): number | undefined {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const m = /^(\d{4})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(v);
  if (m) {
    const month = MONTHS.findIndex((name) => name.toLowerCase() === m[2]!.toLowerCase());
    if (month < 0) return undefined;
    return new Date(Number(m[1]), month, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])).getTime();
  }
  const iso = Date.parse(v);
  return Number.isNaN(iso) ? undefined : iso;
}
