/**
 * Abort listeners must not pile up: every idle worker slot listens to the scheduler's shutdown
 * signal, and a running Sleep listens to its action's signal at every 50 ms step. Node warns
 * (MaxListenersExceededWarning) past 10 listeners on one AbortSignal; a listener per Sleep step
 * that is never removed is a real leak (a Seconds=86400 Sleep would hold 1.7 million of them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForStatus } from '../helpers/aci.js';
import { withServer } from '../helpers/server.js';

function collectWarnings(): { warnings: Error[]; stop(): void } {
  const warnings: Error[] = [];
  const listener = (w: Error) => {
    if (w.name === 'MaxListenersExceededWarning') warnings.push(w);
  };
  process.on('warning', listener);
  return { warnings, stop: () => process.off('warning', listener) };
}

/** Warnings are emitted on the next tick after the listener is added. */
const nextTicks = () => new Promise((r) => setTimeout(r, 20));

test('a server with more than 10 idle worker slots adds no warning-level pile of shutdown listeners', async () => {
  const seen = collectWarnings();
  try {
    await withServer({ config: '[Actions]\nEnableTestActions=true\nMaximumThreads=16\nPollInterval=50\n' }, async (s) => {
      await waitForStatus(s.client, await s.client.send('Sleep', { Seconds: '0' }), 'Finished');
      await nextTicks();
    });
    assert.deepEqual(seen.warnings.map((w) => w.message), []);
  } finally {
    seen.stop();
  }
});

test('a Sleep of many steps removes its abort listener after each step', async () => {
  const seen = collectWarnings();
  try {
    await withServer({ config: '[Actions]\nEnableTestActions=true\n' }, async (s) => {
      // 0.8 s = 16 steps of 50 ms: more than the 10 listeners Node warns about.
      await waitForStatus(s.client, await s.client.send('Sleep', { Seconds: '0.8' }), 'Finished');
      await nextTicks();
    });
    assert.deepEqual(seen.warnings.map((w) => w.message), []);
  } finally {
    seen.stop();
  }
});
