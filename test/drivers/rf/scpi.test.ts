/**
 * The SCPI rf adapter against the SCPI emulator in each dialect, over real
 * TCP and a socat pty: the command set round-trips, refusals are typed, a
 * late reply is never taken for a newer question, garbage is a typed error,
 * and after an unplug the output is never switched back on by itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RealClock } from '../../../drivers/core/clock.js';
import { GarbageError, TimeoutError } from '../../../drivers/core/errors.js';
import { SimWorld } from '../../../drivers/core/world.js';
import { ScpiRf } from '../../../drivers/rf/scpi/driver.js';
import { scpiTable, SCPI_IDN, type ScpiDevice } from '../../../drivers/rf/scpi/emulator.js';
import type { DialectName } from '../../../drivers/rf/scpi/dialects.js';
import { startEmulator, waitFor, waitState, type Wire } from '../io/support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function rig(dialect: DialectName, wire: Wire, extra: Record<string, unknown> = {}) {
  const { emu, address, cleanup } = await startEmulator(scpiTable(dialect), wire);
  const world = new SimWorld({ seed: 1, clock: new RealClock() });
  const drv = new ScpiRf('mw', world.clock, { address, dialect, replyTimeoutMs: 10_000, watchdogMs: 0, ...extra }, world);
  cleanups.push(cleanup, () => drv.dispose());
  await drv.connect();
  return { emu, drv, world, dev: () => emu.dev as ScpiDevice };
}

const P = (f: number) => ({ frequencyHz: f, bandwidthHz: 0, durationUs: 10, phaseDeg: 0 });

describe.each([
  ['rs', 'tcp'],
  ['keysight', 'pty'],
  ['sg384', 'tcp'],
  ['sg384', 'pty'],
] as const)('SCPI rf (%s) over %s', (dialect, wire) => {
  it('reads the source back at connect and round-trips cw, output, pulses, arm and disarm', async () => {
    const { emu, drv, dev } = await rig(dialect, wire, { powerDbm: -7 });
    expect(drv.device).toEqual({ identity: SCPI_IDN[dialect], frequencyHz: 1e9, powerDbm: -30, output: false });
    expect(emu.log.filter((c) => c.mutating)).toEqual([]);
    expect(await drv.call('cw', { frequencyHz: 2.87e9, powerDbm: -12 })).toMatchObject({ frequencyHz: 2.87e9, powerDbm: -12, output: false });
    await drv.setPulses([P(2.9e9)]);
    expect(dev().freq).toBe(2.9e9);
    expect(dev().pow).toBe(-7);
    await drv.arm();
    expect(dev().output).toBe(true);
    expect(drv.armed).toBe(true);
    expect(await drv.call('state', {})).toMatchObject({ output: true, frequencyHz: 2.9e9 });
    await drv.disarm();
    expect(dev().output).toBe(false);
    // A refused setting is a typed error from the error queue, and the queue is left empty.
    await expect(drv.call('cw', { frequencyHz: 2e9, powerDbm: 40 })).rejects.toMatchObject({ code: 'OUT_OF_RANGE', deviceCode: dialect === 'sg384' ? 222 : -222 });
    expect(dev().errors).toEqual([]);
    // Out of the configured limits: refused before anything is sent.
    const n = emu.log.length;
    await expect(drv.call('cw', { frequencyHz: 7e9 })).rejects.toMatchObject({ code: 'OUT_OF_RANGE', message: expect.stringMatching(/frequencyHz=7000000000 Hz outside/) });
    expect(emu.log.length).toBe(n);
  });

  it('a late reply is never returned to a later request; garbage is a GarbageError', async () => {
    const { emu, drv, dev } = await rig(dialect, wire);
    emu.knobs.late = 1; // FREQ? → 1e9 held back past the timeout
    drv.link.setReplyTimeout(50); // held until the next reply: this times out however slow the machine
    await expect(drv.call('state', {})).rejects.toBeInstanceOf(TimeoutError);
    drv.link.setReplyTimeout(10_000);
    dev().freq = 3.5e9;
    const late = waitFor(drv.link.events$, (e) => e.type === 'late');
    expect(await drv.call('state', {})).toMatchObject({ frequencyHz: 3.5e9 });
    expect((await late).type).toBe('late');
    emu.knobs.garbage = 1;
    await expect(drv.call('state', {})).rejects.toBeInstanceOf(GarbageError);
    expect(await drv.call('state', {})).toMatchObject({ frequencyHz: 3.5e9, output: false });
  });
});

describe('SCPI rf: list mode and unplug', () => {
  it('several pulses become list mode on R&S and Keysight; the SG384 refuses them by name', async () => {
    const { dev, drv } = await rig('keysight', 'tcp');
    await drv.setPulses([P(2.80e9), P(2.85e9), P(2.90e9)]);
    expect(dev()).toMatchObject({ list: [2.8e9, 2.85e9, 2.9e9], mode: 'LIST' });
    await drv.arm();
    await drv.trigger();
    expect(dev()).toMatchObject({ pulse: true, output: true, triggers: 1 });
    const sg = await rig('sg384', 'tcp');
    await expect(sg.drv.setPulses([P(2.8e9), P(2.9e9)])).rejects.toThrow("2 pulses need list mode, which dialect 'sg384' has not");
  });

  it('after an unplug and a power cycle the output stays off: the adapter reads it back and never re-enables it', async () => {
    // No watchdog: the idle port sees the hang-up by itself (a read of 0 bytes is an unplug, decision 1310).
    const { emu, drv, dev } = await rig('rs', 'pty', { watchdogMs: 0 });
    await drv.setPulses([P(2.9e9)]);
    await drv.arm();
    const faulted = waitState(drv, 'fault');
    await emu.unplug();
    await faulted;
    emu.powerCycle();
    const from = emu.log.length;
    const ready = waitState(drv, 'ready');
    await emu.replug();
    await ready;
    expect(emu.mutatingSince(from)).toEqual([]);
    expect(dev().output).toBe(false);
    expect(drv.armed).toBe(false);
    expect(drv.device.output).toBe(false);
  });
});
