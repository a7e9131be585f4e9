/**
 * Numbered, append-only schema migrations of the SQLite store. Never edit a landed migration;
 * add the next number.
 */
export interface Migration {
  readonly version: number;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE actions (
        id             INTEGER PRIMARY KEY,
        token          TEXT    NOT NULL UNIQUE,
        queue          TEXT    NOT NULL,
        status         TEXT    NOT NULL,
        priority       INTEGER NOT NULL DEFAULT 0,
        params         TEXT    NOT NULL,           -- JSON [[name, value], ...]
        queued_at      INTEGER NOT NULL,           -- epoch ms
        started_at     INTEGER,
        ended_at       INTEGER,
        attempts       INTEGER NOT NULL DEFAULT 0,
        result         TEXT,                       -- JSON XElement[]
        error          TEXT,
        reports        TEXT,                       -- JSON ErrorReport[]
        progress       TEXT,                       -- JSON ProgressInfo
        owner          TEXT,
        stop_requested INTEGER NOT NULL DEFAULT 0
      );
      -- The claim order: priority first, then arrival (decisions.md). Measured: a claim with this
      -- index stays O(log n); without it the scan grows with the queue (29k vs 3.3k claims/s).
      CREATE INDEX actions_claim ON actions (queue, status, priority DESC, id);
      -- No index on ended_at: it made each settlement ~40% dearer; purge walks actions_claim by status.

      CREATE TABLE queues (
        name       TEXT PRIMARY KEY,
        paused     INTEGER NOT NULL DEFAULT 0,
        last_event TEXT    NOT NULL DEFAULT 'QueueEmpty'
      );

