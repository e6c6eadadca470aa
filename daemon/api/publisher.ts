/**
 * The data socket: a PUB (an XPUB, so it also sees subscriptions) that sends every live frame of a session as
 * `[topic, header JSON, payload]` and session status snapshots on
 * `session/<id>/@status`. The payload part is a Buffer view of the frame's
 * own memory: zeromq.js sends parts above 128 bytes without copying.
 *
 * Nothing here can slow the acquisition: the frames$ callback only enqueues;
 * PUB drops at its send high-water mark for slow subscribers; and the queue
 * in front of the socket is bounded too (decision 0603).
 */
import type { Subscription } from 'rxjs';
import { XPublisher, type Context } from 'zeromq';
import type { Frame } from '../../drivers/core/frame.js';
import { dataTopic, STATUS_STREAM } from './protocol.js';
import type { ResolvedCurve } from './security.js';
import { SendQueue } from './send-queue.js';
import type { ControlTarget, SessionStatus } from './target.js';

export interface DataPublisherOptions {
  endpoint: string;
  context: Context;
  curve?: ResolvedCurve;
  /** Messages queued per subscriber before PUB drops (ZMQ_SNDHWM). */
  sendHighWaterMark: number;
  /** Messages waiting in front of the socket before the oldest is dropped. */
  queueCapacity: number;
  lingerMs: number;
  log?: (level: 'debug' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
}

const EMPTY = Buffer.alloc(0);

export class DataPublisher {
  readonly socket: XPublisher;
  private readonly queue: SendQueue;
  private subs: Subscription[] = [];
  private subscriptionLoop: Promise<void> | undefined;
  private readonly subscriptionWaiters: Array<{ prefix: string; count: number; resolve: () => void }> = [];
  /** Frames or statuses that could not be serialised (logged, skipped). */
  unpublishable = 0;
  /** Subscribe messages received per topic prefix (a subscriber counts once per prefix it subscribes). */
  readonly subscriptions = new Map<string, number>();

  constructor(private readonly opts: DataPublisherOptions) {
    this.socket = new XPublisher({
      context: opts.context,
      linger: opts.lingerMs,
      verbosity: 'allSubsUnsubs',
      // PUB never blocks (it drops at the HWM), so sends can take zeromq.js's synchronous path every time;
      // the queue yields to the event loop every 256 sends instead (measured: docs/BENCHMARKS.md).
      sendTimeout: 0,
      sendHighWaterMark: opts.sendHighWaterMark,
      ...(opts.curve
        ? { curveServer: true, curvePublicKey: opts.curve.publicKey, curveSecretKey: opts.curve.secretKey, zapDomain: 'qscope' }
        : {}),
    });
    this.queue = new SendQueue(this.socket, opts.queueCapacity, (err) => opts.log?.('warn', 'data message not sent', { err: String(err) }), 256);
  }

  get endpoint(): string {
    return this.socket.lastEndpoint ?? this.opts.endpoint;
  }

  /** Messages handed to the socket / dropped in front of it. (PUB's own drops at HWM are invisible: subscribers count seq gaps.) */
  get stats(): { sent: number; dropped: number; queued: number } {
    return { sent: this.queue.sent, dropped: this.queue.dropped, queued: this.queue.length };
  }

  async start(target: ControlTarget): Promise<void> {
    try {
      await this.socket.bind(this.opts.endpoint);
    } catch (err) {
      throw new Error(`api: cannot bind the data socket to ${this.opts.endpoint}: ${(err as Error).message}`, { cause: err });
    }
    this.subscriptionLoop = this.watchSubscriptions();
    this.subs.push(
      target.frames$.subscribe({
        // A frame that cannot be serialised is logged and skipped: a throw here would escape into RxJS's
        // unhandled-error path and take the daemon down.
        next: ({ session, frame }) => this.guard(() => this.publishFrame(session, frame), frame.header.stream),
        error: (err) => this.opts.log?.('error', 'frames$ errored; live data stopped', { err: String(err) }),
      }),
    );
    if (target.sessionEvents$) {
      this.subs.push(
        target.sessionEvents$.subscribe({
          next: (status) => this.guard(() => this.publishStatus(status), 'status'),
          error: (err) => this.opts.log?.('error', 'sessionEvents$ errored', { err: String(err) }),
        }),
      );
    }
  }

  private guard(publish: () => void, what: string): void {
    try {
      publish();
    } catch (err) {
      this.unpublishable++;
      this.opts.log?.('warn', `data: ${what} not published`, { err: String(err) });
    }
  }

  private async watchSubscriptions(): Promise<void> {
    try {
      for await (const [msg] of this.socket) {
        if (!msg || msg.length === 0) continue;
        const prefix = msg.subarray(1).toString();
        const n = (this.subscriptions.get(prefix) ?? 0) + (msg[0] === 1 ? 1 : -1);
        if (n > 0) this.subscriptions.set(prefix, n);
        else this.subscriptions.delete(prefix);
        for (let i = this.subscriptionWaiters.length - 1; i >= 0; i--) {
          const w = this.subscriptionWaiters[i]!;
          if ((this.subscriptions.get(w.prefix) ?? 0) >= w.count) {
            this.subscriptionWaiters.splice(i, 1);
            w.resolve();
          }
        }
      }
    } catch (err) {
      if (!this.socket.closed) this.opts.log?.('warn', 'data subscription loop ended', { err: String(err) });
    }
  }

  /** Resolves once at least `count` subscribers hold `prefix` (lets tests and tools wait for a subscription instead of sleeping). */
  whenSubscribed(prefix: string, count = 1): Promise<void> {
    if ((this.subscriptions.get(prefix) ?? 0) >= count) return Promise.resolve();
    return new Promise((resolve) => this.subscriptionWaiters.push({ prefix, count, resolve }));
  }

  publishFrame(session: string, frame: Frame): void {
    const p = frame.payload;
    this.queue.push([dataTopic(session, frame.header.stream), JSON.stringify(frame.header), Buffer.from(p.buffer, p.byteOffset, p.byteLength)]);
  }

  publishStatus(status: SessionStatus): void {
    this.queue.push([dataTopic(status.id, STATUS_STREAM), JSON.stringify(status), EMPTY]);
  }

  /** Sends what is queued (bounded by linger), then closes. */
  async stop(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    await this.queue.drained();
    this.socket.close();
    await this.subscriptionLoop;
  }
}
