/**
 * WAL checkpoints off the event loop. A checkpoint copies the WAL into the
 * database and syncs it; on the recording connection it would block the
 * event loop for as long as that takes (the store benchmark saw >100 ms). A
 * worker thread with its own connection runs PASSIVE checkpoints instead
 * (allowed concurrently with the writer in WAL mode); it starts on the first
 * request, so short sessions never pay for it.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

// An eval'd CommonJS worker: works the same from TS sources (tests) and from dist/.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = ' + workerData.synchronous);
parentPort.on('message', (m) => {
  let result;
  try { result = db.pragma(m === 'final' ? 'wal_checkpoint(TRUNCATE)' : 'wal_checkpoint(PASSIVE)')[0]; } catch (err) { result = { error: String(err && err.message) }; }
  // The last connection takes the finished file out of WAL mode (db.ts settleJournal): it then stands alone.
  if (m === 'final') { try { db.pragma('journal_mode = DELETE'); } catch {} db.close(); process.exit(0); }
  parentPort.postMessage(result);
});
`;

const sqliteModule = createRequire(import.meta.url).resolve('better-sqlite3');

export class Checkpointer {
  private worker: Worker | undefined;
  private busy = false;
  /** Checkpoints completed (diagnostics). */
  done = 0;
  lastError: string | undefined;

  constructor(
    private readonly path: string,
    private readonly synchronous: 1 | 2,
  ) {}

  /** Asks for a checkpoint; ignored while one is running. */
  request(): void {
    if (this.busy) return;
    if (!this.worker) {
      this.worker = new Worker(WORKER_CODE, { eval: true, workerData: { path: this.path, sqlite: sqliteModule, synchronous: this.synchronous } });
      this.worker.unref();
      this.worker.on('message', (r: { error?: string }) => {
        this.busy = false;
        this.done++;
        if (r?.error) this.lastError = r.error;
      });
      this.worker.on('error', (err) => {
        this.busy = false;
        this.lastError = err.message;
        this.worker = undefined;
      });
    }
    this.busy = true;
    this.worker.postMessage('checkpoint');
  }

  /** True once the worker runs (its connection is open on the database). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /**
   * The session's last checkpoint, in the worker: it folds the WAL into the database and closes the worker's
   * connection — the last one, once the writer has closed its own — so the event loop never waits for it.
   * The worker keeps the process alive until it is done.
   */
  final(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return Promise.resolve();
    w.ref();
    return new Promise((resolve) => {
      w.once('exit', () => resolve());
      w.postMessage('final');
    });
  }
}
