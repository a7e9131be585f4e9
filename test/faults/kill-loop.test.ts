/**
 * kill -9 of a busy server at random moments, many times in one test (issue 16 part 4): a real
 * `tocsin serve` with all three handler kinds (TextFileHandler, HttpHandler to a receiver in this
 * process, LuaHandler appending through append_file) is killed while clients submit and while
 * events are delivered, then started again on the same data, round after round. At the end every
 * acknowledged action is stored and has reached a final status, every stored event reached its
 * handler at least once, each action's events reached each handler in order, and the duplicate
 * deliveries are counted and printed. Short form: 3 kills; test:faults: 20 (seeded, seed printed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listStatus } from '../helpers/aci.js';
import { startReceiver, type Receiver } from '../helpers/events-receiver.js';
import { eventInfo, readLines, waitNoPending } from '../helpers/events-server.js';
import { freePort, spawnServer, tempDir, waitFor, type SpawnedServer } from '../helpers/server.js';
import { arrivalOf, judge, type LedgerReport } from './event-ledger.js';
import { seededRandom, sized, type Random } from './fault-run.js';
import { writeFaultServerConfig } from '../helpers/fault-config.js';
import { documentId, fileIds, KillLedger, pendingIds, unreadAnswers } from './kill-snapshot.js';

const KILLS = sized(3, 20);
/**
 * Each kill repeats the deliveries in flight at that moment (handled by the receiver, not yet
 * recorded): about MaxConcurrentDeliveries per busy handler. The duplicate rate is that over the
 * deliveries between kills, so the full form runs bigger rounds as well as more kills.
 */
const PER_ROUND = sized(60, 400);
const HANDLERS = ['File', 'Http', 'Lua'] as const;
const fails = (n: number) => n % 5 === 0;

function config(dir: string, receiverUrl: string): string {
  const luaDir = join(dir, 'lua-out');
  mkdirSync(luaDir, { recursive: true });
  writeFileSync(join(dir, 'append.lua'), 'function handler(request, xml)\n  append_file("events.log", xml .. "\\n")\nend\n');
  const all = HANDLERS.join(',');
  return writeFaultServerConfig(dir, {
    dataDirectory: join(dir, 'data'),
    actions: { MaximumThreads: 8, PollInterval: 50, OnStart: all, OnFinish: all, OnError: all },
    sections: {
      File: { LibraryName: 'TextFileHandler', FilePath: join(dir, 'file-events.log') },
      Http: { LibraryName: 'HttpHandler', URL: receiverUrl, Retries: 20, RetryInterval: '100ms' },
      Lua: { LibraryName: 'LuaHandler', LuaScript: 'append.lua', LuaAllowedPaths: luaDir },
    },
  });
}

interface Round {
  readonly acked: string[];
  readonly refused: number;
  readonly moment: string;
}

interface Scene {
  readonly dir: string;
  readonly receiver: Receiver;
  readonly ledger: KillLedger;
}

/** What each handler had received by now, by event id. */
function arrivedIds(scene: Scene): Map<string, string[]> {
  return new Map([
    ['File', fileIds(join(scene.dir, 'file-events.log'))],
    ['Http', scene.receiver.accepted().map((r) => documentId(r.body))],
    ['Lua', fileIds(join(scene.dir, 'lua-out', 'events.log'))],
  ]);
}

/**
 * kill -9 with a look at the moment first: the server is frozen (SIGSTOP), what the handlers got
 * and what the store still holds pending are read, then it is killed. Returns the receiver's
 * request count at the freeze: later arrivals were in flight from the dead server.
 */
async function freezeAndKill(server: SpawnedServer, scene: Scene): Promise<number> {
  server.child.kill('SIGSTOP');
  const atFreeze = scene.receiver.requests.length;
  const unread = unreadAnswers(server.child.pid!, Number(new URL(scene.receiver.url).port));
  scene.ledger.kill(arrivedIds(scene), pendingIds(join(scene.dir, 'data', 'tocsin.db')), unread);
  await server.kill9();
  return atFreeze;
}

/** Submits PER_ROUND actions 16 at a time; kills the server at a moment `random` picks. */
async function round(server: SpawnedServer, random: Random, first: number, scene: Scene): Promise<Round> {
  const deliveries = () => scene.receiver.requests.length;
  const acked: string[] = [];
  let refused = 0;
  let next = 0;
  // No new submission once the server is killed: each would only be refused after the client's
  // five sends (~8 s of back-off), and a kill early in a round left ~390 of them, minutes of
  // waiting per round for nothing acknowledged. What is in flight at the kill is still sent out.
  let killed = false;
  const submitter = async () => {
    while (next < PER_ROUND && !killed) {
      const n = first + next++;
      try {
        acked.push(await server.client.send('Sleep', { Seconds: '0', ...(fails(n) ? { Fail: 'true' } : {}) }));
      } catch {
        refused++; // the connection died with the server: not acknowledged, so not promised
      }
    }
  };
  const submitting = Promise.all(Array.from({ length: 16 }, submitter));
  const startDeliveries = deliveries();
  let moment: string;
  if (random.next() < 0.5) {
    const target = random.int(1, PER_ROUND);
    await waitFor(() => acked.length >= target || next >= PER_ROUND, 60_000, 1);
    moment = `after ${acked.length} acknowledgements`;
  } else {
    const target = random.int(1, PER_ROUND * 4);
    await waitFor(() => deliveries() - startDeliveries >= target || (next >= PER_ROUND && refused + acked.length >= PER_ROUND && deliveries() - startDeliveries >= acked.length * 2), 60_000, 1);
    moment = `after ${deliveries() - startDeliveries} HTTP deliveries`;
  }
  killed = true;
  const atFreeze = await freezeAndKill(server, scene);
  await submitting;
  scene.ledger.lateArrivals('Http', scene.receiver.requests.slice(atFreeze).map((r) => documentId(r.body)));
  return { acked, refused, moment };
}

