/**
 * All benchmarks in one go (`npm run bench`): machine facts, core server, event engine, HttpHandler
 * through the engine, many nodes on one PostgreSQL database (bench/cluster.ts), the cost of an
 * IdempotencyKey on every submission (bench/idempotent-submission.ts), the console's reads with
 * 100,000 actions stored (bench/console.ts), then the
 * handler benches of bench/http-handler.ts, bench/lua-handler.ts and bench/lua-startup.ts when they
 * are built (each in its own node process, output passed through), a closing summary table, and
 * last Tocsin beside BullMQ and graphile-worker (bench/side-by-side.ts: its own table, and
 * bench/results/latest.json with its chart). `--quick` runs only the side-by-side benchmark, at
 * its smaller sizes (under two minutes).
 *
 *   npm run bench
 *   npm run bench -- --quick
 *   ACTIONS=10000 RUNS=3 npm run bench     (RUNS: runs per scenario; the summary shows medians)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCore } from './core.js';
import { runEvents } from './events.js';
import { machineFacts } from './lib/machine.js';
import { formatTable } from './lib/table.js';
import { SUMMARY_HEADERS, summaryCells, type SummaryRow } from './lib/summary.js';

const HANDLER_BENCHES = ['http-handler.js', 'lua-handler.js', 'lua-startup.js'];

/** Run a built bench script in its own process, stdout and stderr passed through. */
function runScript(script: string): Promise<{ code: number | null; seconds: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, seconds: (performance.now() - t0) / 1000 }));
  });
}

const here = dirname(fileURLToPath(import.meta.url));
const facts = machineFacts();
console.log(`Tocsin benchmarks, ${new Date().toISOString()}\n${facts}`);
const { runSideBySide } = await import('./side-by-side.js');
if (process.argv.includes('--quick')) {
  await runSideBySide(true);
  process.exit(0);
}

const rows: SummaryRow[] = [...(await runCore()), ...(await runEvents())];
rows.push(...(await (await import('./http-events.js')).runHttpEvents()));
rows.push(...(await (await import('./cluster.js')).runCluster()));
rows.push(...(await (await import('./idempotent-submission.js')).runIdempotentSubmission()));
await (await import('./console.js')).runConsole();
const handlerRuns: string[] = [];
for (const name of HANDLER_BENCHES) {
  const script = join(here, name);
  if (!existsSync(script)) {
    handlerRuns.push(`${name}: not built, skipped`);
    continue;
  }
  console.log(`\n== ${name} ==`);
  const { code, seconds } = await runScript(script);
  handlerRuns.push(`${name}: ${code === 0 ? 'ran' : `FAILED (exit ${code})`} in ${seconds.toFixed(1)} s, figures above`);
}

console.log(`\n== summary (medians of runs) ==\n${facts}`);
console.log(formatTable(SUMMARY_HEADERS, rows.map(summaryCells)));
for (const line of handlerRuns) console.log(line);
await runSideBySide(false);
