/**
 * TextFileHandler (decisions.md "Handlers", idol-reference.md §4.3): appends each event document
 * and a newline to FilePath, creating the folder if missing; each event is one whole line, never
 * interleaved with another; a write error fails the delivery, which is retried and succeeds once
 * the cause is fixed (the event is not lost). Real files in a temp directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { queueInfo } from '../helpers/aci.js';
import { tempDir, waitFor } from '../helpers/server.js';
import type { AsyncActionDefinition } from '../../src/queue/action-definition.js';
import { eventInfo, parseEventDocument, readEventFile, readLines, waitNoPending, withEventServer, type Json } from '../helpers/events-server.js';
import { mountSmallFilesystem, smallFilesystemUnavailable } from '../helpers/small-filesystem.js';

const sleepConfig = (handlers: string) => `[Actions]
EnableTestActions=true
MaximumThreads=8
PollInterval=50
${handlers}
`;

test('TextFileHandler creates the missing folders of FilePath and appends one line per event', async () => {
  const dir = tempDir('tocsin-events-');
  const file = join(dir, 'not', 'yet', 'there', 'events.log');
  const config = `${sleepConfig('OnFinish=File')}
[File]
LibraryName=TextFileHandler
FilePath=${file}
`;
  await withEventServer({ config, dir }, async (s) => {
    assert.equal(existsSync(join(dir, 'not')), false, 'nothing is created before the first event');
    const token = await s.client.send('Sleep', { Seconds: '0' });
    await waitFor(() => readLines(file).length === 1);
    const [event] = readEventFile(file);
    assert.equal(event!['type'], 'OnFinish');
    assert.equal((event!['action'] as Json)['token'], token);
  });
});

test('two TextFileHandler sections appending to one file under load write whole lines: every line parses as one <event>', async () => {
  const dir = tempDir('tocsin-events-');
  const file = join(dir, 'shared.log');
  const config = `${sleepConfig('OnStart=One,Two\nOnFinish=One,Two\nOnErrorReport=One,Two')}
[One]
LibraryName=TextFileHandler
FilePath=${file}

[Two]
LibraryName=TextFileHandler
FilePath=${file}
`;
  await withEventServer({ config, dir }, async (s) => {
    // Error reports make the later documents KBs long, so a split or interleaved write would show.
    const tokens = await Promise.all(Array.from({ length: 100 }, () => s.client.send('Sleep', { Seconds: '0', ReportErrors: '12' })));
    const expected = 100 * (1 + 12 + 1) * 2;
    await waitFor(() => readLines(file).length >= expected, 30_000, 50);
    await waitNoPending(s.client);
    const events = readEventFile(file); // throws on any line that is not exactly one <event>
    assert.equal(events.length, expected);
    const perId = new Map<string, number>();
    for (const e of events) perId.set(String(e['id']), (perId.get(String(e['id'])) ?? 0) + 1);
    assert.ok([...perId.values()].every((n) => n === 2), 'each event once per section');
    const finished = new Set(events.filter((e) => e['type'] === 'OnFinish').map((e) => String((e['action'] as Json)['token'])));
    assert.deepEqual([...finished].sort(), [...tokens].sort());
  });
});

test('an event whose text has line breaks (a multi-line <error>) is still one line in the file, and parses back to the same text', async () => {
  const dir = tempDir('tocsin-events-');
  const file = join(dir, 'events.log');
  const message = 'first line\nsecond line\r\nthird line';
  const failing: AsyncActionDefinition = {
    name: 'Fails',
    async run() {
      throw new Error(message);
    },
  };
  const config = `[Actions]
PollInterval=50
OnError=File

[File]
LibraryName=TextFileHandler
FilePath=${file}
`;
  await withEventServer({ config, dir, actions: [failing] }, async (s) => {
    const token = await s.client.send('Fails');
    // The token answers the enqueue; the OnError event exists once the failure is committed.
    await waitFor(() => existsSync(file) && readLines(file).length > 0);
    await waitNoPending(s.client);
    const lines = readLines(file);
    assert.equal(lines.length, 1, `one line per event, got:\n${lines.join('\n')}`);
    const action = parseEventDocument(lines[0]!)['action'] as Json;
    assert.equal(action['token'], token);
    assert.equal(action['error'], message, 'the text survives, line breaks included');
  });
});

/** Runs one action whose OnFinish goes to a TextFileHandler at `file`, which cannot be written until `fix()`. */
async function failsThenRecovers(dir: string, file: string, fix: () => void): Promise<void> {
  const config = `${sleepConfig('OnFinish=File')}
[File]
LibraryName=TextFileHandler
FilePath=${file}
Retries=1000
RetryInterval=20ms
`;
  await withEventServer({ config, dir }, async (s) => {
    const token = await s.client.send('Sleep', { Seconds: '0' });
    const failing = await waitFor(async () => {
      const [row] = (await eventInfo(s.client, { Token: token })).events;
      return row && Number(row.attempts) >= 2 ? row : undefined;
    });
    assert.equal(failing.state, 'pending', 'a write error is retried, not dropped');
    assert.match(String(failing.last_error), /cannot append to/);
    assert.equal(readLines(file).length, 0);
    fix();
    await waitFor(() => readLines(file).length === 1);
    const [event] = readEventFile(file);
    assert.equal(event!['id'], failing.id, 'the same event, once the cause is fixed');
    assert.equal((event!['action'] as Json)['token'], token);
    const [row] = (await waitFor(async () => {
      const info = await eventInfo(s.client, { Token: token });
      return info.events[0]?.state === 'delivered' ? info : undefined;
    })).events;
    assert.ok(Number(row!.attempts) >= 2);
    assert.equal(((await queueInfo(s.client, 'Sleep', 'QueueStatus'))['queue'] as Json)['finished'], '1', 'the action itself finished regardless');
  });
}

