/**
 * Opening a session database: validation (is it a qscope session at all?),
 * pragmas set and read back on every open, migrations.
 *
 * better-sqlite3 + WAL pitfall (NOTES.md): only the connection that switches a
 * file to WAL reads `synchronous=FULL`; every later open falls back to NORMAL.
 * So both pragmas are set on every open and read back, and a mismatch throws.
 */
import Database from 'better-sqlite3';
import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export type Durability = 'normal' | 'full';

export interface DurabilityOptions {
  /** `normal`: WAL synced at checkpoints only; `full`: WAL synced at every commit. See decision 0502. */
  durability: Durability;
  /** With `normal`: checkpoint at least this often while recording (bounds the loss on power failure), ms. */
  checkpointIntervalMs: number;
}

export const DEFAULT_DURABILITY: DurabilityOptions = { durability: 'normal', checkpointIntervalMs: 1000 };

/** A file that is missing, not SQLite, not a qscope session, corrupt, or from a newer qscope. */
export class SessionFileError extends Error {
  override readonly name = 'SessionFileError';
  readonly code = 'SESSION_FILE';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${message}`, options);
  }
}

const SQLITE_MAGIC = 'SQLite format 3\0';

/**
 * Cheap checks before SQLite touches the file: exists, regular, SQLite header, whole pages.
 * Returns whether the file is in WAL mode (header bytes 18–19 = 2).
 */
export function checkSessionFile(path: string): { wal: boolean } {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new SessionFileError(path, 'not a regular file');
    size = st.size;
  } catch (err) {
    if (err instanceof SessionFileError) throw err;
    throw new SessionFileError(path, 'no such session file', { cause: err });
  }
  if (size < 100) throw new SessionFileError(path, `not a qscope session (${size} bytes is too short for an SQLite database)`);
  const head = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (head.toString('latin1', 0, 16) !== SQLITE_MAGIC) throw new SessionFileError(path, 'not a qscope session (not an SQLite database)');
  const pageSize = head.readUInt16BE(16) === 1 ? 65536 : head.readUInt16BE(16);
  const appId = head.readUInt32BE(68);
  if (appId !== APPLICATION_ID) throw new SessionFileError(path, `not a qscope session (SQLite application_id 0x${appId.toString(16)}, expected 0x${APPLICATION_ID.toString(16)})`);
  if (pageSize > 0 && size % pageSize !== 0) throw new SessionFileError(path, `truncated or corrupt: ${size} bytes is not a whole number of ${pageSize}-byte pages`);
  return { wal: head[18] === 2 && head[19] === 2 };
}

/**
 * Takes a finished session out of WAL mode (journal_mode DELETE): the file then stands alone, a reader never
 * needs to create `-wal`/`-shm` beside it (read-only media work, listing a folder leaves nothing behind).
 * Needs to be the only connection; when a reader is open at that moment the file simply stays in WAL mode.
 */
export function settleJournal(db: Database.Database): void {
  try {
    db.pragma('journal_mode = DELETE');
  } catch {
    // busy: another connection is reading; the file stays WAL (still correct, just not self-contained)
  }
}

function wrap<T>(path: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SessionFileError) throw err;
    const msg = (err as Error).message;
    throw new SessionFileError(path, `${what}: ${/malformed|not a database|corrupt/i.test(msg) ? 'corrupt database (' + msg + ')' : msg}`, { cause: err });
  }
}

/**
 * Opens an existing session read-only after validating it; `verify` runs `PRAGMA quick_check`.
 *
 * A session whose writer crashed is still in WAL mode, maybe with its last frames in `-wal`. SQLite reads such a
 * file read-only only through a `-shm` index it may create or that exists; on read-only media without one the
 * open fails. Then the file and its journal are read from a private copy in the temporary folder (removed on
 * close), so nothing is lost to the reader and nothing is written beside the session.
 */
export function openReadOnly(path: string, opts: { verify?: boolean } = {}): Database.Database {
  checkSessionFile(path);
  try {
    return openValidated(path, path, opts);
  } catch (err) {
    if (!(err instanceof SessionFileError) || !/unable to open|readonly|read-only/i.test(err.message) || !checkSessionFile(path).wal) throw err;
    return openPrivateCopy(path, opts);
  }
}

function openPrivateCopy(path: string, opts: { verify?: boolean }): Database.Database {
  const dir = mkdtempSync(join(tmpdir(), 'qscope-wal-'));
  try {
    const copy = join(dir, basename(path));
    copyFileSync(path, copy);
    if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
    // Replays the crashed writer's journal into the copy (a read-write open is what recovers a WAL).
    wrap(path, 'recover journal (private copy)', () => new Database(copy, { fileMustExist: true }).close());
    const db = openValidated(path, copy, opts);
    const close = db.close.bind(db);
    db.close = () => {
      try {
        return close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    return db;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Opens `file` (the session at `path`, or a private copy of it) read-only and checks its schema. */
function openValidated(path: string, file: string, opts: { verify?: boolean }): Database.Database {
  return wrap(path, 'open', () => {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) throw new SessionFileError(path, `written by a newer qscope (schema ${version}, this one reads ≤ ${SCHEMA_VERSION})`);
      if (version < 1) throw new SessionFileError(path, 'not a qscope session (no schema)');
      if (opts.verify) {
        const rows = db.pragma('quick_check') as { quick_check: string }[];
        if (rows.length !== 1 || rows[0]!.quick_check !== 'ok') throw new SessionFileError(path, `corrupt database: ${rows.slice(0, 3).map((r) => r.quick_check).join('; ')}`);
      }
      return db;
    } catch (err) {
      db.close();
      throw err;
    }
  });
}

/** Sets and reads back journal_mode=WAL and the chosen synchronous level; throws when either did not take. */
export function applyPragmas(db: Database.Database, path: string, d: DurabilityOptions): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (String(mode).toLowerCase() !== 'wal') throw new SessionFileError(path, `journal_mode: asked for wal, got ${String(mode)}`);
  const want = d.durability === 'full' ? 2 : 1;
  db.pragma(`synchronous = ${want}`);
  const got = db.pragma('synchronous', { simple: true });
  if (got !== want) throw new SessionFileError(path, `synchronous: asked for ${want}, read back ${String(got)}`);
  // Checkpoints are ours (a worker thread at a bounded interval, see writer); SQLite's own, which would run
  // inside a commit on the event loop, is only a backstop should that worker fall far behind.
  db.pragma('wal_autocheckpoint = 65536');
  db.pragma('foreign_keys = ON');
}

/** Creates a new session file (fails if it exists) with the current schema. */
export function createSessionDb(path: string, d: DurabilityOptions): Database.Database {
  const db = wrap(path, 'create', () => new Database(path));
  return prepareOrClose(db, () => {
    if ((db.pragma('user_version', { simple: true }) as number) !== 0) throw new SessionFileError(path, 'already exists');
    db.pragma(`application_id = ${APPLICATION_ID}`);
    applyPragmas(db, path, d);
    migrate(db, path);
  });
}

/** Opens an existing, validated session for writing (status updates), migrating it forward. */
export function openReadWrite(path: string, d: DurabilityOptions = DEFAULT_DURABILITY): Database.Database {
  openReadOnly(path).close();
  const db = wrap(path, 'open', () => new Database(path, { fileMustExist: true }));
  return prepareOrClose(db, () => {
    applyPragmas(db, path, d);
    migrate(db, path);
  });
}

/** Runs the set-up of a freshly opened handle; on failure closes it (no handle leaks) and rethrows. */
function prepareOrClose(db: Database.Database, setUp: () => void): Database.Database {
  try {
    setUp();
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) throw new SessionFileError(path, `written by a newer qscope (schema ${version})`);
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