test(`kill -9 of a busy server ${KILLS} times: every acknowledged action ends, every event arrives at least once and in order`, { timeout: 900_000 }, async (t) => {
  const random = seededRandom(t, 'kill-loop');
  const dir = tempDir('tocsin-kill-loop-');
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const configFile = config(dir, receiver.url);
  const scene: Scene = { dir, receiver, ledger: new KillLedger() };
  const port = await freePort();
  const acked: string[] = [];
  let refused = 0;
  for (let k = 0; k < KILLS; k++) {
    const server = await spawnServer(configFile, port, 60_000);
    const r = await round(server, random, k * PER_ROUND, scene);
    acked.push(...r.acked);
    refused += r.refused;
    t.diagnostic(`kill ${k + 1}/${KILLS} ${r.moment}: ${r.acked.length} acknowledged, ${r.refused} cut off`);
  }

  const server = await spawnServer(configFile, port, 60_000);
  try {
    const byToken = await waitFor(async () => {
      const records = await listStatus(server.client, 'Sleep', { MaxResults: '1000000' });
      const open = records.filter((a) => !['Finished', 'Error'].includes(String(a['status'])));
      return open.length === 0 ? new Map(records.map((a) => [String(a['token']), String(a['status'])])) : undefined;
    }, 300_000, 200);
    const lost = acked.filter((token) => !byToken.has(token));
    assert.deepEqual(lost, [], 'every acknowledged action is stored');
    await waitNoPending(server.client, 300_000);

    // Every call to the server first: parsing ~35,000 documents keeps this thread busy for seconds,
    // past the server's keep-alive time-out, and the next call would find its socket closed.
    const stored = new Map<string, string[]>();
    for (const handler of HANDLERS) {
      const info = await eventInfo(server.client, { Handler: handler, MaxResults: '100000' });
      assert.equal(info.counts.failed, 0, `${handler}: no failed events`);
      stored.set(handler, info.events.map((e) => e.id));
    }
    const arrivals = {
      File: readLines(join(dir, 'file-events.log')).map(arrivalOf),
      Http: receiver.accepted().map((r) => arrivalOf(r.body)),
      Lua: readLines(join(dir, 'lua-out', 'events.log')).map(arrivalOf),
    };
    const reports: LedgerReport[] = HANDLERS.map((handler) => judge(handler, arrivals[handler], stored.get(handler)!));
    let arrivalsAll = 0;
    let duplicatesAll = 0;
    for (const r of reports) {
      arrivalsAll += r.arrivals;
      duplicatesAll += r.duplicates;
      const line = `${r.handler}: ${r.distinct} events, ${r.arrivals} deliveries, ${r.duplicates} duplicates (${((100 * r.duplicates) / r.distinct).toFixed(2)} %), ${r.missing.length} lost, ${r.disorder.length} out of order`;
      t.diagnostic(line);
      console.log(`kill-loop ${line}`);
      const where = scene.ledger.line(r.handler, arrivals[r.handler as (typeof HANDLERS)[number]].map((a) => a.id));
      t.diagnostic(where);
      console.log(`kill-loop ${where}`);
    }
    const perKill = (duplicatesAll / KILLS).toFixed(1);
    const summary = `kill-loop: seed=${random.seed} kills=${KILLS} (duplicates per kill ${perKill}) actions stored=${byToken.size} acknowledged=${acked.length} cut off=${refused} lost=${lost.length}; deliveries=${arrivalsAll} duplicates=${duplicatesAll} (${((100 * duplicatesAll) / (arrivalsAll - duplicatesAll)).toFixed(2)} %)`;
    t.diagnostic(summary);
    console.log(summary);
    for (const r of reports) {
      assert.deepEqual(r.missing, [], `${r.handler}: every stored event arrived`);
      assert.deepEqual(r.disorder.slice(0, 5), [], `${r.handler}: each action's events in order, one final event`);
      assert.ok(r.distinct >= byToken.size * 2, `${r.handler}: an OnStart and a final event per action`);
    }
    const statusOk = [...byToken].filter(([, status]) => status === 'Finished' || status === 'Error').length;
    assert.equal(statusOk, byToken.size);
  } catch (e) {
    // The server's own account, should it have died.
    const exit = server.child.exitCode ?? server.child.signalCode;
    t.diagnostic(`server ${exit === null ? 'still running' : `exited (${exit})`}; its stderr ends: ${server.stderr().slice(-3000)}`);
    throw e;
  } finally {
    await server.kill9();
  }
});
