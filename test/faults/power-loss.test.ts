/**
 * Power loss under `Durability=power` (issue 16 part 4), simulated by what a power loss keeps: data
 * a file system has been told to sync (fsync/fdatasync returned) is on the disk; anything written
 * but not yet synced may be gone. The server runs under `strace -f` (a real `tocsin serve`, real
 * SQLite, the store on the real file system) while clients submit; every write to the store's
 * write-ahead log, every sync of it and every answer on the ACI port is logged in order. In WAL mode
 * a commit is its frames in the WAL (the database file is written only by checkpoints, which copy
 * frames the WAL already holds synced, on another connection), so an answer sent while some WAL
 * write was not yet synced is an acknowledgement a power loss could take back. Under `power` there must be none; under `process` (the default, which promises only
 * kill -9) the same audit finds such answers, which shows it can see one. Then the server is
 * killed (SIGKILL right after the last acknowledgement) and started again: every acknowledged
 * action is there.
 *
 * Limits of the simulation: it trusts the disk to honour a sync (no volatile write cache that lies)
 * and the file system to keep what was synced (SQLite also syncs the data folder when it creates
 * the WAL, which the trace shows); it does not cut power to a real disk or tear a sector, and it
 * judges the order of calls, not their effect on a disk. The PostgreSQL store (synchronous_commit
 * per Durability) is not covered here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AciClient } from '../../src/cli/client.js';
import { mapLimit } from '../helpers/events-server.js';
import { freePort, PROJECT_ROOT, spawnServer, tempDir, TOCSIN_BIN, waitFor } from '../helpers/server.js';
import { writeFaultServerConfig } from '../helpers/fault-config.js';
import { auditAnswers, traceSteps, type AnswerAudit } from './syscall-trace.js';
import { sized } from './fault-run.js';

const SUBMISSIONS = sized(200, 2000);

const straceMissing = spawnSync('strace', ['-V']).status === 0 ? undefined : 'strace is not installed: the syscall order cannot be recorded';

interface Traced {
  readonly child: ChildProcess;
  readonly client: AciClient;
  /** The traced `node` process (strace's child). */
  readonly pid: number;
}

async function startTraced(configFile: string, port: number, traceFile: string): Promise<Traced> {
  const calls = 'trace=write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync';
  const child = spawn('strace', ['-f', '-yy', '-s', '32', '--seccomp-bpf', '-e', calls, '-o', traceFile, process.execPath, TOCSIN_BIN, 'serve', '--config', configFile, '--port', String(port)], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  process.once('exit', () => child.kill('SIGKILL'));
  const client = new AciClient(`http://127.0.0.1:${port}`);
  await waitFor(() => client.call('GetVersion').then(() => true, () => (child.exitCode !== null ? Promise.reject(new Error(stderr)) : false)), 60_000, 50);
  const pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
  return { child, client, pid };
}

async function submitAndKill(durability: 'power' | 'process'): Promise<{ audit: AnswerAudit; acked: string[]; dir: string; configFile: string; port: number }> {
  const dir = tempDir(`tocsin-power-${durability}-`);
  const data = join(dir, 'data');
  const configFile = writeFaultServerConfig(dir, { dataDirectory: data, actions: { MaximumThreads: 2, Durability: durability } });
  const port = await freePort();
  const traceFile = join(dir, 'trace.log');
  const server = await startTraced(configFile, port, traceFile);
  const acked = await mapLimit(Array.from({ length: SUBMISSIONS }, (_, i) => i), 8, (i) => server.client.send('Sleep', { Seconds: String(30 + (i % 3)) }));
  process.kill(server.pid, 'SIGKILL'); // right after the last acknowledgement
  await new Promise((resolve) => (server.child.exitCode !== null ? resolve(null) : server.child.once('exit', resolve)));
  const steps = traceSteps(readFileSync(traceFile, 'utf8'), (path) => path.startsWith(data) && path.endsWith('.db-wal'), port);
  return { audit: auditAnswers(steps), acked, dir, configFile, port };
}

test(`Durability=power: no acknowledgement of ${SUBMISSIONS} is sent before its commit is synced, and all survive a SIGKILL right after`, { skip: straceMissing, timeout: 300_000 }, async (t) => {
  const run = await submitAndKill('power');
  t.diagnostic(`power: ${run.audit.answers} answers, ${run.audit.syncs} syncs of the store, ${run.audit.unsynced} answers with writes not yet synced ${run.audit.dirtyFiles.join(' ')}`);
  assert.ok(run.audit.answers >= SUBMISSIONS, `the trace saw every answer (${run.audit.answers})`);
  assert.equal(run.audit.unsynced, 0, 'every answer came after the sync of everything written before it');

  const server = await spawnServer(run.configFile, run.port, 60_000);
  try {
    const missing: string[] = [];
    await mapLimit(run.acked, 8, async (token) => {
      const record = await server.client.status(token).catch(() => undefined);
      if (!record) missing.push(token);
    });
    assert.deepEqual(missing, [], 'every acknowledged action is stored after the kill');
  } finally {
    await server.kill9();
  }
});

test('the same audit finds acknowledgements a power loss could take back under Durability=process', { skip: straceMissing, timeout: 300_000 }, async (t) => {
  const run = await submitAndKill('process');
  t.diagnostic(`process: ${run.audit.answers} answers, ${run.audit.syncs} syncs of the store, ${run.audit.unsynced} answers with writes not yet synced`);
  assert.ok(run.audit.answers >= SUBMISSIONS);
  assert.ok(run.audit.unsynced > 0, 'process durability answers before syncing (it promises kill -9 only)');
});
