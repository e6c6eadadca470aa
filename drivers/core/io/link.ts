/**
 * The Link: one connection to one instrument over TCP or a serial port, with
 * the rules that keep a lab safe when a cable is pulled (decision 1301):
 *
 * - one request in flight (a queue); a sequence that must not be split
 *   (a move and its `ERR?`) runs as one `exclusive` block;
 * - a deadline per reply (`replyTimeoutMs`) and an inter-byte gap once a
 *   reply has started (`interByteGapMs`: a reply that stalls half-way);
 * - after a timeout (or an unsolicited reply) the link is **dirty**: before
 *   the next command it drains the input until quiet, sends the protocol's
 *   sync probe (`*IDN?`, whose answer no other query gives) and discards every
 *   reply until the probe's answer. A device answers in order, so a late
 *   reply to a timed-out request always arrives before that answer and is
 *   never handed to a later request;
 * - an unplug (serial `close` with `disconnected` or a hung-up tty, socket
 *   error, end of stream, a failed write or one not completed by the
 *   deadline, a resync with no answer) takes the link **down** (1310):
 *   the request in flight fails with DisconnectedError (it is unacknowledged
 *   and is never re-sent), queued requests fail with NotConnectedError without
 *   being sent, and while down nothing is written;
 * - a liveness watchdog probes an idle link (a TCP peer that went silent
 *   gives no socket error);
 * - reconnect with exponential back-off, a new port or socket object per
 *   attempt; a reconnected link is synchronised before it reports `up`;
 * - every byte in and out is logged at debug level.
 */
import { BehaviorSubject, Subject, type Observable } from 'rxjs';
import { DisconnectedError, DriverError, GarbageError, NotConnectedError, TimeoutError } from '../errors.js';
import type { Logger } from '../log.js';
import { formatAddress, parseAddress, type Address } from './address.js';
import type { Framing } from './framing.js';
import { openTransport, type Transport } from './transport.js';

export type LinkState = 'closed' | 'connecting' | 'open' | 'down';

export type LinkEvent =
  | { type: 'up' }
  | { type: 'down'; error: DriverError }
  | { type: 'timeout'; command: string }
  | { type: 'late'; reply: string }
  | { type: 'resync'; discarded: number }
  | { type: 'reconnect-failed'; attempt: number; message: string };

export interface SyncProbe {
  /** Bytes to send, terminator included (e.g. `*IDN?\n`). */
  command: string;
  /** True for the probe's own answer (checked against each reply until one matches). */
  matches(reply: string): boolean;
}

export interface LinkOptions {
  /** Instrument id (errors and log lines name it). */
  id: string;
  address: Address | string;
  baudRate?: number;
  framing: Framing;
  /** Deadline for a complete reply after the command was written, ms. */
  replyTimeoutMs?: number;
  /** Longest silence inside a reply that has started, ms. */
  interByteGapMs?: number;
  /** The input counts as drained after this long without a byte, ms. */
  drainQuietMs?: number;
  /** How a dirty link (after a timeout) and a new connection resynchronise. */
  sync: SyncProbe;
  /** Probe an idle link this often (0: no watchdog), with this probe (default: `sync`). */
  watchdog?: { intervalMs: number; probe?: SyncProbe };
  /** Reconnect after an unplug with exponential back-off (default on: 100 ms doubling to 5 s); `false`: stay down. */
  reconnect?: { initialMs: number; maxMs: number } | false;
  connectTimeoutMs?: number;
  /** A reply longer than this without a terminator is garbage, bytes. */
  maxReplyBytes?: number;
  log?: Logger;
}

/** The calls available inside `exclusive` (they skip the queue: the block holds it). */
export interface LinkIo {
  /** Writes `command` (terminator included) and returns the next complete reply. */
  query(command: string, timeoutMs?: number): Promise<string>;
  /** Writes `command`; no reply is expected. */
  send(command: string): Promise<void>;
}

interface Waiter {
  resolve(body: Buffer): void;
  reject(err: DriverError): void;
  byte(): void;
}

const printable = (s: string) => JSON.stringify(s);

export class Link {
  readonly id: string;
  readonly address: Address;
  private o: Required<Omit<LinkOptions, 'log' | 'baudRate' | 'watchdog' | 'reconnect' | 'address'>> & Pick<LinkOptions, 'log' | 'baudRate'>;
  private readonly reconnectOpts: { initialMs: number; maxMs: number } | false;
  private readonly watchdogOpts: { intervalMs: number; probe: SyncProbe } | undefined;
  private readonly stateSubject = new BehaviorSubject<LinkState>('closed');
  private readonly eventSubject = new Subject<LinkEvent>();
  /** State changes (replays the current one). */
  readonly state$: Observable<LinkState> = this.stateSubject.asObservable();
  /** What happened: up, down (with the error), timeouts, late replies discarded, resyncs. */
  readonly events$: Observable<LinkEvent> = this.eventSubject.asObservable();

