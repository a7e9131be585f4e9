/**
 * One scenario per child process, so that each has its own heap, peak RSS and JIT state, and a
 * scenario's leftovers (timers, page cache of the WAL, garbage) cannot tax the next one.
 *
 * The parent runs `node <script> --scenario <json>`; the child prints one line
 * `BENCH-RESULT <json>` on stdout and exits. Anything else the child prints passes through.
 */
import { spawn } from 'node:child_process';
import { machineFacts } from './machine.js';

const MARK = 'BENCH-RESULT ';

/** A scenario that has not reported by then is stuck (e.g. an event never delivered): give up. */
const CHILD_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 180_000);

/** The scenario a child was started for, or undefined in the parent. Arms the child's watchdog. */
export function scenarioArgument<S>(): S | undefined {
  const i = process.argv.indexOf('--scenario');
  if (i < 0) return undefined;
  setTimeout(() => {
    process.stderr.write(`bench scenario timed out after ${CHILD_TIMEOUT_MS} ms\n`);
    process.exit(2);
  }, CHILD_TIMEOUT_MS).unref();
  return JSON.parse(process.argv[i + 1] ?? 'null') as S;
}

/** In the child: hand the result to the parent; resolves once written. */
export function reportResult(result: unknown): Promise<void> {
  return new Promise((resolve) => process.stdout.write(`${MARK}${JSON.stringify(result)}\n`, () => resolve()));
}

/**
 * In the parent: run `script` for `scenario` in a fresh node process and return its result;
 * `timeoutMs` replaces the child's watchdog (CHILD_TIMEOUT_MS) for a scenario known to be long.
 */
export function runInChild<R>(script: string, scenario: unknown, nodeArgs: readonly string[] = [], timeoutMs?: number): Promise<R> {
  return new Promise((resolve, reject) => {
    const env = timeoutMs === undefined ? process.env : { ...process.env, BENCH_TIMEOUT_MS: String(timeoutMs) };
    const child = spawn(process.execPath, [...nodeArgs, script, '--scenario', JSON.stringify(scenario)], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith(MARK));
      const rest = out.split('\n').filter((l) => l.length > 0 && !l.startsWith(MARK));
      if (rest.length > 0) process.stdout.write(rest.join('\n') + '\n');
      if (code === 0 && line) resolve(JSON.parse(line.slice(MARK.length)) as R);
      else reject(new Error(`bench child for ${JSON.stringify(scenario)} ended with ${signal ?? `code ${code}`} and no result`));
    });
  });
}

/** True when `moduleUrl` (import.meta.url) is the script node was started with. */
export function isMainModule(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && new URL(moduleUrl).pathname === entry;
}

/** The durability settings the benchmarks compare (`[Actions] Durability`). */
export type Durability = 'process' | 'power';

/**
 * The entry point of a benchmark script: as a child, run the one scenario it was started for and
 * report its result; run directly, print the machine facts and run the whole benchmark.
 */
export async function runBenchScript<S>(moduleUrl: string, runScenario: (scenario: S) => Promise<unknown>, runAll: () => Promise<unknown>): Promise<void> {
  if (!isMainModule(moduleUrl)) return;
  const scenario = scenarioArgument<S>();
  if (scenario) {
    await reportResult(await runScenario(scenario));
    process.exit(0);
  }
  console.log(machineFacts());
  await runAll();
}
