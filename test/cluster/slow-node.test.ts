/**
 * Fencing (decisions.md "Many machines"): a node that was only slow (here frozen with SIGSTOP past
 * its NodeLeaseTimeout) and comes back must not finish or deliver what another node took over.
 * The other node re-queues and runs its actions; when the frozen one wakes, its own runs end, but
 * their settlements change nothing, and each taken-over action has exactly one OnFinish: the one
 * of the node that took it over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Json } from '../helpers/aci.js';
import { readEventFile, waitNoPending } from '../helpers/events-server.js';
import { waitFor } from '../helpers/server.js';
import { postgresSkipReason } from '../helpers/postgres.js';
import { startCluster } from './cluster-helpers.js';

const skip = await postgresSkipReason();

test('a node frozen past its lease comes back: it finishes and delivers nothing another node took over', { skip, timeout: 120_000 }, async (t) => {
  // A command action: its process ends by wall clock while the node is frozen, so the frozen node
  // tries to settle it as soon as it wakes, before it learns that its lease has lapsed.
  const cluster = await startCluster(2, {
    leaseTimeout: '2s',
    sections: `
[Nap]
Type=Command
Command=/bin/sleep
Arguments=%Seconds%
MaximumThreads=4
`,
  });
  try {
    const [slow, other] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0]];
    // Long enough to be running on the slow node when it freezes, short enough to end while it is frozen.
    const tokens = await Promise.all(Array.from({ length: 8 }, () => slow.client.send('Nap', { Seconds: '2' })));
    const owned = await waitFor(async () => {
      const { rows } = await cluster.pool.query<{ token: string }>(`SELECT token FROM actions WHERE owner = 'node-1' AND status = 'Processing'`);
      return rows.length > 0 ? rows.map((r) => r.token) : undefined;
    }, 10_000, 20);
    slow.child.kill('SIGSTOP');
    try {
      // The other node takes them over and runs them.
      await waitFor(async () => {
        const { rows } = await cluster.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM actions WHERE token = ANY($1) AND owner = 'node-2' AND status = 'Processing'`, [owned]);
        return rows[0]!.n === owned.length;
      }, 15_000, 50);
    } finally {
      slow.child.kill('SIGCONT');
    }
    t.diagnostic(`node-1 was frozen while running ${owned.length} actions; node-2 took them over`);
    await waitFor(async () => {
      const { rows } = await cluster.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM actions WHERE token = ANY($1) AND status = 'Finished'`, [tokens]);
      return rows[0]!.n === tokens.length;
    }, 30_000, 50);
    await waitFor(() => slow.stderr().includes('missed its lease'), 10_000, 20);
    await waitNoPending(other.client, 30_000);
    const { rows } = await cluster.pool.query<{ token: string; owner: string; attempts: number }>(`SELECT token, owner, attempts FROM actions WHERE token = ANY($1)`, [owned]);
    for (const r of rows) assert.deepEqual([r.owner, r.attempts], ['node-2', 2], `${r.token} was finished by the node that took it over`);
    const finishes = readEventFile(cluster.eventsFile).filter((e) => owned.includes(String((e['action'] as Json)['token'])));
    for (const token of owned) {
      const mine = finishes.filter((e) => (e['action'] as Json)['token'] === token);
      assert.equal(mine.length, 1, `${token}: one OnFinish, not one from each node`);
      assert.equal(String((mine[0]!['action'] as Json)['attempts']), '2', 'the run of the node that took it over');
    }
  } finally {
    await cluster.close();
  }
});
