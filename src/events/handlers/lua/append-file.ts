/**
 * `append_file(path, text)` for scripts: appends to a file inside one of the `LuaAllowedPaths`
 * directories and nowhere else (decisions.md "Handlers").
 *
 * The check is made on real paths: `..` is resolved away first, then the folder that will hold the
 * file is passed through realpath, so a symlinked folder inside an allowed directory that points
 * outside it is refused. The file itself is opened with O_NOFOLLOW, so a symlink planted as the last
 * component (even between our check and the open) makes the open fail instead of writing through it.
 * Each call is one write on an O_APPEND descriptor, so one call's text is never split.
 */
import { closeSync, constants, openSync, realpathSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';

const OPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/** Real paths of the allowed directories; entries that do not exist are dropped. */
export function realAllowedDirs(dirs: readonly string[]): string[] {
  const out: string[] = [];
  for (const dir of dirs) {
    try {
      out.push(realpathSync(dir));
    } catch {
      // A missing directory allows nothing; the host warned about it when reading the config.
    }
  }
  return out;
}

function inside(dir: string, target: string): boolean {
  const rel = relative(dir, target);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Resolves `path` (relative paths against the first allowed directory) to the real path to open, or
 * explains why it is refused.
 */
export function resolveAllowed(path: string, allowed: readonly string[]): { ok: true; file: string } | { ok: false; error: string } {
  const first = allowed[0];
  if (first === undefined) return { ok: false, error: 'no directory is allowed (set LuaAllowedPaths)' };
  if (path === '' || path.includes('\0')) return { ok: false, error: 'invalid path' };
  const wanted = resolve(first, path);
  let folder: string;
  try {
    folder = realpathSync(dirname(wanted));
  } catch {
    return { ok: false, error: `folder of ${path} does not exist` };
  }
  const file = resolve(folder, basename(wanted));
  if (!allowed.some((dir) => inside(dir, file) && file !== dir)) {
    return { ok: false, error: `${path} is outside LuaAllowedPaths` };
  }
  return { ok: true, file };
}

/** Appends `text`; returns an error message instead of throwing (it becomes a Lua error). */
export function appendAllowed(path: string, text: string, allowed: readonly string[]): string | undefined {
  const target = resolveAllowed(path, allowed);
  if (!target.ok) return target.error;
  let fd: number | undefined;
  try {
    fd = openSync(target.file, OPEN_FLAGS, 0o644);
    writeSync(fd, Buffer.from(text, 'utf8'));
    return undefined;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ELOOP') return `${path} is a symbolic link`;
    return `cannot append to ${path}: ${err.code ?? err.message}`;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
