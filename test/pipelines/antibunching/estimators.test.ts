import { describe, expect, it } from 'vitest';
import { Rng } from '../../../drivers/core/rng.js';
import { PAPER_GEOMETRY as G, binnedDeficit, expectedHistogram, samplePoissonHistogram, threeLevelFromG0 } from '../../../drivers/hbt/model.js';
import { crbNumeric, crbShapeKnown } from '../../../pipelines/antibunching/crb.js';
import { deficitOls } from '../../../pipelines/antibunching/scan.js';
import { shapeVector } from '../../../pipelines/antibunching/shape.js';
import { shapeFixedFitter } from '../../../pipelines/antibunching/shape-fixed-ml.js';
import { fitThreeLevel, threeLevelModel } from '../../../pipelines/antibunching/three-level-fit.js';

const TRUE = { g0: 0.3, t1: 20, a2: 0.2, t2: 300 };
const p = threeLevelFromG0(TRUE.g0, TRUE.t1, TRUE.a2, TRUE.t2);
const v = shapeVector({ t1Ns: TRUE.t1, t2Ns: TRUE.t2, bunchingRatio: p.a2 / p.a1 }, G);

/** Expected histogram holding `events` coincidences on average. */
function expected(events: number): Float64Array {
  const lam = expectedHistogram(1, 1, 1, [binnedDeficit(p, G)], [1], G, { efficiency: 1 });
  const s = lam.reduce((a, b) => a + b, 0);
  return lam.map((x) => (x * events) / s);
}

function spread(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, sd: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) };
}

describe('g2(0) estimators', () => {
  it('the shape-known CRB matches the rule of thumb σ ≈ √(((1+g0)/2)·T_w/(N·t1)) within 15 %', () => {
    for (const events of [65, 1000, 65_000]) {
      const A = expected(events)[0]! / (1 - (1 - TRUE.g0) * v[0]!);
      const crb = crbShapeKnown(v, TRUE.g0, A);
      const thumb = Math.sqrt((((1 + TRUE.g0) / 2) * 500) / (events * TRUE.t1));
      expect(crb / thumb).toBeGreaterThan(0.85);
      expect(crb / thumb).toBeLessThan(1.15);
    }
  });

  it('shape-fixed Poisson ML recovers g2(0) on a dense histogram, within its reported σ', () => {
    const h = samplePoissonHistogram(new Rng(1), expected(200_000), new Float64Array(G.bins));
    const e = shapeFixedFitter(v).fit(h);
    expect(Math.abs(e.g2 - TRUE.g0)).toBeLessThan(3 * e.std);
    expect(e.std).toBeLessThan(0.01);
    expect(e.std).toBe(e.crb);
  });

  it('shape-fixed ML: spread over repeated sparse histograms is within 1.2× of the CRB at ≥ 1000 events', () => {
    const rng = new Rng(2);
    const lam = expected(1000);
    const fit = shapeFixedFitter(v);
    const xs = Array.from({ length: 400 }, () => fit.fit(samplePoissonHistogram(rng, lam, new Float64Array(G.bins))).g2);
    const s = spread(xs);
    const crb = crbShapeKnown(v, TRUE.g0, lam[0]! / (1 - (1 - TRUE.g0) * v[0]!));
    expect(s.sd / crb).toBeLessThan(1.2);
    expect(s.sd / crb).toBeGreaterThan(0.85);
    expect(Math.abs(s.mean - TRUE.g0)).toBeLessThan(0.03);
  });

  it('LM (full three-level model) recovers all parameters on a dense histogram', () => {
    const h = samplePoissonHistogram(new Rng(3), expected(3e6), new Float64Array(G.bins));
    const f = fitThreeLevel(h, G);
    expect(Math.abs(f.g2 - TRUE.g0)).toBeLessThan(Math.max(3 * f.std, 0.02));
    expect(f.theta[2]).toBeGreaterThan(TRUE.t1 * 0.9);
    expect(f.theta[2]).toBeLessThan(TRUE.t1 * 1.1);
    // t2 trades off against a2 and the scale (the bunching outlasts the window): judge it by its own bound.
    const lam = expected(3e6);
    const theta = [lam[G.bins - 1]! / (1 + p.a2 * Math.exp(-250 / TRUE.t2)), TRUE.g0, TRUE.t1, TRUE.a2, TRUE.t2 / TRUE.t1];
    const sdT2 = crbNumeric(threeLevelModel(G), theta, G.bins, 4) * TRUE.t1;
    expect(Math.abs(f.theta[4]! - TRUE.t2)).toBeLessThan(3 * sdT2);
    expect(Number.isFinite(f.std)).toBe(true);
  });

  it('LM: spread over repeated histograms is close to the full-model CRB (its own bound), far above the shape-known one', () => {
    const rng = new Rng(4);
    const lam = expected(65_000);
    const xs = Array.from({ length: 40 }, () => fitThreeLevel(samplePoissonHistogram(rng, lam, new Float64Array(G.bins)), G).g2);
    const s = spread(xs);
    const A = lam[0]! / (1 - (1 - TRUE.g0) * v[0]!) / (1 + p.a2 * 0) ;
    const theta = [lam[G.bins - 1]! / (1 + p.a2 * Math.exp(-250 / TRUE.t2)), TRUE.g0, TRUE.t1, TRUE.a2, TRUE.t2 / TRUE.t1];
    const full = crbNumeric(threeLevelModel(G), theta, G.bins, 1);
    expect(s.sd / full).toBeGreaterThan(0.5);
    expect(s.sd / full).toBeLessThan(1.6);
    expect(full).toBeGreaterThan(3 * crbShapeKnown(v, TRUE.g0, A));
  });

  it('the linear deficit estimator is unbiased even at a few events per histogram', () => {
    const rng = new Rng(5);
    const lam = expected(20);
    const ols = deficitOls(v);
    const truth = ols(lam).beta;
    const xs = Array.from({ length: 4000 }, () => ols(samplePoissonHistogram(rng, lam, new Float64Array(G.bins))).beta);
    const s = spread(xs);
    expect(Math.abs(s.mean - truth)).toBeLessThan(4 * (s.sd / Math.sqrt(xs.length)));
  });

  it('no events: g2 = 1 with infinite uncertainty; bad input is named', () => {
    const e = shapeFixedFitter(v).fit(new Float64Array(G.bins));
    expect(e.g2).toBe(1);
    expect(e.std).toBe(Infinity);
    expect(() => shapeFixedFitter(v).fit(new Float64Array(3))).toThrow(/histogram: length 3/);
    expect(() => fitThreeLevel(new Float64Array(10), G)).toThrow(/histogram: length 10/);
    expect(() => shapeVector({ t1Ns: -1, t2Ns: 300, bunchingRatio: 0 }, G)).toThrow(/calibration.t1Ns/);
  });
});
