/**
 * Watches the group commit from outside: wraps `store.commit` and `store.claim` on one store
 * instance (src/ is not touched) to count transactions, what they carried, and the time spent in
 * them, and to note when each action was claimed (its OnStart status change). With SQLite's local
 * claims the start is written by a later commit: the claim's moment is the earlier one, so the
 * latency measured from it is the longer.
 */
import type { Store } from '../../src/store/store.js';
import { now } from './summary.js';

export interface CommitStats {
  readonly commits: number;
  /** Commits that carried at least one enqueue. */
  readonly enqueueCommits: number;
  readonly enqueues: number;
  readonly claims: number;
  readonly settlements: number;
  /** Wall time inside store.commit, ms. */
  readonly busyMs: number;
}

/** Where the probe notes claim times: a Map, or a bench's own per-action record (events.ts). */
export interface ClaimTimes {
  get(token: string): number | undefined;
  has(token: string): boolean;
  set(token: string, at: number): unknown;
  clear(): void;
}

export class CommitProbe {
  private stats = { commits: 0, enqueueCommits: 0, enqueues: 0, claims: 0, settlements: 0, busyMs: 0 };

  /** `claimedAt`: token → when the transaction that claimed it (or wrote its start) began (epoch ms). */
  constructor(
    store: Store,
    readonly claimedAt: ClaimTimes = new Map<string, number>(),
  ) {
    const commit = store.commit.bind(store);
    const claim = store.claim.bind(store);
    // A claim's status change is the transaction that writes it: on PostgreSQL the claim's own
    // (over when claim() resolves), on SQLite the next group commit's (its starts are written
    // behind), stamped when that commit begins, as the old probe did.
    const unstamped: string[] = [];
    const ownTransaction = store.capabilities.shared;
    store.claim = (queue, max, node, at) =>
      claim(queue, max, node, at).then((records) => {
        this.stats.claims += records.length;
        if (ownTransaction) {
          const t = now();
          for (const r of records) if (!this.claimedAt.has(r.token)) this.claimedAt.set(r.token, t);
        } else {
          for (const r of records) unstamped.push(r.token);
        }
        return records;
      });
    const stampAll = (t: number) => {
      for (const token of unstamped.splice(0)) if (!this.claimedAt.has(token)) this.claimedAt.set(token, t);
    };
    store.commit = async (batch) => {
      const t = now();
      stampAll(t);
      const result = await commit(batch);
      const s = this.stats;
      s.busyMs += now() - t;
      s.commits++;
      s.enqueues += batch.enqueues.length;
      if (batch.enqueues.length > 0) s.enqueueCommits++;
      s.settlements += batch.settlements.length;
      return result;
    };
  }

  /** Start counting afresh (after a warm-up). */
  reset(): void {
    this.claimedAt.clear();
    this.stats = { commits: 0, enqueueCommits: 0, enqueues: 0, claims: 0, settlements: 0, busyMs: 0 };
  }

  snapshot(): CommitStats {
    return { ...this.stats };
  }
}

/** "1,252 commits: 8.0 claims + 8.0 settlements, 504 µs each; 10,000 enqueues in 1 commit(s); 61% of wall time in commit" */
export function describeCommits(s: CommitStats, elapsedMs: number): string {
  const each = (n: number) => (s.commits > 0 ? (n / s.commits).toFixed(1) : '-');
  const us = s.commits > 0 ? ((s.busyMs / s.commits) * 1000).toFixed(0) : '-';
  return (
    `${s.commits.toLocaleString('en-US')} commits: ${each(s.claims)} claims + ${each(s.settlements)} settlements, ${us} µs each; ` +
    `${s.enqueues.toLocaleString('en-US')} enqueues in ${s.enqueueCommits.toLocaleString('en-US')} commit(s); ${((s.busyMs / elapsedMs) * 100).toFixed(0)}% of wall time in commit`
  );
}
