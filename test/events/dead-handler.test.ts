/**
 * A handler that never answers holds only its own deliveries (decisions.md "Events": a handler's
 * failure never changes the action's outcome; handler-runner.ts: a slow or dead handler holds only
 * its own window). Actions all finish and the other handler gets every event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { queueInfo } from '../helpers/aci.js';
import { tempDir, waitFor } from '../helpers/server.js';
import { eventInfo, hangForever, readEventFile, recordingLibrary, startEventServer, type Json } from '../helpers/events-server.js';

test('a handler that hangs forever blocks neither actions nor a TextFileHandler: 100 actions finish and the file gets all their events', async () => {
  const lib = recordingLibrary();
  lib.setBehaviour('Dead', hangForever);
  const config = (file: string) => `[Server]
ShutdownGrace=0

[Actions]
EnableTestActions=true
MaximumThreads=4
PollInterval=50
OnStart=Dead,File
OnFinish=Dead,File

[Dead]
LibraryName=RecordingHandler
MaxConcurrentDeliveries=4

[File]
LibraryName=TextFileHandler
FilePath=${file}
`;
  const dir = tempDir('tocsin-events-');
  const file = join(dir, 'events.log');
  const s = await startEventServer({ config: config(file), handlers: [lib.factory], dir });
  try {
    const tokens = await Promise.all(Array.from({ length: 100 }, () => s.client.send('Sleep', { Seconds: '0' })));
    await waitFor(async () => ((await queueInfo(s.client, 'Sleep', 'QueueStatus'))['queue'] as Json)['finished'] === '100', 20_000, 25);
    await waitFor(() => readEventFile(file).length >= 200, 20_000, 25);
    const events = readEventFile(file);
    assert.equal(events.length, 200);
    const seen = new Map<string, string[]>();
    for (const e of events) {
      const token = String((e['action'] as Json)['token']);
      seen.set(token, [...(seen.get(token) ?? []), String(e['type'])]);
    }
    for (const token of tokens) assert.deepEqual(seen.get(token), ['OnStart', 'OnFinish'], token);
    assert.equal(lib.delivered.length, 0, 'the dead handler never completed a delivery');
    assert.equal(lib.seen.length, 0);
    // Delivery outcomes are recorded a few ms after the write, in batches.
    const info = await waitFor(async () => {
      const answer = await eventInfo(s.client, { MaxResults: '0' });
      return answer.handlers.get('File')?.pending === 0 ? answer : undefined;
    }, 10_000, 25);
    assert.deepEqual(info.handlers.get('File'), { pending: 0, delivered: 200, failed: 0 });
    assert.deepEqual(info.handlers.get('Dead'), { pending: 200, delivered: 0, failed: 0 }, 'kept pending, not lost');
  } finally {
    // The dead delivery never settles: close() waits its grace (2 s), then returns anyway.
    await s.close();
  }
});
