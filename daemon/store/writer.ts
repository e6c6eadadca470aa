/**
 * Recording one session. The engine hands over frames, results and events
 * synchronously (`append`, `event`); they wait in a bounded queue and are
 * written in batched transactions on a later turn of the event loop, off the
 * acquisition's hot path. When the queue is full the engine awaits
 * `drained()` before its next step (back-pressure): nothing is ever dropped.
 * A frame counts as recorded once its transaction has committed
 * (`committed`, `onCommit`).
 */
import type Database from 'better-sqlite3';
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Frame } from '../../drivers/core/frame.js';
import { payloadBytes } from '../../drivers/core/frame.js';
import { settleJournal, type DurabilityOptions } from './db.js';
import type { WriterLock } from './lock.js';
import { Checkpointer } from './checkpointer.js';

export interface WriterLimits {
  /** Queue bound in payload bytes; above it `full` is true. */
  maxQueueBytes: number;
  /** Queue bound in items (frames + results + events). */
  maxQueueItems: number;
  /** Items per transaction. */
  batchItems: number;
  /** Free space the disk must keep; recording stops with a reason below it, bytes. */
  minFreeBytes: number;
  /** Check free space after this many bytes written. */
  diskCheckEveryBytes: number;
}

/** Longest wait of a partial batch before it is written (bounds the commit latency), ms of wall time. */
const FLUSH_DELAY_MS = 4;
/** Longest run of synchronous writes per event-loop turn, ms. */
const FLUSH_BUDGET_MS = 8;

export const DEFAULT_LIMITS: WriterLimits = {
  maxQueueBytes: 32 * 2 ** 20,
  maxQueueItems: 32_768,
  batchItems: 256,
  minFreeBytes: 256 * 2 ** 20,
  diskCheckEveryBytes: 32 * 2 ** 20,
};

/** Free bytes available to us on the file system holding `path`. */
export function freeBytes(path: string): number {
  const s = statfsSync(path);
  return Number(s.bavail) * Number(s.bsize);
}

export interface CommitInfo {
  /** Committed instrument frames so far. */
  frames: number;
  results: number;
  events: number;
}

type Item =
  | { k: 0 | 1; frame: Frame; kind: 'instrument' | 'result' } // 0 = frames table, 1 = results table
  | { k: 2; t: number; type: string; source: string | null; data: string | null };

export interface SessionEnd {
  status: 'completed' | 'aborted' | 'failed' | 'interrupted';
  reason?: string;
  durationNs: number;
}

export class SessionWriter {
  private queue: Item[] = [];
  private head = 0;
  private queuedBytes = 0;
  private flushScheduled: false | 'timer' | 'immediate' = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  private readonly streamIds = new Map<string, number>();
  private bytesSinceDiskCheck = 0;
  private lastCheckpoint = Date.now();
  private closed = false;
  private fatal: Error | undefined;
  readonly committed: CommitInfo = { frames: 0, results: 0, events: 0 };
  /** Called after each commit (crash test, status). */
  onCommit: ((c: CommitInfo) => void) | undefined;
  /** Called once when recording cannot go on (disk nearly full, write error). The engine ends the session. */
  onFatal: ((err: Error) => void) | undefined;

  private readonly insFrame: Database.Statement;
  private readonly insResult: Database.Statement;
  private readonly insEvent: Database.Statement;
  private readonly insStream: Database.Statement;
  private readonly writeBatch: (items: Item[]) => void;
  private readonly checkpointer: Checkpointer;

