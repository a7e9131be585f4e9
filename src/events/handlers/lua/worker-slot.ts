/**
 * Host side of one Lua worker: queues deliveries, posts them in batches, settles them from the
 * worker's answers, serves the script's `send` requests, and replaces the worker when it ends.
 *
 * Hard limit: the handler's supervisor thread (supervisor.ts) terminates a worker whose call still
 * runs at LuaTimeout + LuaHardStopGrace and reports it; the slot then fails that call only, queues
 * the other calls the dead worker held again, and starts a replacement (~100-150 ms). Calls whose
 * answers were lost with the worker therefore run again: delivery is at least once (decisions.md
 * "Events"); the worker posts answers every FLUSH_AFTER_MS, and the slot reads every answer the dead
 * worker posted before acting on its end, to keep that rare.
 */
import { receiveMessageOnPort } from 'node:worker_threads';
import type { Logger } from '../../../common/logger.js';
import { DeliveryError, type EventDelivery, type HandlerContext } from '../../handler.js';
import { REPLY_FLAG, RUNNING_SEQ, type CallResult, type HardStop, type LogLine, type SendReply, type WorkerToHost } from './protocol.js';
import { spawnWorker, type ScriptSetup, type SpawnedWorker } from './spawn.js';
import type { Supervisor } from './supervisor-client.js';

/** What every slot of one handler shares. */
export interface SlotEnvironment {
  readonly script: ScriptSetup;
  /** Spawns the workers and enforces their hard time limit. */
  readonly supervisor: Supervisor;
  readonly handlerName: string;
  readonly log: Logger;
  readonly send: HandlerContext['send'];
}

/** Calls posted to a worker and not yet answered; beyond this they wait in the host queue. */
const MAX_IN_FLIGHT = 256;
/** A call whose worker died under it this many times (not by its own fault) fails. */
const MAX_REQUEUES = 2;
/** Hard stops kept for stats(); older ones are dropped. */
const KEEP_STOPS = 32;

interface PendingCall {
  readonly event: EventDelivery;
  readonly resolve: () => void;
  readonly reject: (error: DeliveryError) => void;
  readonly cleanup: () => void;
  seq: number;
  settled: boolean;
  requeues: number;
}

interface LiveWorker extends SpawnedWorker {
  ready: boolean;
  retired: boolean;
}

export class WorkerSlot {
  private live: LiveWorker | undefined;
  private queue: PendingCall[] = [];
  private readonly inFlight = new Map<number, PendingCall>();
  private nextSeq = 1;
  private flushPending = false;
  private closed = false;
  private readonly hardStops: HardStop[] = [];
  private restarts = 0;
  /** Holds the process open while calls are pending; the workers and their ports do not. */
  private readonly keepAlive = setInterval(() => {}, 0x7fffffff).unref();

  constructor(private readonly env: SlotEnvironment) {
    this.attach(spawnWorker(env.supervisor, env.script));
  }

  deliver(event: EventDelivery, signal: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(new DeliveryError('the Lua handler is closed', { retryable: true }));
    if (signal.aborted) return Promise.reject(new DeliveryError('delivery aborted', { retryable: true, cause: signal.reason }));
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => this.settle(call, new DeliveryError('delivery aborted', { retryable: true, cause: signal.reason }));
      const call: PendingCall = {
        event,
        resolve,
        reject,
        cleanup: () => signal.removeEventListener('abort', onAbort),
        seq: 0,
        settled: false,
        requeues: 0,
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(call);
      this.scheduleFlush();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.keepAlive);
    const closing = new DeliveryError('the Lua handler is closed', { retryable: true });
    for (const call of [...this.queue, ...this.inFlight.values()]) this.settle(call, closing);
    this.queue = [];
    this.inFlight.clear();
    if (this.live) await this.retire(this.live);
  }

  get stats(): { hardStops: readonly HardStop[]; restarts: number } {
    return { hardStops: this.hardStops, restarts: this.restarts };
  }

  private attach(spawned: SpawnedWorker): void {
    const live: LiveWorker = { ...spawned, ready: false, retired: false };
    this.live = live;
    live.callPort.on('message', (message: WorkerToHost) => this.onMessage(live, message));
    live.callPort.unref(); // after on(), which refs it: pending calls hold the process through keepAlive
    live.control.onEnd = {
      hardStop: (stop) => this.onHardStop(live, stop),
      died: (reason) => this.onEnded(live, Atomics.load(live.i32, RUNNING_SEQ), reason),
    };
  }

  private onMessage(live: LiveWorker, message: WorkerToHost): void {
    if (live.retired) return;
    if (message.type === 'results') {
      this.writeLogs(message.logs);
      for (const result of message.results) this.finish(result);
      this.scheduleFlush();
    } else if (message.type === 'send') {
      this.serveSend(live, message.id, message.seq, message.section, message.text);
    } else if (message.ok) {
      live.ready = true;
      this.scheduleFlush();
    } else {
      void this.retire(live);
      this.failAll(new DeliveryError(`the Lua script failed to load: ${message.error ?? 'unknown error'}`, { retryable: true }));
    }
  }

  private finish(result: CallResult): void {
    const call = this.inFlight.get(result.seq);
    if (!call) return;
    this.inFlight.delete(result.seq);
    if (result.ok) this.settle(call);
    else this.settle(call, new DeliveryError(result.message, { retryable: true }));
  }

