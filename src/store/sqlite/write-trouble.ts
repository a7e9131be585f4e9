/**
 * What keeps the data directory from being written, named for the ACI error of a failed commit.
 * SQLite reports a write refused by a read-only filesystem as "disk I/O error" (SQLITE_IOERR_*),
 * which names no cause; the directory is asked only after such a failure, so it costs nothing
 * while writes succeed (test/faults/read-only.test.ts). It is asked by creating a file: access()
 * says yes on an ext4 that a disk error made read-only (Linux 6.x marks it `emergency_ro` and
 * refuses writes itself, leaving the mount flags read-write).
 */
import { closeSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

const WRITE_ERRORS = /^SQLITE_(IOERR|READONLY|CANTOPEN)/;

/** Why `dir` cannot be written, when the SQLite error `e` looks like that; else undefined. */
export function writeTrouble(dir: string, e: unknown): string | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !WRITE_ERRORS.test(code)) return undefined;
  const probe = join(dir, '.tocsin-write-probe');
  try {
    closeSync(openSync(probe, 'w'));
    unlinkSync(probe);
    return undefined;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code;
    if (why === 'EROFS') return 'the data directory is on a read-only filesystem';
    if (why === 'EACCES' || why === 'EPERM') return 'the data directory is not writable';
    if (why === 'ENOSPC' || why === 'EDQUOT') return 'no space left for the data directory';
    return undefined;
  }
}
