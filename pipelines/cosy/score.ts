/**
 * Scoring a cosy reconstruction the paper's way: spectra of maps on a common
 * scale (the reference's [0,1] range, as the paper normalises each map),
 * RMSE in the frequency domain, SSIM of the spectra, SNR of the spectrum.
 */
import { cosySnrDb, rmse, ssim } from '../core/metrics.js';
import { cosySpectrum } from './methods.js';
import { snrRegions } from './snr.js';

export interface CosyScore {
  /** RMSE between the magnitude spectra (reference's [0,1] scale). */
  rmseFreq: number;
  /** SSIM of the magnitude spectra. */
  ssim: number;
  /** SNR (dB) of the reconstruction's spectrum. */
  snrDb: number;
}

export interface ScoreOptions {
  step1Us: number;
  step2Us: number;
  peaksKHz: number[];
}

function rescale(x: ArrayLike<number>, lo: number, hi: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) out[k] = (x[k]! - lo) / (hi - lo || 1);
  return out;
}

/** SNR (dB) of a map's spectrum (no reference needed). */
export async function cosySnrOfMap(map: ArrayLike<number>, n1: number, n2: number, o: ScoreOptions): Promise<number> {
  const { peaks, blank } = snrRegions(o.peaksKHz, n1, n2, o.step1Us, o.step2Us);
  return cosySnrDb(await cosySpectrum(map, n1, n2), [n1, n2], peaks, blank);
}

export async function scoreCosy(recon: ArrayLike<number>, reference: ArrayLike<number>, n1: number, n2: number, o: ScoreOptions): Promise<CosyScore> {
  let lo = Infinity, hi = -Infinity;
  for (let k = 0; k < reference.length; k++) [lo, hi] = [Math.min(lo, reference[k]!), Math.max(hi, reference[k]!)];
  const sr = await cosySpectrum(rescale(recon, lo, hi), n1, n2);
  const sf = await cosySpectrum(rescale(reference, lo, hi), n1, n2);
  let top = 0;
  for (const v of sf) top = Math.max(top, v);
  const { peaks, blank } = snrRegions(o.peaksKHz, n1, n2, o.step1Us, o.step2Us);
  return { rmseFreq: rmse(sr, sf), ssim: ssim(sr, sf, [n1, n2], { dataRange: top || 1 }), snrDb: cosySnrDb(sr, [n1, n2], peaks, blank) };
}