  private writeLogs(lines: readonly LogLine[]): void {
    for (const line of lines) {
      // Logs come before their call's result in a message, so the call is still in flight here.
      const event = this.inFlight.get(line.seq)?.event;
      this.env.log[line.level](line.text, { source: 'lua', handler: this.env.handlerName, ...(event ? { eventId: event.id, token: event.token } : {}) });
    }
  }

  /** Hands the script's text to another handler section, then wakes the waiting worker. */
  private serveSend(live: LiveWorker, id: number, seq: number, section: string, text: string): void {
    const reply = (error?: string) => {
      if (live.retired) return;
      const message: SendReply = error === undefined ? { id } : { id, error };
      live.replyPort.postMessage(message);
      Atomics.store(live.i32, REPLY_FLAG, 1);
      Atomics.notify(live.i32, REPLY_FLAG);
    };
    const call = this.inFlight.get(seq);
    if (!call || call.settled) return reply('the event is no longer being delivered');
    this.env.send(section, text, call.event).then(
      () => reply(),
      (e: unknown) => reply(e instanceof Error ? e.message : String(e)),
    );
  }

  private scheduleFlush(): void {
    if (this.flushPending || this.closed) return;
    this.flushPending = true;
    // setImmediate rather than a microtask: deliveries started by the continuations of the answers
    // just settled join the same batch.
    setImmediate(() => {
      this.flushPending = false;
      this.flush();
    });
  }

  private flush(): void {
    this.holdProcess();
    const live = this.live;
    if (!live) {
      if (this.queue.length > 0) this.startReplacement();
      return;
    }
    if (!live.ready) return;
    const calls = [];
    while (this.queue.length > 0 && this.inFlight.size < MAX_IN_FLIGHT) {
      const call = this.queue.shift()!;
      if (call.settled) continue;
      call.seq = this.nextSeq;
      this.nextSeq = this.nextSeq >= 0x7fffffff ? 1 : this.nextSeq + 1;
      this.inFlight.set(call.seq, call);
      calls.push({ seq: call.seq, request: call.event.request, xml: call.event.document });
    }
    if (calls.length > 0) live.callPort.postMessage({ type: 'calls', calls });
  }

  private holdProcess(): void {
    const busy = !this.closed && (this.inFlight.size > 0 || this.queue.length > 0);
    if (busy === this.keepAlive.hasRef()) return;
    if (busy) this.keepAlive.ref();
    else this.keepAlive.unref();
  }

  private onHardStop(live: LiveWorker, stop: HardStop): void {
    this.hardStops.push(stop);
    if (this.hardStops.length > KEEP_STOPS) this.hardStops.shift();
    const limit = this.env.script.timeoutMs;
    const reason = `LuaTimeout of ${limit} ms exceeded and the script did not stop (a long C call or a loop the hook could not break): its worker was terminated`;
    this.onEnded(live, stop.seq, reason);
  }

  /** The worker is gone (terminated as a runaway, or died): fail the call it ran, requeue the rest, replace it. */
  private onEnded(live: LiveWorker, seq: number, reason: string): void {
    if (live.retired || this.closed) return;
    this.drain(live);
    if (live.retired) return; // it had failed to load, and that has been handled
    void this.retire(live);
    const error = new DeliveryError(reason, { retryable: true });
    if (!live.ready) {
      // Died while starting: restarting at once could loop; the next delivery tries a new worker.
      this.failAll(error);
      return;
    }
    const call = this.inFlight.get(seq);
    this.inFlight.delete(seq);
    if (call) this.settle(call, error);
    this.requeueInFlight();
    this.startReplacement();
  }

  /**
   * Handles what a dead worker posted before it ended (its thread is gone, so all of it is queued on
   * the port), so its answers count instead of running those calls again. Its `send` requests are
   * dropped: no one is left to take the reply.
   */
  private drain(live: LiveWorker): void {
    for (let received = receiveMessageOnPort(live.callPort); received; received = receiveMessageOnPort(live.callPort)) {
      const message = received.message as WorkerToHost;
      if (message.type !== 'send') this.onMessage(live, message);
    }
  }

  /** Stops using a worker: closes its ports and has it terminated if it still runs. */
  private retire(live: LiveWorker): Promise<void> {
    live.retired = true;
    if (this.live === live) this.live = undefined;
    live.callPort.close();
    live.replyPort.close();
    return this.env.supervisor.terminate(live.control);
  }

  private requeueInFlight(): void {
    const again: PendingCall[] = [];
    for (const call of this.inFlight.values()) {
      if (call.settled) continue;
      if (++call.requeues > MAX_REQUEUES) {
        this.settle(call, new DeliveryError('the Lua worker was replaced too often while this event waited', { retryable: true }));
      } else again.push(call);
    }
    this.inFlight.clear();
    this.queue = [...again, ...this.queue];
    this.scheduleFlush();
  }

  /** A warm replacement right away, so the next event does not wait for a worker to start. */
  private startReplacement(): void {
    if (this.closed || this.live) return;
    this.restarts++;
    this.attach(spawnWorker(this.env.supervisor, this.env.script));
  }

  private failAll(error: DeliveryError): void {
    for (const call of [...this.queue, ...this.inFlight.values()]) this.settle(call, error);
    this.queue = [];
    this.inFlight.clear();
    this.holdProcess();
  }

  private settle(call: PendingCall, error?: DeliveryError): void {
    if (call.settled) return;
    call.settled = true;
    call.cleanup();
    if (error) call.reject(error);
    else call.resolve();
  }
}
