/**
 * Command actions (decisions.md "Built-in asynchronous actions"): `[Name] Type=Command` runs a real
 * program with `%Param%` substituted, never through a shell. Each test writes small node scripts
 * into its temp dir; relative script paths resolve against the default WorkingDirectory (the
 * config file's folder).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aciError, listStatus, queueInfo, waitForStatus } from '../helpers/aci.js';
import { tempDir, waitFor, withServer, type TestServer } from '../helpers/server.js';

const NODE = process.execPath;

const SCRIPTS: Record<string, string> = {
  'args.cjs': `process.stdout.write(JSON.stringify(process.argv.slice(2)));`,
  'fail.cjs': `process.stdout.write('partial output\\n'); process.stderr.write('something broke: ' + process.argv[2] + '\\n'); process.exit(3);`,
  'hang.cjs': `require('fs').writeFileSync(process.argv[2], String(process.pid)); setInterval(() => {}, 1000);`,
  // Installs the SIGTERM handler before it writes its pid, so a test that sees the pid knows SIGTERM is ignored.
  'stubborn.cjs': `process.on('SIGTERM', () => {}); require('fs').writeFileSync(process.argv[2], String(process.pid)); setInterval(() => {}, 1000);`,
};

const CONFIG = `
[Actions]
PollInterval=50
MaximumThreads=2

[Args]
Type=Command
Command=${NODE}
Arguments=args.cjs,%Text%,fixed,100%%

[Echo]
Type=Command
Command=/bin/echo
Arguments=%Text%

[LongTimeout]
Type=Command
Command=${NODE}
Arguments=args.cjs,%Text%
Timeout=30d

[Short]
Type=Command
Command=/bin/echo
Arguments=%Text%
OutputTail=16

[Fail]
Type=Command
Command=${NODE}
Arguments=fail.cjs,%Why%

[Hang]
Type=Command
Command=${NODE}
Arguments=hang.cjs,%PidFile%

[Slow]
Type=Command
Command=${NODE}
Arguments=hang.cjs,%PidFile%
Timeout=500ms

[Stubborn]
Type=Command
Command=${NODE}
Arguments=stubborn.cjs,%PidFile%

[Missing]
Type=Command
Command=/nonexistent/tocsin-no-such-program
Arguments=x
`;

function run<T>(fn: (s: TestServer) => Promise<T>): Promise<T> {
  const dir = tempDir();
  for (const [name, text] of Object.entries(SCRIPTS)) writeFileSync(join(dir, name), text);
  return withServer({ config: CONFIG, dir }, fn);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Starts a hanging command and returns its token and the pid of its process. */
async function startHanging(s: TestServer, action: string): Promise<{ token: string; pid: number }> {
  const pidFile = join(s.dir, `${action}-${Date.now()}.pid`);
  const token = await s.client.send(action, { PidFile: pidFile });
  const pid = await waitFor(() => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) || undefined : undefined));
  return { token, pid };
}

test('exit 0 → Finished, with the stdout tail in <output> and the exit code', () =>
  run(async (s) => {
    const token = await s.client.send('Args', { Text: 'hello' });
    const record = await waitForStatus(s.client, token, 'Finished');
    assert.deepEqual(JSON.parse(String(record['output'])), ['hello', 'fixed', '100%']);
    assert.equal(record['exit_code'], '0');
    assert.equal(record['error'], undefined);
  }));

test('%Param% is substituted as one literal argument, never through a shell', () =>
  run(async (s) => {
    const nasty = `; rm -rf / && echo "pwned" $(whoami) \`id\` | cat > /tmp/x * ' ~`;
    const args = await waitForStatus(s.client, await s.client.send('Args', { Text: nasty }), 'Finished');
    assert.deepEqual(JSON.parse(String(args['output'])), [nasty, 'fixed', '100%']);
    const echo = await waitForStatus(s.client, await s.client.send('Echo', { text: nasty }), 'Finished');
    assert.equal(echo['output'], nasty, '/bin/echo printed the text as it was sent');
  }));

test('output longer than OutputTail keeps only its tail, marked with …', () =>
  run(async (s) => {
    const text = 'first part that is cut away|the last sixteen';
    const record = await waitForStatus(s.client, await s.client.send('Short', { Text: text }), 'Finished');
    // The tail is the last 16 bytes of what echo wrote (text and its newline), trimmed.
    assert.equal(record['output'], '…' + `${text}\n`.slice(-16).trimEnd());
  }));

test('a non-zero exit → Error with the exit status and the stderr tail in <error>', () =>
  run(async (s) => {
    const token = await s.client.send('Fail', { Why: 'disk on fire' });
    const record = await waitForStatus(s.client, token, 'Error');
    assert.match(String(record['error']), /exited with status 3/);
    assert.match(String(record['error']), /something broke: disk on fire/);
    assert.equal(record['output'], 'partial output');
    assert.equal(record['exit_code'], '3');
  }));

test('a command running past its Timeout is killed and ends in Error mentioning the timeout', () =>
  run(async (s) => {
    const { token, pid } = await startHanging(s, 'Slow');
    const record = await waitForStatus(s.client, token, 'Error');
    assert.match(String(record['error']), /timed out after 0\.5 s \(Timeout\)/);
    assert.equal(isAlive(pid), false);
  }));

test('a Timeout beyond the 24.8-day range of Node timers (30d) does not fire at once', () =>
  run(async (s) => {
    const record = await waitForStatus(s.client, await s.client.send('LongTimeout', { Text: 'patient' }), ['Finished', 'Error']);
    assert.equal(record['status'], 'Finished', String(record['error']));
    assert.deepEqual(JSON.parse(String(record['output'])), ['patient']);
  }));

test('QueueAction=Stop ends the process with SIGTERM and the action is Stopped', () =>
  run(async (s) => {
    const { token, pid } = await startHanging(s, 'Hang');
    assert.equal(isAlive(pid), true);
    await waitForStatus(s.client, token, 'Processing');
    await queueInfo(s.client, 'Hang', 'Stop', { Token: token });
    await waitForStatus(s.client, token, 'Stopped');
    assert.equal(isAlive(pid), false, 'the process is gone');
  }));

test('a process that ignores SIGTERM gets SIGKILL after the grace time, and the action is Stopped', () =>
  run(async (s) => {
    const { token, pid } = await startHanging(s, 'Stubborn');
    await waitForStatus(s.client, token, 'Processing');
    await queueInfo(s.client, 'Stubborn', 'Stop', { Token: token });
    await waitForStatus(s.client, token, 'Stopped', 15_000);
    assert.equal(isAlive(pid), false, 'the process is gone');
  }));

test('a program that cannot be started → Error with the spawn reason, and the server keeps serving', () =>
  run(async (s) => {
    const token = await s.client.send('Missing');
    const record = await waitForStatus(s.client, token, 'Error');
    assert.match(String(record['error']), /cannot start \/nonexistent\/tocsin-no-such-program/);
    assert.match(String(record['error']), /ENOENT/);
    await s.client.call('GetVersion');
    const next = await s.client.send('Args', { Text: 'still here' });
    await waitForStatus(s.client, next, 'Finished');
  }));

test('a missing %Param% is refused at submission with ERRORMISSINGPARAM naming it, and nothing is queued', () =>
  run(async (s) => {
    const e = await aciError(s.client.send('Args', { Other: 'x' }));
    assert.equal(e.errorcode, 'ERRORMISSINGPARAM');
    assert.match(e.errordescription, /Text/);
    assert.equal((await listStatus(s.client, 'Args')).length, 0);
  }));
