import { describe, expect, it } from 'vitest';
import { Rng } from '../../../drivers/core/rng.js';

function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean };
}

describe('Rng', () => {
  it('is reproducible per seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xa = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(xa);
  });

  // Each case sits on a different path of binomial(): exact sum, waiting times, symmetry, normal limit.
  it.each([
    [20, 0.3],
    [64, 0.5],
    [200, 0.05],
    [100, 0.99],
    [5000, 0.4],
  ])('binomial(%i, %f) has the binomial mean and variance', (n, p) => {
    const rng = new Rng(7);
    const m = moments(() => rng.binomial(n, p), 20_000);
    const mean = n * p;
    const variance = n * p * (1 - p);
    expect(Math.abs(m.mean - mean)).toBeLessThan(5 * Math.sqrt(variance / 20_000) + 0.01);
    expect(m.variance / variance).toBeGreaterThan(0.9);
    expect(m.variance / variance).toBeLessThan(1.1);
  });

  it('binomial stays within [0, n]', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 2000; i++) {
      const k = rng.binomial(70, 0.97);
      expect(k).toBeGreaterThanOrEqual(0);
      expect(k).toBeLessThanOrEqual(70);
    }
  });
});
