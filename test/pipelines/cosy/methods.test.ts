import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cosySnrDb, ssim } from '../../../pipelines/core/metrics.js';
import { cosySpectrum, fillNeighbourMean, reconstruct, spectrumAxisKHz, type SvtKernel } from '../../../pipelines/cosy/methods.js';
import { binOf, snrRegions, PAPER_LINES_KHZ } from '../../../pipelines/cosy/snr.js';
import { root } from '../../daemon/helpers.js';

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

  it('orig equals the plain definition (grow the square until it holds an observed entry) on dense and sparse maps', () => {
    // The definition, written the slow way: O(n1·n2·r²) per map.
    const naive = (x: Float64Array, m: Uint8Array, n1: number, n2: number) => {
      const out = Float64Array.from(x);
      for (let i = 0; i < n1; i++) {
        for (let j = 0; j < n2; j++) {
          if (m[i * n2 + j]) continue;
          for (let r = 1; r < Math.max(n1, n2); r++) {
            let s = 0, c = 0;
            for (let a = Math.max(0, i - r); a <= Math.min(n1 - 1, i + r); a++) {
              for (let b = Math.max(0, j - r); b <= Math.min(n2 - 1, j + r); b++) if (m[a * n2 + b]) (s += x[a * n2 + b]!), c++;
            }
            if (c > 0) {
              out[i * n2 + j] = s / c;
              break;
            }
          }
        }
      }
      return out;
    };
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // 0.3 % observed makes the squares larger than 32×32: the summed-area path, not the direct sum.
    for (const [n1, n2, fraction] of [[37, 23, 0.4], [64, 48, 0.05], [90, 70, 0.003]] as const) {
      const m = Uint8Array.from({ length: n1 * n2 }, () => (rand() < fraction ? 1 : 0));
      m[0] = 1;
      const x = Float64Array.from(m, (v) => (v ? rand() : 0));
      const got = fillNeighbourMean(x, m, n1, n2);
      const want = naive(x, m, n1, n2);
      for (let k = 0; k < got.length; k++) expect(got[k]).toBeCloseTo(want[k]!, 10);
    }
  });

  it('orig scales to the largest grid: 512×512 from 0.1 % samples fits in 20 s of CPU time (the old direct sum took 83 s at 200×200)', () => {
    // A CPU-time limit (ulimit -t), not a wall-clock one: the load of the machine does not change it.
    const script = `
      import { fillNeighbourMean } from ${JSON.stringify(join(root, 'dist/pipelines/cosy/methods.js'))};
      import { MAX_COSY_SIDE as n } from ${JSON.stringify(join(root, 'dist/pipelines/cosy/dataset.js'))};
      const m = new Uint8Array(n * n);
      for (let k = 0; k < n * n; k += 997) m[k] = 1;
      const x = Float64Array.from(m, (v, k) => (v ? (k % 13) / 13 : 0));
      const out = fillNeighbourMean(x, m, n, n);
      console.log(n, out.every(Number.isFinite));`;
    const r = spawnSync('sh', ['-c', 'ulimit -t 20 && exec "$0" --input-type=module -e "$1"', process.execPath, script], { encoding: 'utf8' });
    expect(r.status, `${r.signal ?? ''} ${r.stderr}`).toBe(0);
    expect(r.stdout.trim()).toBe('512 true');
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
