/**
 * The sessions directory: one SQLite file per session, `<id>.db`, ids
 * sortable by start time. Opening a session that says `running` while no
 * process holds its writer lock marks it `interrupted` (it stays readable).
 */
import type Database from 'better-sqlite3';
import { lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { DEFAULT_DURABILITY, SessionFileError, settleJournal, createSessionDb, openReadOnly, openReadWrite, type DurabilityOptions } from './db.js';
import { WriterLock, databaseInUse } from './lock.js';
import { isSessionId } from './session-id.js';
import { SessionReader, type SessionRow } from './reader.js';
import { DEFAULT_LIMITS, SessionWriter, freeBytes, type WriterLimits } from './writer.js';

export interface StoreOptions extends DurabilityOptions {
  limits: WriterLimits;
  /** Free-space probe (tests inject one). */
  freeBytes: (path: string) => number;
}

export interface NewSession {
  id?: string;
  plan: string;
  planVersion?: string;
  params: Record<string, unknown>;
  config: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  softwareVersion: string;
  pipeline?: string;
  pipelineVersion?: string;
  tfBackend?: string;
  modelHashes?: Record<string, string>;
  instruments: Record<string, string>;
  clock: string;
  source?: { replayOf?: string; importedFrom?: string };
  startedAt?: Date;
}

export interface SessionSummary {
  id: string;
  path: string;
  plan: string;
  status: SessionRow['status'] | 'unreadable';
  startedAt?: string;
  endedAt?: string | null;
  reason?: string | null;
  frames?: number;
  results?: number;
  source?: SessionRow['source'];
}

/** Sortable, unique: `20261122T031500123Z-3fa9c2`. */
export function newSessionId(at: Date = new Date()): string {
  return `${at.toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
}

export { SESSION_ID_PATTERN, isSessionId } from './session-id.js';

/** The sessions folder itself is missing, not a folder, or unreadable (an error, never "no sessions"). */
export class SessionsDirError extends Error {
  override readonly name = 'SessionsDirError';
  readonly code = 'SESSIONS_DIR';
}

export class SessionStore {
  readonly dir: string;
  readonly options: StoreOptions;

  constructor(dir: string, options: Partial<StoreOptions> = {}) {
    this.dir = resolve(dir);
    this.options = { ...DEFAULT_DURABILITY, limits: DEFAULT_LIMITS, freeBytes, ...options };
  }

  pathOf(id: string): string {
    if (!isSessionId(id)) throw new RangeError(`session id: ${JSON.stringify(String(id).slice(0, 140))} is not a session id (letters, digits, '.', '_', '-'; no path, no '.db')`);
    return join(this.dir, `${id}.db`);
  }

  /** A session id in this directory, `latest` (the newest one here), or a path to a `.db` file anywhere. */
  resolve(idOrPath: string): string {
    if (idOrPath.endsWith('.db') || idOrPath.includes('/')) return resolve(idOrPath);
    if (idOrPath === 'latest') {
      let names: string[] = [];
      try {
        names = readdirSync(this.dir).filter((n) => n.endsWith('.db') && isSessionId(n.slice(0, -3))).sort();
      } catch {
        // no directory: no sessions
      }
      if (names.length === 0) throw new RangeError(`session id: 'latest', but there are no sessions in ${this.dir}`);
      return join(this.dir, names.at(-1)!);
    }
    return this.pathOf(idOrPath);
  }

  /** Checks there is room to start a session; throws with the numbers otherwise. */
  checkFreeSpace(): void {
    mkdirSync(this.dir, { recursive: true });
    const free = this.options.freeBytes(this.dir);
    if (free < this.options.limits.minFreeBytes) {
      throw new Error(`disk: ${(free / 2 ** 20).toFixed(0)} MiB free under ${this.dir}, below the ${(this.options.limits.minFreeBytes / 2 ** 20).toFixed(0)} MiB minimum; not starting`);
    }
  }

  /** Creates a session file, takes its writer lock and writes the session row (status `running`). */
  create(s: NewSession, path?: string): { id: string; writer: SessionWriter } {
    this.checkFreeSpace();
    const id = s.id ?? newSessionId(s.startedAt);
    const file = path ?? this.pathOf(id);
    // Serialised before the file exists: a value JSON cannot hold (BigInt, a cycle) leaves no half-made session behind.
    const json = (what: string, v: unknown): string => {
      try {
        return JSON.stringify(v);
      } catch (err) {
        throw new TypeError(`session ${what}: not JSON-serialisable: ${(err as Error).message}`);
      }
    };
    const row = [
      id,
      s.plan,
      s.planVersion ?? null,
      json('params', s.params),
      json('config', s.config),
      json('metadata', s.metadata ?? {}),
      s.softwareVersion,
      s.pipeline ?? null,
      s.pipelineVersion ?? null,
      s.tfBackend ?? null,
      s.modelHashes ? json('modelHashes', s.modelHashes) : null,
      json('instruments', s.instruments),
      s.clock,
      s.source ? json('source', s.source) : null,
      (s.startedAt ?? new Date()).toISOString(),
    ];
    const lock = WriterLock.acquire(file);
    let db: Database.Database | undefined;
    try {
      db = createSessionDb(file, this.options);
      db.prepare(
        `INSERT INTO session (id, plan, plan_version, params, config, metadata, software_version, pipeline, pipeline_version,
          tf_backend, model_hashes, instruments, clock, source, started_at, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running')`,
      ).run(...row);
      return { id, writer: new SessionWriter(db, file, lock, this.options, this.options.limits, this.options.freeBytes) };
    } catch (err) {
      db?.close();
      lock.release();
      throw err;
    }
  }

  /**
   * Opens a session of this folder by id only (what the network may ask for): the id must have the issued
   * form and the file must be a regular file inside the folder (a symlink is refused, wherever it points).
   */
  openId(id: string, opts: { verify?: boolean } = {}): SessionReader {
    const path = this.pathOf(id);
    let isLink = false;
    try {
      isLink = lstatSync(path).isSymbolicLink();
    } catch {
      // missing: openReadOnly says so
    }
    if (isLink) throw new SessionFileError(path, 'not a regular file (a symbolic link in the sessions folder is not followed)');
    return this.openPath(path, opts);
  }

  /**
   * Opens a session for reading, by id or (command line only) by path. A `running` session with no live writer is
   * first marked `interrupted`. `verify` runs a quick_check (replay, import).
   */
  open(idOrPath: string, opts: { verify?: boolean } = {}): SessionReader {
    return this.openPath(this.resolve(idOrPath), opts);
  }

  private openPath(path: string, opts: { verify?: boolean }): SessionReader {
    const db = openReadOnly(path, opts);
    const reader = new SessionReader(db, path);
    let row: SessionRow;
    try {
      row = reader.session();
    } catch (err) {
      reader.close();
      throw err;
    }
    if (row.status !== 'running') return reader;
    reader.close();
    if (writerAlive(path)) return new SessionReader(openReadOnly(path), path);
    try {
      markInterrupted(path, this.options);
    } catch (err) {
      // A folder (or medium) we may read but not write: report the session as interrupted without marking it.
      if (!isReadOnlyError(err)) throw err;
      return new SessionReader(openReadOnly(path), path, `${INTERRUPTED_REASON}; not marked in the file: ${describeReadOnly(err)}`);
    }
    return new SessionReader(openReadOnly(path), path);
  }

  /** The session files of the folder, sorted; a missing or unreadable folder is an error, never "no sessions". */
  private sessionFiles(): string[] {
    try {
      return readdirSync(this.dir).filter((n) => n.endsWith('.db')).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EMFILE' || code === 'ENFILE' ? 'out of file descriptors' : (code ?? (err as Error).message);
      throw new SessionsDirError(`sessions folder ${this.dir}: cannot list (${why})`, { cause: err });
    }
  }

  private summary(name: string): SessionSummary {
    const path = join(this.dir, name);
    try {
      const r = this.open(path);
      try {
        const s = r.session();
        return {
          id: s.id,
          path,
          plan: s.plan,
          status: s.status,
          startedAt: s.startedAt,
          endedAt: s.endedAt,
          reason: s.reason,
          frames: r.count('frames'),
          results: r.count('results'),
          source: s.source,
        };
      } finally {
        r.close();
      }
    } catch (err) {
      // Running out of descriptors is the process's problem, not the file's: an error, not "unreadable".
      if (/EMFILE|ENFILE|too many open files/i.test(`${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`)) {
        throw new SessionsDirError(`sessions folder ${this.dir}: out of file descriptors while reading ${name}`, { cause: err });
      }
      return { id: basename(name, '.db'), path, plan: '?', status: 'unreadable' as const, reason: (err as Error).message };
    }
  }

  /** Every session in the directory, oldest first; unreadable files are listed as such. Throws SessionsDirError. */
  list(): SessionSummary[] {
    return this.sessionFiles().map((name) => this.summary(name));
  }

  /**
   * `list()` for the daemon: one session file per turn of the event loop, so a folder of thousands of
   * sessions never holds the loop for more than one file's open and counts.
   */
  async listAsync(): Promise<SessionSummary[]> {
    const out: SessionSummary[] = [];
    for (const name of this.sessionFiles()) {
      out.push(this.summary(name));
      await new Promise((r) => setImmediate(r));
    }
    return out;
  }
}

