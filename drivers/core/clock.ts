/**
 * Clocks: every simulator and the acquisition engine take one. A clock is an
 * RxJS scheduler (so `timer`, `interval`, `delay` work on it unchanged) plus a
 * few helpers. Times are milliseconds of *experiment* time; `nowNs()` gives
 * integer nanoseconds for frame headers.
 *
 * - RealClock: wall time.
 * - ScaledClock: wall time sped up by a factor (`--speed N`), for demos.
 * - VirtualClock: simulated time that jumps straight to the next scheduled
 *   action whenever the process has nothing else to do, so a 7-s-per-pixel
 *   scan of 1024 pixels runs in seconds and identically for a given seed.
 */
import { Subscription, asyncScheduler, type SchedulerAction, type SchedulerLike } from 'rxjs';

export type ClockKind = 'real' | 'scaled' | 'virtual';

export interface Clock {
  readonly kind: ClockKind;
  /** The RxJS scheduler of this clock; `scheduler.now()` is in ms of experiment time. */
  readonly scheduler: SchedulerLike;
  /** Experiment time in ms since the clock started. */
  now(): number;
  /** Experiment time in integer ns since the clock started. */
  nowNs(): number;
  /** Resolves after `ms` of experiment time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Runs async work that happens outside the clock (native workers, worker
   * threads, disk). A virtual clock does not advance while it is pending, so
   * results stay deterministic; real clocks just await it.
   */
  hold<T>(work: Promise<T>): Promise<T>;
}

abstract class ClockBase implements Clock {
  abstract readonly kind: ClockKind;
  abstract readonly scheduler: SchedulerLike;
  now(): number {
    return this.scheduler.now();
  }
  nowNs(): number {
    return Math.round(this.now() * 1e6);
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const sub = this.scheduler.schedule(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = () => {
        sub.unsubscribe();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
  hold<T>(work: Promise<T>): Promise<T> {
    return work;
  }
}

/** Wall-clock time, ms since construction. */
export class RealClock extends ClockBase {
  readonly kind: ClockKind = 'real';
  private readonly origin = performance.now();
  readonly scheduler: SchedulerLike;
  constructor() {
    super();
    const origin = this.origin;
    this.scheduler = {
      now: () => performance.now() - origin,
      schedule: (work, delay, state) => asyncScheduler.schedule(work as never, delay, state),
    } as SchedulerLike;
  }
}

/** Wall time multiplied by `speed`: 10 means ten seconds of experiment per second of wall time. */
export class ScaledClock extends ClockBase {
  readonly kind: ClockKind = 'scaled';
  readonly scheduler: SchedulerLike;
  constructor(readonly speed: number) {
    super();
    if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed: must be a positive finite number, got ${speed}`);
    const origin = performance.now();
    const scale = speed;
    const scheduler: SchedulerLike = {
      now: () => (performance.now() - origin) * scale,
      schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
        // One subscription for the whole chain: reschedules from inside
        // `work` (interval, repeat) replace the pending timer, so
        // unsubscribing the first action also stops every later one.
        let pending: Subscription | undefined;
        const chain = new Subscription(() => pending?.unsubscribe());
        const action = {
          schedule(nextState?: T, nextDelay = 0): Subscription {
            arm(nextState, nextDelay);
            return chain;
          },
        } as SchedulerAction<T>;
        const arm = (s: T | undefined, d: number) => {
          if (chain.closed) return;
          pending?.unsubscribe();
          pending = asyncScheduler.schedule(() => work.call(action, s), Math.max(0, d || 0) / scale);
        };
        arm(state, delay);
        return chain;
      },
    };
    this.scheduler = scheduler;
  }
}

interface VirtualEntry {
  at: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

/**
 * Deterministic simulated time. Scheduled actions run in (time, scheduling
 * order); between two actions every pending promise continuation runs first,
 * so async/await code behaves as it would in real time, only without waiting.
 * Time never advances while work passed to `hold()` is pending.
 */
export class VirtualClock extends ClockBase {
  readonly kind: ClockKind = 'virtual';
  private t = 0;
  private seq = 0;
  private readonly queue: VirtualEntry[] = [];
  private holds = 0;
  private pumpPending = false;
  readonly scheduler: SchedulerLike;

  constructor() {
    super();
    const clock = this;
    const scheduler: SchedulerLike = {
      now: () => clock.t,
      schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
        let current: VirtualEntry | undefined;
        const sub = new Subscription(() => {
          if (current) current.cancelled = true;
        });
        const action = {
          schedule(nextState?: T, nextDelay = 0): Subscription {
            enqueue(nextState, nextDelay);
            return sub;
          },
          closed: false,
        } as unknown as SchedulerAction<T>;
        const enqueue = (s: T | undefined, d: number) => {
          if (sub.closed) return;
          current = clock.enqueue(clock.t + Math.max(0, d || 0), () => {
            work.call(action, s);
          });
        };
        enqueue(state, delay);
        return sub;
      },
    };
    this.scheduler = scheduler;
  }

  /** Number of actions waiting to run (for tests and diagnostics). */
  get pending(): number {
    return this.queue.filter((e) => !e.cancelled).length;
  }

  override hold<T>(work: Promise<T>): Promise<T> {
    this.holds++;
    const release = () => {
      this.holds--;
      this.kick();
    };
    return work.then(
      (v) => {
        release();
        return v;
      },
      (e) => {
        release();
        throw e;
      },
    );
  }

  private enqueue(at: number, run: () => void): VirtualEntry {
    const entry: VirtualEntry = { at, seq: this.seq++, run, cancelled: false };
    // Sorted insert: (at, seq). Binary search keeps long scans cheap.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = this.queue[mid]!;
      if (e.at < at || (e.at === at && e.seq < entry.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, entry);
    this.kick();
    return entry;
  }

  private kick(): void {
    if (this.pumpPending) return;
    this.pumpPending = true;
    // setImmediate runs after all pending microtasks (promise continuations),
    // which is what makes one step of virtual time "idle" before the next.
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.pumpPending = false;
    if (this.holds > 0) return; // resumed by hold()'s release
    let entry = this.queue.shift();
    while (entry && entry.cancelled) entry = this.queue.shift();
    if (!entry) return;
    if (entry.at > this.t) this.t = entry.at;
    try {
      entry.run();
    } finally {
      // An action that throws (reported like a throwing timer) must not stop virtual time for everyone else.
      if (this.queue.length > 0) this.kick();
    }
  }
}

export interface ClockOptions {
  kind: ClockKind;
  /** For `scaled`: experiment seconds per wall second. */
  speed?: number;
}

export function createClock(opts: ClockOptions): Clock {
  switch (opts.kind) {
    case 'real':
      return new RealClock();
    case 'scaled':
      return new ScaledClock(opts.speed ?? 1);
    case 'virtual':
      return new VirtualClock();
    default:
      throw new RangeError(`clock.kind: must be one of real, scaled, virtual, got ${String((opts as ClockOptions).kind)}`);
  }
}
