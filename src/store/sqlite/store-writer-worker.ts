/**
 * The store's writer thread (store-writer.ts): its own connection to the database, applying the
 * group commits' WritePlans one after another, each in one transaction, and answering each.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { prepareApplyWritePlan } from './write-plan.js';
import type { WriterReply, WriterRequest, WriterSetup } from './store-writer.js';

const setup = workerData as WriterSetup;
const db = new Database(setup.file, { timeout: setup.busyTimeoutMs });
db.pragma(`synchronous = ${setup.synchronous}`);
// The checkpoint thread copies the WAL back (checkpointer.ts); this connection never does.
db.pragma('wal_autocheckpoint = 0');
const apply = prepareApplyWritePlan(db);

const reply = (message: WriterReply) => parentPort!.postMessage(message);

/** Failed requests (the latest few: a plan builds only on the one just before it). */
const failed = new Set<number>();
function remember(id: number): void {
  failed.add(id);
  if (failed.size > 16) failed.delete(failed.values().next().value!);
}

parentPort!.on('message', (request: WriterRequest) => {
  if (request.type === 'close') {
    db.close();
    reply({ type: 'closed' });
    return;
  }
  if (request.after !== undefined && failed.has(request.after)) {
    remember(request.id);
    reply({ type: 'failed', id: request.id, message: 'an earlier commit it builds on failed' });
    return;
  }
  try {
    reply({ type: 'applied', id: request.id, skipped: apply(request.plan) });
  } catch (e) {
    remember(request.id);
    const error = e as Error & { code?: unknown };
    reply({ type: 'failed', id: request.id, message: error.message, ...(typeof error.code === 'string' ? { code: error.code } : {}) });
  }
});
