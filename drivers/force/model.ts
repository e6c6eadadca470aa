/**
 * The force-variance noise model (paper Eq. 5, 9 and Appendix A, Eq. 16–20):
 * pure functions of the spin force variance σ_spin², the thermomechanical
 * variance σ_th² = S_th²·Δf, the number of independent spin configurations
 * T_m/τ_m and the number of pulses n_f sharing the out-of-phase estimate.
 * All variances in aN².
 */
import type { Rng } from '../core/rng.js';

/** Thermomechanical force variance σ_th² = S_th²·Δf, aN² (S_th in aN/√Hz, Δf in Hz). */
export function thermalVariance(sThAnPerRtHz: number, bandwidthHz: number): number {
  return sThAnPerRtHz * sThAnPerRtHz * bandwidthHz;
}

/** Independent spin configurations per measurement, T_m/τ_m (both in s); at least 2 so the SE stays finite. */
export function independentSamples(TmS: number, tauS: number): number {
  return Math.max(TmS / tauS, 2);
}

/**
 * Standard errors of the in-phase and out-of-phase variance estimates
 * (Eq. 16, 17) and of their difference (Eq. 18). `nf` pulses at one position
 * pool their out-of-phase quadrature (nf = 1: the XYZ protocol, Eq. 20).
 */
export function varianceStandardErrors(spinVar: number, thVar: number, k: number, nf: number): { seIn: number; seOut: number; se: number } {
  const seIn = Math.sqrt(2 / (k - 1)) * (spinVar + thVar);
  const seOut = Math.sqrt(2 / (nf * k - 1)) * thVar;
  return { seIn, seOut, se: Math.hypot(seIn, seOut) };
}

/**
 * σ_noise² of Eq. 9 (multislice; nf = 1 reproduces Eq. 5 of the XYZ
 * protocol): √(2/(k−1))·√(σs⁴ + 2σth²σs² + (1 + 1/nf)σth⁴).
 */
export function noiseVariance(spinVar: number, thVar: number, k: number, nf: number): number {
  return Math.sqrt(2 / (k - 1)) * Math.sqrt(spinVar * spinVar + 2 * thVar * spinVar + (1 + 1 / nf) * thVar * thVar);
}

/**
 * One simulated in-minus-out measurement: the in-phase and out-of-phase
 * variance estimates drawn about their means with the standard errors of
 * Eq. 16–17 (Gaussian: k = T_m/τ_m is large in practice), their difference,
 * and the SE the instrument reports (Eq. 18 evaluated at the estimates, as a
 * real instrument must: it does not know the true σ_spin²).
 */
export function sampleVariance(rng: Rng, spinVar: number, thVar: number, k: number, nf: number): { variance: number; standardError: number; inVariance: number; outVariance: number } {
  const truth = varianceStandardErrors(spinVar, thVar, k, nf);
  const vin = spinVar + thVar + truth.seIn * rng.normal();
  const vout = thVar + truth.seOut * rng.normal();
  const estSpin = Math.max(vin - vout, 0);
  const estTh = Math.max(vout, 0);
  return { variance: vin - vout, standardError: varianceStandardErrors(estSpin, estTh, k, nf).se, inVariance: vin, outVariance: vout };
}
