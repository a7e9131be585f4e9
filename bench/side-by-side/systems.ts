/**
 * The systems of the side-by-side benchmark, their column labels, and how a scenario's child
 * process makes one (graphile-worker and Tocsin on PostgreSQL get a fresh database, dropped after).
 * Tocsin on PostgreSQL runs the scale workload only (side-by-side.ts), beside Tocsin's default SQLite.
 */
import { benchDatabase, databaseStats } from '../lib/pg-database.js';
import { bullmqQueue } from '../lib/bullmq-queue.js';
import { graphileQueue } from '../lib/graphile-throughput.js';
import type { QueueFactory, QueueUnderTest } from '../lib/queue-under-test.js';
import { tocsinQueue } from '../lib/tocsin-queue.js';

export const SYSTEMS = ['tocsin', 'tocsin-pg', 'bullmq', 'bullmq-aof', 'graphile'] as const;
export type SystemId = (typeof SYSTEMS)[number];
export type PeerId = Exclude<SystemId, 'tocsin'>;

export const LABELS: Record<SystemId, string> = {
  tocsin: 'Tocsin (SQLite, Durability=process)',
  'tocsin-pg': 'Tocsin (PostgreSQL store; scale only)',
  bullmq: 'BullMQ 6.7.0 (Redis, no persistence)',
  'bullmq-aof': 'BullMQ 6.7.0 (Redis, AOF everysec)',
  graphile: 'graphile-worker 0.17.3 (PostgreSQL)',
};

/** Short column heads for the table. */
export const HEADS: Record<SystemId, string> = {
  tocsin: 'Tocsin',
  'tocsin-pg': 'Tocsin PG',
  bullmq: 'BullMQ',
  'bullmq-aof': 'BullMQ AOF',
  graphile: 'graphile',
};

/** A factory for `system`, and what to clean up once its queue is closed. */
export async function queueFactory(system: SystemId): Promise<{ create: QueueFactory; dispose: () => Promise<void> }> {
  if (system === 'tocsin') return { create: tocsinQueue, dispose: async () => {} };
  if (system === 'bullmq' || system === 'bullmq-aof') return { create: bullmqQueue, dispose: async () => {} };
  const db = await benchDatabase();
  if (system === 'tocsin-pg') return { create: (target, probe, options) => tocsinQueue(target, probe, options, db.url), dispose: () => db.drop() };
  return {
    create: (target, probe, options): Promise<QueueUnderTest> => graphileQueue(db.url, target, probe, options),
    // The library ends its pools without waiting for them: a session still open when the drop
    // terminates it errors on a pool nobody listens to, which ends the process. So: wait first.
    dispose: async () => {
      await databaseStats(db.name, 5_000);
      await db.drop();
    },
  };
}
