/**
 * Clocks: every simulator and the acquisition engine take one. A clock is an
 * RxJS scheduler (so `timer`, `interval`, `delay` work on it unchanged) plus a
 * few helpers. Times are milliseconds of *experiment* time; `nowNs()` gives
 * integer nanoseconds for frame headers.
 *
 * - RealClock: wall time (any rig with a real instrument runs on it).
 * - VirtualClock: simulated (discrete-event) time that jumps straight to the
 *   next scheduled action whenever the process has nothing else to do, so a
 *   7-s-per-pixel scan of 1024 pixels runs in seconds and identically for a
 *   given seed.
 * - ScaledClock (`--speed N` on a fully simulated rig): the same virtual time,
 *   paced so that it runs no faster than N experiment seconds per wall second.
 *   Computation takes no experiment time on either, so a session is the same
 *   experiment at every speed and on every machine (decision 1800).
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
  /** Wall-clock timer of a paced clock waiting for the next action's due time. */
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Pacing anchor: wall time (ms, performance.now) at which virtual time `t` was due. */
  private anchor: { wall: number; t: number } | undefined;
  readonly scheduler: SchedulerLike;

  /** `pace`: experiment ms per wall ms to run no faster than (undefined: as fast as possible). */
  constructor(protected readonly pace?: number) {
    super();
    if (pace !== undefined && (!(pace > 0) || !Number.isFinite(pace))) throw new RangeError(`speed: must be a positive finite number, got ${pace}`);
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
    if (this.timer !== undefined) {
      // A paced clock waiting for wall time: something earlier may have been scheduled; look again.
      clearTimeout(this.timer);
      this.timer = undefined;
      this.pumpPending = false;
    }
    if (this.pumpPending) return;
    this.pumpPending = true;
    // setImmediate runs after all pending microtasks (promise continuations),
    // which is what makes one step of virtual time "idle" before the next.
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.pumpPending = false;
    if (this.holds > 0) return; // resumed by hold()'s release
    while (this.queue.length > 0 && this.queue[0]!.cancelled) this.queue.shift();
    const head = this.queue[0];
    if (!head) return;
    if (this.pace !== undefined && head.at > this.t && this.waitForWall(head.at)) return;
    const entry = this.queue.shift()!;
    if (entry.at > this.t) this.t = entry.at;
    try {
      entry.run();
    } finally {
      // An action that throws (reported like a throwing timer) must not stop virtual time for everyone else.
      if (this.queue.length > 0) this.kick();
    }
  }

  /** Paced clocks: arms a timer and returns true when virtual time `at` is not yet due in wall time. */
  private waitForWall(at: number): boolean {
    const wall = performance.now();
    if (this.anchor === undefined) this.anchor = { wall, t: this.t };
    const due = this.anchor.wall + (at - this.anchor.t) / this.pace!;
    if (due > wall) {
      this.pumpPending = true;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, due - wall);
      return true;
    }
    if (wall - due > MAX_PACE_LAG_MS) this.anchor = { wall, t: at };
    return false;
  }
}

/**
 * `--speed N` on a fully simulated rig: virtual (discrete-event) time paced against wall time, at most
 * `speed` experiment seconds per wall second. Everything a VirtualClock guarantees holds (actions in
 * (time, scheduling order), `hold()` stops time, computation takes no experiment time), so a session
 * recorded at any speed is the same experiment as one on the unpaced virtual clock.
 */
export class ScaledClock extends VirtualClock {
  override readonly kind: ClockKind = 'scaled';
  constructor(readonly speed: number) {
    super(speed);
  }
}

/**
 * Lag a paced clock may make up by running faster than its pace, wall ms: after a longer stall (heavy
 * computation, an idle daemon) it carries on at its pace from where it is instead of racing to catch up.
 */
const MAX_PACE_LAG_MS = 100;

export interface ClockOptions {
  kind: ClockKind;
  /** For `scaled`: experiment seconds per wall second (the pace of the virtual clock). */
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
