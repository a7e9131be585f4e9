/**
 * Queue ordering and MaximumThreads (decisions.md "Asynchronous actions"): higher priority runs
 * first, equal priority in order received; a queue never runs more than MaximumThreads at once.
 * Real servers with code-defined actions that record what they see.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AsyncActionDefinition } from '../../src/queue/action-definition.js';
import { listStatus, queueInfo } from '../helpers/aci.js';
import { waitFor, withServer } from '../helpers/server.js';

/** An action that appends its `Label` to `starts` when it starts. */
function recordingAction(starts: string[]): AsyncActionDefinition {
  return {
    name: 'Record',
    async run(ctx) {
      starts.push(ctx.params.get('Label') ?? '?');
    },
  };
}

/** An action that counts how many of its runs overlap. Each run waits (up to 200 ms) for the others to join. */
function concurrencyAction(threads: number) {
  const seen = { current: 0, max: 0, runs: 0 };
  const definition: AsyncActionDefinition = {
    name: 'Track',
    async run() {
      seen.current++;
      seen.runs++;
      seen.max = Math.max(seen.max, seen.current);
      try {
        // A barrier with a time limit: lets concurrency reach MaximumThreads without relying on timing to pass.
        await waitFor(() => seen.current >= threads, 200).catch(() => undefined);
        await new Promise((r) => setImmediate(r));
      } finally {
        seen.current--;
      }
    },
  };
  return { definition, seen };
}

test('a paused queue, once resumed, starts actions by priority (higher first), then in order received', async () => {
  const starts: string[] = [];
  await withServer({ config: '[Actions]\nMaximumThreads=1\nPollInterval=50\n', actions: [recordingAction(starts)] }, async (s) => {
    await queueInfo(s.client, 'Record', 'Pause');
    const submissions: [string, number][] = [
      ['a', 0], ['b', 5], ['c', 0], ['d', -3], ['e', 5], ['f', 10], ['g', 0], ['h', -3], ['i', 10], ['j', 1],
    ];
    const tokens: string[] = [];
    for (const [label, priority] of submissions) tokens.push(await s.client.send('Record', { Label: label, Priority: String(priority) }));
    assert.deepEqual(starts, [], 'a paused queue starts nothing');
    await queueInfo(s.client, 'Record', 'Resume');
    await waitFor(() => starts.length === submissions.length);
    assert.deepEqual(starts, ['f', 'i', 'b', 'e', 'j', 'a', 'c', 'g', 'd', 'h']);
    await waitFor(async () => (await listStatus(s.client, 'Record', { State: 'finished' })).length === submissions.length);
  });
});

for (const threads of [2, 4]) {
  test(`MaximumThreads=${threads}: 50 actions never run more than ${threads} at once, reach ${threads}, and all finish`, async () => {
    const { definition, seen } = concurrencyAction(threads);
    await withServer({ config: `[Actions]\nMaximumThreads=${threads}\nPollInterval=50\n`, actions: [definition] }, async (s) => {
      await queueInfo(s.client, 'Track', 'Pause');
      const tokens = await Promise.all(Array.from({ length: 50 }, () => s.client.send('Track')));
      assert.equal(new Set(tokens).size, 50);
      await queueInfo(s.client, 'Track', 'Resume');
      await waitFor(async () => (await listStatus(s.client, 'Track', { State: 'finished' })).length === 50, 20_000, 25);
      assert.equal(seen.runs, 50, 'each action ran exactly once');
      assert.equal(seen.max, threads);
      const all = await listStatus(s.client, 'Track');
      assert.deepEqual([...new Set(all.map((r) => r['status']))], ['Finished']);
      assert.ok(all.every((r) => r['attempts'] === '1'));
    });
  });
}
