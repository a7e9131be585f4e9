import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { MIGRATIONS } from '../dist/src/store/sqlite/migrations.js';
const variant = process.argv[2];
const db = new Database(mkdtempSync('/tmp/upd-') + '/t.db');
db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL');
for (const m of MIGRATIONS) db.exec(m.sql);
const N = 20000, B = 63;
const ins = db.prepare(`INSERT INTO actions (token, queue, status, priority, params, queued_at) VALUES (?, ?, 'Queued', ?, ?, ?)`);
db.transaction(() => { for (let i = 0; i < N; i++) ins.run('MTI3LjAuMC4xOjkwMDA6Tk9PUDoxNzY0NDI1MzMxMDAwOj' + i, 'Noop', 0, '[]', Date.now()); })();
const sas = db.prepare(`UPDATE actions SET status = ?, started_at = ?, ended_at = ?, attempts = attempts + 1, result = ?, error = ?, progress = NULL, stop_requested = 0 WHERE id = ? AND status = 'Queued'`);
const multi = new Map();
const m = (n) => multi.get(n) ?? (multi.set(n, db.prepare(`WITH v(id, status, started, ended, result, error) AS (VALUES ${Array(n).fill('(?, ?, ?, ?, ?, ?)').join(', ')})
 UPDATE actions SET status = v.status, started_at = v.started, ended_at = v.ended, attempts = attempts + 1, result = v.result, error = v.error, progress = NULL, stop_requested = 0
 FROM v WHERE actions.id = v.id AND actions.status = 'Queued' RETURNING actions.id`).pluck()), multi.get(n));
let t0 = performance.now(), changed = 0;
for (let b = 0; b < N / B; b++) {
  const now = Date.now();
  db.transaction(() => {
    if (variant === 'multi') {
      for (let k = 0; k < B; k += 32) { const n = Math.min(32, B - k); const v = []; for (let i = k; i < k + n; i++) v.push(b * B + i + 1, 'Finished', now, now, null, null); changed += m(n).all(v).length; }
    } else for (let i = 0; i < B; i++) changed += sas.run('Finished', now, now, null, null, b * B + i + 1).changes;
  })();
}
console.log(variant, ((performance.now() - t0) * 1000 / N).toFixed(2), 'µs/action', changed);
