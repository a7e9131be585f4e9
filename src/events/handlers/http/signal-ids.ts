/**
 * Numbers the abort signals of pending deliveries, so an abort can be forwarded to the delivery
 * thread by number (an AbortSignal cannot cross threads).
 *
 * One number and one listener per distinct signal, not per delivery: the engine passes its one
 * server-wide signal to every delivery, so at thousands of deliveries per second a listener each
 * would be thousands of add/remove calls on the main thread for an abort that comes once, at stop.
 * A signal's number is released when no pending delivery uses it; the same signal seen again later
 * gets a new number, so a number is never reused while the thread may still hold it.
 */

const NONE: readonly number[] = Object.freeze([]);

interface Entry {
  readonly id: number;
  users: number;
  readonly onAbort: () => void;
}

export class SignalIds {
  private readonly entries = new Map<AbortSignal, Entry>();
  private released: number[] = [];
  private next = 1;

  /** `aborted(id, reason)` runs once when a signal with pending deliveries aborts. */
  constructor(private readonly aborted: (id: number, reason: unknown) => void) {}

  /** The signal's number, counting one more pending delivery on it. `signal` must not be aborted yet. */
  acquire(signal: AbortSignal): number {
    const entry = this.entries.get(signal);
    if (entry) {
      entry.users++;
      return entry.id;
    }
    const id = this.next;
    this.next = this.next >= 0x7fffffff ? 1 : this.next + 1;
    const onAbort = () => this.aborted(id, signal.reason);
    this.entries.set(signal, { id, users: 1, onAbort });
    signal.addEventListener('abort', onAbort, { once: true });
    return id;
  }

  /** One delivery on `signal` settled; the last one stops listening and releases the number. */
  release(signal: AbortSignal): void {
    const entry = this.entries.get(signal);
    if (!entry || --entry.users > 0) return;
    this.entries.delete(signal);
    signal.removeEventListener('abort', entry.onAbort);
    this.released.push(entry.id);
  }

  /** Numbers released since the last call: the thread can forget them. */
  takeReleased(): readonly number[] {
    if (this.released.length === 0) return NONE;
    const out = this.released;
    this.released = [];
    return out;
  }
}
