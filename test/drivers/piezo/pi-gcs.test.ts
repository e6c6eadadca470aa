/**
 * The PI GCS adapter against the GCS emulator, over a real TCP socket and a
 * socat pseudo-terminal: every command round-trips, device errors are typed,
 * a late reply never answers a later question, garbage is a typed error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RealClock } from '../../../drivers/core/clock.js';
import { GarbageError, TimeoutError } from '../../../drivers/core/errors.js';
import { SimWorld } from '../../../drivers/core/world.js';
import type { Emulator } from '../../../drivers/core/io/emulator.js';
import { gcsTable, GCS_IDN, type GcsDevice } from '../../../drivers/piezo/pi-gcs/emulator.js';
import { PiGcsPiezo } from '../../../drivers/piezo/pi-gcs/driver.js';
import { startEmulator, waitFor, type Wire } from '../io/support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function rig(wire: Wire, table = gcsTable({ servoOnAtPowerUp: true }), extra: Record<string, unknown> = {}) {
  const { emu, address, cleanup } = await startEmulator(table, wire);
  const world = new SimWorld({ seed: 1, clock: new RealClock() });
  const drv = new PiGcsPiezo('stage', world.clock, { address, replyTimeoutMs: 300, watchdogMs: 0, pollMs: 0, ...extra }, world);
  cleanups.push(cleanup, () => drv.dispose());
  await drv.connect();
  return { emu, drv, world };
}

const dev = (emu: Emulator) => emu.dev as GcsDevice;

describe.each(['tcp', 'pty'] as const)('PI GCS adapter over %s', (wire) => {
  it('reads the controller back at connect and round-trips move, position, servo and halt', async () => {
    const { emu, drv } = await rig(wire);
    expect(drv.identity).toBe(GCS_IDN);
    expect(drv.rangeNm).toEqual([100_000, 100_000, 100_000]);
    expect(drv.maxVelocityNmPerMs).toBe(1000);
    expect(drv.servo).toEqual([true, true, true]);
    expect(drv.position()).toEqual([50_000, 50_000, 50_000]);
    // The connect sent queries only.
    expect(emu.log.filter((c) => c.mutating)).toEqual([]);

    const at = await drv.moveTo(10_000, 20_500, 99_999.5);
    expect(at).toEqual([10_000, 20_500, 99_999.5]);
    expect(emu.log.map((c) => c.command)).toContain('MOV 1 10.000000 2 20.500000 3 99.999500');
    expect(await drv.call('position', {})).toEqual([10_000, 20_500, 99_999.5]);
    // position() asks the controller: a change on the device side shows at once.
    dev(emu).axes['2']!.target = 42;
    expect(await drv.call('position', {})).toEqual([10_000, 42_000, 99_999.5]);

    expect(await drv.call('servo', { on: false })).toEqual({ servo: [false, false, false] });
    expect(dev(emu).axes['1']!.servo).toBe(false);
    await expect(drv.moveTo(1, 1, 1)).rejects.toMatchObject({ code: 'DEVICE', deviceCode: 5, message: expect.stringMatching(/error 5 \(servo off/) });
    await drv.call('servo', { on: true });
    await drv.call('halt', {});
    expect(emu.log.at(-2)!.command).toBe('HLT 1 2 3');
    expect(drv.state).toBe('ready');
  });

  it('out-of-range targets: refused before sending (nothing moves); a controller refusal (7) is OUT_OF_RANGE', async () => {
    const { emu, drv } = await rig(wire);
    const before = emu.log.length;
    await expect(drv.moveTo(-1, 0, 0)).rejects.toMatchObject({ code: 'OUT_OF_RANGE', message: expect.stringMatching(/x=-1 nm outside \[0, 100000\]/) });
    expect(emu.log.length).toBe(before);
    // The device's own limits can be narrower than what it reported (a soft limit changed since).
    dev(emu).max = 80;
    await expect(drv.moveTo(90_000, 0, 0)).rejects.toMatchObject({ code: 'OUT_OF_RANGE', deviceCode: 7 });
    expect(dev(emu).axes['1']!.target).toBe(50);
  });

  it('a reply arriving after its request timed out is never returned to a later request', async () => {
    const { emu, drv } = await rig(wire);
    emu.knobs.late = 1; // the next reply (POS? → 50 µm) is held back past the client's timeout
    await expect(drv.call('position', {})).rejects.toBeInstanceOf(TimeoutError);
    // The device moves on; the next question must get the new answer, not the held one.
    for (const a of Object.values(dev(emu).axes)) a.target = a.pos = 12.25;
    const late = waitFor(drv.link.events$, (e) => e.type === 'late');
    expect(await drv.call('position', {})).toEqual([12_250, 12_250, 12_250]);
    expect(await late).toEqual({ type: 'late', reply: '1=50\n2=50\n3=50' });
    expect(drv.link.lateReplies).toBe(1);
    expect(drv.state).toBe('ready');
  });

  it('garbage from the controller is a typed GarbageError, never a crash; the link resynchronises', async () => {
    const { emu, drv } = await rig(wire);
    emu.knobs.garbage = 1;
    await expect(drv.call('position', {})).rejects.toBeInstanceOf(GarbageError);
    const resync = waitFor(drv.link.events$, (e) => e.type === 'resync');
    expect(await drv.call('position', {})).toEqual([50_000, 50_000, 50_000]);
    await resync;
    expect(emu.log.at(-2)!.command).toBe('*IDN?');
  });

  it('hardware in the loop: the read-back position goes into the simulated world', async () => {
    const { drv, world } = await rig(wire, gcsTable({ servoOnAtPowerUp: true }), { hardwareInTheLoop: true });
    await drv.moveTo(1000, 2000, 3000);
    expect(world.state.focusNm).toEqual([1000, 2000, 3000]);
  });
});

describe('PI GCS adapter: connect', () => {
  it('servoOnConnect switches the servo on at the first connect only', async () => {
    const { emu, drv } = await rig('tcp', gcsTable({ servoOnAtPowerUp: false }), { servoOnConnect: true });
    expect(drv.servo).toEqual([true, true, true]);
    expect(emu.log.filter((c) => c.mutating).map((c) => c.command)).toEqual(['SVO 1 1 2 1 3 1']);
  });
});
