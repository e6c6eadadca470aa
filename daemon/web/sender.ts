/**
 * What one browser gets of the live data (decision 1700). The engine's
 * callbacks only `offer()`: the newest item per stream replaces an unsent
 * older one (counted as dropped), so memory per browser is bounded by the
 * number of streams. A flush sends the pending items, at most `maxFps` times
 * a second, only while fewer than `window` messages await the browser's
 * acknowledgement and the socket's own buffer is below `maxBufferedBytes`.
 * A stalled browser therefore costs one map entry per stream and a counter;
 * it never slows the recording or the ZeroMQ subscribers.
 */
import type { WebSocket } from 'ws';
import { encodeMessage } from './codec.js';

export interface SenderOptions {
  maxFps: number;
  window: number;
  maxBufferedBytes: number;
}

interface Pending {
  meta: unknown;
  payload?: ArrayBufferView;
}

export interface SenderStats {
  /** Live messages sent. */
  sent: number;
  /** Live messages replaced by a newer one of the same stream before they could be sent. */
  dropped: number;
  /** Messages sent and not yet acknowledged. */
  unacked: number;
  /** Streams waiting to be sent. */
  pending: number;
}

export class Sender {
  private readonly pending = new Map<string, Pending>();
  private sentCount = 0;
  private droppedCount = 0;
  private acked = 0;
  private lastFlush = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Called after each flush with this sender's stats (the server adds its own message). */
  onFlush: (() => Pending | undefined) | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: SenderOptions,
  ) {}

  get stats(): SenderStats {
    return { sent: this.sentCount, dropped: this.droppedCount, unacked: this.sentCount - this.acked, pending: this.pending.size };
  }

  /** Queues the newest item of `key` (a stream of a session); never blocks, never throws. */
  offer(key: string, meta: unknown, payload?: ArrayBufferView): void {
    if (this.closed) return;
    if (this.pending.has(key)) {
      this.droppedCount++;
      this.pending.delete(key); // re-insert: keeps the send order oldest-first across streams
    }
    this.pending.set(key, { meta, payload });
    this.schedule();
  }

  /** The browser has processed every message up to `count` (its running total). */
  ack(count: number): void {
    if (!Number.isInteger(count) || count < this.acked || count > this.sentCount) return;
    this.acked = count;
    this.schedule();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private schedule(): void {
    if (this.timer || this.closed || this.pending.size === 0) return;
    const wait = Math.max(0, this.lastFlush + 1000 / this.opts.maxFps - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private blocked(): boolean {
    return this.sentCount - this.acked >= this.opts.window || this.ws.bufferedAmount > this.opts.maxBufferedBytes;
  }

  private flush(): void {
    this.timer = undefined;
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    // Blocked: wait for an ack (which reschedules); a full socket buffer drains by itself, so poll for it.
    if (this.blocked()) {
      if (this.sentCount - this.acked < this.opts.window) this.timer = setTimeout(() => this.flush(), 1000 / this.opts.maxFps);
      return;
    }
    this.lastFlush = performance.now();
    for (const [key, item] of this.pending) {
      if (this.blocked()) break;
      this.pending.delete(key);
      this.send(item);
    }
    const extra = this.blocked() ? undefined : this.onFlush?.();
    if (extra) this.send(extra);
    this.schedule();
  }

  private send(item: Pending): void {
    this.sentCount++;
    this.ws.send(encodeMessage(item.meta, item.payload), { binary: true });
  }
}
