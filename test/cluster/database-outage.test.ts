/**
 * The database goes away under load and comes back (issue "Many nodes on one PostgreSQL
 * database", Faults): while it is away a node answers submissions with a clear ACI error
 * (ERRORSTOREUNAVAILABLE) and accepts nothing it has not stored; once it is back the node resumes
 * by itself, and every action it accepted ends with its OnFinish delivered. The outage is made by
 * cutting a TCP relay between the nodes and the real PostgreSQL (tcp-proxy.ts): every connection
 * breaks, mid-transaction or idle, and new ones are refused, as during a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aciError, queueInfo, type Json } from '../helpers/aci.js';
import { readEventFile, waitNoPending } from '../helpers/events-server.js';
import { waitFor } from '../helpers/server.js';
import { postgresSkipReason, testDatabase } from '../helpers/postgres.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { startCluster } from './cluster-helpers.js';

const skip = await postgresSkipReason();

test('the database lost under load: clear errors while it is away, nothing accepted is lost, service resumes by itself', { skip, timeout: 120_000 }, async (t) => {
  // The relay needs the server's address before the nodes start: take it from a throwaway database's URL.
  const probe = await testDatabase();
  const target = new URL(probe.url);
  await probe.drop();
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const cluster = await startCluster(2, { rewriteUrl: (url) => { const u = new URL(url); u.hostname = '127.0.0.1'; u.port = String(proxy.port); return u.toString(); } });
  try {
    const { nodes } = cluster;
    const accepted: string[] = [];
    const refused: string[] = [];
    let sending = true;
    const load = (async () => {
      for (let i = 0; sending; i++) {
        try {
          accepted.push(await nodes[i % 2]!.client.send('Sleep', { Seconds: '0' }));
        } catch (e) {
          refused.push(String((await aciError(Promise.reject(e)).catch((other: Error) => ({ errorcode: `not an ACI error: ${other.message}` }))).errorcode));
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    await waitFor(() => accepted.length >= 200, 30_000, 10);
    proxy.cut();
    await waitFor(() => refused.length >= 5, 30_000, 10);
    await new Promise((r) => setTimeout(r, 1_500));
    proxy.restore();
    const acceptedAtRestore = accepted.length;
    await waitFor(() => accepted.length >= acceptedAtRestore + 200, 60_000, 20);
    sending = false;
    await load;
    t.diagnostic(`accepted ${accepted.length}, refused ${refused.length} (${[...new Set(refused)].join(', ')})`);
    assert.ok(refused.every((code) => code === 'ERRORSTOREUNAVAILABLE'), `refusals say the store is unavailable: ${[...new Set(refused)].join(', ')}`);

    await waitFor(async () => {
      const q = (await queueInfo(nodes[0]!.client, 'Sleep', 'QueueStatus'))['queue'] as Json;
      return Number(q['queued']) + Number(q['processing']) === 0;
    }, 60_000, 100);
    for (const token of accepted) assert.equal((await nodes[1]!.client.status(token))['status'], 'Finished', token);
    await waitNoPending(nodes[0]!.client, 60_000);
    const finished = new Set(readEventFile(cluster.eventsFile).map((e) => String((e['action'] as Json)['token'])));
    assert.deepEqual(accepted.filter((token) => !finished.has(token)), [], 'every accepted action has its OnFinish');
  } catch (e) {
    for (const n of cluster.nodes) t.diagnostic(`node on ${n.url} logged:\n${n.stderr().slice(-3000)}`);
    throw e;
  } finally {
    await cluster.close();
    await proxy.close();
  }
});
