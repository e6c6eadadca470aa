import { describe, expect, it } from 'vitest';
import { fitGaussian2D, mape, rSquared, twoPeakDip } from '../../../pipelines/core/metrics.js';
import { renderMapPng } from '../../../pipelines/core/png-image.js';
import { PNG } from 'pngjs';

describe('g2 metrics (pipelines/core/metrics.ts)', () => {
  it('MAPE and r² by hand', () => {
    expect(mape([1.1, 0.45], [1, 0.5])).toBeCloseTo(10, 10);
    expect(rSquared([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(rSquared([2, 2, 2], [1, 2, 3])).toBeCloseTo(0, 12);
    expect(() => mape([1], [0])).toThrow(/reference\[0\]/);
    expect(() => rSquared([1, 2], [1])).toThrow(/reference: length 1/);
  });

  it('2D Gaussian fit recovers FWHM, centre and offset', () => {
    const ny = 24;
    const nx = 30;
    const img = new Float64Array(ny * nx);
    const sx = 3;
    const sy = 4.5;
    for (let r = 0; r < ny; r++) for (let c = 0; c < nx; c++) img[r * nx + c] = 2 + 10 * Math.exp(-((c - 14.3) ** 2) / (2 * sx * sx) - (r - 11.6) ** 2 / (2 * sy * sy));
    const f = fitGaussian2D(img, [ny, nx], 25);
    const k = 2 * Math.sqrt(2 * Math.LN2);
    expect(f.fwhmX).toBeCloseTo(k * sx * 25, 4);
    expect(f.fwhmY).toBeCloseTo(k * sy * 25, 4);
    expect(f.x0).toBeCloseTo(14.3, 5);
    expect(f.offset).toBeCloseTo(2, 5);
    expect(() => fitGaussian2D(new Float64Array(4), [2, 2])).toThrow(/shape/);
  });

  it('two-peak dip: resolved only when there is a clear dip', () => {
    const g = (x: number, m: number, s: number) => Math.exp(-((x - m) ** 2) / (2 * s * s));
    const prof = (sep: number, s: number) => Array.from({ length: 64 }, (_, i) => g(i, 32 - sep / 2, s) + g(i, 32 + sep / 2, s));
    expect(twoPeakDip(prof(10, 5)).resolved).toBe(false); // separation 2σ: flat top
    const r = twoPeakDip(prof(14, 5));
    expect(r.resolved).toBe(true);
    expect(r.dip).toBeLessThan(0.9);
  });

  it('PNG maps carry a colour bar and a scale bar and decode', () => {
    const v = Float64Array.from({ length: 16 * 16 }, (_, i) => i);
    const png = PNG.sync.read(renderMapPng(v, { shape: [16, 16], pixelSizeNm: 48, title: 'G2', unit: 'counts/s' }));
    expect(png.width).toBeGreaterThan(256 + 40);
    expect(png.height).toBeGreaterThan(256);
    expect(() => renderMapPng(v, { shape: [3, 3] })).toThrow(/values: length 256/);
  });
});
