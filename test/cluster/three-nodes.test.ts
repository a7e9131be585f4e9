/**
 * Three `tocsin serve` nodes on one PostgreSQL database (issue "Many nodes on one PostgreSQL
 * database"): submissions round-robin run exactly once; any node answers QueueInfo for any token;
 * Stop sent to a node that does not run the action stops it; MaximumQueueSize holds for the
 * cluster and each queue event fires once per transition, not once per node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queueInfo, aciError, type Json } from '../helpers/aci.js';
import { mapLimit, readEventFile, waitNoPending } from '../helpers/events-server.js';
import { waitFor } from '../helpers/server.js';
import { postgresSkipReason } from '../helpers/postgres.js';
import { startCluster } from './cluster-helpers.js';

const skip = await postgresSkipReason();
const ACTIONS = 3000;

const queueStatus = async (client: Parameters<typeof queueInfo>[0], queue = 'Sleep') => (await queueInfo(client, queue, 'QueueStatus'))['queue'] as Json;

test(`three nodes: ${ACTIONS} actions submitted round-robin each run exactly once, and every node answers for every token`, { skip, timeout: 180_000 }, async (t) => {
  const cluster = await startCluster(3);
  try {
    const { nodes } = cluster;
    const tokens = await mapLimit(Array.from({ length: ACTIONS }, (_, i) => i), 48, (i) => nodes[i % 3]!.client.send('Sleep', { Seconds: '0' }));
    assert.equal(new Set(tokens).size, ACTIONS);
    await waitFor(async () => Number((await queueStatus(nodes[0]!.client))['finished']) === ACTIONS, 120_000, 100);
    const { rows } = await cluster.pool.query<{ owner: string; n: number; once: boolean }>(
      `SELECT owner, count(*)::int AS n, bool_and(attempts = 1) AS once FROM actions GROUP BY owner ORDER BY owner`,
    );
    t.diagnostic(`actions run per node: ${rows.map((r) => `${r.owner} ${r.n}`).join(', ')}`);
    assert.ok(rows.every((r) => r.once), 'every action started once');
    assert.equal(rows.reduce((n, r) => n + r.n, 0), ACTIONS);
    assert.deepEqual(rows.map((r) => r.owner), ['node-1', 'node-2', 'node-3'], 'every node took work');

    // Any node answers for any token.
    await mapLimit(tokens.flatMap((token) => nodes.map((node) => [node, token] as const)), 64, async ([node, token]) => {
      assert.equal((await node.client.status(token))['status'], 'Finished', `${token} on ${node.url}`);
    });

    await waitNoPending(nodes[1]!.client, 60_000);
    const finishes = new Map<string, number>();
    for (const e of readEventFile(cluster.eventsFile)) {
      const token = String((e['action'] as Json)['token']);
      finishes.set(token, (finishes.get(token) ?? 0) + 1);
    }
    assert.equal(finishes.size, ACTIONS, 'an OnFinish for every action');
    const duplicates = [...finishes.values()].reduce((n, c) => n + c - 1, 0);
    assert.equal(duplicates, 0, 'with no failure, each OnFinish once');
  } finally {
    await cluster.close();
  }
});

test('three nodes: Stop sent to a node that does not run the action stops it; GetStatus lists the nodes', { skip, timeout: 60_000 }, async () => {
  const cluster = await startCluster(3);
  try {
    const { nodes } = cluster;
    const token = await nodes[0]!.client.send('Sleep', { Seconds: '60' });
    const owner = await waitFor(async () => {
      const { rows } = await cluster.pool.query<{ owner: string | null }>(`SELECT owner FROM actions WHERE token = $1 AND status = 'Processing'`, [token]);
      return rows[0]?.owner ?? undefined;
    }, 10_000, 20);
    const other = nodes.find((_, i) => `node-${i + 1}` !== owner)!;
    await queueInfo(other.client, 'Sleep', 'Stop', { Token: token });
    await waitFor(async () => (await other.client.status(token))['status'] === 'Stopped', 10_000, 20);

    const status = await nodes[2]!.client.call('GetStatus');
    const listed = (((status['nodes'] as Json)['node'] as Json[]) ?? []).map((n) => [n['name'], n['alive']]);
    assert.deepEqual(listed, [['node-1', 'true'], ['node-2', 'true'], ['node-3', 'true']]);
  } finally {
    await cluster.close();
  }
});

test('three nodes: MaximumQueueSize holds for the cluster, and QueueFull/QueueEmpty fire once each', { skip, timeout: 60_000 }, async () => {
  const cluster = await startCluster(3, {
    sections: `
[Tick]
Type=Command
Command=/bin/true
MaximumQueueSize=10
OnQueueEvent=File
`,
  });
  try {
    const { nodes } = cluster;
    await queueInfo(nodes[0]!.client, 'Tick', 'Pause');
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        nodes[i % 3]!.client.send('Tick').then(
          () => 'queued',
          async (e: unknown) => (await aciError(Promise.reject(e))).errorcode,
        ),
      ),
    );
    assert.equal(results.filter((r) => r === 'queued').length, 10, 'ten queued across three nodes');
    assert.equal(results.filter((r) => r === 'ERRORQUEUEFULL').length, 20);
    await queueInfo(nodes[1]!.client, 'Tick', 'Resume');
    await waitFor(async () => Number((await queueStatus(nodes[2]!.client, 'Tick'))['finished']) === 10, 30_000, 50);
    await waitNoPending(nodes[0]!.client, 30_000);
    const queueEvents = readEventFile(cluster.eventsFile)
      .filter((e) => e['type'] === 'OnQueueEvent')
      .map((e) => String((e['queueevent'] as Json)['queueEventType']));
    assert.equal(queueEvents.filter((x) => x === 'QueueFull').length, 1, `QueueFull once (${queueEvents.join(', ')})`);
    assert.equal(queueEvents.filter((x) => x === 'QueueEmpty').length, 1, `QueueEmpty once (${queueEvents.join(', ')})`);
  } finally {
    await cluster.close();
  }
});
