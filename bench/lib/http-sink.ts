/**
 * A local webhook sink in a worker thread, so that it does not share the event loop of the server
 * (or the client) it measures: node:http on 127.0.0.1, keep-alive, answers every request 204 once
 * its body is in. For each request it notes the receipt time (epoch ms, sub-ms precision,
 * comparable across threads and processes: `performance.timeOrigin + performance.now()`), the
 * action token parsed from the body's `<token>` element, the `X-Tocsin-Event-Id` header and the
 * body size; `collect()` hands those back and starts afresh.
 */
import { createServer } from 'node:http';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData, Worker } from 'node:worker_threads';

export interface SinkReceipts {
  /** Per request, in arrival order: receipt time (body complete), `<token>` ('' if none), event id. */
  readonly receivedAt: number[];
  readonly tokens: string[];
  readonly ids: string[];
  /** Body bytes of all requests. */
  readonly bytes: number;
}

export interface HttpSink {
  readonly port: number;
  /** Resolves with the receipt time of the `count`-th request since the last collect(). */
  expect(count: number): Promise<number>;
  /** The receipts since the last collect(); the sink then starts counting from zero. */
  collect(): Promise<SinkReceipts>;
  close(): Promise<void>;
}

type ToSink = { readonly kind: 'expect'; readonly count: number } | { readonly kind: 'collect' };
type FromSink =
  | { readonly kind: 'port'; readonly port: number }
  | { readonly kind: 'reached'; readonly at: number }
  | { readonly kind: 'receipts'; readonly receipts: SinkReceipts };

const now = () => performance.timeOrigin + performance.now();
const TOKEN = /<token>([^<]+)<\/token>/;

function serve(post: (m: FromSink) => void, on: (listener: (m: ToSink) => void) => void): void {
  let receivedAt: number[] = [];
  let tokens: string[] = [];
  let ids: string[] = [];
  let bytes = 0;
  let target = Infinity;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = now();
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      bytes += body.length;
      receivedAt.push(at);
      tokens.push(TOKEN.exec(body.toString('utf8'))?.[1] ?? '');
      const id = req.headers['x-tocsin-event-id'];
      ids.push(typeof id === 'string' ? id : '');
      res.writeHead(204).end();
      if (receivedAt.length === target) post({ kind: 'reached', at });
    });
  });
  server.keepAliveTimeout = 60_000;
  on((m) => {
    if (m.kind === 'expect') {
      target = m.count;
      if (receivedAt.length >= target) post({ kind: 'reached', at: receivedAt[target - 1]! });
    } else {
      post({ kind: 'receipts', receipts: { receivedAt, tokens, ids, bytes } });
      receivedAt = [];
      tokens = [];
      ids = [];
      bytes = 0;
      target = Infinity;
    }
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    post({ kind: 'port', port: typeof address === 'object' && address ? address.port : 0 });
  });
}

if (parentPort && (workerData as { httpSink?: boolean } | undefined)?.httpSink) {
  const port = parentPort;
  serve(
    (m) => port.postMessage(m),
    (listener) => port.on('message', listener),
  );
}

/** Forked by startHttpSinkProcess(): the same sink, spoken to over the IPC channel. */
const PROCESS_FLAG = '--http-sink-process';
if (process.argv.includes(PROCESS_FLAG) && process.send) {
  // A parent that died (a failed scenario) must not leave the sink behind.
  process.once('disconnect', () => process.exit(0));
  serve(
    (m) => process.send!(m),
    (listener) => process.on('message', (m) => listener(m as ToSink)),
  );
}

/** The parent's side of a sink, over whichever channel it runs behind. */
function sinkClient(
  send: (m: ToSink) => void,
  onMessage: (listener: (m: FromSink) => void) => void,
  onError: (listener: (e: Error) => void) => void,
  close: () => Promise<void>,
): Promise<HttpSink> {
  const waiting = new Map<FromSink['kind'], { resolve: (m: FromSink) => void; reject: (e: Error) => void }>();
  onMessage((m) => {
    const w = waiting.get(m.kind);
    waiting.delete(m.kind);
    w?.resolve(m);
  });
  onError((e) => {
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  });
  const next = <K extends FromSink['kind']>(kind: K) =>
    new Promise<Extract<FromSink, { kind: K }>>((resolve, reject) => waiting.set(kind, { resolve: resolve as (m: FromSink) => void, reject }));
  return next('port').then(({ port }) => ({
    port,
    expect(count) {
      const reached = next('reached');
      send({ kind: 'expect', count });
      return reached.then((m) => m.at);
    },
    collect() {
      const receipts = next('receipts');
      send({ kind: 'collect' });
      return receipts.then((m) => m.receipts);
    },
    close,
  }));
}

/** Start the sink in a worker thread; resolves once it listens. */
export function startHttpSink(): Promise<HttpSink> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { httpSink: true } });
  return sinkClient(
    (m) => worker.postMessage(m),
    (listener) => worker.on('message', listener),
    (listener) => worker.on('error', listener),
    async () => {
      await worker.terminate();
    },
  );
}

/**
 * Start the sink in a node process of its own (the "local sink in another process": it
 * shares neither event loop nor heap with the system it measures); resolves once it listens.
 */
export function startHttpSinkProcess(): Promise<HttpSink> {
  const child = fork(fileURLToPath(import.meta.url), [PROCESS_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return sinkClient(
    (m) => child.send(m),
    (listener) => child.on('message', (m) => listener(m as FromSink)),
    (listener) => child.on('error', listener),
    async () => {
      child.kill('SIGTERM');
      await exited;
    },
  );
}
