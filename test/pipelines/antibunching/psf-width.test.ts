/**
 * The pooling kernel's PSF width on a field with several emitters (issue 18, point 8): fitted around the
 * brightest emitter, not by one Gaussian over the whole field.
 */
import { describe, expect, it } from 'vitest';
import { fitGaussian2D } from '../../../pipelines/core/metrics.js';
import { localPsfFwhm, plPsfFwhmNm } from '../../../pipelines/antibunching/scan.js';

const N = 32;
const PX = 775 / N;
/** PL of Gaussian spots (FWHM nm) on a flat background, no noise. */
function field(spots: { x: number; y: number; a: number }[], fwhmNm: number, background: number): Float64Array {
  const k = (4 * Math.LN2) / (fwhmNm * fwhmNm);
  const img = new Float64Array(N * N).fill(background);
  for (let r = 0; r < N; r++)
    for (let c = 0; c < N; c++)
      for (const s of spots) img[r * N + c]! += s.a * Math.exp(-k * (((c - s.x) * PX) ** 2 + ((r - s.y) * PX) ** 2));
  return img;
}

describe('PSF width for the pooling kernel', () => {
  it('two emitters 470 nm apart on a bright background: the local fit finds one PSF, a whole-field fit does not', () => {
    const img = field([{ x: 7, y: 13, a: 1e5 }, { x: 25, y: 19, a: 0.9e5 }], 330, 8000);
    const local = localPsfFwhm(img, [N, N], PX, 300);
    expect(Math.abs(local - 330) / 330).toBeLessThan(0.1);
    const whole = fitGaussian2D(img, [N, N], PX).fwhm;
    expect(Math.abs(whole - 330) / 330).toBeGreaterThan(0.3);
  });

  it('one emitter: the same width as before; a flat map: the configured PSF', () => {
    const img = field([{ x: 15.5, y: 15.5, a: 1e5 }], 300, 3000);
    expect(plPsfFwhmNm(img, { ny: N, nx: N, pixelSizeNm: PX, geometry: undefined as never }, 300)).toBeCloseTo(300, 0);
    expect(plPsfFwhmNm(new Float64Array(N * N).fill(5), { ny: N, nx: N, pixelSizeNm: PX, geometry: undefined as never }, 280)).toBe(280);
  });
});
