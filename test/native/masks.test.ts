import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  maskSampleCount,
  poissonDiscMask,
  poissonDiscMaskAsync,
  randomMask,
  randomMaskAsync,
  variableDensityMask,
  variableDensityMaskAsync,
} from '../../native/index.js';

const sum = (m: Uint8Array) => m.reduce((a, b) => a + b, 0);
const indices = (m: Uint8Array) => [...m.keys()].filter((i) => m[i] === 1);
/** FNV-1a over the sample indices: a golden value for platform independence. */
function fingerprint(m: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const i of indices(m)) {
    for (let b = 0; b < 4; b++) {
      h ^= (i >>> (8 * b)) & 0xff;
      h = Math.imul(h, 0x01000193);
    }
  }
  return (h >>> 0).toString(16);
}
function coords(i: number, shape: readonly number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return c;
}
/** Integer offsets o with |o| < r (all of them, zero included). */
function ballOffsets(r: number, nd: number): number[][] {
  const reach = Math.ceil(r) - 1;
  let out: number[][] = [[]];
  for (let d = 0; d < nd; d++) out = out.flatMap((o) => Array.from({ length: 2 * reach + 1 }, (_, k) => [...o, k - reach]));
  return out.filter((o) => o.reduce((s, x) => s + x * x, 0) < r * r);
}
const dist2 = (a: number[], b: number[]) => a.reduce((s, x, d) => s + (x - b[d]!) ** 2, 0);

describe('randomMask', () => {
  it.each([
    [[1000], 0.25],
    [[64, 64], 0.1],
    [[50, 50], 0.5],
    [[7, 9, 11], 0.333],
    [[5], 1],
    [[10, 10], 0.005], // rounds up to 1 sample
  ])('shape %j fraction %f has exactly round(fraction·N) samples', (shape, fraction) => {
    const m = randomMask(shape, fraction, 7);
    const n = shape.reduce((a, b) => a * b, 1);
    expect(m).toBeInstanceOf(Uint8Array);
    expect(m.length).toBe(n);
    expect(sum(m)).toBe(Math.round(fraction * n));
    expect(maskSampleCount(shape, fraction)).toBe(Math.round(fraction * n));
    expect(m.every((v) => v === 0 || v === 1)).toBe(true);
  });

  it('is reproducible per seed and differs across seeds', () => {
    expect(randomMask([32, 32], 0.2, 11)).toEqual(randomMask([32, 32], 0.2, 11));
    expect(randomMask([32, 32], 0.2, 11)).not.toEqual(randomMask([32, 32], 0.2, 12));
  });

  it('gives every cell the same inclusion probability (within binomial tolerance over 400 seeds)', () => {
    const shape = [10, 10];
    const seeds = 400;
    const p = 0.3;
    const hits = new Array<number>(100).fill(0);
    for (let s = 0; s < seeds; s++) randomMask(shape, p, s).forEach((v, i) => (hits[i]! += v));
    const sd = Math.sqrt(seeds * p * (1 - p));
    for (const h of hits) expect(Math.abs(h - seeds * p)).toBeLessThan(5 * sd);
    // Samples are spread over the grid, not clustered: each half holds about half of them.
    const m = randomMask([200, 200], 0.1, 3);
    const firstHalf = sum(m.subarray(0, 20_000));
    expect(Math.abs(firstHalf - 2000)).toBeLessThan(5 * Math.sqrt(4000 * 0.25));
  });

  it('is the same on every platform (golden fingerprint)', () => {
    expect(fingerprint(randomMask([64, 64], 0.1, 42))).toMatchInlineSnapshot(`"9498f098"`);
  });
});

