/**
 * The SR830 / SR860 force-sensor adapter against the lock-in emulator over a
 * socat pty (SR830, CR replies) and TCP (SR860, LF): settings applied and read
 * back, SNAP? sampling into the in-minus-out variance, typed errors, and a
 * reconnect that refuses silently changed settings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RealClock } from '../../../drivers/core/clock.js';
import { GarbageError } from '../../../drivers/core/errors.js';
import { inMinusOut } from '../../../drivers/force/interface.js';
import { Sr830Force } from '../../../drivers/force/sr830/driver.js';
import { lockinTable, LOCKIN_IDN, type LockinDevice } from '../../../drivers/force/sr830/emulator.js';
import { Rng } from '../../../drivers/core/rng.js';
import { startEmulator, waitState, type Wire } from '../io/support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function rig(model: 'sr830' | 'sr860', wire: Wire, extra: Record<string, unknown> = {}) {
  const { emu, address, cleanup } = await startEmulator(lockinTable(model, 5), wire);
  // 1000 Hz sampling keeps the test's real waits at 1 ms per sample.
  const drv = new Sr830Force('lockin', new RealClock(), { address, model, anPerVolt: 1e6, lockinRateHz: 1000, replyTimeoutMs: 300, watchdogMs: 0, ...extra });
  cleanups.push(cleanup, () => drv.dispose());
  await drv.connect();
  return { emu, drv, dev: () => emu.dev as LockinDevice };
}

describe.each([
  ['sr830', 'pty'],
  ['sr860', 'tcp'],
] as const)('%s over %s', (model, wire) => {
  it('applies time constant, sensitivity and reference at the first connect, reading each back', async () => {
    const { emu, drv, dev } = await rig(model, wire, { timeConstantS: 0.1, sensitivityV: 1e-3, referenceHz: 3000 });
    expect(drv.lockin).toMatchObject({ identity: LOCKIN_IDN[model], referenceHz: 3000, timeConstantS: 0.1 });
    expect(drv.lockin.sensitivityV).toBeCloseTo(1e-3, 12);
    expect(dev()).toMatchObject({ freq: 3000, oflt: model === 'sr830' ? 8 : 10 });
    expect(emu.log.filter((c) => c.mutating).map((c) => c.command.split(' ')[0])).toEqual(['FREQ', 'OFLT', model === 'sr830' ? 'SENS' : 'SCAL']);
    expect(drv.settings().bandwidthHz).toBeCloseTo(1 / 0.8, 12);
    expect(await drv.call('lockin', {})).toMatchObject({ referenceHz: 3000 });
  });

  it('measureVariance samples SNAP? 1,2 for Tm and returns the in-minus-out variance of exactly those samples', async () => {
    const { emu, drv } = await rig(model, wire, { timeConstantS: 0.001 });
    const blocks: number[] = [];
    drv.quadratures$.subscribe((f) => blocks.push(f.header.shape[0]!));
    const m = await drv.measureVariance({ pulse: 2, Tm: 0.1 });
    expect(m.fields).toMatchObject({ pulse: 2, Tm: 0.1, samples: 100 });
    expect(emu.log.filter((c) => c.command === 'SNAP? 1,2')).toHaveLength(100);
    expect(blocks).toEqual([64, 36]);
    // The same seeded samples the emulator drew, in aN.
    const rng = Rng.derive(5, model);
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 100; i++) {
      x.push(Number(rng.normal(0, 2e-6).toExponential(6)) * 1e6);
      y.push(Number(rng.normal(0, 1e-6).toExponential(6)) * 1e6);
    }
    const want = inMinusOut(x, y, 0.1 / 0.001);
    expect(m.payload[0]).toBeCloseTo(want.variance, 9);
    expect(m.payload[1]).toBeCloseTo(want.standardError, 9);
    expect(m.payload[0]).toBeGreaterThan(0);
  });

  it('a garbage SNAP? reply is a GarbageError; the next measurement works', async () => {
    const { emu, drv } = await rig(model, wire);
    emu.knobs.garbage = 1;
    await expect(drv.measureVariance({ pulse: 0, Tm: 0.002 })).rejects.toBeInstanceOf(GarbageError);
    expect(drv.state).toBe('ready');
    expect((await drv.measureVariance({ pulse: 0, Tm: 0.002 })).fields).toMatchObject({ samples: 2 });
  });
});

describe('sr830: reconnect', () => {
  it('settings reset by a power cycle while unplugged: the adapter stays in fault with the reason and sends nothing', async () => {
    const { emu, drv } = await rig('sr830', 'pty', { timeConstantS: 0.3, watchdogMs: 50 }); // power-on default: 0.1 s
    const faulted = waitState(drv, 'fault');
    await emu.unplug();
    await faulted;
    emu.powerCycle();
    const from = emu.log.length;
    const again = new Promise<void>((resolve) => {
      const sub = drv.state$.subscribe((s) => {
        if (s === 'fault' && drv.lastFault?.code === 'CONFIG') {
          sub.unsubscribe();
          resolve();
        }
      });
    });
    await emu.replug();
    await again;
    expect(drv.lastFault!.message).toMatch(/lock-in settings changed while disconnected/);
    expect(emu.mutatingSince(from)).toEqual([]);
  });
});
