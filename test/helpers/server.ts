/**
 * Test helpers for real servers: temp directories, config files, an in-process server on a free
 * loopback port (startServer with port 0), and a server in a child process (`tocsin serve`) for
 * kill -9 tests. No mocks: real HTTP, real SQLite, real processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMemoryLogger } from '../../src/common/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { AsyncActionDefinition } from '../../src/queue/action-definition.js';
import { AciClient } from '../../src/cli/client.js';

/** The project root (this file runs from dist/test/helpers/). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** `bin/tocsin.js`, the real command line. */
export const TOCSIN_BIN = join(PROJECT_ROOT, 'bin', 'tocsin.js');

const cleanups: string[] = [];
process.once('exit', () => {
  for (const dir of cleanups) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp directory, removed when the test process exits. */
export function tempDir(prefix = 'tocsin-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(dir);
  return dir;
}

/** Writes `text` as `dir/name` and returns its path. */
export function writeConfig(dir: string, text: string, name = 'tocsin.cfg'): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/**
 * Fills in `[Server]` keys a test server needs unless the text sets them: DataDirectory (the temp
 * dir) and ShutdownGrace=0 (so close() never waits for long Sleeps to end).
 */
export function withServerDefaults(text: string, dir: string): string {
  const extra: string[] = [];
  if (!/^\s*DataDirectory\s*=/im.test(text)) extra.push(`DataDirectory=${dir}`);
  if (!/^\s*ShutdownGrace\s*=/im.test(text)) extra.push('ShutdownGrace=0');
  if (extra.length === 0) return text;
  if (/^\s*\[Server\]\s*$/im.test(text)) return text.replace(/^\s*\[Server\]\s*$/im, (line) => `${line}\n${extra.join('\n')}`);
  return `[Server]\n${extra.join('\n')}\n\n${text}`;
}

export interface TestServer {
  readonly server: RunningServer;
  /** `http://127.0.0.1:port` */
  readonly url: string;
  readonly client: AciClient;
  readonly dir: string;
  readonly configFile: string;
  readonly log: ReturnType<typeof createMemoryLogger>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Config file text; `[Server] DataDirectory` defaults to the temp dir. */
  readonly config: string;
  readonly actions?: readonly AsyncActionDefinition[];
  /** Use this directory instead of a new temp dir. */
  readonly dir?: string;
}

/** A real server in this process, on a free loopback port, with its own temp dir and database. */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const dir = options.dir ?? tempDir();
  const configFile = writeConfig(dir, withServerDefaults(options.config, dir));
  const log = createMemoryLogger();
  const server = await startServer({ configFile, port: 0, logger: log, ...(options.actions ? { actions: options.actions } : {}) });
  let closed: Promise<void> | undefined;
  return {
    server,
    url: server.url,
    client: new AciClient(server.url),
    dir,
    configFile,
    log,
    close: () => (closed ??= server.close()),
  };
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

export interface SpawnedServer {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  readonly client: AciClient;
  /** Everything the process wrote to stderr so far (its JSON log lines). */
  stderr(): string;
  /** Everything the process wrote to stdout so far. */
  stdout(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** kill -9, and wait until it is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (clean stop), and wait until it is gone. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Added to this process's environment (for `${ENV:NAME}` in the config). */
  readonly env?: Readonly<Record<string, string>>;
  /** More arguments after `--port P` (`--pretty`). */
  readonly args?: readonly string[];
}

const children = new Set<ChildProcess>();
let exitHooked = false;

/** One exit hook for every spawned server (a hook each warns past 10: the kill loop spawns 21). */
function killAtExit(child: ChildProcess): void {
  if (!exitHooked) process.once('exit', () => children.forEach((c) => c.kill('SIGKILL')));
  exitHooked = true;
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Runs `node bin/tocsin.js serve --config X --port P`, resolving once GetVersion answers. */
export async function spawnServer(configPath: string, port: number, timeoutMs = 15_000, options: SpawnOptions = {}): Promise<SpawnedServer> {
  const child = spawn(process.execPath, [TOCSIN_BIN, 'serve', '--config', configPath, '--port', String(port), ...(options.args ?? [])], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  killAtExit(child);
  const url = `http://127.0.0.1:${port}`;
  const client = new AciClient(url);
  try {
    await waitFor(async () => {
      if (hasExited) throw new Error(`tocsin serve exited before answering:\n${stderr}`);
      return client.call('GetVersion').then(
        () => true,
        () => false,
      );
    }, timeoutMs);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    child,
    port,
    url,
    client,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    async kill9() {
      if (!hasExited) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!hasExited) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Polls `predicate` (sync or async) until it returns a truthy value, and returns that value.
 * Rejects after `timeoutMs`, or at once when the predicate throws.
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 10): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms: ${predicate.toString().slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Starts a test server, runs `fn` with it, and always closes it. */
export async function withServer<T>(options: TestServerOptions, fn: (s: TestServer) => Promise<T>): Promise<T> {
  const s = await startTestServer(options);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