describe('poissonDiscMask', () => {
  it.each([
    [[48, 48], 3.5],
    [[40, 30], 2],
    [[12, 12, 12], 2.5],
    [[300], 4],
  ])('shape %j: samples are >= %f apart and the set is maximal', (shape, r) => {
    const m = poissonDiscMask(shape, r, 5);
    const pts = indices(m).map((i) => coords(i, shape));
    expect(pts.length).toBeGreaterThan(1);
    for (let a = 0; a < pts.length; a++) for (let b = a + 1; b < pts.length; b++) expect(dist2(pts[a]!, pts[b]!)).toBeGreaterThanOrEqual(r * r);
    // Maximal: every cell that is not a sample has a sample closer than r.
    const ball = ballOffsets(r, shape.length);
    let uncovered = 0;
    for (let i = 0; i < m.length; i++) {
      if (m[i]) continue;
      const c = coords(i, shape);
      const covered = ball.some((o) => {
        const q = c.map((x, d) => x + o[d]!);
        if (q.some((x, d) => x < 0 || x >= shape[d]!)) return false;
        return m[q.reduce((lin, x, d) => lin * shape[d]! + x, 0)] === 1;
      });
      if (!covered) uncovered++;
    }
    expect(uncovered).toBe(0);
  });

  it('samples every cell when minDistance <= 1', () => {
    expect(sum(poissonDiscMask([9, 7], 1, 1))).toBe(63);
  });

  it('has the saturated blue-noise density in 2-D: about N/(1.44·r²) samples (random sequential addition)', () => {
    for (const r of [3, 4, 6]) {
      const k = sum(poissonDiscMask([128, 128], r, 2));
      expect(k).toBeGreaterThan((128 * 128) / (1.7 * r * r));
      expect(k).toBeLessThan((128 * 128) / (1.2 * r * r));
    }
  });

  it('is reproducible per seed, differs across seeds, and is the same on every platform', () => {
    const a = poissonDiscMask([64, 64], 3, 9);
    expect(poissonDiscMask([64, 64], 3, 9)).toEqual(a);
    expect(poissonDiscMask([64, 64], 3, 10)).not.toEqual(a);
    expect(fingerprint(a)).toMatchInlineSnapshot(`"c6871d02"`);
  });
});

describe('variableDensityMask', () => {
  it('has exactly round(fraction·N) samples, denser near the centre', () => {
    const shape = [64, 64];
    const m = variableDensityMask(shape, 0.2, { decay: 8 }, 3);
    expect(sum(m)).toBe(Math.round(0.2 * 64 * 64));
    const centre = [31.5, 31.5];
    let inner = 0;
    let innerCells = 0;
    m.forEach((v, i) => {
      if (dist2(coords(i, shape), centre) < 12 * 12) {
        innerCells++;
        inner += v;
      }
    });
    const innerDensity = inner / innerCells;
    const outerDensity = (sum(m) - inner) / (m.length - innerCells);
    expect(innerDensity).toBeGreaterThan(3 * outerDensity);
  });

  it('follows a chosen centre (a corner, as for a decaying time-domain signal)', () => {
    const m = variableDensityMask([50, 50], 0.1, { centre: [0, 0], decay: 6 }, 1);
    const near = indices(m).filter((i) => dist2(coords(i, [50, 50]), [0, 0]) < 15 * 15).length;
    // The quarter disc is 7 % of the grid; a uniform mask would put ~18 of its 250 samples there.
    expect(near).toBeGreaterThan(100);
  });

  it('a very long decay is uniform: each cell within binomial tolerance over 300 seeds', () => {
    const hits = new Array<number>(64).fill(0);
    for (let s = 0; s < 300; s++) variableDensityMask([8, 8], 0.25, { decay: 1e9 }, s).forEach((v, i) => (hits[i]! += v));
    const sd = Math.sqrt(300 * 0.25 * 0.75);
    for (const h of hits) expect(Math.abs(h - 75)).toBeLessThan(5 * sd);
  });

  it('is reproducible per seed, differs across seeds, and is the same on every platform', () => {
    const a = variableDensityMask([40, 40, 4], 0.15, { decay: 5 }, 4);
    expect(variableDensityMask([40, 40, 4], 0.15, { decay: 5 }, 4)).toEqual(a);
    expect(variableDensityMask([40, 40, 4], 0.15, { decay: 5 }, 5)).not.toEqual(a);
    expect(fingerprint(a)).toMatchInlineSnapshot(`"b11da023"`);
  });
});

