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
];
