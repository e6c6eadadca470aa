/**
 * The writer lock of a session: a sidecar SQLite file `<session>.db.lock` on
 * which the recording process holds an EXCLUSIVE transaction for the whole
 * session. The operating system drops the lock when that process dies, even
 * by SIGKILL, so "lock free" means "no live writer" — without trusting pids.
 * A session still `running` whose lock is free was interrupted — unless a
 * connection still holds the session database itself (`databaseInUse`): the
 * lock file may have been deleted under a live writer.
 */
import Database from 'better-sqlite3';
import { existsSync, rmSync } from 'node:fs';

export function lockPathOf(dbPath: string): string {
  return `${dbPath}.lock`;
}

export class WriterLock {
  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {}

  /** Takes the lock; throws if another live writer holds it. */
  static acquire(dbPath: string): WriterLock {
    const path = lockPathOf(dbPath);
    const db = new Database(path);
    try {
      db.pragma('busy_timeout = 0');
      db.pragma('journal_mode = DELETE');
      db.exec('CREATE TABLE IF NOT EXISTS writer (pid INTEGER)');
      db.exec('BEGIN EXCLUSIVE');
      db.prepare('DELETE FROM writer').run();
      db.prepare('INSERT INTO writer (pid) VALUES (?)').run(process.pid);
      return new WriterLock(db, path);
    } catch (err) {
      db.close();
      throw new Error(`${dbPath}: another process is recording this session (${(err as Error).message})`);
    }
  }

  /** True while some live connection (this process or another) holds the lock of `dbPath`. */
  static isHeld(dbPath: string): boolean {
    const path = lockPathOf(dbPath);
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
    if (removeFile) rmSync(this.path, { force: true });
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
