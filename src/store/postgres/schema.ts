/**
 * Numbered, append-only schema migrations of the PostgreSQL store, applied at start under one
 * advisory lock, so nodes that start together do not race (the second waits, then finds the
 * schema current). Never edit a landed migration; add the next number.
 *
 * Times are epoch ms (bigint) as in the SQLite store, except lease arithmetic, which uses the
 * database's clock (`NOW_MS`) so nodes with skewed clocks agree on who is alive.
 */
import type { PoolClient } from 'pg';

export const SCHEMA_LOCK_KEY = 0x746f6373; // 'tocs'
export const SCHEMA_VERSION_TABLE = 'tocsin_schema';

/** The database's clock in epoch ms (one clock for every node's leases). */
export const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

interface Migration {
  readonly version: number;
  readonly sql: string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE actions (
        id             bigserial PRIMARY KEY,
        token          text     NOT NULL UNIQUE,
        queue          text     NOT NULL,
        status         text     NOT NULL,
        priority       integer  NOT NULL DEFAULT 0,
        params         text     NOT NULL,          -- JSON [[name, value], ...]
        queued_at      bigint   NOT NULL,
        started_at     bigint,
        ended_at       bigint,
        attempts       integer  NOT NULL DEFAULT 0,
        result         text,                       -- JSON XElement[]
        error          text,
        reports        text,                       -- JSON ErrorReport[]
        progress       text,                       -- JSON ProgressInfo
        owner          text,                       -- the node running it (fencing: owner + attempts)
        stop_requested boolean  NOT NULL DEFAULT false
      );
      -- The claim order, over waiting rows only: a claim's cost does not grow with finished rows.
      CREATE INDEX actions_claim ON actions (queue, priority DESC, id) WHERE status = 'Queued';
      CREATE INDEX actions_queue_status ON actions (queue, status);
      CREATE INDEX actions_running ON actions (owner) WHERE status IN ('Processing', 'Paused');

      -- Cluster-wide queue state (decisions.md "Many machines"): the waiting count, the pause flag
      -- and the last queue event, changed under the row's lock by every transaction that moves them.
      CREATE TABLE queues (
        name       text    PRIMARY KEY,
        paused     boolean NOT NULL DEFAULT false,
        size       integer NOT NULL DEFAULT 0,
        last_event text    NOT NULL DEFAULT 'QueueEmpty'
      );

      -- seq is taken under the event append lock (append-events.ts), so seqs become visible in order.
      CREATE TABLE events (
        seq             bigserial PRIMARY KEY,
        event_id        text    NOT NULL,
        type            text    NOT NULL,
        handler         text    NOT NULL,
        queue           text    NOT NULL,
        token           text,
        document        text    NOT NULL,
        request         text    NOT NULL,
        state           text    NOT NULL DEFAULT 'pending',
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at bigint  NOT NULL,
        created_at      bigint  NOT NULL,
        delivered_at    bigint,
        last_error      text
      );
      CREATE INDEX events_pending ON events (handler, seq) WHERE state = 'pending';
      CREATE INDEX events_failed ON events (handler, seq) WHERE state = 'failed';
      CREATE INDEX events_token ON events (token);

      -- Node leases: a node silent past lease_until is dead. incarnation tells a restarted node
      -- (same name) from the one before it.
      CREATE TABLE nodes (
        name         text   PRIMARY KEY,
        incarnation  text   NOT NULL,
        heartbeat_at bigint NOT NULL,
        lease_until  bigint NOT NULL
      );

      -- One node delivers a handler's events at a time; generation changes with the holder.
      CREATE TABLE delivery_leases (
        handler     text   PRIMARY KEY,          -- lower-case section name
        node        text   NOT NULL,
        generation  bigint NOT NULL,
        lease_until bigint NOT NULL
      );
    `,
  },
  {
    // Claims by reservation (reservations.ts): a reserved row is still Queued but has an owner.
    // The claim order now covers unreserved rows only, so a claim does not step over the rows
    // other nodes hold; reservations are found by owner (release, a dead node's take-over).
    version: 2,
    sql: `
      DROP INDEX actions_claim;
      CREATE INDEX actions_claim ON actions (queue, priority DESC, id) WHERE status = 'Queued' AND owner IS NULL;
      CREATE INDEX actions_reserved ON actions (owner) WHERE status = 'Queued' AND owner IS NOT NULL;

