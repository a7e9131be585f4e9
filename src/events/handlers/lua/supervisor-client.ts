/**
 * The host's side of a LuaHandler's supervisor thread (supervisor.ts): starts it, asks it to spawn
 * and terminate Lua workers, and hands each worker's owner the one report of how it ended.
 *
 * The thread is unref'd: an idle handler does not hold the process open (pending calls do, see
 * worker-slot.ts). It runs no script, so only a bug could kill it; its Lua workers would die with
 * it, so each owner hears `died`, and the next spawn starts a new thread.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';
import type { HardStop, HostToSupervisor, SupervisorToHost, WorkerSetup } from './protocol.js';

/** What the owner of a Lua worker hears when it ends by itself (not when terminated on request). */
export interface WorkerEnd {
  hardStop(stop: HardStop): void;
  died(reason: string): void;
}

export interface SupervisedWorker {
  readonly id: number;
  /** Resolves once the worker is gone, however it ended. */
  readonly gone: Promise<void>;
  /** Set by the owner before it yields to the event loop: no report can be handled earlier. */
  onEnd: WorkerEnd | undefined;
}

interface Entry {
  readonly handle: SupervisedWorker;
  readonly settle: () => void;
}

export class Supervisor {
  private thread: Worker | undefined;
  private nextId = 1;
  private readonly workers = new Map<number, Entry>();
  private closed = false;
  /** Terminations being awaited: the thread is ref'd meanwhile, or an awaited close() could stall. */
  private awaited = 0;

  /** Starts the thread at once, so it warms up while the caller prepares the first worker. */
  constructor(private readonly hardLimitMs: number) {
    this.thread = this.startThread();
  }

  /** Asks for a Lua worker; `setup.callPort` and `setup.replyPort` are transferred to it. */
  spawn(setup: WorkerSetup): SupervisedWorker {
    if (this.closed) throw new Error('the Lua supervisor is closed');
    const id = this.nextId++;
    let settle!: () => void;
    const gone = new Promise<void>((resolve) => (settle = resolve));
    const handle: SupervisedWorker = { id, gone, onEnd: undefined };
    this.workers.set(id, { handle, settle });
    this.post({ type: 'spawn', id, setup, hardLimitMs: this.hardLimitMs }, [setup.callPort, setup.replyPort]);
    return handle;
  }

  /** Terminates a worker; resolves once it is gone (at once if it already is). */
  terminate(worker: SupervisedWorker): Promise<void> {
    if (!this.workers.has(worker.id) || !this.thread) return worker.gone;
    this.thread.postMessage({ type: 'terminate', id: worker.id } satisfies HostToSupervisor);
    if (this.awaited++ === 0) this.thread.ref();
    return worker.gone.then(() => {
      if (--this.awaited === 0) this.thread?.unref();
    });
  }

  /** Terminates the thread, and every Lua worker with it. */
  async close(): Promise<void> {
    this.closed = true;
    this.thread?.ref();
    await this.thread?.terminate();
    this.thread = undefined;
    for (const entry of this.workers.values()) entry.settle();
    this.workers.clear();
  }

  private post(message: HostToSupervisor, transfer: readonly TransferListItem[]): void {
    this.thread ??= this.startThread();
    this.thread.postMessage(message, transfer);
  }

  private startThread(): Worker {
    // Its own stdio is not captured (it prints nothing but Node's warnings): a captured stdio stream
    // would hold the process open even unref'd. The Lua workers' stdio is swallowed in the thread.
    const thread = new Worker(new URL('./supervisor.js', import.meta.url));
    thread.on('message', (message: SupervisorToHost) => this.onReport(message));
    thread.on('error', (error) => this.onThreadEnd(thread, `the Lua supervisor thread failed: ${error.message}`));
    thread.on('exit', (code) => this.onThreadEnd(thread, `the Lua supervisor thread exited (code ${code})`));
    thread.unref(); // last: adding a 'message' listener refs the thread again
    return thread;
  }

  private onReport(message: SupervisorToHost): void {
    const entry = this.workers.get(message.id);
    if (!entry) return;
    this.workers.delete(message.id);
    entry.settle();
    if (message.type === 'hardStop') {
      const { seq, afterLimitMs, terminateMs } = message;
      entry.handle.onEnd?.hardStop({ seq, afterLimitMs, terminateMs });
    } else if (message.type === 'died') {
      entry.handle.onEnd?.died(message.reason);
    }
  }

  private onThreadEnd(thread: Worker, reason: string): void {
    if (this.thread !== thread) return;
    this.thread = undefined;
    const orphans = [...this.workers.values()];
    this.workers.clear();
    for (const entry of orphans) {
      entry.settle();
      if (!this.closed) entry.handle.onEnd?.died(reason);
    }
  }
}
