import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../drivers/core/clock.js';
import { BusyError, DisconnectedError, OutOfRangeError } from '../../../drivers/core/errors.js';
import { SimWorld, type Measurement } from '../../../drivers/core/world.js';
import type { Payload } from '../../../drivers/core/frame.js';
import { aliasHz, COSY_GRID, gridTimesS, hyperfineParallelHz, larmorHz, readoutStd, spinSystem, DEFAULT_DIMER, DEFAULT_COSY_PARAMS } from '../../../drivers/odmr/physics.js';
import { SimulatedOdmr } from '../../../drivers/odmr/sim.js';
import { SimulatedRf } from '../../../drivers/rf/sim.js';
import { NotArmedError } from '../../../drivers/rf/rf.js';
import { createDefaultRegistry } from '../../../drivers/index.js';

const STEP_S = COSY_GRID.stepUs * 1e-6;
const MIXING = { frequencyHz: 1.69e6, bandwidthHz: 40e3, durationUs: 150, phaseDeg: 0 };

async function rig(scene: Record<string, unknown> = {}, odmrOpts = {}) {
  const clock = new VirtualClock();
  const world = new SimWorld({ seed: 3, clock, scene });
  const rf = new SimulatedRf('rf0', world);
  const odmr = new SimulatedOdmr('odmr0', world, { rf: 'rf0', ...odmrOpts });
  await rf.connect();
  await odmr.connect();
  await rf.setPulses([MIXING]);
  await rf.arm();
  return { clock, world, rf, odmr };
}

async function fullMap(odmr: SimulatedOdmr, n = COSY_GRID.n): Promise<Float64Array> {
  const t = gridTimesS(n);
  const map = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) map[i * n + j] = (await odmr.correlation({ t1Us: t[i]! * 1e6, t2Us: t[j]! * 1e6 })).payload[0]!;
  return map;
}

/** |DTFT| of the mean-free map at (f1, f2) in Hz. */
function dtft(map: Float64Array, n: number, f1: number, f2: number): number {
  const t = gridTimesS(n);
  let mean = 0;
  for (const v of map) mean += v;
  mean /= map.length;
  const r1 = new Float64Array(n), i1 = new Float64Array(n), r2 = new Float64Array(n), i2 = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    r1[k] = Math.cos(2 * Math.PI * f1 * t[k]!); i1[k] = -Math.sin(2 * Math.PI * f1 * t[k]!);
    r2[k] = Math.cos(2 * Math.PI * f2 * t[k]!); i2[k] = -Math.sin(2 * Math.PI * f2 * t[k]!);
  }
  let re = 0, im = 0;
  for (let i = 0; i < n; i++) {
    let rowRe = 0, rowIm = 0;
    for (let j = 0; j < n; j++) {
      const v = map[i * n + j]! - mean;
      rowRe += v * r2[j]!;
      rowIm += v * i2[j]!;
    }
    re += rowRe * r1[i]! - rowIm * i1[i]!;
    im += rowRe * i1[i]! + rowIm * r1[i]!;
  }
  return Math.hypot(re, im);
}

/** Position (Hz) of the largest |DTFT| on the diagonal f1 = f2 within [lo, hi]. */
function diagonalPeak(map: Float64Array, lo: number, hi: number, step = 50): number {
  let best = -1, at = lo;
  for (let f = lo; f <= hi; f += step) {
    const a = dtft(map, COSY_GRID.n, f, f);
    if (a > best) [best, at] = [a, f];
  }
  return at;
}

