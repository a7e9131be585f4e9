/**
 * A Tocsin node as a real process: `node bin/tocsin.js serve --config FILE --port P`, ready once
 * GetVersion answers, stopped with SIGTERM (a clean stop, which the bench waits for). Its stderr
 * (the JSON log) is kept and shown if it dies. `nodeArgs` go to node itself, e.g. `--cpu-prof`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

/** The project root (this file runs from dist/bench/lib/). */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const TOCSIN_BIN = join(PROJECT_ROOT, 'bin', 'tocsin.js');

export interface NodeProcess {
  readonly pid: number;
  readonly url: string;
  stderr(): string;
  /** SIGTERM, then wait for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await request(`${url}/action=GetVersion`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

export async function startNodeProcess(configFile: string, port: number, nodeArgs: readonly string[] = [], timeoutMs = 30_000): Promise<NodeProcess> {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, TOCSIN_BIN, 'serve', '--config', configFile, '--port', String(port)], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-20_000)));
  let exited = false;
  const exit = new Promise<void>((done) => child.once('exit', () => ((exited = true), done())));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (!(await answers(url))) {
    if (exited || Date.now() > deadline) {
      kill();
      throw new Error(`tocsin serve (${configFile}) ${exited ? 'exited' : `did not answer within ${timeoutMs} ms`}:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid!,
    url,
    stderr: () => stderr,
    async stop(graceMs = 10_000) {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(kill, graceMs);
      await exit;
      clearTimeout(timer);
      process.removeListener('exit', kill);
    },
  };
}
