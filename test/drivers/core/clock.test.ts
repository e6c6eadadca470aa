import { describe, expect, it } from 'vitest';
import { interval, firstValueFrom, take, toArray, map } from 'rxjs';
import { VirtualClock, ScaledClock, createClock } from '../../../drivers/core/clock.js';

describe('VirtualClock', () => {
  it('runs an interval of simulated seconds without waiting and in order', async () => {
    const clock = new VirtualClock();
    const values = await firstValueFrom(
      interval(7000, clock.scheduler).pipe(
        take(1024),
        map((i) => [i, clock.now()]),
        toArray(),
      ),
    );
    expect(values).toHaveLength(1024);
    expect(values[1023]).toEqual([1023, 1024 * 7000]);
    expect(clock.nowNs()).toBe(1024 * 7000 * 1e6);
  });

  it('interleaves sleeps of async code deterministically by time, then scheduling order', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const worker = async (name: string, step: number, n: number) => {
      for (let i = 0; i < n; i++) {
        await clock.sleep(step);
        log.push(`${name}@${clock.now()}`);
      }
    };
    await Promise.all([worker('a', 3, 4), worker('b', 4, 3)]);
    // At t=12 both wake: b scheduled its sleep at t=8, before a did at t=9, so b runs first.
    expect(log).toEqual(['a@3', 'b@4', 'a@6', 'b@8', 'a@9', 'b@12', 'a@12']);
  });

  it('an action that throws is reported like a throwing timer, and virtual time goes on for the others', async () => {
    const clock = new VirtualClock();
    // Stand in for the process's uncaught-exception handler (vitest's) for the length of this test.
    const saved = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const uncaught: unknown[] = [];
    process.on('uncaughtException', (err) => uncaught.push(err));
    try {
      clock.scheduler.schedule(() => {
        throw new Error('boom');
      }, 5);
      await clock.sleep(10);
      expect(clock.now()).toBe(10);
      expect(uncaught.map((e) => (e as Error).message)).toEqual(['boom']);
    } finally {
      process.removeAllListeners('uncaughtException');
      for (const l of saved) process.on('uncaughtException', l);
    }
  });

  it('does not advance while held work is pending', async () => {
    const clock = new VirtualClock();
    let fired = false;
    clock.scheduler.schedule(() => {
      fired = true;
    }, 10);
    let release!: () => void;
    const held = clock.hold(new Promise<void>((r) => (release = r)));
    // Let many macrotasks pass: the clock must stay put.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(fired).toBe(false);
    expect(clock.now()).toBe(0);
    release();
    await held;
    await clock.sleep(20);
    expect(fired).toBe(true);
  });

  it('sleep rejects with the abort reason', async () => {
    const clock = new VirtualClock();
    const ac = new AbortController();
    const p = clock.sleep(100, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});

describe('ScaledClock (virtual time paced against wall time)', () => {
  it('runs the same actions at the same experiment times as the virtual clock, and holds stop it', async () => {
    const trace = async (clock: VirtualClock) => {
      const seen: string[] = [];
      const tick = (name: string, every: number, n: number) =>
        clock.scheduler.schedule(function (this: { schedule(s?: number, d?: number): unknown }, k = 0) {
          seen.push(`${name}@${clock.now()}`);
          if (k + 1 < n) this.schedule(k + 1, every);
        }, every);
      tick('a', 3, 5);
      tick('b', 5, 3);
      await clock.sleep(4);
      await clock.hold(new Promise((r) => setTimeout(r, 5))); // wall time passes inside a hold: no experiment time
      seen.push(`held@${clock.now()}`);
      await clock.sleep(20);
      return seen;
    };
    const virtual = await trace(new VirtualClock());
    expect(virtual).toEqual(['a@3', 'held@4', 'b@5', 'a@6', 'a@9', 'b@10', 'a@12', 'b@15', 'a@15']); // ties: scheduling order
    expect(await trace(new ScaledClock(1000))).toEqual(virtual);
  });

  it('does not run an action before its wall-clock due time', async () => {
    const clock = new ScaledClock(1); // 10 s of experiment time is 10 s of wall time
    let fired = false;
    const sub = clock.scheduler.schedule(() => (fired = true), 10_000);
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(fired).toBe(false); // a VirtualClock would have jumped there at once
    expect(clock.now()).toBe(0);
    sub.unsubscribe();
  });

  it('unsubscribing a self-rescheduling action stops the whole chain', async () => {
    const clock = new ScaledClock(10_000);
    let runs = 0;
    const sub = clock.scheduler.schedule(function (this: { schedule(s?: unknown, d?: number): unknown }) {
      runs++;
      this.schedule(undefined, 10);
    }, 10);
    await clock.sleep(15);
    expect(runs).toBe(1);
    sub.unsubscribe();
    await clock.sleep(100);
    expect(runs).toBe(1);
  });
});

describe('createClock', () => {
  it('rejects an unknown kind and a bad speed', () => {
    expect(() => createClock({ kind: 'bogus' as never })).toThrow(/clock.kind/);
    expect(() => new ScaledClock(0)).toThrow(/speed/);
  });
});