describe('ODMR simulator physics', () => {
  it('puts the default dimer lines where the Hamiltonian does: f_L − a∥, aliased to 21.9 and 23.5 kHz', () => {
    const sys = spinSystem(DEFAULT_DIMER);
    const fL = larmorHz(0.158);
    expect(fL).toBeCloseTo(1.6919e6, -2);
    sys.frequenciesHz.forEach((f, k) => expect(f).toBeCloseTo(fL - hyperfineParallelHz(DEFAULT_DIMER[k]!.positionNm), 6));
    const aliased = sys.frequenciesHz.map((f) => aliasHz(f, STEP_S));
    expect(aliased[0]).toBeCloseTo(21_900, -2);
    expect(aliased[1]).toBeCloseTo(23_500, -2);
    expect(Math.abs(sys.couplingsHz[0]![1]!)).toBeGreaterThan(100);
  });

  it('the fully sampled spectrum peaks at the aliased lines (default dimer, diagonal and cross peaks)', async () => {
    const { odmr } = await rig();
    const map = await fullMap(odmr);
    const [fa, fb] = odmr.spinSystem().frequenciesHz.map((f) => aliasHz(f, STEP_S)) as [number, number];
    // Strongest diagonal response near each line, within the 50 Hz search step and a fraction of the 1.1 kHz resolution.
    expect(Math.abs(diagonalPeak(map, fa - 800, (fa + fb) / 2) - fa)).toBeLessThan(300);
    expect(Math.abs(diagonalPeak(map, (fa + fb) / 2, fb + 800) - fb)).toBeLessThan(300);
    // Nothing comparable far from the lines (blank region around 8 kHz).
    expect(dtft(map, 50, fa, fa)).toBeGreaterThan(5 * dtft(map, 50, 8000, 8000));
    // The coupling transfers coherence: a cross peak well above the blank level.
    expect(dtft(map, 50, fa, fb)).toBeGreaterThan(3 * dtft(map, 50, 8000, 12_000));
  });

  it('aliasing: a line above the Nyquist band of a cluster lands at |f − round(f/fs)·fs| in the spectrum', async () => {
    // One nucleus straight above the NV at 1.5 nm: a∥ = −2K/r³ ≈ −11.8 kHz → f = f_L + 11.8 kHz aliases to 27.8 − ... kHz.
    const pos: [number, number, number] = [0, 0, 1.5];
    const { odmr } = await rig({ nuclei: { positionsNm: [pos] } }, { readout: { readouts: 1_500_000 } });
    const f = odmr.spinSystem().frequenciesHz[0]!;
    const expected = aliasHz(f, STEP_S);
    expect(f - larmorHz(0.158)).toBeGreaterThan(10_000);
    expect(expected).toBeLessThan(27_800);
    const map = await fullMap(odmr);
    expect(Math.abs(diagonalPeak(map, 0, 27_750, 100) - expected)).toBeLessThan(300);
  });

  it('readout noise has the size the photon and projection statistics give', async () => {
    const { odmr } = await rig();
    const t = { t1Us: 22, t2Us: 40 };
    const n = 400;
    const xs: number[] = [];
    for (let k = 0; k < n; k++) xs.push((await odmr.correlation(t)).payload[0]!);
    const mean = xs.reduce((a, b) => a + b) / n;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    const { cosySignal } = await import('../../../drivers/odmr/physics.js');
    const p0 = 0.5 * (1 + DEFAULT_COSY_PARAMS.contrast * cosySignal(odmr.spinSystem(), 22e-6, 40e-6, DEFAULT_COSY_PARAMS.t2CoherenceS));
    const expected = readoutStd(p0, odmr.readout);
    expect(expected).toBeGreaterThan(0.03); // photon shot noise dominates: ~0.046
    expect(sd / expected).toBeGreaterThan(0.85);
    expect(sd / expected).toBeLessThan(1.15);
    expect(Math.abs(mean - p0)).toBeLessThan((4 * expected) / Math.sqrt(n));
  });

  it('without an armed mixing pulse there is no coherence transfer (free precession through t1 + t2)', async () => {
    const { odmr, rf } = await rig({}, { readout: { readouts: 1e9 } });
    const a = await odmr.correlation({ t1Us: 100, t2Us: 200 });
    await rf.disarm();
    const b = await odmr.correlation({ t1Us: 100, t2Us: 200 });
    const c = await odmr.correlation({ t1Us: 200, t2Us: 100 });
    expect(a.fields!.mixing).toBe(true);
    expect(b.fields!.mixing).toBe(false);
    expect(Math.abs(b.payload[0]! - c.payload[0]!)).toBeLessThan(1e-3); // depends on t1 + t2 only
    expect(Math.abs(a.payload[0]! - b.payload[0]!)).toBeGreaterThan(1e-3);
  });

  it('each point takes readouts × (overhead + t1 + t2) of experiment time', async () => {
    const { odmr, clock } = await rig();
    const t0 = clock.now();
    await odmr.correlation({ t1Us: 100, t2Us: 30, readouts: 1000 });
    expect(clock.now() - t0).toBeCloseTo((1000 * (170 + 130)) / 1000, 6);
  });
});

