/**
 * The starts written behind (reservations.ts) and the settlements of a batch, as both group
 * commits write them (commit-batch.ts, fast-commit.ts): the batch split three ways, the three
 * UPDATEs as CTEs of one statement, and their parameters $1-$15.
 *
 * An action that started and ended within the batch is written once (`sb`: one row write instead
 * of two). Each row is in one part only, so the parts never see each other's changes (one snapshot
 * per statement). Fencing: a start applies only to a row still Queued and reserved by this node; a
 * settlement only to an action still running on this node in the same attempt.
 */
import type { ActionRecord } from '../../queue/record.js';
import type { CommitBatch, Settlement } from '../store.js';

/** A reserved action handed to a slot (reservations.ts), its start not yet written. */
export interface PendingStart {
  readonly record: ActionRecord;
}

export interface StartSettleParts {
  readonly startOnly: readonly PendingStart[];
  readonly settleOnly: readonly Settlement[];
  readonly both: readonly Settlement[];
}

const RUNNING = `(a.status = 'Processing' OR (a.status = 'Paused' AND a.started_at IS NOT NULL))`;

export function splitStartsAndSettlements(batch: CommitBatch, starts: readonly PendingStart[]): StartSettleParts {
  const settling = new Set(batch.settlements.map((x) => x.id));
  const starting = new Set(starts.map((s) => s.record.id));
  return {
    startOnly: starts.filter((s) => !settling.has(s.record.id)),
    settleOnly: batch.settlements.filter((x) => !starting.has(x.id)),
    both: batch.settlements.filter((x) => starting.has(x.id)),
  };
}

/**
 * `st`, `se` and `sb` (each RETURNING id and queue), for a WITH clause. `guard` is ANDed to every
 * WHERE: fast-commit.ts makes each wait for the queue rows it locks first.
 */
export function startSettleCtes(guard = ''): string {
  return `st AS (
            UPDATE actions a SET status = 'Processing', started_at = s.started_at, attempts = a.attempts + 1, stop_requested = false
              FROM unnest($2::bigint[], $3::bigint[]) AS s(id, started_at)
             WHERE a.id = s.id AND a.owner = $1 AND a.status = 'Queued'${guard}
            RETURNING a.id, a.queue),
          se AS (
            UPDATE actions a SET status = s.status, ended_at = s.ended_at, result = s.result, error = s.error, progress = NULL, stop_requested = false
              FROM unnest($4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::int[]) AS s(id, status, ended_at, result, error, attempts)
             WHERE a.id = s.id AND a.owner = $1 AND a.attempts = s.attempts AND ${RUNNING}${guard}
            RETURNING a.id, a.queue),
          sb AS (
            UPDATE actions a SET status = s.status, started_at = s.started_at, attempts = a.attempts + 1, ended_at = s.ended_at,
                                 result = s.result, error = s.error, progress = NULL, stop_requested = false
              FROM unnest($10::bigint[], $11::text[], $12::bigint[], $13::bigint[], $14::text[], $15::text[]) AS s(id, status, started_at, ended_at, result, error)
             WHERE a.id = s.id AND a.owner = $1 AND a.status = 'Queued'${guard}
            RETURNING a.id, a.queue)`;
}

/** $1-$15 of startSettleCtes. */
export function startSettleValues(batch: CommitBatch, { startOnly, settleOnly, both }: StartSettleParts): unknown[] {
  const json = (x: Settlement) => (x.result ? JSON.stringify(x.result) : null);
  return [
    batch.node,
    startOnly.map((s) => s.record.id),
    startOnly.map((s) => s.record.startedAt ?? batch.now),
    settleOnly.map((x) => x.id),
    settleOnly.map((x) => x.status),
    settleOnly.map((x) => x.endedAt),
    settleOnly.map(json),
    settleOnly.map((x) => x.error ?? null),
    settleOnly.map((x) => x.running.attempts),
    both.map((x) => x.id),
    both.map((x) => x.status),
    both.map((x) => x.running.startedAt ?? batch.now),
    both.map((x) => x.endedAt),
    both.map(json),
    both.map((x) => x.error ?? null),
  ];
}
