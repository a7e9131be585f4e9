/**
 * Start-up with many LuaHandler sections (issue 18: 25 sections kept the port closed ~8 s). Each run
 * is a fresh node process (a start is cold: threads, module loading, JIT) that writes SECTIONS Lua
 * scripts, each its own, and a config wiring `OnFinish` to all of them, then times:
 *   - listening: startServer() called → the port is listening (every script compiled, its top
 *     level run and its `handler` checked, in the shared checking thread);
 *   - first event: one Sleep action submitted → its OnFinish delivered by every handler (each
 *     handler's supervisor and worker threads start on that first event).
 * Scenarios: 0 sections (the server alone), 1, and SECTIONS (default 25); medians of RUNS runs.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/lua-startup.js
 *   RUNS=9 SECTIONS=50 node dist/bench/lua-startup.js
 *
 * Target (issue 18): listening in under 1 s with 25 LuaHandler sections.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchServer } from './lib/server.js';
import { runBenchScript, runInChild } from './lib/child.js';
import { formatTable } from './lib/table.js';
import { median } from './lib/summary.js';

const RUNS = Number(process.env.RUNS ?? 5);
const SECTIONS = Number(process.env.SECTIONS ?? 25);
const TARGET_MS = 1000;

interface Scenario {
  readonly sections: number;
}

interface StartupResult {
  readonly listeningMs: number;
  /** Undefined with no section: no event goes anywhere. */
  readonly firstEventMs?: number;
}

const script = (i: number): string =>
  `-- handler ${i}\nlocal seen = 0\nfunction handler(request, xml)\n  seen = seen + 1\n  return parse_xml(xml).event.type ~= nil\nend\n`;

function config(sections: number): string {
  const names = Array.from({ length: sections }, (_, i) => `Lua${i + 1}`);
  const wiring = sections > 0 ? `OnFinish=${names.join(',')}\n` : '';
  const blocks = names.map((name, i) => `[${name}]\nLibraryName=LuaHandler\nLuaScript=%DIR%/lua${i + 1}.lua\n`);
  return `[Actions]\nEnableTestActions=true\nPollInterval=50\n${wiring}\n${blocks.join('\n')}`;
}

async function pendingAndDelivered(url: string): Promise<[number, number]> {
  const res = await fetch(`${url}/action=EventInfo&MaxResults=0&ResponseFormat=simplejson`);
  const body = (await res.json()) as { autnresponse: { responsedata: { counts: { pending: string; delivered: string } } } };
  const counts = body.autnresponse.responsedata.counts;
  return [Number(counts.pending), Number(counts.delivered)];
}

/** In the child: one start, timed. */
async function runScenario({ sections }: Scenario): Promise<StartupResult> {
  // The scripts live in a folder of their own: the bench server makes its temp directory as it starts.
  const scriptsDir = mkdtempSync(join(tmpdir(), 'tocsin-bench-lua-startup-'));
  try {
    for (let i = 1; i <= sections; i++) writeFileSync(join(scriptsDir, `lua${i}.lua`), script(i));
    const begin = performance.now();
    const bench = await startBenchServer({ config: config(sections).replaceAll('%DIR%', scriptsDir) });
    const listeningMs = performance.now() - begin;
    try {
      if (sections === 0) return { listeningMs };
      const submitted = performance.now();
      await bench.server.scheduler.submit('Sleep', [['Seconds', '0']]);
      for (;;) {
        const [pending, delivered] = await pendingAndDelivered(bench.server.url);
        if (pending === 0 && delivered === sections) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return { listeningMs, firstEventMs: performance.now() - submitted };
    } finally {
      await bench.close();
    }
  } finally {
    rmSync(scriptsDir, { recursive: true, force: true });
  }
}

const spread = (values: readonly number[]): string =>
  `${Math.round(median(values))} (${Math.round(Math.min(...values))}-${Math.round(Math.max(...values))})`;

async function runAll(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  console.log(`LuaHandler start-up: ${RUNS} runs per scenario, each a fresh process; ms, median (min-max)\n`);
  const rows: string[][] = [];
  let verdict = '';
  for (const sections of [0, 1, SECTIONS]) {
    const results: StartupResult[] = [];
    for (let run = 0; run < RUNS; run++) results.push(await runInChild<StartupResult>(self, { sections } satisfies Scenario));
    const listening = results.map((r) => r.listeningMs);
    const first = results.flatMap((r) => (r.firstEventMs === undefined ? [] : [r.firstEventMs]));
    rows.push([String(sections), spread(listening), first.length > 0 ? spread(first) : '-']);
    if (sections === SECTIONS) {
      const met = median(listening) < TARGET_MS;
      verdict = `${SECTIONS} LuaHandler sections: listening after ${Math.round(median(listening))} ms (median): ${met ? 'meets' : 'MISSES'} the ${TARGET_MS} ms target`;
    }
  }
  console.log(formatTable(['Lua sections', 'listening after', 'first event delivered by all'], rows));
  console.log(`\n${verdict}`);
}

await runBenchScript<Scenario>(import.meta.url, runScenario, runAll);
