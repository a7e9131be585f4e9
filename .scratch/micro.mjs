import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { rmSync, mkdtempSync } from 'node:fs';
import { MIGRATIONS } from '../dist/src/store/sqlite/migrations.js';
const variant = process.argv[2] ?? 'base';
const dir = mkdtempSync('/tmp/micro-');
const db = new Database(dir + '/t.db');
db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL'); db.pragma('wal_autocheckpoint = 0');
for (const m of MIGRATIONS) db.exec(m.sql);
const N = 20000, B = 63;
const doc = '<event><type>OnFinish</type>' + 'x'.repeat(600) + '</event>';
const ins = db.prepare(`INSERT INTO actions (token, queue, status, priority, params, queued_at) VALUES (?, ?, 'Queued', ?, ?, ?)`);
db.transaction(() => { for (let i = 0; i < N; i++) ins.run('MTI3LjAuMC4xOjkwMDA6Tk9PUDoxNzY0NDI1MzMxMDAwOj' + i, 'Noop', 0, '[]', Date.now()); })();
const sas = db.prepare(`UPDATE actions SET status = ?, started_at = ?, ended_at = ?, attempts = attempts + 1, result = ?, error = ?, progress = NULL, stop_requested = 0 WHERE id = ? AND status = 'Queued'`);
const insE = db.prepare(`INSERT INTO events (event_id, type, handler, queue, token, doc_id, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
const insD = db.prepare('INSERT INTO event_documents (id, document, request) VALUES (?, ?, ?)');
const delivered = db.prepare(`UPDATE events SET state = 'delivered', delivered_at = ?, last_error = NULL WHERE seq IN (SELECT value FROM json_each(?))`);
const rangeDel = db.prepare(`UPDATE events SET state = 'delivered', delivered_at = ?, last_error = NULL WHERE seq BETWEEN ? AND ?`);
const multiE = new Map(), multiD = new Map();
const mE = (n) => multiE.get(n) ?? (multiE.set(n, db.prepare(`INSERT INTO events (event_id, type, handler, queue, token, doc_id, next_attempt_at, created_at) VALUES ` + Array(n).fill('(?, ?, ?, ?, ?, ?, ?, ?)').join(','))), multiE.get(n));
const mD = (n) => multiD.get(n) ?? (multiD.set(n, db.prepare(`INSERT INTO event_documents (id, document, request) VALUES ` + Array(n).fill('(?, ?, ?)').join(','))), multiD.get(n));
let prevSeqs = [];
const t0 = performance.now();
let tIns = 0, tUpd = 0, tDel = 0, tCommit = 0;
for (let b = 0; b < N / B; b++) {
  const now = Date.now();
  db.exec('BEGIN');
  let t = performance.now();
  for (let i = 0; i < B; i++) if (variant !== 'noupd') sas.run('Finished', now, now, null, null, b * B + i + 1);
  tUpd += performance.now() - t; t = performance.now();
  const seqs = [];
  if (variant === 'multi' || variant === 'range') {
    const ev = [], dv = [];
    for (let i = 0; i < B; i++) for (const type of ['OnStart', 'OnFinish']) { ev.push(randomUUID(), type, 'EventLog', 'Noop', 'MTI3LjAuMC4xOjkwMDA6Tk9PUDoxNzY0NDI1MzMxMDAwOj' + i, null, now, now); }
    const rows = 2 * B; let first = 0;
    for (let k = 0; k < rows; k += 32) { const n = Math.min(32, rows - k); const r = mE(n).run(...ev.slice(k * 8, (k + n) * 8)); const last = Number(r.lastInsertRowid); for (let j = n - 1; j >= 0; j--) seqs.push(last - j); }
    const dvals = []; for (const s of seqs) dvals.push(s, doc, '{"action":"Noop"}');
    for (let k = 0; k < rows; k += 32) { const n = Math.min(32, rows - k); mD(n).run(...dvals.slice(k * 3, (k + n) * 3)); }
  } else {
    for (let i = 0; i < B; i++) for (const type of ['OnStart', 'OnFinish']) {
      const seq = Number(insE.run(randomUUID(), type, 'EventLog', 'Noop', 'MTI3LjAuMC4xOjkwMDA6Tk9PUDoxNzY0NDI1MzMxMDAwOj' + i, null, now, now).lastInsertRowid);
      if (variant !== 'nodoc') insD.run(seq, doc, '{"action":"Noop"}');
      seqs.push(seq);
    }
  }
  tIns += performance.now() - t; t = performance.now();
  if (prevSeqs.length && variant === 'range') rangeDel.run(now, prevSeqs[0], prevSeqs[prevSeqs.length-1]); else if (prevSeqs.length && variant !== 'nodeliv') delivered.run(now, JSON.stringify(prevSeqs));
  tDel += performance.now() - t; t = performance.now();
  db.exec('COMMIT');
  tCommit += performance.now() - t;
  prevSeqs = seqs;
}
const el = performance.now() - t0;
const us = (x) => (x * 1000 / N).toFixed(1);
console.log(variant, 'µs/action total', us(el), 'upd', us(tUpd), 'ins', us(tIns), 'deliv', us(tDel), 'commit', us(tCommit));
rmSync(dir, { recursive: true });
