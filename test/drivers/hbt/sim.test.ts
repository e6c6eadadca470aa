import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../drivers/core/clock.js';
import { DisconnectedError, TimeoutError } from '../../../drivers/core/errors.js';
import { SimWorld, type Measurement } from '../../../drivers/core/world.js';
import type { Payload } from '../../../drivers/core/frame.js';
import { binnedDeficit, expectedHistogram, mixtureG2Zero, mixtureWeights, threeLevelFromG0 } from '../../../drivers/hbt/model.js';
import { buildEmitterScene, emitterIntensities } from '../../../drivers/hbt/scene.js';
import { SimulatedHbt, type HbtSimSettings } from '../../../drivers/hbt/sim.js';
import { shapeVector } from '../../../pipelines/antibunching/shape.js';
import { shapeFixedFitter } from '../../../pipelines/antibunching/shape-fixed-ml.js';
import { hbtSimFactory } from '../../../drivers/hbt/index.js';

const Z = 50_000;
const ONE = { emitters: [{ xNm: 50_000, yNm: 50_000, brightnessCps: 1e5, g2zero: 0.25, t1Ns: 20, a2: 0.15, t2Ns: 300 }], backgroundCps: 4000 };

async function rig(scene: unknown, settings: HbtSimSettings = {}, seed = 3) {
  const clock = new VirtualClock();
  const world = new SimWorld({ seed, clock, scene: { emitters: scene } });
  const hbt = new SimulatedHbt('hbt0', world, settings);
  await hbt.connect();
  return { clock, world, hbt };
}

