/**
 * The `impl: bridge` camera and force sensor against the Node test bridge:
 * the camera gives the simulator's frames when the bridge serves a
 * simulated camera's recording; the force sensor computes the in-minus-out
 * variance from the lock-in samples the bridge delivers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../drivers/core/clock.js';
import { SimWorld } from '../../../drivers/core/world.js';
import type { Frame } from '../../../drivers/core/frame.js';
import type { Driver } from '../../../drivers/core/driver.js';
import { SimulatedCamera } from '../../../drivers/camera/sim.js';
import { BridgeCamera } from '../../../drivers/camera/bridge.js';
import { BridgeForce } from '../../../drivers/force/bridge.js';
import { inMinusOut, DEFAULT_FORCE_SETTINGS } from '../../../drivers/force/interface.js';
import { createDefaultRegistry } from '../../../drivers/index.js';
// @ts-expect-error -- plain JS test support module
import { startTestBridge } from '../../support/test-bridge.mjs';

type TestBridge = { control: string; log: string[]; close(): Promise<void> };
const open: (TestBridge | Driver)[] = [];
afterEach(async () => {
  for (const x of open.splice(0)) 'disconnect' in x ? await x.disconnect() : await x.close();
});
async function bridge(recording: unknown): Promise<TestBridge> {
  const b = (await startTestBridge({ recording })) as TestBridge;
  open.push(b);
  return b;
}
const plainFrame = (f: Frame) => ({ header: f.header, payload: Array.from(f.payload as Float32Array) });

describe('impl: bridge camera', () => {
  it('snaps the frames a simulated camera recorded, with the same headers, and emits them on frames$', async () => {
    const world = new SimWorld({ seed: 4, clock: new VirtualClock(), scene: { magnetic: { preset: 'cycloid', periodHr: 32, sizeHr: 128 } } });
    const sim = new SimulatedCamera('cam0', world, { mode: 'spleem', roi: [120, 120, 8, 8], binning: 2 });
    await sim.connect();
    const simFrames: Frame[] = [];
    sim.frames$.subscribe((f) => simFrames.push(f));
    const shots = [];
    for (const ms of [1, 5, 20]) shots.push(await sim.snap({ exposureMs: ms }));
    const info = { mode: sim.mode, sensor: sim.sensor, roi: sim.roi, binning: sim.binning };
    const b = await bridge({
      instruments: [{ id: 'genicam0', kind: 'camera', static: { info }, streams: { snap: shots.map((m) => ({ dtype: 'f32', shape: m.shape, data: Array.from(m.payload), fields: m.fields })) } }],
    });
    const clock = new VirtualClock();
    const cam = new BridgeCamera('cam0', clock, { endpoint: b.control, heartbeatMs: 200 });
    open.push(cam);
    await cam.connect();
    expect([cam.mode, cam.components, cam.sensor, cam.roi, cam.binning]).toEqual([sim.mode, sim.components, sim.sensor, sim.roi, sim.binning]);
    const got: Frame[] = [];
    cam.frames$.subscribe((f) => got.push(f));
    for (const [i, ms] of [1, 5, 20].entries()) {
      const m = await cam.snap({ exposureMs: ms });
      expect(Array.from(m.payload)).toEqual(Array.from(shots[i]!.payload));
      expect(m.fields).toEqual(shots[i]!.fields);
      expect(m.shape).toEqual([4, 4, 3]);
    }
    expect(clock.now()).toBe(26);
    expect(got.map(plainFrame)).toEqual(simFrames.map(plainFrame));
  });

  it('configure checks the ROI locally, then reads it back from the bridge and refuses a camera that did not apply it', async () => {
    const info = { mode: 'kerr', sensor: { width: 64, height: 64, pixelSizeNm: 80 }, roi: { x: 0, y: 0, width: 16, height: 16 }, binning: 1 };
    const b = await bridge({ instruments: [{ id: 'genicam0', kind: 'camera', static: { info, configure: {} } }] });
    const cam = new BridgeCamera('cam0', new VirtualClock(), { endpoint: b.control, heartbeatMs: 200 });
    open.push(cam);
    await cam.connect();
    await expect(cam.configure({ x: 60, y: 0, width: 8, height: 8 })).rejects.toThrow(/cam0: roi: columns 60..67 leave the sensor \(width 64\)/);
    expect(b.log).not.toContain('configure');
    await expect(cam.configure({ x: 8, y: 8, width: 8, height: 8 }, 2)).rejects.toThrow(/camera reads back ROI \{"x":0,"y":0,"width":16,"height":16\} binning 1, asked for/);
    expect(b.log.filter((m) => m === 'configure')).toHaveLength(1);
  });
});

describe('impl: bridge force sensor (lock-in)', () => {
  it('measureVariance: the in-minus-out variance of the samples the bridge delivers, over T_m of experiment time', async () => {
    const n = 50;
    const xy = Array.from({ length: 2 * n }, (_, i) => Math.sin(i * 1.7) * (i % 2 === 0 ? 3 : 1));
    const b = await bridge({ instruments: [{ id: 'mfli0', kind: 'force', static: { settings: DEFAULT_FORCE_SETTINGS }, streams: { quadratures: [{ dtype: 'f64', shape: [n, 2], data: xy, fields: { rateHz: 100 } }] } }] });
    const clock = new VirtualClock();
    const world = new SimWorld({ seed: 1, clock });
    world.state.focusNm = [1, 2, 3];
    const force = new BridgeForce('force0', clock, { endpoint: b.control, heartbeatMs: 200, spinCorrelationMs: 10 }, world);
    open.push(force);
    await force.connect();
    expect(force.settings()).toEqual(DEFAULT_FORCE_SETTINGS);
    const blocks: Frame[] = [];
    force.quadratures$.subscribe((f) => blocks.push(f));
    await expect(force.measureVariance({ pulse: -1, Tm: 0.5 })).rejects.toThrow(/pulse: must be an integer ≥ 0/);
    const m = await force.measureVariance({ pulse: 3, Tm: 0.5 });
    const x = xy.filter((_, i) => i % 2 === 0);
    const y = xy.filter((_, i) => i % 2 === 1);
    const ref = inMinusOut(x, y, 0.5 / 0.01);
    expect(Array.from(m.payload)).toEqual([ref.variance, ref.standardError]);
    expect(m.fields).toEqual({ pulse: 3, Tm: 0.5, inVariance: ref.inVariance, outVariance: ref.outVariance, samples: n, positionNm: [1, 2, 3] });
    expect(ref.variance).toBeGreaterThan(0);
    expect(clock.now()).toBe(500);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.header).toMatchObject({ stream: 'force0.quadratures', seq: 0, shape: [n, 2], rateHz: 100, pulse: 3 });
  });

  it('the registry builds impl: bridge for hbt, camera and force from config', () => {
    const reg = createDefaultRegistry();
    for (const kind of ['hbt', 'camera', 'force']) expect(reg.get(kind, 'bridge')?.schema).toMatchObject({ required: ['kind', 'impl', 'endpoint'] });
  });
});
