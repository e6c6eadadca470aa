import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../drivers/core/clock.js';
import { BusyError, DriverError } from '../../../drivers/core/errors.js';
import { SimWorld } from '../../../drivers/core/world.js';
import { SimulatedRf } from '../../../drivers/rf/sim.js';
import { SimulatedForce, type SpinVarianceSource } from '../../../drivers/force/sim.js';
import { inMinusOut } from '../../../drivers/force/interface.js';
import { noiseVariance, thermalVariance, varianceStandardErrors } from '../../../drivers/force/model.js';
import { createDefaultRegistry } from '../../../drivers/index.js';
import { Rng } from '../../../drivers/core/rng.js';

const PULSES = [0, 1, 2].map((i) => ({ frequencyHz: 130e6 + i * 1e6, bandwidthHz: 1e6, durationUs: 10, phaseDeg: 0 }));

async function rig(source?: SpinVarianceSource, seed = 5) {
  const clock = new VirtualClock();
  const world = new SimWorld({ seed, clock });
  world.state.focusNm = [100, 200, 300];
  const rf = new SimulatedRf('rf0', world);
  const force = new SimulatedForce('force0', world, { rf: 'rf0', sThAnPerRtHz: 10, bandwidthHz: 40, spinCorrelationMs: 20, ...(source ? { source } : {}) });
  await rf.connect();
  await force.connect();
  await rf.setPulses(PULSES);
  await rf.arm();
  return { clock, world, rf, force };
}

describe('simulated force sensor', () => {
  it('takes T_m of experiment time and reports pulse, position and the in-minus-out estimate', async () => {
    const seen: number[] = [];
    const { clock, force } = await rig((p, stage) => {
      seen.push(p.frequencyHz, ...stage);
      return 500;
    });
    const t0 = clock.now();
    const m = await force.measureVariance({ pulse: 1, Tm: 30 });
    expect(clock.now() - t0).toBe(30_000);
    expect(seen).toEqual([131e6, 100, 200, 300]);
    expect(m.fields).toMatchObject({ pulse: 1, Tm: 30, positionNm: [100, 200, 300] });
    const f = m.fields as { inVariance: number; outVariance: number };
    expect(m.payload[0]).toBeCloseTo(f.inVariance - f.outVariance, 9);
    expect(m.payload[1]).toBeGreaterThan(0);
  });

  it('estimates are unbiased with the standard error of Eq. 18 (n_f pulses share the out-of-phase estimate)', async () => {
    const spin = 2000;
    const { force } = await rig(() => spin);
    const th = thermalVariance(10, 40);
    const k = 30 / 0.02;
    const expected = varianceStandardErrors(spin, th, k, 3).se;
    const xs: number[] = [];
    const ses: number[] = [];
    for (let i = 0; i < 400; i++) {
      const m = await force.measureVariance({ pulse: i % 3, Tm: 30 });
      xs.push(m.payload[0]!);
      ses.push(m.payload[1]!);
    }
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    expect(Math.abs(mean - spin)).toBeLessThan((4 * expected) / Math.sqrt(xs.length));
    expect(sd / expected).toBeGreaterThan(0.85);
    expect(sd / expected).toBeLessThan(1.15);
    expect(ses.reduce((a, b) => a + b) / ses.length / expected).toBeCloseTo(1, 1);
    // Eq. 9 is Eq. 18 written as one root (equal up to the −1s).
    expect(noiseVariance(spin, th, k, 3) / expected).toBeCloseTo(1, 2);
  });

  it('refuses bad requests before any time passes, a pulse not in the table, and a second concurrent measurement', async () => {
    const { clock, force } = await rig(() => 0);
    await expect(force.measureVariance({ pulse: -1, Tm: 1 })).rejects.toThrow(/pulse: must be an integer/);
    await expect(force.measureVariance({ pulse: 0, Tm: 0 })).rejects.toThrow(/Tm: must be/);
    expect(clock.now()).toBe(0);
    await expect(force.measureVariance({ pulse: 3, Tm: 1 })).rejects.toThrow(DriverError);
    const first = force.measureVariance({ pulse: 0, Tm: 1 });
    await expect(force.measureVariance({ pulse: 0, Tm: 1 })).rejects.toThrow(BusyError);
    await first;
  });

  it('streams quadrature blocks to subscribers without changing the results', async () => {
    const a = await rig(() => 800, 9);
    const b = await rig(() => 800, 9);
    const blocks: number[][] = [];
    a.force.quadratures$.subscribe((f) => blocks.push(f.header.shape));
    const ma = await a.force.measureVariance({ pulse: 0, Tm: 2 });
    const mb = await b.force.measureVariance({ pulse: 0, Tm: 2 });
    expect(Array.from(ma.payload)).toEqual(Array.from(mb.payload));
    expect(blocks).toEqual([[200, 2]]);
  });

  it('inMinusOut recovers the spin variance from quadrature samples', () => {
    const rng = new Rng(4);
    const n = 20000;
    const x = Float64Array.from({ length: n }, () => Math.sqrt(1500) * rng.normal());
    const y = Float64Array.from({ length: n }, () => Math.sqrt(1000) * rng.normal());
    const r = inMinusOut(x, y, n);
    expect(Math.abs(r.variance - 500)).toBeLessThan(4 * r.standardError);
    expect(() => inMinusOut([1], [1], 2)).toThrow(/need ≥ 2/);
  });

  it('is built from config by the registry, with bad settings refused by name', async () => {
    const reg = createDefaultRegistry();
    const world = new SimWorld({ seed: 1, clock: new VirtualClock() });
    const drivers = await reg.build({ f: { kind: 'force', impl: 'sim', geometry: 'membrane' } }, { clock: world.clock, world });
    expect((drivers.get('f') as SimulatedForce).settings().geometry).toBe('membrane');
    await expect(reg.build({ g: { kind: 'force', impl: 'sim', q: -1 } }, { clock: world.clock, world })).rejects.toThrow(/g\.q: must be/);
  });
});

describe('rf inversion pulse table', () => {
  it('maps centre frequencies and half-width to pulses the generator accepts', async () => {
    const { inversionPulses, inversionHalfWidthHz } = await import('../../../drivers/rf/rf.js');
    const t = inversionPulses([120e6, 121e6], 250e3, 5);
    expect(t.map((p) => [p.frequencyHz, inversionHalfWidthHz(p)])).toEqual([[120e6, 250e3], [121e6, 250e3]]);
    expect(() => inversionPulses([1e6, -1], 1e3)).toThrow(/f0Hz\[1\]/);
    const { rf } = await rig();
    await rf.disarm();
    await rf.setPulses(inversionPulses(Array.from({ length: 46 }, (_, i) => 110e6 + i * 0.5e6), 250e3));
    expect(rf.pulses()).toHaveLength(46);
  });
});
