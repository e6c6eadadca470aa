/**
 * MRFM reconstruction, in memory: optional compressed-sensing recovery of the
 * unsampled points (BPDN, Eq. 10), then ADMM (Algorithm 2, decision 1601) or
 * projected Landweber with Barzilai–Borwein steps (Algorithm 3), stopped by
 * the discrepancy principle (‖W(A o) − i‖² ≤ τ·Σ SE², no ground truth needed).
 * All heavy work runs in the native kernels on the thread pool.
 */
import { mrfmBpdn, mrfmReconstruct, type MrfmDims, type MrfmReconResult } from '../../native/index.js';
import { noiseEnergy, pointStandardError, type NoiseModel } from '../../drivers/force/physics.js';

export type MrfmMethod = 'admm' | 'landweber';
export const MRFM_METHODS: readonly MrfmMethod[] = ['admm', 'landweber'];
export type CsTransform = 'dct' | 'dft3' | 'none';
export const CS_TRANSFORMS: readonly CsTransform[] = ['dct', 'dft3', 'none'];
export type CsMode = 'fill' | 'everywhere';
export const CS_MODES: readonly CsMode[] = ['fill', 'everywhere'];

export interface MrfmProblem {
  /** (nf, nx, ny, nz) aN² per spin, centred. */
  psf: Float32Array;
  dims: MrfmDims;
  voxelVolumeNm3: number;
  /** (nx, ny, nf) aN², NaN where not sampled. */
  measurement: Float64Array;
  noise: NoiseModel;
  /** Standard error of each point as the instrument reported it, (nx, ny, nf) aN² (default: from the noise model). */
  se?: Float64Array;
  /** Simulation only: the true density (nx, ny, nz), for the RMSE curve. */
  truth?: Float64Array;
}

export interface CsSettings {
  transform: CsTransform;
  mode: CsMode;
  maxIter: number;
}

export interface SolveSettings {
  method: MrfmMethod;
  maxIter: number;
  /** ADMM: ν1, ν2 in units of ‖A‖², γ in units of max|Aᵀi| (decision 1601). */
  rho1: number;
  rho2: number;
  alpha: number;
  /** Discrepancy factor τ (Landweber's stopping rule). */
  tau: number;
  /** Relative change of the estimate at which ADMM counts as converged (its stopping rule). */
  tol: number;
  /** false: run maxIter iterations and only report where the rule would have stopped. */
  stopAtDiscrepancy: boolean;
  cs: CsSettings;
}

/** Defaults chosen by the benchmark (docs/BENCHMARKS.md, mrfm): the 3D DFT (by < 1 % over the DCT variant), BPDN used to fill only. */
export const DEFAULT_SOLVE: SolveSettings = Object.freeze({
  method: 'admm',
  maxIter: 200,
  rho1: 3e-2,
  rho2: 3e-2,
  alpha: 3e-2,
  tau: 1,
  tol: 1e-3,
  stopAtDiscrepancy: true,
  cs: Object.freeze({ transform: 'dft3', mode: 'fill', maxIter: 300 }) as CsSettings,
}) as SolveSettings;

export interface CsReport {
  transform: CsTransform;
  mode: CsMode;
  sampled: number;
  sampledFraction: number;
  zeta: number;
  iterations: number;
  constraint: number;
  seconds: number;
}

export interface MrfmReconstruction {
  /** (nx, ny, nz) spins/nm³. */
  o: Float64Array;
  solver: MrfmReconResult;
  cs?: CsReport;
  /** Σ SE² over the sampled points, aN⁴. */
  noiseEnergy: number;
  /** The data the solver saw (after CS), (nx, ny, nf). */
  data: Float64Array;
  wallSeconds: number;
}

/** A usage or data problem the caller should report as such (CLI exit code 2). */
export class MrfmInputError extends Error {
  override readonly name = 'MrfmInputError';
  readonly exitCode = 2;
}

export async function reconstructMrfm(p: MrfmProblem, s: SolveSettings = DEFAULT_SOLVE, signal?: AbortSignal): Promise<MrfmReconstruction> {
  const t0 = performance.now();
  const { nx, ny, nf } = p.dims;
  const M = nx * ny * nf;
  const mask = new Uint8Array(M);
  let sampled = 0;
  for (let i = 0; i < M; i++) if (!Number.isNaN(p.measurement[i]!)) {
    mask[i] = 1;
    sampled++;
  }
  if (sampled === 0) throw new MrfmInputError('measurement: no sampled point (all NaN)');
  let energy = 0;
  if (p.se) {
    for (let i = 0; i < M; i++) if (mask[i]) energy += p.se[i]! ** 2;
  } else energy = noiseEnergy(p.noise, p.measurement);
  let data = p.measurement;
  let cs: CsReport | undefined;
  const useCs = s.cs.transform !== 'none' && (sampled < M || s.cs.mode === 'everywhere');
  if (sampled < M && !useCs) throw new MrfmInputError(`measurement: ${M - sampled} points are not sampled (NaN); use --cs dft3 or --cs dct to fill them`);
  if (useCs) {
    // DR threshold: the RMS standard error of a point sets the scale of the noise coefficients
    const threshold = Math.sqrt(energy / sampled) || 1e-12;
    const r = await mrfmBpdn(p.measurement, p.dims, { transform: s.cs.transform as 'dct' | 'dft3', zeta: energy, threshold, maxIter: s.cs.maxIter }, signal);
    data = r.x;
    if (s.cs.mode === 'fill') {
      data = Float64Array.from(p.measurement, (v, i) => (mask[i] ? v : r.x[i]!));
    }
    cs = { transform: s.cs.transform, mode: s.cs.mode, sampled, sampledFraction: sampled / M, zeta: energy, iterations: r.iterations, constraint: r.constraint, seconds: r.seconds };
  }
  const solver = await mrfmReconstruct(p.psf, p.dims, p.voxelVolumeNm3, data, {
    method: s.method, maxIter: s.maxIter, mask, ...(p.truth ? { truth: p.truth } : {}),
    ...(s.method === 'admm' ? { nu1: s.rho1, nu2: s.rho2, gamma: s.alpha, relative: true } : {}),
    noiseEnergy: energy, tau: s.tau, tol: s.tol, stopAtDiscrepancy: s.stopAtDiscrepancy,
  }, signal);
  return { o: solver.o, solver, ...(cs ? { cs } : {}), noiseEnergy: energy, data, wallSeconds: (performance.now() - t0) / 1000 };
}

/** Standard errors of every point (NaN stays NaN), aN². */
export function standardErrors(noise: NoiseModel, measurement: Float64Array): Float64Array {
  return Float64Array.from(measurement, (v) => (Number.isNaN(v) ? NaN : pointStandardError(noise, v)));
}

/** RMSE between two volumes. */
export function rmse(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s / a.length);
}
