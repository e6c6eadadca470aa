/**
 * Process locks held for a process's life: a SQLite file on which the holder
 * keeps an EXCLUSIVE transaction open. The operating system drops the lock
 * when that process dies, even by SIGKILL, so "lock free" means "no live
 * holder" — without trusting pids. The holder also writes who it is (pid,
 * command line, since) to a `<lock>.holder.json` sidecar, only to *name* the
 * holder in a refusal; the SQLite lock alone decides.
 *
 * Two users: the writer lock of a session (`<session>.db.lock`; a session
 * still `running` whose lock is free was interrupted — unless a connection
 * still holds the session database itself (`databaseInUse`): the lock file
 * may have been deleted under a live writer) and the rig lock
 * (daemon/rig-lock.ts: one daemon or `qscope run` per rig and per instrument
 * address).
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

export function lockPathOf(dbPath: string): string {
  return `${dbPath}.lock`;
}

/** Who holds a lock, as written by the holder. */
export interface LockHolder {
  pid: number;
  command: string;
  since: string;
}

/** Thrown when a live process holds the lock; `holder` when it could be read. */
export class LockHeldError extends Error {
  readonly code = 'LOCK_HELD';
  constructor(
    message: string,
    readonly holder?: LockHolder,
  ) {
    super(message);
    this.name = 'LockHeldError';
  }
}

function holderPathOf(lockPath: string): string {
  return `${lockPath}.holder.json`;
}

/** "pid 123 (qscope daemon --config x.yaml, since 2026-…)" or "another process" when unknown. */
export function describeHolder(holder: LockHolder | undefined): string {
  if (!holder) return 'another process';
  return `pid ${holder.pid} (${holder.command}, since ${holder.since})`;
}

export class ProcessLock {
  protected constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {}

  /**
   * Takes the lock file `path`; throws a LockHeldError whose message starts with
   * `what` and names the holder if another live connection holds it.
   */
  static acquireFile(path: string, what: string): ProcessLock {
    const db = new Database(path);
    try {
      db.pragma('busy_timeout = 0');
      db.pragma('journal_mode = DELETE');
      db.exec('CREATE TABLE IF NOT EXISTS writer (pid INTEGER)');
      db.exec('BEGIN EXCLUSIVE');
      db.prepare('DELETE FROM writer').run();
      db.prepare('INSERT INTO writer (pid) VALUES (?)').run(process.pid);
    } catch (err) {
      db.close();
      const holder = ProcessLock.holderOf(path);
      throw new LockHeldError(`${what} is held by ${describeHolder(holder)} (${(err as Error).message})`, holder);
    }
    const holder: LockHolder = { pid: process.pid, command: process.argv.slice(1).join(' ') || 'node', since: new Date().toISOString() };
    try {
      writeFileSync(holderPathOf(path), `${JSON.stringify(holder)}\n`);
    } catch {
      // naming the holder is a courtesy; the lock itself is held
    }
    return new ProcessLock(db, path);
  }

  /** The holder as it described itself, if readable. */
  static holderOf(path: string): LockHolder | undefined {
    try {
      const h = JSON.parse(readFileSync(holderPathOf(path), 'utf8')) as LockHolder;
      return typeof h.pid === 'number' ? h : undefined;
    } catch {
      return undefined;
    }
  }

  /** True while some live connection (this process or another) holds the lock file `path`. */
  static isHeldFile(path: string): boolean {
    if (!existsSync(path)) return false;
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { fileMustExist: true });
      db.pragma('busy_timeout = 0');
      db.exec('BEGIN EXCLUSIVE');
      db.exec('ROLLBACK');
      return false;
    } catch (err) {
      return /busy|locked/i.test((err as Error).message);
    } finally {
      db?.close();
    }
  }

  release(removeFile = true): void {
    if (!this.db.open) return;
    try {
      this.db.exec('ROLLBACK');
    } catch {
      // already rolled back
    }
    this.db.close();
    rmSync(holderPathOf(this.path), { force: true });
    if (removeFile) rmSync(this.path, { force: true });
  }
}

/** The writer lock of a session: `<session>.db.lock`. */
export class WriterLock extends ProcessLock {
  /** Takes the lock; throws if another live writer holds it. */
  static acquire(dbPath: string): WriterLock {
    try {
      return ProcessLock.acquireFile(lockPathOf(dbPath), dbPath);
    } catch (err) {
      if (!(err instanceof LockHeldError)) throw err;
      throw new LockHeldError(`${dbPath}: another process is recording this session (${err.message})`, err.holder);
    }
  }

  /** True while some live connection (this process or another) holds the lock of `dbPath`. */
  static isHeld(dbPath: string): boolean {
    return ProcessLock.isHeldFile(lockPathOf(dbPath));
  }
}

/**
 * True while another connection has the session database open (in WAL mode every connection holds a
 * shared lock on it for as long as it is open; an exclusive-locking probe then fails with "locked").
 * False when the file cannot be opened for writing at all (read-only media): nobody is writing there.
 */
export function databaseInUse(dbPath: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(dbPath, { fileMustExist: true });
  } catch {
    return false;
  }
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
    db.exec('COMMIT');
    return false;
  } catch (err) {
    return /busy|locked/i.test((err as Error).message);
  } finally {
    db.close();
  }
}