describe('async variants (thread pool)', () => {
  it('resolve to the same masks as the synchronous calls', async () => {
    expect(await randomMaskAsync([30, 40], 0.3, 8)).toEqual(randomMask([30, 40], 0.3, 8));
    expect(await poissonDiscMaskAsync([30, 40], 2.5, 8)).toEqual(poissonDiscMask([30, 40], 2.5, 8));
    expect(await variableDensityMaskAsync([30, 40], 0.3, { decay: 4, centre: [0, 20] }, 8)).toEqual(variableDensityMask([30, 40], 0.3, { decay: 4, centre: [0, 20] }, 8));
  });

  it('leave the event loop free while they compute', async () => {
    let turns = 0;
    let done = false;
    const spin = () => {
      if (done) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const m = await variableDensityMaskAsync([1024, 1024], 0.3, { decay: 100 }, 1);
    done = true;
    expect(sum(m)).toBe(Math.round(0.3 * 1024 * 1024));
    expect(turns).toBeGreaterThan(1);
  });

  it('reject (not throw) with the RangeError naming the argument, from TS and from C++', async () => {
    const p = randomMaskAsync([4, 4], 0, 1);
    await expect(p).rejects.toThrow(/^fraction:/);
    await expect(poissonDiscMaskAsync([4, 0], 2, 1)).rejects.toBeInstanceOf(RangeError);
    await expect(variableDensityMaskAsync([4, 4], 0.5, { decay: -1 }, 1)).rejects.toThrow(/^decay:/);
  });
});

describe('bad arguments throw a RangeError naming the argument', () => {
  it.each<[string, () => unknown, RegExp]>([
    ['fraction 0', () => randomMask([4, 4], 0, 1), /^fraction: must be in \(0, 1\]/],
    ['fraction > 1', () => randomMask([4, 4], 1.5, 1), /^fraction:/],
    ['fraction NaN', () => variableDensityMask([4, 4], NaN, { decay: 1 }, 1), /^fraction:/],
    ['fraction rounding to 0', () => randomMask([4, 4], 0.01, 1), /^fraction: .*rounds to 0 samples/],
    ['empty shape', () => randomMask([], 0.5, 1), /^shape: must be a non-empty array/],
    ['zero-sized axis', () => randomMask([4, 0], 0.5, 1), /^shape\[1\]: must be a positive integer, got 0/],
    ['non-integer size', () => poissonDiscMask([4, 2.5], 2, 1), /^shape\[1\]: must be a positive integer, got 2.5/],
    ['huge grid', () => randomMask([65536, 65536], 0.5, 1), /^shape: .*2\^31-1/],
    ['minDistance 0', () => poissonDiscMask([4, 4], 0, 1), /^minDistance: must be a finite number > 0/],
    ['minDistance negative', () => poissonDiscMask([4, 4], -2, 1), /^minDistance:/],
    ['decay 0', () => variableDensityMask([4, 4], 0.5, { decay: 0 }, 1), /^decay:/],
    ['centre wrong length', () => variableDensityMask([4, 4], 0.5, { decay: 1, centre: [1] }, 1), /^centre: must have 2 coordinates/],
    ['centre not finite', () => variableDensityMask([4, 4], 0.5, { decay: 1, centre: [1, Infinity] }, 1), /^centre\[1\]:/],
    ['seed negative', () => randomMask([4, 4], 0.5, -1), /^seed:/],
    ['seed fractional', () => poissonDiscMask([4, 4], 2, 0.5), /^seed:/],
  ])('%s', (_what, call, message) => {
    expect(call).toThrow(RangeError);
    expect(call).toThrow(message);
  });

  it('a misspelled option key is named, not ignored (TypeError, as for every kernel family)', () => {
    expect(() => variableDensityMask([4, 4], 0.5, { decay: 1, center: [1, 1] } as never, 1)).toThrow(TypeError);
    expect(() => variableDensityMask([4, 4], 0.5, { decay: 1, center: [1, 1] } as never, 1)).toThrow(/^options\.center: unknown option \(allowed: centre, decay\)/);
  });

  it('the native side re-checks, so a direct addon call cannot crash the process', () => {
    const require = createRequire(import.meta.url);
    const raw = require(join(__dirname, '../../build/Release/qscope_native.node')) as Record<string, (...a: unknown[]) => unknown>;
    const cases: [() => unknown, RegExp][] = [
      [() => raw.randomMask!([4, 0], 0.5, 1), /^shape\[1\]: must be a positive integer/],
      [() => raw.randomMask!('4x4', 0.5, 1), /^shape:/],
      [() => raw.randomMask!([4, 4], 2, 1), /^fraction:/],
      [() => raw.randomMask!([4, 4], 0.5, -3), /^seed:/],
      [() => raw.poissonDiscMask!([4, 4], -1, 1), /^minDistance:/],
      [() => raw.poissonDiscMask!([4, 4], 'far', 1), /^minDistance:/],
      [() => raw.poissonDiscMask!([100000, 100000], 2, 1), /^shape:/],
      [() => raw.variableDensityMask!([4, 4], 0.5, [1], 1, 1), /^centre:/],
      [() => raw.variableDensityMask!([4, 4], 0.5, [1, 1], 0, 1), /^decay:/],
      [() => raw.variableDensityMask!([4, 4], 0.5, undefined, 1, 1), /^centre:/],
      [() => raw.randomMaskAsync!([4, 4], 0.5, 'seed'), /^seed:/],
      [() => raw.variableDensityMaskAsync!([4, 4], 0.5, [1, 1], NaN, 1), /^decay:/],
    ];
    for (const [call, message] of cases) {
      expect(call).toThrow(RangeError);
      expect(call).toThrow(message);
    }
  });
});
