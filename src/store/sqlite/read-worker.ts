/**
 * The store's read thread (read-thread.ts): a read-only connection answering EventInfo's listings
 * (with their counts) one at a time.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { prepareEventReads } from './event-reads.js';
import type { ReadReply, ReadRequest } from './read-thread.js';

const db = new Database((workerData as { file: string }).file, { readonly: true, fileMustExist: true });
const reads = prepareEventReads(db);
const reply = (message: ReadReply) => parentPort!.postMessage(message);

parentPort!.on('message', (request: ReadRequest) => {
  if (request.kind === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    const value = request.kind === 'listEvents' ? reads.listEvents(request.filter) : reads.listEventsCounted(request.filter);
    reply({ id: request.id, value });
  } catch (e) {
    reply({ id: request.id, error: (e as Error).message });
  }
});
