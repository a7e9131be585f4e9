/**
 * A node that dies holds nothing for long (decisions.md "Many machines"): kill -9 of one of three
 * nodes in the middle of a burst; within NodeLeaseTimeout + 5 s the others have re-queued what it
 * ran, and in the end every action reaches a final status and its OnFinish is delivered at least
 * once (the duplicate count is printed), even when the dead node held the handler's lease.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queueInfo, type Json } from '../helpers/aci.js';
import { mapLimit, readEventFile, readLines, waitNoPending } from '../helpers/events-server.js';
import { waitFor } from '../helpers/server.js';
import { postgresSkipReason } from '../helpers/postgres.js';
import { startCluster } from './cluster-helpers.js';

const skip = await postgresSkipReason();
const ACTIONS = 1500;
const LEASE_S = 3;

test('kill -9 of one node of three mid-burst: its actions are re-queued within NodeLeaseTimeout + 5 s, every action ends and every OnFinish is delivered', { skip, timeout: 180_000 }, async (t) => {
  const cluster = await startCluster(3, { leaseTimeout: `${LEASE_S}s` });
  try {
    const { nodes } = cluster;
    await queueInfo(nodes[0]!.client, 'Sleep', 'Pause');
    const tokens = await mapLimit(Array.from({ length: ACTIONS }, (_, i) => i), 48, (i) => nodes[i % 3]!.client.send('Sleep', { Seconds: '0.02' }));
    await queueInfo(nodes[0]!.client, 'Sleep', 'Resume');
    // The handler's deliverer is the node to kill when it is one of the three: the others must take its lease over.
    const { rows: lease } = await cluster.pool.query<{ node: string }>(`SELECT node FROM delivery_leases WHERE handler = 'file'`);
    const victim = Math.max(0, ['node-1', 'node-2', 'node-3'].indexOf(lease[0]?.node ?? 'node-2'));
    await waitFor(() => readLines(cluster.eventsFile).length >= ACTIONS / 5, 60_000, 5);
    const { rows: running } = await cluster.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM actions WHERE owner = $1 AND status = 'Processing'`, [`node-${victim + 1}`]);
    await nodes[victim]!.kill9();
    const killedAt = Date.now();
    t.diagnostic(`killed node-${victim + 1} (the File handler's deliverer: ${lease[0]?.node === `node-${victim + 1}`}) while it ran ${running[0]!.n} actions`);

    await waitFor(async () => {
      const { rows } = await cluster.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM actions WHERE owner = $1 AND status = 'Processing'`, [`node-${victim + 1}`]);
      return rows[0]!.n === 0;
    }, (LEASE_S + 5) * 1000, 50);
    t.diagnostic(`its actions re-queued ${Date.now() - killedAt} ms after the kill (NodeLeaseTimeout ${LEASE_S} s)`);

    const alive = nodes.filter((_, i) => i !== victim);
    await waitFor(async () => {
      const q = (await queueInfo(alive[0]!.client, 'Sleep', 'QueueStatus'))['queue'] as Json;
      return Number(q['finished']) === ACTIONS;
    }, 120_000, 100);
    await waitNoPending(alive[1]!.client, 60_000);
    const finishes = new Map<string, number>();
    for (const e of readEventFile(cluster.eventsFile)) {
      const token = String((e['action'] as Json)['token']);
      finishes.set(token, (finishes.get(token) ?? 0) + 1);
    }
    const missing = tokens.filter((token) => !finishes.has(token));
    assert.deepEqual(missing, [], 'every OnFinish delivered at least once');
    const duplicates = [...finishes.values()].reduce((n, c) => n + c - 1, 0);
    const { rows: again } = await cluster.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM actions WHERE attempts > 1`);
    t.diagnostic(`duplicate OnFinish lines: ${duplicates} of ${ACTIONS} (${((100 * duplicates) / ACTIONS).toFixed(2)} %); actions run twice: ${again[0]!.n}`);
  } finally {
    await cluster.close();
  }
});
