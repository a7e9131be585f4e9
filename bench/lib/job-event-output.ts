/**
 * The peers' side of a job event (BullMQ, graphile-worker): they have no event handlers of their
 * own, so the bench does what a user would in their event listener. A file target appends one JSON
 * line per event with a write of its own (as Tocsin's TextFileHandler does); a webhook target POSTs
 * the completion, rendered as the same document Tocsin's HttpHandler sends (same bytes, same
 * headers), at most `inFlight` at once over as many keep-alive connections, the rest waiting in
 * order. Not durable: an event not yet posted when the process dies is lost, unlike Tocsin's outbox.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { actionEventDocument } from '../../src/events/document.js';
import { CONTENT_TYPE, USER_AGENT } from '../../src/events/handlers/http/deliver.js';
import type { ActionRecord } from '../../src/queue/record.js';
import type { JobEventTarget, QueueProbe } from './queue-under-test.js';

export interface JobEventOutput {
  started(key: string): void;
  completed(key: string): void;
  close(): Promise<void>;
}

/** A record shaped like a finished no-op action, its token the peer's job id. */
export function finishedRecord(token: string): ActionRecord {
  const t = Date.now();
  return { id: 1, token, queue: 'Noop', status: 'Finished', priority: 0, params: [], queuedAt: t, startedAt: t, endedAt: t, attempts: 1, reports: [] };
}

/** The OnFinish document Tocsin would send for `token`, and its request headers. */
export function finishedDocument(token: string): { body: string; headers: Record<string, string> } {
  const id = randomUUID();
  return {
    body: actionEventDocument('OnFinish', id, Date.now(), '127.0.0.1:9000', finishedRecord(token)),
    headers: { 'content-type': CONTENT_TYPE, 'user-agent': USER_AGENT, 'x-tocsin-event-type': 'OnFinish', 'x-tocsin-event-id': id },
  };
}

function fileOutput(path: string, probe: QueueProbe): JobEventOutput {
  const fd = openSync(path, 'a');
  const line = (type: string, key: string) => {
    writeSync(fd, `${JSON.stringify({ type, id: key, at: Date.now() })}\n`);
    probe.lineWritten();
  };
  return {
    started: (key) => line('start', key),
    completed: (key) => line('completed', key),
    close: async () => closeSync(fd),
  };
}

function webhookOutput(url: string, inFlight: number): JobEventOutput {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: inFlight });
  const waiting: string[] = [];
  let running = 0;
  const send = async (key: string): Promise<void> => {
    const { body, headers } = finishedDocument(key);
    try {
      const res = await pool.request({ method: 'POST', path: target.pathname, body, headers });
      await res.body.dump();
    } catch (e) {
      process.stderr.write(`webhook POST failed: ${(e as Error).message}\n`);
    }
  };
  const pump = () => {
    while (running < inFlight && waiting.length > 0) {
      running++;
      void send(waiting.shift()!).finally(() => {
        running--;
        pump();
      });
    }
  };
  return {
    started: () => {},
    completed: (key) => {
      waiting.push(key);
      pump();
    },
    close: () => pool.close(),
  };
}

const noOutput: JobEventOutput = { started: () => {}, completed: () => {}, close: async () => {} };

export function jobEventOutput(target: JobEventTarget, probe: QueueProbe): JobEventOutput {
  if (target.kind === 'none') return noOutput;
  return target.kind === 'file' ? fileOutput(target.path, probe) : webhookOutput(target.url, target.inFlight);
}
