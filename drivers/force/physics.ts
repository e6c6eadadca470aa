/**
 * MRFM physics shared by the force simulator and the mrfm pipeline: the
 * nanomagnet, the voxel grid of the sample above it, the inversion pulse
 * centres (Appendix E's furthest-extent rule), the per-pulse PSFs (native
 * kernel) and the noise of one measurement point (Eq. 9 / 18).
 *
 * Frame: the magnet's axis is z, its top face at z = 0; the sample sits above
 * it, voxel layer k centred at height zHeightsNm[k]. Lengths nm, fields T,
 * frequencies Hz, force variances aN², densities spins/nm³.
 */
import { mrfmField, mrfmPsfAsync, type MrfmMagnet, type MrfmPsfJob } from '../../native/index.js';
import type { ResonatorGeometry } from './interface.js';
import { independentSamples, thermalVariance, varianceStandardErrors } from './model.js';

/** ¹H: γ/2π in Hz/T and μ = ħγ/2 in J/T. */
export const PROTON = { gammaHzPerT: 42.577478e6, muJPerT: 1.41060679e-26 } as const;

/** The paper's nanomagnet (Table 1: 100 nm diameter, μ0Ms = 1.35 T; the height is not given, 200 nm assumed; the 10 nm edge rounding is not modelled). */
export const TABLE1_MAGNET: MrfmMagnet = Object.freeze({ radiusNm: 50, heightNm: 200, mu0MsT: 1.35 });

/** The magnet, the external field and the nucleus: everything the PSF needs besides the grid and pulses. */
export interface MrfmSetup {
  magnet: MrfmMagnet;
  b0T: number;
  gammaHzPerT: number;
  muJPerT: number;
}

export const TABLE1_SETUP: MrfmSetup = Object.freeze({ magnet: TABLE1_MAGNET, b0T: 3, ...PROTON });

/** The voxel grid: nx × ny lateral (the scan), nz heights from the standoff up. */
export interface MrfmGrid {
  nx: number;
  ny: number;
  nz: number;
  /** Voxel edge (x = y = z), nm. */
  voxelNm: number;
  /** Height of the lowest voxel layer's bottom above the magnet face (z_min), nm. */
  standoffNm: number;
}

/** Heights of the voxel layers' centres, nm. */
export function zHeights(g: MrfmGrid): number[] {
  return Array.from({ length: g.nz }, (_, k) => g.standoffNm + (k + 0.5) * g.voxelNm);
}

/** Larmor frequency γ/2π·|B0 ẑ + B_magnet| at (ρ, z), Hz. */
export function larmorHz(s: MrfmSetup, rhoNm: Float64Array, zNm: Float64Array): Float64Array {
  const f = mrfmField(s.magnet, rhoNm, zNm);
  return Float64Array.from(f.bz, (bz, i) => s.gammaHzPerT * Math.hypot(s.b0T + bz, f.brho[i]!));
}

/**
 * Appendix E: the centre frequency whose resonant slice reaches exactly
 * `extentNm` above the magnet face at its furthest point. The field falls
 * with height along every vertical line, so the slice's highest point at
 * frequency f0 is the height where max_ρ f_L(ρ, h) = f0: f0(h) = max_ρ f_L(ρ, h).
 */
export function pulseCentreHz(s: MrfmSetup, extentNm: number): number {
  const n = 801;
  const rhoMax = s.magnet.radiusNm + 4 * extentNm;
  const rho = Float64Array.from({ length: n }, (_, i) => (rhoMax * i) / (n - 1));
  const f = larmorHz(s, rho, new Float64Array(n).fill(extentNm));
  let best = 0;
  let at = 0;
  f.forEach((v, i) => {
    if (v > best) [best, at] = [v, i];
  });
  // refine around the coarse maximum
  const lo = rho[Math.max(0, at - 1)]!, hi = rho[Math.min(n - 1, at + 1)]!;
  const fine = Float64Array.from({ length: 101 }, (_, i) => lo + ((hi - lo) * i) / 100);
  for (const v of larmorHz(s, fine, new Float64Array(101).fill(extentNm))) best = Math.max(best, v);
  return best;
}

