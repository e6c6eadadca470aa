/**
 * The session database schema, versioned with `PRAGMA user_version` and
 * migrated forward on open. `application_id` marks a file as a qscope session
 * so a foreign SQLite file is refused before anything is read or written.
 */
/** 'qscp' */
export const APPLICATION_ID = 0x71736370;

/** Migration i (0-based) takes the schema from version i to i + 1. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE session (
    id               TEXT PRIMARY KEY,
    plan             TEXT NOT NULL,
    plan_version     TEXT,
    params           TEXT NOT NULL,           -- JSON, validated and coerced
    config           TEXT NOT NULL,           -- JSON, the full resolved rig config
    metadata         TEXT NOT NULL,           -- JSON {sample, operator, notes}
    software_version TEXT NOT NULL,
    pipeline         TEXT,
    pipeline_version TEXT,
    tf_backend       TEXT,
    model_hashes     TEXT,                    -- JSON {model: sha256}
    instruments      TEXT NOT NULL,           -- JSON {role: instrument id}
    clock            TEXT NOT NULL,
    source           TEXT,                    -- JSON {replayOf | importedFrom}
    started_at       TEXT NOT NULL,           -- UTC ISO-8601
    ended_at         TEXT,
    duration_ns      INTEGER,
    status           TEXT NOT NULL CHECK (status IN ('running','completed','aborted','failed','interrupted')),
    reason           TEXT
  );
  CREATE TABLE streams (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE,
    kind  TEXT NOT NULL CHECK (kind IN ('instrument','result')),
    dtype TEXT NOT NULL,
    shape TEXT NOT NULL,                      -- JSON, of the first frame
    unit  TEXT
  );
  CREATE TABLE frames (
    id        INTEGER PRIMARY KEY,            -- recording order
    stream_id INTEGER NOT NULL REFERENCES streams(id),
    seq       INTEGER NOT NULL,
    t         INTEGER NOT NULL,               -- ns since session start
    header    TEXT NOT NULL,                  -- JSON header without stream/seq/t
    payload   BLOB NOT NULL,                  -- raw typed array, little-endian
    UNIQUE (stream_id, seq)
  );
  CREATE TABLE results (
    id        INTEGER PRIMARY KEY,
    stream_id INTEGER NOT NULL REFERENCES streams(id),
    seq       INTEGER NOT NULL,
    t         INTEGER NOT NULL,
    header    TEXT NOT NULL,
    payload   BLOB NOT NULL,
    UNIQUE (stream_id, seq)
  );
  CREATE TABLE events (
    id     INTEGER PRIMARY KEY,
    t      INTEGER NOT NULL,                  -- ns since session start
    type   TEXT NOT NULL,                     -- command | state | fault | pause | resume | suspend | decision | mismatch | mark | end ...
    source TEXT,                              -- instrument id, 'engine', 'plan', pipeline name
    data   TEXT                               -- JSON
  );
  CREATE INDEX events_type ON events(type, id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
