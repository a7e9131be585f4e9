/**
 * Where a scenario's PostgreSQL sessions spend their time, sampled from outside: every INTERVAL_MS
 * one `pg_stat_activity` read of the sessions on the scenario's database, each tallied by state
 * and wait event (`active: Lock/transactionid`, `active: IO/WALSync`, `active: (cpu)`, `idle in
 * transaction: Client/ClientRead`, ...). No server extension needed (pg_stat_statements must be
 * preloaded, which a shared server may not be). The reads cost the box a little CPU: bench/cluster.ts
 * takes samples only when asked (PG_WAITS=1).
 */
import pg from 'pg';
import { BENCH_PG_URL } from './pg-database.js';

const INTERVAL_MS = 5;

export interface WaitShare {
  readonly what: string;
  /** Share of all session samples, 0..1. */
  readonly share: number;
  /** Sessions in that state on average. */
  readonly sessions: number;
}

export class PgWaitSampler {
  private readonly client = new pg.Client({ connectionString: BENCH_PG_URL });
  private readonly counts = new Map<string, number>();
  private samples = 0;
  private sessionSamples = 0;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly database: string) {}

  async start(): Promise<void> {
    await this.client.connect();
    this.running = true;
    this.loop = this.sample();
  }

  private async sample(): Promise<void> {
    while (this.running) {
      const { rows } = await this.client.query<{ state: string | null; type: string | null; event: string | null }>(
        'SELECT state, wait_event_type AS type, wait_event AS event FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [this.database],
      );
      this.samples++;
      for (const r of rows) {
        // LISTEN sessions sit idle: leave them out of the shares.
        if (r.state === 'idle') continue;
        const what = `${r.state ?? '?'}: ${r.type ? `${r.type}/${r.event}` : '(cpu)'}`;
        this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
        this.sessionSamples++;
      }
      await new Promise((r) => setTimeout(r, INTERVAL_MS));
    }
  }

  /** The top `n` states, most frequent first. */
  async stop(n = 8): Promise<WaitShare[]> {
    this.running = false;
    await this.loop;
    await this.client.end();
    return [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([what, count]) => ({ what, share: count / Math.max(1, this.sessionSamples), sessions: count / Math.max(1, this.samples) }));
  }
}
