/**
 * The console's page, script and style sheet, built into `dist/console/` by
 * `scripts/build-console.mjs` (npm run build) and served from the package: no CDN, no internet.
 * Read once at start (a few tens of KB) and served from memory, gzipped when the browser takes it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** `dist/console`, seen from `dist/src/console/`. */
export const CONSOLE_ASSETS = resolve(dirname(fileURLToPath(import.meta.url)), '../../console');

const FILES: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  'app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly gzipped: Buffer;
  readonly etag: string;
}

export class StaticFiles {
  private readonly assets = new Map<string, Asset>();
  /** Why the assets are missing (a checkout that was not built), shown instead of the page. */
  readonly missing: string | undefined;

  constructor(directory = CONSOLE_ASSETS) {
    let missing: string | undefined;
    for (const [name, { file, type }] of Object.entries(FILES)) {
      try {
        const body = readFileSync(join(directory, file));
        const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
        this.assets.set(name, { type, body, gzipped: gzipSync(body), etag });
      } catch {
        missing ??= `The console is not built: ${join(directory, file)} is missing (run npm run build)`;
      }
    }
    this.missing = missing;
  }

  /** Serves `name` ('' for the page); false when there is no such file. */
  serve(name: string, req: IncomingMessage, res: ServerResponse): boolean {
    const asset = this.assets.get(name);
    if (!asset) return false;
    // Revalidated each time (no-cache): a server upgraded in place never serves a stale script.
    const headers: Record<string, string> = { 'Content-Type': asset.type, 'Cache-Control': 'no-cache', ETag: asset.etag, Vary: 'Accept-Encoding' };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? asset.gzipped : asset.body;
    res.writeHead(200, { ...headers, ...(gzip ? { 'Content-Encoding': 'gzip' } : {}), 'Content-Length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
}
