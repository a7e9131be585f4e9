/**
 * A small tmpfs a test can fill or make read-only, mounted for the test and unmounted
 * after. Tests run as root here, and chmod does not bind root, so "read-only" is a read-only mount
 * (`mount -o remount,ro`), which does. Where mounting is not allowed (not root, no CAP_SYS_ADMIN,
 * no tmpfs) `smallFilesystemUnavailable()` says why, for the test's skip message.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

function run(args: readonly string[]): string | undefined {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`;
}

let probe: string | undefined | null = null;

/** Why no test filesystem can be mounted here, or undefined when it can. */
export function smallFilesystemUnavailable(dir: string): string | undefined {
  if (probe !== null) return probe;
  if (process.getuid?.() !== 0) return (probe = 'not running as root: cannot mount a test filesystem');
  const at = join(dir, 'probe-mount');
  mkdirSync(at, { recursive: true });
  probe = run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', at]);
  if (probe === undefined) run(['umount', at]);
  rmdirSync(at);
  if (probe !== undefined) console.log(`small-filesystem tests skipped: ${probe}`);
  return probe;
}

export interface SmallFilesystem {
  readonly path: string;
  /** Writes a file until the filesystem has no byte left; returns its path. */
  fill(): string;
  /** Removes what fill() wrote. */
  free(): void;
  readOnly(): void;
  readWrite(): void;
  unmount(): void;
}

export function mountSmallFilesystem(dir: string, sizeBytes: number): SmallFilesystem {
  const path = join(dir, 'small-fs');
  mkdirSync(path, { recursive: true });
  const failed = run(['mount', '-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', path]);
  if (failed) throw new Error(failed);
  process.once('exit', () => run(['umount', '-l', path]));
  const filler = join(path, 'filler');
  const must = (args: readonly string[]) => {
    const e = run(args);
    if (e) throw new Error(e);
  };
  return {
    path,
    fill() {
      const fd = openSync(filler, 'a');
      try {
        for (const chunk of [1 << 20, 1 << 16, 4096, 512, 1]) {
          const bytes = Buffer.alloc(chunk, 0x78);
          for (;;) {
            try {
              writeSync(fd, bytes);
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw e;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return filler;
    },
    free: () => unlinkSync(filler),
    readOnly: () => must(['mount', '-o', 'remount,ro', path]),
    readWrite: () => must(['mount', '-o', 'remount,rw', path]),
    unmount: () => must(['umount', '-l', path]),
  };
}
