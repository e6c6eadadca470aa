import { describe, expect, it } from 'vitest';
import { cosySnrDb, ssim } from '../../../pipelines/core/metrics.js';
import { cosySpectrum, fillNeighbourMean, reconstruct, spectrumAxisKHz, type SvtKernel } from '../../../pipelines/cosy/methods.js';
import { binOf, snrRegions, PAPER_LINES_KHZ } from '../../../pipelines/cosy/snr.js';

describe('cosy metrics', () => {
  it('SNR: 20·log10(max over the peak windows / mean over the blank region)', () => {
    const s = new Float64Array(100).fill(0.5);
    s[3 * 10 + 4] = 50;
    s[9 * 10 + 9] = 1000; // outside every window: ignored
    expect(cosySnrDb(s, [10, 10], [{ rows: [2, 5], cols: [3, 6] }], { rows: [6, 9], cols: [0, 3] })).toBeCloseTo(40, 10);
    expect(() => cosySnrDb(s, [10, 10], [], { rows: [6, 9], cols: [0, 3] })).toThrow(/peaks: at least one/);
    expect(() => cosySnrDb(s, [10, 10], [{ rows: [2, 5], cols: [3, 6] }], { rows: [6, 11], cols: [0, 3] })).toThrow(/blank: rows 6,11/);
    expect(() => cosySnrDb(s, [10, 9], [{ rows: [2, 5], cols: [3, 6] }], { rows: [6, 9], cols: [0, 3] })).toThrow(/spectrum: length 100/);
  });

  it('SSIM is 1 for identical images, lower for noise, and symmetric', () => {
    const a = Float64Array.from({ length: 400 }, (_, k) => Math.sin(k / 7) + Math.cos(k / 13));
    const b = a.map((v, k) => v + 0.3 * Math.sin(k * 12.9898));
    expect(ssim(a, a, [20, 20])).toBeCloseTo(1, 12);
    const s = ssim(b, a, [20, 20], { dataRange: 4 });
    expect(s).toBeLessThan(0.95);
    expect(s).toBeGreaterThan(0);
    expect(ssim(a, b, [20, 20], { dataRange: 4 })).toBeCloseTo(s, 12);
    expect(() => ssim(a, a, [20, 20], { window: 30 })).toThrow(/window/);
  });

  it('SNR regions: windows at every line pair, a blank square clear of the lines and of DC', () => {
    const { peaks, blank } = snrRegions(PAPER_LINES_KHZ, 50, 50, 18, 18);
    expect(peaks).toHaveLength(4);
    const b219 = binOf(21.9, 50, 18), b235 = binOf(23.5, 50, 18);
    expect([b219, b235]).toEqual([45, 46]);
    expect(peaks[1]).toEqual({ rows: [44, 47], cols: [45, 48] });
    for (const [lo, hi] of [blank.rows, blank.cols]) {
      expect(lo).toBeGreaterThan(27);
      expect(hi).toBeLessThanOrEqual(44);
    }
  });
});

describe('cosy methods', () => {
  it('orig fills each gap with the mean of its nearest observed neighbours', () => {
    const x = Float64Array.from([1, 0, 3, 0, 0, 0, 5, 0, 9]);
    const m = Uint8Array.from([1, 0, 1, 0, 0, 0, 1, 0, 1]);
    expect([...fillNeighbourMean(x, m, 3, 3)]).toEqual([1, 2, 3, 3, 4.5, 6, 5, 7, 9]);
  });

  it('reconstruct scales the observed entries to [0,1], runs the method, and returns the input scale', async () => {
    const n = 8;
    const truth = Float64Array.from({ length: n * n }, (_, k) => 0.4 + 0.1 * Math.cos(k));
    const mask = Uint8Array.from({ length: n * n }, (_, k) => (k % 3 === 0 ? 1 : 0));
    const map = truth.map((v, k) => (mask[k] ? v : Number.NaN));
    let seen: Float64Array | undefined;
    const svt: SvtKernel = async (observed, msk, m, nn, opts) => {
      seen = observed;
      expect(opts.init).toBeUndefined();
      return { x: Float64Array.from(observed, (v, k) => (msk[k] ? v : 0.5)), iterations: 3, residual: 1e-4, rank: 1 };
    };
    const r = await reconstruct(map, mask, n, n, { method: 'mc', svt });
    let lo = Infinity, hi = -Infinity;
    for (let k = 0; k < n * n; k++) if (mask[k]) [lo, hi] = [Math.min(lo, truth[k]!), Math.max(hi, truth[k]!)];
    expect(Math.min(...seen!.filter((_, k) => mask[k]))).toBe(0);
    expect(Math.max(...seen!.filter((_, k) => mask[k]))).toBe(1);
    for (let k = 0; k < n * n; k++) expect(r.map[k]).toBeCloseTo(mask[k] ? truth[k]! : lo + 0.5 * (hi - lo), 12);
    expect(r.svt).toEqual({ iterations: 3, residual: 1e-4, rank: 1 });
    await expect(reconstruct(map, mask, n, n, { method: 'dl' })).rejects.toThrow(/needs DLNet/);
    await expect(reconstruct(map, mask, n, 9, { method: 'orig' })).rejects.toThrow(/map: length 64 does not match shape 8×9/);
    const bad = Float64Array.from(map);
    bad[0] = Number.NaN;
    await expect(reconstruct(bad, mask, n, n, { method: 'orig' })).rejects.toThrow(/map: entry 0 is sampled but not finite/);
  });

  it('dlmc starts SVT from the DLNet output', async () => {
    const n = 6;
    const mask = Uint8Array.from({ length: n * n }, (_, k) => (k % 2 ? 1 : 0));
    const map = Float64Array.from({ length: n * n }, (_, k) => k);
    const dlOut = Float64Array.from({ length: n * n }, () => 0.25);
    let init: Float64Array | undefined;
    const r = await reconstruct(map, mask, n, n, {
      method: 'dlmc',
      dlnet: { predict: async (inputs) => inputs.map(() => dlOut) },
      svt: async (_o, _m, _a, _b, opts) => ((init = opts.init), { x: opts.init!, iterations: 1, residual: 0, rank: 1 }),
    });
    expect(init).toBe(dlOut);
    expect(r.scaled).toBe(dlOut);
  });

  it('spectrum: a sampled cosine shows at its (aliased) frequency, zero frequency centred', async () => {
    const n = 50, step = 18;
    const f = 1.69e6; // aliases to 23.33 kHz at 18 µs
    const map = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) map[i * n + j] = 0.5 + 0.2 * Math.cos(2 * Math.PI * f * (4 + i * step) * 1e-6) * Math.cos(2 * Math.PI * f * (4 + j * step) * 1e-6);
    const s = await cosySpectrum(map, n, n);
    let best = 0;
    for (let k = 1; k < s.length; k++) if (s[k]! > s[best]!) best = k;
    const axis = spectrumAxisKHz(n, step);
    expect(Math.abs(Math.abs(axis[Math.floor(best / n)]!) - 23.33)).toBeLessThan(0.6);
    expect(Math.abs(Math.abs(axis[best % n]!) - 23.33)).toBeLessThan(0.6);
    expect(axis[25]).toBe(0);
    expect(s[25 * n + 25]).toBeCloseTo(0, 12); // the mean is removed
  });
});