  private transport: Transport | undefined;
  private generation = 0;
  private rx: Buffer = Buffer.alloc(0);
  private waiter: Waiter | undefined;
  /** Fails the write in progress (the link went down or was closed meanwhile). */
  private abortWrite: ((err: DriverError) => void) | undefined;
  private onQuiet: (() => void) | undefined;
  private dirty = false;
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private lastIo = 0;
  private attempt: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private backoffMs = 0;
  private reconnects = 0;
  private userClosed = true;
  /** Replies discarded as late or unsolicited since the link was made (diagnostics, tests). */
  lateReplies = 0;

  constructor(opts: LinkOptions) {
    this.id = opts.id;
    this.address = typeof opts.address === 'string' ? parseAddress(opts.address) : opts.address;
    const replyTimeoutMs = opts.replyTimeoutMs ?? 1000;
    this.o = {
      id: opts.id,
      framing: opts.framing,
      replyTimeoutMs,
      interByteGapMs: opts.interByteGapMs ?? replyTimeoutMs,
      drainQuietMs: opts.drainQuietMs ?? 20,
      sync: opts.sync,
      connectTimeoutMs: opts.connectTimeoutMs ?? 2000,
      maxReplyBytes: opts.maxReplyBytes ?? 65536,
      log: opts.log,
      baudRate: opts.baudRate,
    };
    this.reconnectOpts = opts.reconnect === false ? false : (opts.reconnect ?? { initialMs: 100, maxMs: 5000 });
    this.watchdogOpts = opts.watchdog && opts.watchdog.intervalMs > 0 ? { intervalMs: opts.watchdog.intervalMs, probe: opts.watchdog.probe ?? opts.sync } : undefined;
  }

  get state(): LinkState {
    return this.stateSubject.value;
  }

  /** Connects now (cancelling a pending back-off) and synchronises; resolves once the link is up. */
  async open(): Promise<void> {
    this.userClosed = false;
    if (this.state === 'open') return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    await (this.attempt ??= this.connectOnce().finally(() => (this.attempt = undefined)));
  }