  constructor(
    private readonly db: Database.Database,
    readonly path: string,
    private readonly lock: WriterLock,
    private readonly durability: DurabilityOptions,
    readonly limits: WriterLimits = DEFAULT_LIMITS,
    private readonly free: (path: string) => number = freeBytes,
  ) {
    this.checkpointer = new Checkpointer(path, durability.durability === 'full' ? 2 : 1);
    this.insFrame = db.prepare('INSERT INTO frames (stream_id, seq, t, header, payload) VALUES (?, ?, ?, ?, ?)');
    this.insResult = db.prepare('INSERT INTO results (stream_id, seq, t, header, payload) VALUES (?, ?, ?, ?, ?)');
    this.insEvent = db.prepare('INSERT INTO events (t, type, source, data) VALUES (?, ?, ?, ?)');
    this.insStream = db.prepare('INSERT INTO streams (id, name, kind, dtype, shape, unit) VALUES (?, ?, ?, ?, ?, ?)');
    this.writeBatch = db.transaction((items: Item[]) => {
      for (const it of items) {
        if (it.k === 2) {
          this.insEvent.run(it.t, it.type, it.source, it.data);
          continue;
        }
        const { stream, seq, t, ...rest } = it.frame.header;
        let sid = this.streamIds.get(stream);
        if (sid === undefined) {
          sid = this.streamIds.size + 1;
          this.insStream.run(sid, stream, it.kind, rest.dtype, JSON.stringify(rest.shape), typeof rest.unit === 'string' ? rest.unit : null);
          this.streamIds.set(stream, sid);
        }
        const p = it.frame.payload;
        (it.k === 0 ? this.insFrame : this.insResult).run(sid, seq, t, JSON.stringify(rest), Buffer.from(p.buffer, p.byteOffset, p.byteLength));
      }
    });
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  /** True when the engine must wait for `drained()` before producing more. */
  get full(): boolean {
    return this.queuedBytes >= this.limits.maxQueueBytes || this.queued >= this.limits.maxQueueItems;
  }

  /** Queues an instrument frame (`kind: 'instrument'`) or a pipeline result. Frames must not be mutated afterwards. */
  append(frame: Frame, kind: 'instrument' | 'result'): void {
    this.checkOpen();
    this.queue.push({ k: kind === 'instrument' ? 0 : 1, frame, kind });
    this.queuedBytes += frame.payload.byteLength;
    this.schedule();
  }

  /** Queues an event; `t` in ns since session start. */
  event(t: number, type: string, source: string | null, data?: unknown): void {
    this.checkOpen();
    this.queue.push({ k: 2, t: Math.round(t), type, source, data: data === undefined ? null : JSON.stringify(data) });
    this.schedule();
  }

  /** Settles once the last checkpoint after `finish()` is done (the WAL folded into the database). */
  finalCheckpoint: Promise<void> = Promise.resolve();

  /** Resolves once everything queued so far is committed (written on the usual turns, not in one go). */
  flushed(): Promise<void> {
    if (this.queued === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (this.queued === 0 || this.closed || this.fatal ? resolve() : setImmediate(check));
      setImmediate(check);
    });
  }

