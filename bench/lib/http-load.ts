/**
 * HTTP load generator, run in a worker thread so the client does not share the server's event
 * loop: `count` GETs of `path` + `&n=i` (and `&IdempotencyKey=...` with `keyPrefix`) over `concurrency` keep-alive connections (undici Pool),
 * `concurrency` requests in flight. With `urls` (several nodes), request i goes to `urls[i % n]`
 * (round-robin), each node with a pool of its own. Posts back each request's send time (epoch ms, sub-ms
 * precision, comparable across threads) and the token parsed from the answer.
 */
import { parentPort, workerData, Worker } from 'node:worker_threads';
import { Pool } from 'undici';
import { runPool } from './pool.js';

export interface HttpLoad {
  readonly url: string;
  /** Nodes to spread the requests over round-robin; `url` is then unused. */
  readonly urls?: readonly string[];
  readonly path: string;
  readonly count: number;
  readonly concurrency: number;
  /** Give request i the parameter `IdempotencyKey=<keyPrefix>-i` (a key of its own per request). */
  readonly keyPrefix?: string;
}

export interface HttpLoadResult {
  /** Epoch ms when the first request was sent and when the last answer arrived. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly sentAt: number[];
  readonly tokens: string[];
  readonly errors: number;
  readonly firstError?: string;
}

const now = () => performance.timeOrigin + performance.now();
const TOKEN = /<autn:token>([^<]+)<\/autn:token>|<token>([^<]+)<\/token>/;

async function generate(load: HttpLoad): Promise<HttpLoadResult> {
  const urls = load.urls && load.urls.length > 0 ? load.urls : [load.url];
  const pools = urls.map((url) => new Pool(url, { connections: load.concurrency, pipelining: 1, keepAliveTimeout: 30_000 }));
  const sentAt = new Array<number>(load.count).fill(0);
  const tokens = new Array<string>(load.count).fill('');
  let errors = 0;
  let firstError: string | undefined;
  const startedAt = now();
  await runPool(load.count, load.concurrency, async (i) => {
    sentAt[i] = now();
    try {
      const key = load.keyPrefix === undefined ? '' : `&IdempotencyKey=${load.keyPrefix}-${i}`;
      const res = await pools[i % pools.length]!.request({ method: 'GET', path: `${load.path}&n=${i}${key}` });
      const body = await res.body.text();
      const m = TOKEN.exec(body);
      if (res.statusCode !== 200 || !m) throw new Error(`HTTP ${res.statusCode}: ${body.slice(0, 300)}`);
      tokens[i] = (m[1] ?? m[2])!;
    } catch (e) {
      errors++;
      firstError ??= (e as Error).message;
    }
  });
  const endedAt = now();
  await Promise.all(pools.map((p) => p.close()));
  return { startedAt, endedAt, sentAt, tokens, errors, ...(firstError ? { firstError } : {}) };
}

if (parentPort && (workerData as { httpLoad?: HttpLoad } | undefined)?.httpLoad) {
  const port = parentPort;
  void generate((workerData as { httpLoad: HttpLoad }).httpLoad).then((r) => port.postMessage(r));
}

/** Run the load in a worker thread; resolves with its result. */
export function runHttpLoad(load: HttpLoad): Promise<HttpLoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { httpLoad: load } });
    worker.once('message', (r: HttpLoadResult) => {
      resolve(r);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