describe('simulated HBT correlator', () => {
  it('its long-integration histogram fits back to the g2(0) it was given (mixture with background)', async () => {
    const { world, hbt } = await rig(ONE);
    world.state.focusNm = [50_000, 50_000, Z];
    const m = await hbt.histogram(2_000_000); // 2000 s
    const e = ONE.emitters[0]!;
    const w = (e.brightnessCps / (e.brightnessCps + ONE.backgroundCps)) ** 2;
    const expected = 1 + w * (e.g2zero - 1);
    const fit = shapeFixedFitter(shapeVector({ t1Ns: e.t1Ns, t2Ns: e.t2Ns, bunchingRatio: e.a2 / (1 + e.a2 - e.g2zero) }, hbt.geometry)).fit(m.payload);
    expect(fit.events).toBeGreaterThan(20_000);
    expect(Math.abs(fit.g2 - expected)).toBeLessThan(3 * fit.std);
    expect(fit.std).toBeLessThan(0.03);
  });

  it('1 s histograms of an in-focus NV hold the paper\'s 1–61 events and 1e4–1e5 counts/s per detector', async () => {
    for (const b of [2.6e4, 2.2e5]) {
      const { world, hbt } = await rig({ emitters: [{ xNm: 0, yNm: 0, zNm: 0, brightnessCps: b, g2zero: 0.3, t1Ns: 20 }], backgroundCps: 0 });
      world.state.focusNm = [0, 0, 0];
      let events = 0;
      let counts = 0;
      for (let i = 0; i < 200; i++) {
        const m = await hbt.histogram(1000);
        events += m.fields!.events as number;
        counts += m.fields!.counts as number;
      }
      const perDetector = counts / 200 / 2;
      expect(perDetector).toBeGreaterThan(1e4);
      expect(perDetector).toBeLessThan(1.2e5);
      expect(events / 200).toBeGreaterThan(b < 1e5 ? 0.5 : 40);
      expect(events / 200).toBeLessThan(b < 1e5 ? 2 : 70);
    }
  });

  it('bin counts are Poisson: mean and variance agree with the model in every region of the histogram', async () => {
    const { world, hbt } = await rig(ONE);
    world.state.focusNm = [50_000, 50_000, Z];
    const n = 400;
    const bins = hbt.geometry.bins;
    const sum = new Float64Array(bins);
    const sq = new Float64Array(bins);
    for (let i = 0; i < n; i++) {
      const h = (await hbt.histogram(20_000)).payload; // 20 s: a few counts per bin
      for (let b = 0; b < bins; b++) {
        sum[b]! += h[b]!;
        sq[b]! += h[b]! * h[b]!;
      }
    }
    const e = ONE.emitters[0]!;
    const scene = buildEmitterScene(ONE, world.rng('x'));
    const I = emitterIntensities(scene, [50_000, 50_000, Z]);
    const total = I[0]! + ONE.backgroundCps;
    const lam = expectedHistogram(total / 2, total / 2, 20, [binnedDeficit(threeLevelFromG0(e.g2zero, e.t1Ns, e.a2, e.t2Ns), hbt.geometry)], mixtureWeights(I, ONE.backgroundCps), hbt.geometry, { efficiency: 0.01 });
    // Pool bins into regions (zero delay, shoulders, flat tails) so each test has power.
    for (const [lo, hi] of [[105, 110], [90, 105], [0, 40], [175, 215]] as const) {
      let m = 0;
      let v = 0;
      let l = 0;
      for (let b = lo; b < hi; b++) {
        const mean = sum[b]! / n;
        m += mean;
        v += sq[b]! / n - mean * mean;
        l += lam[b]!;
      }
      const k = hi - lo;
      // Mean within 4 standard errors; variance/mean (dispersion) within 15 % of 1.
      expect(Math.abs(m - l) / k).toBeLessThan(4 * Math.sqrt(l / k / (n * k)));
      expect(v / m).toBeGreaterThan(0.85);
      expect(v / m).toBeLessThan(1.15);
    }
  });

  it('count rates follow the Gaussian PSF as the focus moves (FWHM 300 nm) and drop out of focus', async () => {
    const { world, hbt } = await rig({ ...ONE, backgroundCps: 0 });
    const rate = async (dx: number, dz = 0) => {
      world.state.focusNm = [50_000 + dx, 50_000, Z + dz];
      return (await hbt.countRate(100_000)).payload[0]!;
    };
    const peak = await rate(0);
    expect(peak).toBeGreaterThan(0.98e5);
    expect(peak).toBeLessThan(1.02e5);
    const half = await rate(150); // HWHM
    expect(half / peak).toBeGreaterThan(0.48);
    expect(half / peak).toBeLessThan(0.52);
    expect((await rate(300)) / peak).toBeLessThan(0.08);
    expect((await rate(0, 600)) / peak).toBeGreaterThan(0.45); // at the Rayleigh range the peak halves
    expect((await rate(0, 600)) / peak).toBeLessThan(0.55);
  });

  it('two emitters: the measured g2(0) matches the analytic mixture formula', async () => {
    const two = {
      emitters: [
        { xNm: 49_875, yNm: 50_000, brightnessCps: 1e5, g2zero: 0.2, t1Ns: 25, a2: 0 },
        { xNm: 50_125, yNm: 50_000, brightnessCps: 6e4, g2zero: 0.5, t1Ns: 25, a2: 0 },
      ],
      backgroundCps: 3000,
    };
    const { world, hbt } = await rig(two);
    const focus: [number, number, number] = [49_950, 50_000, Z];
    world.state.focusNm = focus;
    const m = await hbt.histogram(2_000_000);
    const scene = buildEmitterScene(two, world.rng('x'));
    const w = mixtureWeights(emitterIntensities(scene, focus), two.backgroundCps);
    const expected = mixtureG2Zero(w, [0.2, 0.5]);
    // Analytic: 1 + Σ I_i²(g_i − 1)/(ΣI + B)², by hand.
    const I = emitterIntensities(scene, focus);
    const S = I[0]! + I[1]! + 3000;
    expect(expected).toBeCloseTo(1 + (I[0]! ** 2 * -0.8 + I[1]! ** 2 * -0.5) / S ** 2, 12);
    const fit = shapeFixedFitter(shapeVector({ t1Ns: 25, t2Ns: 300, bunchingRatio: 0 }, hbt.geometry)).fit(m.payload);
    expect(Math.abs(fit.g2 - expected)).toBeLessThan(3 * fit.std);
    expect(fit.std).toBeLessThan(0.03);
    // Neither emitter's own value: the mixture is what the histogram measures.
    expect(Math.abs(fit.g2 - 0.2)).toBeGreaterThan(0.1);
  });

  it('emits one histogram per integration window on the injected clock', async () => {
    const { clock, hbt } = await rig(ONE);
    const t0 = clock.now();
    for (let i = 0; i < 5; i++) await hbt.histogram(1000);
    expect(clock.now() - t0).toBe(5000);
  });

  it('honours fault settings: a disconnect mid-integration rejects with DisconnectedError, time-outs with TimeoutError', async () => {
    const a = await rig(ONE, { faults: { disconnectAtMs: 2500 } });
    await a.hbt.histogram(1000);
    await a.hbt.histogram(1000);
    await expect(a.hbt.histogram(1000)).rejects.toBeInstanceOf(DisconnectedError);
    expect(a.hbt.state).toBe('fault');
    const b = await rig(ONE, { faults: { timeoutAtOperation: 1, timeoutMs: 500 } });
    await b.hbt.histogram(1000);
    await expect(b.hbt.histogram(1000)).rejects.toBeInstanceOf(TimeoutError);
  });

  it('computes every measurement through world.measure (the replay seam)', async () => {
    class Replay extends SimWorld {
      streams: string[] = [];
      override measure<P extends Payload>(stream: string, compute: () => Measurement<P>): Measurement<P> {
        this.streams.push(stream);
        if (stream.endsWith('.histogram')) return { payload: new Uint32Array(215).fill(7) as unknown as P, fields: { events: 1505 } };
        return compute();
      }
    }
    const world = new Replay({ seed: 1, clock: new VirtualClock(), scene: { emitters: ONE } });
    const hbt = new SimulatedHbt('hbt0', world);
    await hbt.connect();
    const m = await hbt.histogram(1000);
    await hbt.countRate(10);
    expect(m.payload[100]).toBe(7);
    expect(world.streams).toEqual(['hbt0.histogram', 'hbt0.rate']);
  });

  it('rejects bad settings and arguments with errors naming them', async () => {
    const world = new SimWorld({ seed: 1, clock: new VirtualClock() });
    expect(() => new SimulatedHbt('hbt0', world, { efficiency: 2 })).toThrow(/hbt0.efficiency/);
    expect(() => new SimulatedHbt('hbt0', world, { zeroBin: 300 })).toThrow(/hbt0.zeroBin/);
    const { hbt } = await rig(ONE);
    await expect(hbt.histogram(-1)).rejects.toThrow(/integrationMs/);
    expect(() => buildEmitterScene({ psfFwhmNm: -3 }, world.rng('s'))).toThrow(/scene.emitters.psfFwhmNm/);
  });

  it('presets: the default is one emitter in a 775 nm, 32 px field; `pair` puts two emitters 250 nm apart', () => {
    const world = new SimWorld({ seed: 1, clock: new VirtualClock() });
    const single = buildEmitterScene(undefined, world.rng('a'));
    expect(single.emitters).toHaveLength(1);
    expect(single.field).toEqual({ centerNm: [50_000, 50_000], sizeNm: 775, pixels: 32 });
    expect(single.psfFwhmNm).toBe(300);
    const pair = buildEmitterScene({ preset: 'pair' }, world.rng('b'));
    expect(pair.emitters).toHaveLength(2);
    expect(Math.abs(pair.emitters[1]!.xNm - pair.emitters[0]!.xNm)).toBe(250);
    for (const e of [...single.emitters, ...pair.emitters]) {
      expect(e.g2zero).toBeGreaterThanOrEqual(0.1);
      expect(e.g2zero).toBeLessThanOrEqual(0.9);
      expect(e.t1Ns).toBeGreaterThanOrEqual(10);
      expect(e.t1Ns).toBeLessThanOrEqual(100);
    }
  });

  it('registers as kind hbt, impl sim, and builds through its factory', async () => {
    const world = new SimWorld({ seed: 1, clock: new VirtualClock() });
    const d = await hbtSimFactory.create('hbt0', { kind: 'hbt', impl: 'sim', efficiency: 0.02 }, { clock: world.clock, world });
    expect(d.kind).toBe('hbt');
    expect(Object.keys(d.commands)).toContain('histogram');
  });
});