  /** Resolves when the queue is below half its bounds (or at once if it is). */
  drained(): Promise<void> {
    if (!this.aboveLowWater()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Writes everything queued now, in batches (synchronous). */
  flushAll(): void {
    while (this.queued > 0) {
      const before = this.queued;
      this.flushBatch();
      if (this.queued === before) throw this.fatal ?? new Error(`${this.path}: flush made no progress`);
    }
  }

  /** Flushes, stores how the session ended, checkpoints, closes, releases the writer lock. */
  finish(end: SessionEnd, endedAt: Date = new Date()): void {
    if (this.closed) return;
    try {
      let lost: Error | undefined;
      try {
        this.flushAll();
      } catch (err) {
        lost = err as Error;
      }
      const status = lost ? 'failed' : end.status;
      const reason = lost ? `${end.reason ?? end.status}; ${this.queued} queued items not written: ${lost.message}` : end.reason;
      this.db
        .prepare('UPDATE session SET status = ?, reason = ?, ended_at = ?, duration_ns = ?')
        .run(status, reason ?? null, endedAt.toISOString(), Math.round(end.durationNs));
      // A short session folds its small WAL here; a long one leaves that to the checkpoint worker (below).
      if (!this.checkpointer.running) {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
        settleJournal(this.db);
      }
    } finally {
      this.closed = true;
      // Written items stay in the array until it is compacted: drop them (frames and their payloads).
      this.queue = [];
      this.head = 0;
      this.queuedBytes = 0;
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.db.close();
      this.finalCheckpoint = this.checkpointer.final();
      this.lock.release();
      for (const w of this.waiters.splice(0)) w();
    }
  }

  private checkOpen(): void {
    // After a fatal disk-space report, appends still queue: the engine is ending the
    // session and its tail is small and bounded; finish() writes it.
    if (this.closed) throw new Error(`${this.path}: session recording is closed`);
  }

  private aboveLowWater(): boolean {
    return this.queuedBytes > this.limits.maxQueueBytes / 2 || this.queued > this.limits.maxQueueItems / 2;
  }

  private schedule(): void {
    // A full batch is written on the next turn; a partial one waits up to FLUSH_DELAY_MS for company,
    // so a slow trickle of frames does not cost one transaction each.
    if (this.queued >= this.limits.batchItems) {
      if (this.flushScheduled === 'immediate') return;
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      this.flushScheduled = 'immediate';
      setImmediate(() => this.flushTurn());
    } else if (!this.flushScheduled) {
      this.flushScheduled = 'timer';
      this.flushTimer = setTimeout(() => this.flushTurn(), FLUSH_DELAY_MS);
    }
  }

  private flushTurn(): void {
    this.flushScheduled = false;
    this.flushTimer = undefined;
    if (this.closed) return;
    // A few batches per turn, bounded in time so the event loop stays responsive.
    const until = performance.now() + FLUSH_BUDGET_MS;
    do this.flushBatch();
    while (this.queued > 0 && !this.fatal && performance.now() < until);
    // After a fatal error the session is ending and finish() writes what is left; rescheduling here would
    // retry a failing write on every turn of the event loop until then.
    if (this.queued > 0 && !this.fatal) this.schedule();
  }

  private flushBatch(): void {
    const n = Math.min(this.queued, this.limits.batchItems);
    if (n === 0) return;
    const batch = this.queue.slice(this.head, this.head + n);
    let bytes = 0;
    let frames = 0;
    let results = 0;
    let events = 0;
    for (const it of batch) {
      if (it.k === 2) events++;
      else {
        bytes += it.frame.payload.byteLength;
        if (it.k === 0) frames++;
        else results++;
      }
    }
    const knownStreams = this.streamIds.size;
    try {
      this.writeBatch(batch);
    } catch (err) {
      // The rollback removed the stream rows this batch inserted: forget their ids too, or a retry
      // (finish()) would write frames under a stream id that no longer exists.
      for (const [name, sid] of this.streamIds) if (sid > knownStreams) this.streamIds.delete(name);
      this.die(new Error(`${this.path}: write failed: ${(err as Error).message}`, { cause: err }));
      return;
    }
    this.head += n;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.queuedBytes -= bytes;
    this.committed.frames += frames;
    this.committed.results += results;
    this.committed.events += events;
    this.onCommit?.(this.committed);
    this.maybeCheckpoint();
    this.bytesSinceDiskCheck += bytes;
    if (this.bytesSinceDiskCheck >= this.limits.diskCheckEveryBytes) {
      this.bytesSinceDiskCheck = 0;
      this.checkDisk();
    }
    if (!this.aboveLowWater()) for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Regular checkpoints keep the WAL short, and with `normal` durability they are what syncs it (bounding what a
   * power failure can take). They run in a worker thread (./checkpointer.ts), never on the event loop.
   */
  private maybeCheckpoint(): void {
    const now = Date.now();
    if (now - this.lastCheckpoint < this.durability.checkpointIntervalMs) return;
    this.lastCheckpoint = now;
    this.checkpointer.request();
  }

  /** Throws (and reports fatal) when free space is below the limit. */
  checkDisk(): void {
    const free = this.free(dirname(this.path));
    if (free < this.limits.minFreeBytes) {
      this.die(new Error(`disk: ${(free / 2 ** 20).toFixed(0)} MiB free under ${dirname(this.path)}, below the ${(this.limits.minFreeBytes / 2 ** 20).toFixed(0)} MiB minimum; recording stopped`));
    }
  }

  private die(err: Error): void {
    if (this.fatal) return;
    this.fatal = err;
    for (const w of this.waiters.splice(0)) w();
    this.onFatal?.(err);
  }

  /** Set once recording cannot continue. */
  get failure(): Error | undefined {
    return this.fatal;
  }
}
