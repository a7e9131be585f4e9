/**
 * A small ext4 filesystem on a loop device that a test can turn read-only UNDER a running server,
 * the way a disk error does: ext4 mounted `errors=remount-ro`, then an error raised through
 * `/sys/fs/ext4/<dev>/trigger_fs_error` makes the kernel remount it read-only at once, open files
 * and all. Linux refuses a plain `mount -o remount,ro` (tmpfs or any other) while a process holds
 * a file open for writing ("mount point is busy"), and such an emergency read-only mount cannot be
 * made writable again without unmounting it; so the repair is what an operator does: stop the
 * server, unmount, `e2fsck -fy`, mount again. Where any of it is impossible (not root, no loop
 * devices, no mkfs.ext4), `failingFilesystemUnavailable()` says why, for the test's skip message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

function run(args: readonly string[]): { ok: boolean; out: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${args.join(' ')}: ${(r.stderr || r.stdout || r.error?.message || `exit ${r.status}`).trim()}` };
}

function must(args: readonly string[]): string {
  const r = run(args);
  if (!r.ok) throw new Error(r.out);
  return r.out;
}

export interface FailingFilesystem {
  /** Where it is mounted. */
  readonly path: string;
  /** The kernel remounts it read-only, as after a disk error (open files included). */
  fail(): void;
  /** Unmount, check and repair (`e2fsck -fy`), mount read-write again. Nothing may hold it open. */
  repair(): void;
  unmount(): void;
}

/** The loop device mounted at `path` (`loop3`). */
function deviceAt(path: string): string {
  return basename(spawnSync('findmnt', ['-no', 'SOURCE', path], { encoding: 'utf8' }).stdout.trim());
}

function mountAt(image: string, path: string): string {
  must(['mount', '-o', 'loop,errors=remount-ro', image, path]);
  return deviceAt(path);
}

export function mountFailingFilesystem(dir: string, sizeBytes: number): FailingFilesystem {
  const image = join(dir, 'ext4.img');
  const path = join(dir, 'ext4');
  mkdirSync(path, { recursive: true });
  writeFileSync(image, '');
  must(['truncate', '-s', String(sizeBytes), image]);
  must(['mkfs.ext4', '-q', '-F', image]);
  let device = mountAt(image, path);
  let mounted = true;
  process.once('exit', () => mounted && run(['umount', '-l', path]));
  return {
    path,
    fail: () => writeFileSync(`/sys/fs/ext4/${device}/trigger_fs_error`, 'test: the data folder goes read-only'),
    repair() {
      must(['umount', path]);
      mounted = false;
      const fsck = spawnSync('e2fsck', ['-fy', image], { encoding: 'utf8' });
      // 0: clean, 1: errors corrected; 2 and above: it could not repair.
      if (fsck.status !== 0 && fsck.status !== 1) throw new Error(`e2fsck -fy exited ${fsck.status}: ${fsck.stdout}${fsck.stderr}`);
      device = mountAt(image, path);
      mounted = true;
    },
    unmount() {
      if (mounted) run(['umount', '-l', path]);
      mounted = false;
      rmSync(image, { force: true });
    },
  };
}

let probe: string | undefined | null = null;

/** Why no such filesystem can be made here, or undefined when it can (tried once per process). */
export function failingFilesystemUnavailable(dir: string): string | undefined {
  if (probe !== null) return probe;
  if (process.getuid?.() !== 0) return (probe = 'not running as root: cannot mount a loop device');
  for (const tool of ['mkfs.ext4', 'e2fsck', 'losetup', 'findmnt']) {
    if (!run(['sh', '-c', `command -v ${tool}`]).ok) return (probe = `${tool} is not installed`);
  }
  try {
    const fs = mountFailingFilesystem(join(dir, 'probe'), 8 * 1024 * 1024);
    const device = deviceAt(fs.path);
    if (!existsSync(`/sys/fs/ext4/${device}/trigger_fs_error`)) probe = 'this kernel has no /sys/fs/ext4/<dev>/trigger_fs_error';
    else probe = undefined;
    fs.unmount();
  } catch (e) {
    probe = (e as Error).message;
  }
  if (probe !== undefined) console.log(`failing-filesystem tests skipped: ${probe}`);
  return probe;
}