  /** Closes on request: the request in flight and queued ones fail; no reconnect. */
  async close(): Promise<void> {
    this.userClosed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.watchdogTimer);
    this.reconnectTimer = this.watchdogTimer = undefined;
    const t = this.transport;
    this.transport = undefined;
    this.generation++;
    const closed = new DisconnectedError(this.id, 'link closed by request');
    this.abortWrite?.(closed);
    this.waiter?.reject(closed);
    this.waiter = undefined;
    this.setState('closed');
    await t?.close();
  }

  /** Runs `fn` with the link to itself: nothing else is sent until it settles. */
  exclusive<T>(fn: (io: LinkIo) => Promise<T>): Promise<T> {
    this.pending++;
    const run = this.queue.then(async () => {
      try {
        return await fn(this.io);
      } finally {
        this.pending--;
        this.lastIo = Date.now();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  query(command: string, timeoutMs?: number): Promise<string> {
    return this.exclusive((io) => io.query(command, timeoutMs));
  }

  send(command: string): Promise<void> {
    return this.exclusive((io) => io.send(command));
  }

  /** Changes the reply deadline (and the inter-byte gap with it) for the requests that follow. */
  setReplyTimeout(ms: number): void {
    if (!(ms > 0)) throw new RangeError(`replyTimeoutMs: must be > 0, got ${ms}`);
    this.o.replyTimeoutMs = ms;
    this.o.interByteGapMs = ms;
  }

  /** Marks the link dirty (an adapter that could not parse a reply): the next command resynchronises first. */
  markDirty(): void {
    this.dirty = true;
  }

  // ---------------- internals ----------------
  private readonly io: LinkIo = {
    query: async (command, timeoutMs) => (await this.transfer(command, true, timeoutMs))!.toString('latin1'),
    send: async (command) => {
      await this.transfer(command, false);
    },
  };

  private async transfer(command: string, expectReply: boolean, timeoutMs = this.o.replyTimeoutMs): Promise<Buffer | undefined> {
    if (this.state !== 'open' || !this.transport) throw new NotConnectedError(this.id, printable(command));
    if (this.dirty) await this.resync();
    return this.raw(command, expectReply, timeoutMs);
  }

  /** Writes and (optionally) waits for one reply; a timeout leaves the link dirty. */
  private async raw(command: string, expectReply: boolean, timeoutMs: number, accept?: (reply: string) => boolean): Promise<Buffer | undefined> {
    const t = this.transport;
    if (this.state !== 'open' || !t) throw new NotConnectedError(this.id, printable(command));
    // Armed before the write, so a reply faster than the write callback is not taken for a late one.
    const reply = expectReply ? this.awaitReply(command, timeoutMs, accept) : undefined;
    reply?.catch(() => undefined);
    this.o.log?.debug({ instrument: this.id, tx: printable(command) }, 'tx');
    try {
      await this.write(t, command, timeoutMs);
    } catch (err) {
      // The link went down while writing (the reason is its own), or the write failed or never completed:
      // maybe it reached the instrument, maybe not. It is unacknowledged and never re-sent.
      if (err instanceof DisconnectedError) throw err;
      throw this.goDown(`write of ${printable(command)} failed: ${(err as Error).message}`);
    }
    if (!reply) return undefined;
    try {
      return await reply;
    } catch (err) {
      if (err instanceof TimeoutError) {
        this.dirty = true;
        this.eventSubject.next({ type: 'timeout', command });
      }
      throw err;
    }
  }

  /**
   * Writes within `timeoutMs`, and settles whatever the transport does: a
   * write the device does not take in time (flow control held, a port that
   * never drains) fails, and so does one pending when the link goes down.
   */
  private write(t: Transport, command: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const finish = (err?: Error) => {
        clearTimeout(timer);
        if (this.abortWrite === abort) this.abortWrite = undefined;
        if (err) reject(err);
        else resolve();
      };
      const abort = (err: DriverError) => finish(err);
      const timer = setTimeout(() => finish(new Error(`not written after ${timeoutMs} ms (the device does not take bytes)`)), timeoutMs);
      this.abortWrite = abort;
      t.write(Buffer.from(command, 'latin1')).then(
        () => finish(),
        (err: Error) => finish(err),
      );
    });
  }

  /** The next reply (with `accept`: the next one it accepts; the others are discarded as late). */
  private awaitReply(what: string, timeoutMs: number, accept?: (reply: string) => boolean): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      let gap: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(deadline);
        clearTimeout(gap);
        if (this.waiter === w) this.waiter = undefined;
      };
      const deadline = setTimeout(() => {
        done();
        reject(new TimeoutError(this.id, `reply to ${printable(what)}`, timeoutMs));
      }, timeoutMs);
      const w: Waiter = {
        resolve: (b) => {
          if (accept && !accept(b.toString('latin1'))) {
            this.discard(b);
            return;
          }
          done();
          resolve(b);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        byte: () => {
          clearTimeout(gap);
          gap = setTimeout(() => {
            done();
            reject(new TimeoutError(this.id, `reply to ${printable(what)} (stalled: no byte for ${this.o.interByteGapMs} ms)`, this.o.interByteGapMs));
          }, this.o.interByteGapMs);
        },
      };
      this.waiter = w;
    });
  }

  private onData(chunk: Buffer): void {
    this.o.log?.debug({ instrument: this.id, rx: printable(chunk.toString('latin1')) }, 'rx');
    this.onQuiet?.();
    this.rx = this.rx.length === 0 ? chunk : Buffer.concat([this.rx, chunk]);
    this.waiter?.byte();
    for (;;) {
      const f = this.o.framing.next(this.rx);
      if (!f) break;
      this.rx = this.rx.subarray(f.used);
      const w = this.waiter;
      if (w) w.resolve(Buffer.from(f.body));
      else this.discard(f.body);
    }
    if (this.rx.length > this.o.maxReplyBytes) {
      this.rx = Buffer.alloc(0);
      this.dirty = true;
      this.waiter?.reject(new GarbageError(this.id, `a reply (over ${this.o.maxReplyBytes} bytes without a terminator)`));
    }
  }

  /** A reply nobody waits for: late (its request timed out) or unsolicited. Never handed on. */
  private discard(body: Buffer): void {
    this.lateReplies++;
    this.dirty = true;
    const reply = body.toString('latin1');
    this.o.log?.warn({ instrument: this.id, reply: printable(reply) }, 'late or unsolicited reply discarded');
    this.eventSubject.next({ type: 'late', reply });
  }

  /** Drain until quiet, send the sync probe, discard everything up to its answer. Fails → down. */
  private async resync(): Promise<void> {
    await this.drain();
    this.rx = Buffer.alloc(0);
    const probe = this.o.sync;
    const lateBefore = this.lateReplies;
    try {
      // Every reply before the probe's own answer is late (the device answers in order): discarded.
      await this.raw(probe.command, true, this.o.replyTimeoutMs, (r) => probe.matches(r));
    } catch (err) {
      if (err instanceof DisconnectedError || (err instanceof DriverError && err.code === 'NOT_CONNECTED')) throw err;
      throw this.goDown(`no answer to the sync probe ${printable(probe.command)} (${(err as Error).message})`);
    }
    this.dirty = false;
    this.eventSubject.next({ type: 'resync', discarded: this.lateReplies - lateBefore });
  }

  private drain(): Promise<void> {
    const quiet = this.o.drainQuietMs;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      // A device that never stops talking: give up draining after 50 quiet periods (the probe check still holds).
      const cap = setTimeout(finish, quiet * 50);
      function finish() {
        clearTimeout(timer);
        clearTimeout(cap);
        resolve();
      }
      this.onQuiet = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          this.onQuiet = undefined;
          finish();
        }, quiet);
      };
      this.onQuiet();
    });
  }

  private async connectOnce(): Promise<void> {
    this.setState('connecting');
    const gen = ++this.generation;
    let t: Transport;
    try {
      t = await openTransport(this.address, { connectTimeoutMs: this.o.connectTimeoutMs, ...(this.o.baudRate ? { baudRate: this.o.baudRate } : {}) }, {
        data: (b) => {
          if (gen === this.generation) this.onData(b);
        },
        closed: (reason) => {
          if (gen === this.generation) this.goDown(reason);
        },
      });
    } catch (err) {
      const e = new DisconnectedError(this.id, `cannot connect to ${formatAddress(this.address)}: ${(err as Error).message}`);
      this.setState('down');
      this.scheduleReconnect();
      throw e;
    }
    if (gen !== this.generation) {
      await t.close();
      throw new DisconnectedError(this.id, 'link closed while connecting');
    }
    this.transport = t;
    this.rx = Buffer.alloc(0);
    this.setState('open');
    // A fresh connection may hold anything (a half reply, a power-on banner): synchronise first.
    this.dirty = true;
    await this.exclusive(() => this.resync());
    this.backoffMs = 0;
    this.reconnects = 0;
    this.startWatchdog();
    this.o.log?.info({ instrument: this.id, address: formatAddress(this.address) }, 'link up');
    this.eventSubject.next({ type: 'up' });
  }

  /** The connection is gone: fail what is in flight, refuse what is queued, reconnect later. */
  private goDown(reason: string): DisconnectedError {
    const err = new DisconnectedError(this.id, `${formatAddress(this.address)}: ${reason}`);
    if (this.state === 'down' || this.state === 'closed') return err;
    this.generation++;
    const t = this.transport;
    this.transport = undefined;
    void t?.close();
    clearInterval(this.watchdogTimer);
    this.watchdogTimer = undefined;
    this.rx = Buffer.alloc(0);
    this.dirty = false;
    this.onQuiet = undefined;
    this.abortWrite?.(err);
    this.waiter?.reject(err);
    this.waiter = undefined;
    this.setState('down');
    this.o.log?.warn({ instrument: this.id, reason }, 'link down');
    this.eventSubject.next({ type: 'down', error: err });
    this.scheduleReconnect();
    return err;
  }

  private scheduleReconnect(): void {
    if (!this.reconnectOpts || this.userClosed || this.reconnectTimer) return;
    const r = this.reconnectOpts;
    this.backoffMs = this.backoffMs === 0 ? r.initialMs : Math.min(r.maxMs, this.backoffMs * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.userClosed || this.state === 'open' || this.attempt) return;
      this.attempt = this.connectOnce()
        .catch((err: Error) => {
          this.reconnects++;
          this.eventSubject.next({ type: 'reconnect-failed', attempt: this.reconnects, message: err.message });
        })
        .finally(() => (this.attempt = undefined));
    }, this.backoffMs);
    this.reconnectTimer.unref();
  }

  private startWatchdog(): void {
    clearInterval(this.watchdogTimer);
    const w = this.watchdogOpts;
    if (!w) return;
    this.watchdogTimer = setInterval(() => {
      if (this.state !== 'open' || this.pending > 0 || Date.now() - this.lastIo < w.intervalMs / 2) return;
      this.exclusive(async (io) => {
        try {
          const reply = await io.query(w.probe.command);
          if (!w.probe.matches(reply)) this.discard(Buffer.from(reply, 'latin1'));
        } catch (err) {
          // A silent device: resynchronise now; no answer there takes the link down.
          if (err instanceof TimeoutError && this.state === 'open') await this.resync();
        }
      }).catch(() => undefined);
    }, w.intervalMs);
    this.watchdogTimer.unref();
  }

  private setState(s: LinkState): void {
    if (this.stateSubject.value !== s) this.stateSubject.next(s);
  }
}
