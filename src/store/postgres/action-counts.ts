/**
 * Each queue's actions per status on PostgreSQL (schema.ts v4), read without touching the actions
 * table: `action_counts` holds the folded counts, `action_count_changes` the changes the statement
 * triggers appended since. A count is their sum, read in one statement (one snapshot), so a fold
 * committing meanwhile is seen whole or not at all.
 *
 * The fold moves the changes into action_counts in one statement: its DELETE takes only the
 * changes committed when it began, so a change still being written stays for the next fold.
 * Locking: one fold at a time in the cluster (a try-lock: a node that finds another folding skips),
 * so no two folds wait on each other's rows. Each node folds with its heartbeat (a third of
 * NodeLeaseTimeout), so the changes read with a count stay a few seconds' worth.
 */
import type { Read } from './read.js';

export const ACTION_COUNT_FOLD_LOCK = 0x746f636e; // 'tocn'

/** $1 queue → (status, n). */
export const ACTION_COUNTS_SQL = `SELECT status, sum(n)::int AS n FROM (
    SELECT status, n FROM action_counts WHERE queue = $1
    UNION ALL SELECT status, delta FROM action_count_changes WHERE queue = $1
  ) c GROUP BY status`;

/** No parameters; folds every committed change, unless another session is folding. */
const FOLD_SQL = `WITH fold AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(${ACTION_COUNT_FOLD_LOCK}) AS mine),
  moved AS (DELETE FROM action_count_changes WHERE (SELECT mine FROM fold) RETURNING queue, status, delta)
  INSERT INTO action_counts (queue, status, n) SELECT queue, status, sum(delta) FROM moved GROUP BY queue, status
  ON CONFLICT (queue, status) DO UPDATE SET n = action_counts.n + excluded.n`;

export async function foldActionCounts(read: Read): Promise<void> {
  await read('fold counts', FOLD_SQL);
}
