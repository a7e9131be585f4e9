/**
 * A Tocsin server for one benchmark run: a fresh temp DataDirectory, a config file written there,
 * startServer on a free port with a silent logger. `close()` stops it and removes the directory,
 * unless the caller named one (`dir`: a server started again on the same store, after a crash).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { AsyncActionDefinition } from '../../src/queue/action-definition.js';
import type { HandlerFactory } from '../../src/events/handler.js';

export interface BenchServer {
  readonly server: RunningServer;
  readonly dir: string;
  close(): Promise<void>;
}

export interface BenchServerOptions {
  /** Config text after `[Server]`; `%DIR%` is replaced by the temp directory. */
  readonly config: string;
  readonly actions?: readonly AsyncActionDefinition[];
  readonly handlers?: readonly HandlerFactory[];
  /** An existing DataDirectory, kept on close; default: a fresh temp one, removed on close. */
  readonly dir?: string;
}

export async function startBenchServer(options: BenchServerOptions): Promise<BenchServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tocsin-bench-'));
  const remove = () => {
    if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
  };
  const configFile = join(dir, 'tocsin.cfg');
  const text = `[Server]\nHost=127.0.0.1\nDataDirectory=${dir}\nShutdownGrace=0\n\n${options.config.replaceAll('%DIR%', dir)}`;
  writeFileSync(configFile, text);
  let server: RunningServer;
  try {
    server = await startServer({
      configFile,
      port: 0,
      logger: silentLogger,
      ...(options.actions ? { actions: options.actions } : {}),
      ...(options.handlers ? { handlers: options.handlers } : {}),
    });
  } catch (e) {
    remove();
    throw e;
  }
  return {
    server,
    dir,
    async close() {
      await server.close();
      remove();
    },
  };
}
