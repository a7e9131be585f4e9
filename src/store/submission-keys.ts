/**
 * Idempotency keys within one commit batch, for both stores (store.ts `NewAction.idempotencyKey`).
 *
 * A batch may carry the same (queue, key) twice: a client retried before its first submission was
 * answered, or many clients raced with one key. The first enqueue of the pair in batch order is the
 * one stored (if the queue has room); every later one answers that action. Keys already stored are
 * the store's to find (its own lookup, inside the batch's transaction); this class only remembers
 * what the batch itself has taken.
 */
import type { ActionRecord } from '../queue/record.js';
import type { NewAction } from './store.js';

/** One string per (queue, key) pair; NUL cannot occur in a queue name. */
export const keySlot = (queue: string, key: string): string => `${queue}\u0000${key}`;

export class BatchKeys {
  private readonly taken = new Map<string, ActionRecord>();

  /** The action this batch already stored with the enqueue's key, if any. */
  takenBy(action: NewAction): ActionRecord | undefined {
    if (action.idempotencyKey === undefined || this.taken.size === 0) return undefined;
    return this.taken.get(keySlot(action.queue, action.idempotencyKey));
  }

  /** Remember that `record` (stored by this batch) holds the enqueue's key. */
  take(action: NewAction, record: ActionRecord): void {
    if (action.idempotencyKey !== undefined) this.taken.set(keySlot(action.queue, action.idempotencyKey), record);
  }
}