/** n_f centres for extents evenly spaced from `extentNm[0]` to `extentNm[1]` (Appendix E: 24…70 nm, 46 pulses). */
export function pulseCentres(s: MrfmSetup, nf: number, extentNm: [number, number]): number[] {
  if (!Number.isInteger(nf) || nf < 1) throw new RangeError(`nf: must be an integer ≥ 1, got ${nf}`);
  return Array.from({ length: nf }, (_, l) => pulseCentreHz(s, nf === 1 ? extentNm[1] : extentNm[0] + ((extentNm[1] - extentNm[0]) * l) / (nf - 1)));
}

/** What one PSF computation needs. `heightOffsetNm` shifts the sample away from the magnet (the XYZ protocol's z steps). */
export interface PsfRequest {
  setup: MrfmSetup;
  grid: MrfmGrid;
  geometry: ResonatorGeometry;
  f0Hz: readonly number[];
  fBWHz: number;
  subSamples?: number;
  heightOffsetNm?: number;
}

export function psfJob(r: PsfRequest): MrfmPsfJob {
  const g = r.grid;
  return {
    magnet: r.setup.magnet, b0T: r.setup.b0T, gammaHzPerT: r.setup.gammaHzPerT, muJPerT: r.setup.muJPerT, geometry: r.geometry,
    voxelNm: [g.voxelNm, g.voxelNm, g.voxelNm], nx: g.nx, ny: g.ny, zHeightsNm: zHeights(g).map((h) => h + (r.heightOffsetNm ?? 0)),
    f0Hz: r.f0Hz, fBWHz: r.fBWHz, subSamples: r.subSamples ?? 3,
  };
}

/** The per-pulse PSFs, (nf, nx, ny, nz) float32 aN² per spin, centred (native, on the thread pool). */
export function computePsf(r: PsfRequest): Promise<Float32Array> {
  return mrfmPsfAsync(psfJob(r));
}

/**
 * The XYZ protocol's operator in multislice form: one pulse, the sample
 * stepped away from the magnet by `stepsNm[k]`; step k acts like a "pulse"
 * whose PSF is the single slice's PSF shifted in height. Shape (nsteps, nx, ny, nz).
 */
export async function computeXyzPsf(r: Omit<PsfRequest, 'heightOffsetNm' | 'f0Hz'> & { f0Hz: number }, stepsNm: readonly number[]): Promise<Float32Array> {
  const per = r.grid.nx * r.grid.ny * r.grid.nz;
  const out = new Float32Array(per * stepsNm.length);
  for (let k = 0; k < stepsNm.length; k++) out.set(await computePsf({ ...r, f0Hz: [r.f0Hz], heightOffsetNm: stepsNm[k]! }), k * per);
  return out;
}

/** Noise model of a dataset / plan: what the SE of one point depends on. */
export interface NoiseModel {
  /** S_th, aN/√Hz. */
  sThAnPerRtHz: number;
  bandwidthHz: number;
  /** Spin correlation time τ_m, s. */
  tauMS: number;
  /** Measurement time per point T_m, s. */
  TmS: number;
  /** Pulses sharing the out-of-phase estimate at one position (1 for XYZ). */
  nf: number;
}

/**
 * Standard error of a measured point from the noise model (Eq. 18), evaluated
 * at the measured value (clamped at 0: the instrument does not know the truth).
 */
export function pointStandardError(n: NoiseModel, measuredAN2: number): number {
  return varianceStandardErrors(Math.max(measuredAN2, 0), thermalVariance(n.sThAnPerRtHz, n.bandwidthHz), independentSamples(n.TmS, n.tauMS), n.nf).se;
}

/** Σ SE² over the sampled (non-NaN) points: the expected noise energy of the discrepancy principle, aN⁴. */
export function noiseEnergy(n: NoiseModel, measurement: Float64Array): number {
  let s = 0;
  for (const v of measurement) if (!Number.isNaN(v)) s += pointStandardError(n, v) ** 2;
  return s;
}
