/**
 * Server lifecycle: a clean stop leaves running actions to run again at the next start (they are
 * never left hanging), and finished actions are purged once FinishedActionRetention has passed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aciError, listStatus, queueInfo, waitForStatus } from '../helpers/aci.js';
import { startTestServer, tempDir, waitFor } from '../helpers/server.js';

const CONFIG = '[Actions]\nEnableTestActions=true\nPollInterval=50\n';

test('actions running at a clean stop run again at the next start, counting a second attempt', async () => {
  const dir = tempDir();
  const first = await startTestServer({ config: CONFIG, dir });
  const running = await first.client.send('Sleep', { Seconds: '30' });
  await waitForStatus(first.client, running, 'Processing');
  await first.client.call('QueueInfo', { QueueName: 'Sleep', QueueAction: 'Pause' });
  const queued = await first.client.send('Sleep', { Seconds: '0' });
  await first.client.call('QueueInfo', { QueueName: 'Sleep', QueueAction: 'Resume' });
  await first.close(); // ShutdownGrace=0: the running Sleep is aborted, not settled
  const second = await startTestServer({ config: CONFIG, dir });
  try {
    const again = await waitForStatus(second.client, running, 'Processing');
    assert.equal(again['attempts'], '2');
    await queueInfo(second.client, 'Sleep', 'Stop', { Token: running });
    await waitForStatus(second.client, running, 'Stopped');
    const done = await waitForStatus(second.client, queued, 'Finished');
    assert.equal(done['attempts'], '1');
  } finally {
    await second.close();
  }
});

test('a paused queue stays paused across a restart', async () => {
  const dir = tempDir();
  const first = await startTestServer({ config: CONFIG, dir });
  await queueInfo(first.client, 'Sleep', 'Pause');
  const t = await first.client.send('Sleep', { Seconds: '0' });
  await first.close();
  const second = await startTestServer({ config: CONFIG, dir });
  try {
    assert.equal(((await queueInfo(second.client, 'Sleep', 'QueueStatus'))['queue'] as Record<string, unknown>)['paused'], 'true');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await second.client.status(t))['status'], 'Queued');
    await queueInfo(second.client, 'Sleep', 'Resume');
    await waitForStatus(second.client, t, 'Finished');
  } finally {
    await second.close();
  }
});

test('finished actions are purged after FinishedActionRetention; waiting ones are kept', async () => {
  const s = await startTestServer({ config: `${CONFIG}FinishedActionRetention=1s\nMaximumThreads=1\n` });
  try {
    const done = await s.client.send('Sleep', { Seconds: '0' });
    await waitForStatus(s.client, done, 'Finished');
    const running = await s.client.send('Sleep', { Seconds: '30' });
    await waitForStatus(s.client, running, 'Processing');
    await waitFor(async () => (await listStatus(s.client, 'Sleep')).length === 1, 10_000, 100);
    assert.equal((await aciError(s.client.status(done).then(() => 'still there'))).errorcode, 'ERRORTOKENNOTFOUND');
    assert.equal((await s.client.status(running))['status'], 'Processing');
  } finally {
    await s.close();
  }
});

test('a clean stop gives running actions ShutdownGrace to finish, even a grace beyond the 24.8-day range of Node timers', async () => {
  for (const grace of ['5s', '30d']) {
    const dir = tempDir();
    const config = `[Server]\nShutdownGrace=${grace}\n${CONFIG}`;
    const first = await startTestServer({ config, dir });
    const t = await first.client.send('Sleep', { Seconds: '0.4' });
    await waitForStatus(first.client, t, 'Processing');
    await first.close();
    const second = await startTestServer({ config, dir });
    try {
      const record = await second.client.status(t);
      assert.equal(record['status'], 'Finished', `ShutdownGrace=${grace}: it finished before the stop`);
      assert.equal(record['attempts'], '1');
    } finally {
      await second.close();
    }
  }
});

// Node timers overflow past 2^31-1 ms and then fire every 1 ms: PollInterval has a maximum (1h).
test(
  'PollInterval beyond the range of Node timers (30d) is refused or raises no TimeoutOverflowWarning',
  async () => {
    const warnings: string[] = [];
    const listener = (w: Error) => void (w.name === 'TimeoutOverflowWarning' && warnings.push(w.message));
    process.on('warning', listener);
    try {
      let s: Awaited<ReturnType<typeof startTestServer>>;
      try {
        s = await startTestServer({ config: `[Server]\nShutdownGrace=30d\n[Actions]\nEnableTestActions=true\nPollInterval=30d\n` });
      } catch (e) {
        assert.match(String(e), /PollInterval/);
        return;
      }
      try {
        await waitForStatus(s.client, await s.client.send('Sleep', { Seconds: '0' }), 'Finished');
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        await s.close();
      }
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', listener);
    }
  },
);
