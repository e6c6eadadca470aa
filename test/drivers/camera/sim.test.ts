import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../drivers/core/clock.js';
import { SimWorld } from '../../../drivers/core/world.js';
import { SimulatedCamera, type CameraSimSettings } from '../../../drivers/camera/sim.js';
import { blurSample, gaussianKernel2d } from '../../../drivers/camera/imaging.js';
import { cameraSimFactory } from '../../../drivers/camera/index.js';
import { createDefaultRegistry } from '../../../drivers/index.js';
import type { Frame } from '../../../drivers/core/frame.js';

async function rig(settings: CameraSimSettings = {}, scene: unknown = { preset: 'cycloid', periodHr: 32, sizeHr: 128 }, seed = 5) {
  const clock = new VirtualClock();
  const world = new SimWorld({ seed, clock, scene: { magnetic: scene } });
  const cam = new SimulatedCamera('cam0', world, settings);
  await cam.connect();
  return { clock, world, cam };
}

describe('camera imaging model', () => {
  it('blurSample equals an explicit periodic 23×23 Gaussian convolution followed by a stride', () => {
    const n = 24, C = 2, f = 4;
    const data = new Float64Array(n * n * C).map((_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.11));
    const K = gaussianKernel2d();
    const got = blurSample({ data, rows: n, cols: n, channels: C }, 3, 5, f, 6, 6);
    for (const [a, b, c] of [[0, 0, 0], [2, 5, 1], [5, 3, 0]] as const) {
      let s = 0;
      for (let i = 0; i < 23; i++) for (let j = 0; j < 23; j++) {
        const r = (((3 + a * f + i - 11) % n) + n) % n, q = (((5 + b * f + j - 11) % n) + n) % n;
        s += K[i * 23 + j]! * data[(r * n + q) * C + c]!;
      }
      expect(got[(a * 6 + b) * C + c]).toBeCloseTo(s, 12);
    }
  });
});

describe('simulated camera', () => {
  it('Kerr frames: header fields, shape [rows, cols, 1], and the calibration recovers blurred S_z', async () => {
    const { cam, world } = await rig({ mode: 'kerr', illuminationNonUniformity: 0, readNoise: 0 });
    world.state.focusNm = [50_000, 50_000, 0];
    const seen: Frame[] = [];
    cam.frames$.subscribe((f) => seen.push(f));
    const m = await cam.snap({ exposureMs: 1000 });
    expect(m.shape).toEqual([16, 16, 1]);
    expect(m.fields).toMatchObject({ mode: 'kerr', components: ['Sz'], exposureMs: 1000, pixelSizeNm: 80, binning: 1, roi: { x: 120, y: 120, width: 16, height: 16 }, stageNm: [50_000, 50_000, 0] });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.header).toMatchObject({ stream: 'cam0.frame', seq: 0, dtype: 'f32', shape: [16, 16, 1] });
    const { offset, gain } = m.fields!.calibration as { offset: number; gain: number };
    const sz = Array.from(m.payload, (v) => (v - offset) / gain);
    // A 32-site cycloid sampled every 8 sites: S_z swings between about ±1 along x, constant along y.
    expect(Math.max(...sz)).toBeGreaterThan(0.6);
    expect(Math.min(...sz)).toBeLessThan(-0.6);
    for (let b = 0; b < 16; b++) expect(Math.abs(sz[b]! - sz[5 * 16 + b]!)).toBeLessThan(0.3);
  });

  it('noise falls with exposure; SPLEEM frames carry three components', async () => {
    const spread = async (ms: number) => {
      const { cam } = await rig({ mode: 'spleem' }, { preset: 'cycloid', periodHr: 1e9, sizeHr: 64 });
      const m = await cam.snap({ exposureMs: ms });
      expect(m.shape).toEqual([16, 16, 3]);
      expect(m.fields!.components).toEqual(['Sx', 'Sy', 'Sz']);
      const sx = Array.from(m.payload).filter((_, i) => i % 3 === 1); // S_y = 0 everywhere
      return Math.sqrt(sx.reduce((s, v) => s + v * v, 0) / sx.length);
    };
    const lo = await spread(100), hi = await spread(1);
    expect(hi / lo).toBeGreaterThan(5);
  });

  it('refuses a bad ROI by name and an exposure ≤ 0; the same seed gives the same frame', async () => {
    const { cam } = await rig();
    await expect(cam.configure({ x: 250, y: 0, width: 16, height: 16 })).rejects.toThrow(/leave the sensor/);
    await expect(cam.configure({ x: 0, y: 0, width: 15, height: 16 }, 2)).rejects.toThrow(/multiple of binning/);
    await expect(cam.snap({ exposureMs: 0 })).rejects.toThrow(/exposureMs/);
    await cam.configure({ x: 0, y: 0, width: 32, height: 32 }, 2);
    const a = await cam.snap({ exposureMs: 10 });
    expect(a.shape).toEqual([16, 16, 1]);
    expect(a.fields!.pixelSizeNm).toBe(160);
    const b = await (await rig()).cam.snap({ exposureMs: 10 });
    const c = await (await rig()).cam.snap({ exposureMs: 10 });
    expect(Buffer.from(b.payload.buffer).equals(Buffer.from(c.payload.buffer))).toBe(true);
  });

  it('the annealed preset images a texture from the native annealer (built at the first snap, seeded by the world)', async () => {
    const scene = { preset: 'annealed', type: 2, sizeHr: 32, sweeps: 60 };
    const a = await (await rig({ mode: 'spleem', roi: [124, 124, 4, 4] }, scene, 9)).cam.snap({ exposureMs: 1e6 });
    const b = await (await rig({ mode: 'spleem', roi: [124, 124, 4, 4] }, scene, 9)).cam.snap({ exposureMs: 1e6 });
    expect(a.shape).toEqual([4, 4, 3]);
    expect(Array.from(a.payload)).toEqual(Array.from(b.payload));
    // Up/down domains: blurred S_z of both signs.
    const sz = Array.from(a.payload).filter((_, i) => i % 3 === 2);
    expect(Math.max(...sz.map(Math.abs))).toBeGreaterThan(0.5);
  });

  it('the registry builds it from config', async () => {
    const reg = createDefaultRegistry();
    expect(reg.get('camera', 'sim')).toBe(cameraSimFactory);
    const clock = new VirtualClock();
    const world = new SimWorld({ seed: 1, clock });
    const d = await reg.build({ cam0: { kind: 'camera', impl: 'sim', mode: 'spleem' } }, { clock, world });
    expect(d.get('cam0')!.kind).toBe('camera');
  });
});