      CREATE TABLE events (
        seq             INTEGER PRIMARY KEY,      -- delivery order
        event_id        TEXT    NOT NULL,         -- shared by the handlers of one event
        type            TEXT    NOT NULL,
        handler         TEXT    NOT NULL,
        queue           TEXT    NOT NULL,
        token           TEXT,
        document        TEXT    NOT NULL,
        request         TEXT    NOT NULL,
        state           TEXT    NOT NULL DEFAULT 'pending',   -- pending | delivered | failed
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        created_at      INTEGER NOT NULL,
        delivered_at    INTEGER,
        last_error      TEXT,
        lease_owner     TEXT,
        lease_until     INTEGER
      );
      -- Each handler reads its pending events in order from a cursor (events/engine). Partial
      -- indexes only: an event enters one when stored and leaves it when delivered, and is in no
      -- index afterwards. Measured: a unique index on the (random) event id cost more than the
      -- insert itself; lookups by id are rare admin queries (EventInfo Id=) and scan.
      CREATE INDEX events_pending ON events (handler, seq) WHERE state = 'pending';
      CREATE INDEX events_failed ON events (handler, seq) WHERE state = 'failed';
    `,
  },
  {
    // Documents in a table of their own, one per event however many handlers get it (session 3).
    // Marking an event delivered then rewrites a narrow row instead of one with its ~0.5 KB document,
    // so a group commit writes ~a quarter fewer WAL pages (bench/events.ts: +8-10 % actions/s).
    // A document's id is the seq of its event's first row, whose doc_id is NULL; the rows of the
    // other handlers of that event name it in doc_id (indexed, for the purge's orphan check).
    version: 2,
    sql: `
      CREATE TABLE event_documents (
        id       INTEGER PRIMARY KEY,        -- seq of the event's first row
        document TEXT    NOT NULL,
        request  TEXT    NOT NULL
      );
      INSERT INTO event_documents (id, document, request) SELECT seq, document, request FROM events;
      CREATE TABLE events_v2 (
        seq             INTEGER PRIMARY KEY,
        event_id        TEXT    NOT NULL,
        type            TEXT    NOT NULL,
        handler         TEXT    NOT NULL,
        queue           TEXT    NOT NULL,
        token           TEXT,
        doc_id          INTEGER,                  -- NULL: the document's id is this row's seq
        state           TEXT    NOT NULL DEFAULT 'pending',
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        created_at      INTEGER NOT NULL,
        delivered_at    INTEGER,
        last_error      TEXT,
        lease_owner     TEXT,
        lease_until     INTEGER
      );
      INSERT INTO events_v2 (seq, event_id, type, handler, queue, token, doc_id, state, attempts, next_attempt_at, created_at, delivered_at, last_error, lease_owner, lease_until)
        SELECT seq, event_id, type, handler, queue, token, NULL, state, attempts, next_attempt_at, created_at, delivered_at, last_error, lease_owner, lease_until FROM events;
      DROP TABLE events;
      ALTER TABLE events_v2 RENAME TO events;
      CREATE INDEX events_pending ON events (handler, seq) WHERE state = 'pending';
      CREATE INDEX events_failed ON events (handler, seq) WHERE state = 'failed';
      CREATE INDEX events_shared_document ON events (doc_id) WHERE doc_id IS NOT NULL;
    `,
  },
  {
    // EventInfo's counts without a scan of every event (session 5): the rows stored per handler,
    // kept by the commit that appends events and by the purge. Pending and failed rows are counted
    // on their partial indexes; delivered = stored - pending - failed (event-totals.ts).
    version: 3,
    sql: `
      CREATE TABLE event_totals (
        handler TEXT    PRIMARY KEY,
        stored  INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO event_totals (handler, stored) SELECT handler, COUNT(*) FROM events GROUP BY handler;
    `,
  },
  {
    // Idempotent submission (issue 18): a queue holds one action per IdempotencyKey while the
    // action's row is kept; the purge of a finished action frees its key. Partial, so submissions
    // without a key (NULL) pay nothing for the index.
    version: 4,
    sql: `
      ALTER TABLE actions ADD COLUMN idempotency_key TEXT;
      CREATE UNIQUE INDEX actions_idempotency ON actions (queue, idempotency_key) WHERE idempotency_key IS NOT NULL;
    `,
  },
  {
    // The console with 100,000 actions stored (issue 17): no read of a page, a queue's counts or an
    // action's events may scan or sort the actions or events table.
    // - actions_status_time: a page of a queue's actions of one status, newest first, by keyed
    //   seeks; pages over several statuses merge one such range per status (listing-filters.ts).
    // - action_counts: each queue's actions per status, kept by triggers in the transaction that
    //   inserts, re-statuses or deletes the row, so every path that changes a status (commit,
    //   local claims, control actions, recovery, purge, move-store) keeps it exact without knowing.
    // - events_token: an action's events in seq order (its detail view). Queue events have no token.
    version: 5,
    sql: `
      CREATE INDEX actions_status_time ON actions (queue, status, queued_at, id);
      CREATE TABLE action_counts (
        queue  TEXT    NOT NULL,
        status TEXT    NOT NULL,
        n      INTEGER NOT NULL,
        PRIMARY KEY (queue, status)
      ) WITHOUT ROWID;
      INSERT INTO action_counts (queue, status, n) SELECT queue, status, COUNT(*) FROM actions GROUP BY queue, status;
      CREATE TRIGGER action_counts_insert AFTER INSERT ON actions BEGIN
        INSERT INTO action_counts (queue, status, n) VALUES (new.queue, new.status, 1)
          ON CONFLICT (queue, status) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER action_counts_update AFTER UPDATE OF status ON actions WHEN old.status IS NOT new.status BEGIN
        UPDATE action_counts SET n = n - 1 WHERE queue = old.queue AND status = old.status;
        INSERT INTO action_counts (queue, status, n) VALUES (new.queue, new.status, 1)
          ON CONFLICT (queue, status) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER action_counts_delete AFTER DELETE ON actions BEGIN
        UPDATE action_counts SET n = n - 1 WHERE queue = old.queue AND status = old.status;
      END;
      CREATE INDEX events_token ON events (token, seq) WHERE token IS NOT NULL;
    `,
  },
];
