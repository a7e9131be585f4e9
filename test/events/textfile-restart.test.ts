/**
 * TextFileHandler after a kill -9 (decisions.md "Events"): an event the killed run appended but did
 * not record as delivered is delivered again after the restart; its line is at the file's tail, so
 * the handler succeeds without writing it twice. Only events stored before this run started are
 * looked for, only whole lines count, a line counts once, and with two sections on one file (a
 * line cannot say whose it is) nothing is skipped. The whole path through a real kill -9 is
 * test/faults/kill-loop.test.ts (File: 0 duplicates).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TextFileHandler } from '../../src/events/handlers/textfile.js';
import { readLines } from '../helpers/events-server.js';
import { tempDir } from '../helpers/server.js';

const doc = (id: string) => `<event><type>OnFinish</type><id>${id}</id><time>2026-Nov-29 14:02:11</time><server>h:1</server></event>`;
const before = Date.now() - 60_000;

test('TextFileHandler skips an event from before the restart whose whole line is at the file tail, once', async () => {
  const file = join(tempDir('tocsin-textfile-restart-'), 'events.log');
  writeFileSync(file, `${doc('a')}\n${doc('b')}\n`);
  appendFileSync(file, doc('torn').slice(0, 40)); // a line cut short is no proof of a write
  const h = new TextFileHandler(file);
  try {
    await h.deliver({ id: 'a', document: doc('a'), createdAt: before });
    await h.deliver({ id: 'torn', document: doc('torn'), createdAt: before });
    await h.deliver({ id: 'a', document: doc('a'), createdAt: before }); // the one line of a was taken
    await h.deliver({ id: 'c', document: doc('c'), createdAt: before });
    await h.deliver({ id: 'b', document: doc('b'), createdAt: Date.now() + 1000 }); // stored in this run: never skipped
    await h.deliver({ id: 'b', document: doc('b') }); // sent text (no createdAt): never skipped
  } finally {
    await h.close();
  }
  const text = readLines(file).join('\n');
  const ids = [...text.matchAll(/<id>([^<]*)<\/id>/g)].map((m) => m[1]);
  assert.deepEqual(ids, ['a', 'b', 'torn', 'a', 'c', 'b', 'b']);
});

test('TextFileHandler: with two sections on one file, nothing is skipped', async () => {
  const file = join(tempDir('tocsin-textfile-restart-'), 'events.log');
  writeFileSync(file, `${doc('a')}\n`);
  const one = new TextFileHandler(file);
  const two = new TextFileHandler(file);
  try {
    await one.deliver({ id: 'a', document: doc('a'), createdAt: before });
    await two.deliver({ id: 'a', document: doc('a'), createdAt: before });
  } finally {
    await one.close();
    await two.close();
  }
  assert.equal(readLines(file).length, 3);
});