const INTERRUPTED_REASON = 'writer stopped without closing the session (crash, kill or power loss)';

/** A live writer: its lock is held, or (the lock file deleted or never seen) a connection holds the database itself. */
function writerAlive(path: string): boolean {
  return WriterLock.isHeld(path) || databaseInUse(path);
}

function isReadOnlyError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  return /readonly|read-only|EROFS|EACCES|EPERM|unable to open/i.test(`${e?.code ?? ''} ${e?.cause?.code ?? ''} ${e?.message ?? ''}`);
}

function describeReadOnly(err: unknown): string {
  return /EROFS|read-only file system/i.test(String((err as Error)?.message)) ? 'read-only file system' : 'sessions folder not writable';
}

function markInterrupted(path: string, d: DurabilityOptions): void {
  const db = openReadWrite(path, d);
  try {
    const last = db.prepare('SELECT MAX(t) AS t FROM (SELECT MAX(t) AS t FROM frames UNION ALL SELECT MAX(t) FROM results UNION ALL SELECT MAX(t) FROM events)').get() as { t: number | null };
    db.prepare(`UPDATE session SET status = 'interrupted', reason = ?, duration_ns = ? WHERE status = 'running'`).run(
      INTERRUPTED_REASON,
      last.t ?? 0,
    );
    db.pragma('wal_checkpoint(TRUNCATE)');
    settleJournal(db);
  } catch (err) {
    throw err instanceof SessionFileError ? err : new SessionFileError(path, `marking interrupted: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}