test('a TextFileHandler write error (the folder cannot be created: its parent is a file) is retried and delivered once fixed', async () => {
  const dir = tempDir('tocsin-events-');
  const blocker = join(dir, 'blocker');
  writeFileSync(blocker, 'a regular file where a folder should be\n');
  await failsThenRecovers(dir, join(blocker, 'events.log'), () => rmSync(blocker));
});

test('a TextFileHandler write error (a read-only folder) is retried and delivered once the folder is writable', async (t) => {
  const dir = tempDir('tocsin-events-');
  if (process.getuid?.() === 0) {
    // chmod does not bind root; a read-only mount does.
    const unavailable = smallFilesystemUnavailable(dir);
    if (unavailable !== undefined) return void t.skip(`running as root and ${unavailable} (the regular-file case above covers the error path)`);
    const fs = mountSmallFilesystem(dir, 1024 * 1024);
    t.after(() => fs.unmount());
    fs.readOnly();
    await failsThenRecovers(dir, join(fs.path, 'events.log'), () => fs.readWrite());
    return;
  }
  const locked = join(dir, 'locked');
  mkdirSync(locked);
  chmodSync(locked, 0o500);
  try {
    await failsThenRecovers(dir, join(locked, 'events.log'), () => chmodSync(locked, 0o700));
  } finally {
    chmodSync(locked, 0o700);
  }
});

test('events waiting for a section renamed only in case ([filelog] → [FileLog]) are delivered by it after a restart', async () => {
  const dir = tempDir('tocsin-events-');
  const blocker = join(dir, 'blocker');
  writeFileSync(blocker, 'a regular file where a folder should be\n');
  const config = (section: string, file: string) => `${sleepConfig(`OnStart=${section}\nOnFinish=${section}`)}
[${section}]
LibraryName=TextFileHandler
FilePath=${file}
Retries=1000
RetryInterval=20ms
`;
  const tokens = await withEventServer({ config: config('filelog', join(blocker, 'events.log')), dir }, async (s) => {
    const sent = await Promise.all(Array.from({ length: 3 }, () => s.client.send('Sleep', { Seconds: '0' })));
    await waitFor(async () => (await eventInfo(s.client, { State: 'pending' })).events.length === 6);
    return sent;
  });
  const file = join(dir, 'renamed', 'events.log');
  await withEventServer({ config: config('FileLog', file), dir }, async (s) => {
    await waitFor(() => readLines(file).length === 6);
    const finished = readEventFile(file).filter((e) => e['type'] === 'OnFinish').map((e) => String((e['action'] as Json)['token']));
    assert.deepEqual(finished.sort(), [...tokens].sort());
    await waitNoPending(s.client);
    assert.ok(s.log.lines.some((l) => /spelled otherwise in case/.test(l)), 'the adoption is logged');
  });
});

test('events waiting for a section the config no longer has are named at start, with their counts, and kept', async () => {
  const dir = tempDir('tocsin-events-');
  const blocker = join(dir, 'blocker');
  writeFileSync(blocker, 'a regular file where a folder should be\n');
  const withSection = `${sleepConfig('OnStart=Gone\nOnFinish=Gone')}
[Gone]
LibraryName=TextFileHandler
FilePath=${join(blocker, 'events.log')}
Retries=1000
RetryInterval=20ms
`;
  await withEventServer({ config: withSection, dir }, async (s) => {
    await Promise.all(Array.from({ length: 2 }, () => s.client.send('Sleep', { Seconds: '0' })));
    await waitFor(async () => (await eventInfo(s.client, { State: 'pending' })).events.length === 4);
  });
  const kept = join(dir, 'kept.log');
  const withoutSection = `${sleepConfig('OnFinish=Kept')}
[Kept]
LibraryName=TextFileHandler
FilePath=${kept}
`;
  await withEventServer({ config: withoutSection, dir }, async (s) => {
    const warning = s.log.lines.find((l) => /not in the config/.test(l));
    assert.ok(warning, 'the waiting events are named at start');
    assert.deepEqual([JSON.parse(warning).handler, JSON.parse(warning).pending, JSON.parse(warning).failed], ['Gone', 4, 0]);
    assert.ok(!s.log.lines.some((l) => /not in the config/.test(l) && /"Kept"/.test(l)), 'a configured section is not named');
    assert.equal((await eventInfo(s.client, { State: 'pending', Handler: 'Gone' })).events.length, 4, 'the events are kept');
  });
});