      -- The queue-event state machine (events/queue-state.ts nextQueueEvent, idol-reference.md §3.3)
      -- over the n steps of a queue shrinking by n starts from size, for the one-statement commit
      -- (fast-commit.ts). Returns the events fired, in order. A rule of NULL max fires none. Starts
      -- only shrink a queue, so QueueFull and QueueFilling cannot fire unless the thresholds changed
      -- since the last step, and QueueEmptying only at emptying_at; anything else raises TQ001 and
      -- the commit is made again step by step (commit-batch.ts), where the planner decides.
      CREATE FUNCTION tocsin_drain(size int, n int, max int, filling float8, emptying float8, emptying_at int, last text)
        RETURNS text[] LANGUAGE plpgsql IMMUTABLE AS $fn$
      DECLARE
        fired text[] := '{}';
        s int;
        t text;
      BEGIN
        IF max IS NULL THEN RETURN fired; END IF;
        FOR k IN 1..n LOOP
          s := size - k;
          t := NULL;
          IF s >= max THEN
            IF last <> 'QueueFull' THEN t := 'QueueFull'; END IF;
          ELSIF s = 0 THEN
            IF last <> 'QueueEmpty' THEN t := 'QueueEmpty'; END IF;
          ELSIF s > filling * max AND last IN ('QueueEmpty', 'QueueEmptying') THEN
            t := 'QueueFilling';
          ELSIF s < emptying * max AND last IN ('QueueFull', 'QueueFilling') THEN
            t := 'QueueEmptying';
          END IF;
          IF t IS NOT NULL THEN
            IF t IN ('QueueFull', 'QueueFilling') OR (t = 'QueueEmptying' AND s <> emptying_at) THEN
              RAISE EXCEPTION 'tocsin_drain: % at size % is not a start''s event', t, s USING ERRCODE = 'TQ001';
            END IF;
            fired := fired || t;
            last := t;
          END IF;
        END LOOP;
        RETURN fired;
      END
      $fn$;
    `,
  },
  {
    // Idempotent submission (issue 18): one action per (queue, IdempotencyKey) while its row is
    // kept, for every node on the database; the purge of a finished action frees its key. Partial,
    // so submissions without a key pay nothing for the index.
    version: 3,
    sql: `
      ALTER TABLE actions ADD COLUMN idempotency_key text;
      CREATE UNIQUE INDEX actions_idempotency ON actions (queue, idempotency_key) WHERE idempotency_key IS NOT NULL;
    `,
  },
  {
    // The console with 100,000 actions stored (issue 17): no read of a page or of a queue's counts
    // may scan or sort the actions table.
    // - actions_queue_status becomes (queue, status, queued_at, id): the same lookups as before,
    //   and a page of one status newest first is a range of it (listing-filters.ts merges one
    //   range per status). Replaced, not added: a status change is not a HOT update (status is
    //   indexed), so it already writes an entry in every index; a new index would add one more.
    // - Counts per queue and status are appended as changes by statement triggers, in the
    //   transaction of the statement that inserts, re-statuses or deletes rows, whichever path
    //   that is; action-counts.ts folds the changes into action_counts. Appended, not added to one
    //   row per (queue, status): that row would be a lock every node's settlements queue on.
    version: 4,
    sql: `
      DROP INDEX actions_queue_status;
      CREATE INDEX actions_queue_status ON actions (queue, status, queued_at, id);

      CREATE TABLE action_counts (
        queue  text   NOT NULL,
        status text   NOT NULL,
        n      bigint NOT NULL,
        PRIMARY KEY (queue, status)
      );
      CREATE TABLE action_count_changes (
        queue  text   NOT NULL,
        status text   NOT NULL,
        delta  bigint NOT NULL
      );
      INSERT INTO action_counts (queue, status, n) SELECT queue, status, count(*) FROM actions GROUP BY queue, status;

      CREATE FUNCTION tocsin_count_actions() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO action_count_changes (queue, status, delta)
            SELECT queue, status, count(*) FROM new_rows GROUP BY queue, status;
        ELSIF TG_OP = 'DELETE' THEN
          INSERT INTO action_count_changes (queue, status, delta)
            SELECT queue, status, -count(*) FROM old_rows GROUP BY queue, status;
        ELSE
          -- Most updates change no status (reservations, progress, reports): they append nothing.
          INSERT INTO action_count_changes (queue, status, delta)
            SELECT queue, status, sum(d) FROM (
              SELECT queue, status, 1 AS d FROM new_rows UNION ALL SELECT queue, status, -1 FROM old_rows
            ) c GROUP BY queue, status HAVING sum(d) <> 0;
        END IF;
        RETURN NULL;
      END
      $fn$;
      CREATE TRIGGER action_counts_insert AFTER INSERT ON actions
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tocsin_count_actions();
      CREATE TRIGGER action_counts_update AFTER UPDATE ON actions
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tocsin_count_actions();
      CREATE TRIGGER action_counts_delete AFTER DELETE ON actions
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tocsin_count_actions();
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Apply every migration the database has not had (by version, not by the highest); returns the highest version found before. */
export async function migrate(client: PoolClient): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA_VERSION_TABLE} (version integer NOT NULL)`);
    const found = await client.query<{ version: number }>(`SELECT version FROM ${SCHEMA_VERSION_TABLE}`);
    const applied = new Set(found.rows.map((r) => r.version));
    const from = Math.max(0, ...applied);
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await client.query(m.sql);
      await client.query(`INSERT INTO ${SCHEMA_VERSION_TABLE} (version) VALUES ($1)`, [m.version]);
    }
    await client.query('COMMIT');
    return from;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