describe('ODMR and rf drivers: errors, faults, seam, registry', () => {
  it('refuses out-of-range evolution times with OutOfRangeError naming the argument', async () => {
    const { odmr } = await rig();
    await expect(odmr.correlation({ t1Us: -1, t2Us: 4 })).rejects.toThrow(OutOfRangeError);
    await expect(odmr.correlation({ t1Us: 4, t2Us: 1e6 })).rejects.toThrow(/t2Us/);
  });

  it('an injected disconnect fails the pending point with DisconnectedError and a fault state', async () => {
    const clock = new VirtualClock();
    const world = new SimWorld({ seed: 1, clock });
    const odmr = new SimulatedOdmr('odmr0', world, { faults: { disconnectAtMs: 50 } });
    await odmr.connect();
    await expect(odmr.correlation({ t1Us: 4, t2Us: 4 })).rejects.toBeInstanceOf(DisconnectedError);
    expect(odmr.state).toBe('fault');
  });

  it('computes measurements through world.measure (the replay seam)', async () => {
    const clock = new VirtualClock();
    class Recorded extends SimWorld {
      streams: string[] = [];
      override measure<P extends Payload>(stream: string): Measurement<P> {
        this.streams.push(stream);
        return { payload: new Float64Array([0.123]) as unknown as P, shape: [1] };
      }
    }
    const world = new Recorded({ seed: 1, clock });
    const odmr = new SimulatedOdmr('odmr0', world);
    await odmr.connect();
    expect((await odmr.correlation({ t1Us: 4, t2Us: 4 })).payload[0]).toBe(0.123);
    expect(world.streams).toEqual(['odmr0.population']);
  });

  it('rf: range checks, busy while armed, trigger needs arm, table written into the world', async () => {
    const clock = new VirtualClock();
    const world = new SimWorld({ seed: 1, clock });
    const rf = new SimulatedRf('rf0', world, { limits: { frequencyHz: [1e3, 10e6] } });
    await rf.connect();
    await expect(rf.setPulses([{ ...MIXING, frequencyHz: 20e6 }])).rejects.toThrow(/pulses\[0\]\.frequencyHz=20000000 Hz outside/);
    await expect(rf.call('setPulses', { pulses: [{ ...MIXING, durationUs: 'x' }] })).rejects.toThrow(/durationUs: must be a finite number/);
    await expect(rf.trigger()).rejects.toBeInstanceOf(NotArmedError);
    await expect(rf.arm()).rejects.toThrow(/empty/);
    await rf.setPulses([MIXING, { ...MIXING, phaseDeg: 450 }]);
    expect(rf.pulses()[1]!.phaseDeg).toBe(90);
    await rf.arm();
    await expect(rf.setPulses([MIXING])).rejects.toBeInstanceOf(BusyError);
    const t0 = clock.now();
    await rf.trigger();
    expect(clock.now() - t0).toBeCloseTo(0.3, 9);
    expect(world.state.rfTables).toMatchObject({ rf0: { armed: true, triggers: 1, pulses: [{ frequencyHz: 1.69e6 }, { phaseDeg: 90 }] } });
    await rf.disconnect();
    expect((world.state.rfTables as Record<string, { armed: boolean }>).rf0!.armed).toBe(false);
  });

  it('both kinds are registered and build from config', async () => {
    const reg = createDefaultRegistry();
    const clock = new VirtualClock();
    const world = new SimWorld({ seed: 1, clock });
    const drivers = await reg.build({ rf0: { kind: 'rf', impl: 'sim' }, odmr0: { kind: 'odmr', impl: 'sim', rf: 'rf0' } }, { clock, world });
    expect([...drivers.values()].map((d) => d.kind)).toEqual(['rf', 'odmr']);
  });
});
