/**
 * Physics of the NV-detected 2D NMR (COSY) correlation experiment, kept pure:
 * no clock, no driver, no I/O. The ODMR simulator and the DLNet training-data
 * generator both use it, so the network learns the maps the instrument makes.
 *
 * ## Derivation (Yang et al., DLMC paper, "2D NMR procedure" and "Data simulation")
 *
 * Hamiltonian of one NV electron spin S (spin 1, zero-field splitting D) and
 * 13C nuclei I_k in a field B along the NV axis z:
 *
 *   H = D Sz² + γe B Sz + Σ_k γC B I_kz + Σ_k S·A_k·I_k + Σ_{k<l} I_k·J_kl·I_l
 *
 * D and γe B are GHz, γC B is 1.69 MHz and A, J are kHz, so the electron's
 * Sz is a good quantum number (secular approximation): the electron-nuclear
 * term reduces to m_s (A_k^zx I_kx + A_k^zy I_ky + A_k^zz I_kz), and with the
 * electron held in m_s = −1 during the free evolutions (the correlation
 * sequence's π/2_y stores its state as a population; `ms` below) each nucleus
 * precesses about z at
 *
 *   f_k = f_L + m_s · a∥_k,   f_L = γC B / 2π   (the perpendicular part a⊥
 *                                               only tilts the axis by a⊥/f_L ≈ 10⁻³: dropped)
 *
 * The nuclear-nuclear dipolar coupling, secular in the nuclei too (|f_k − f_l|
 * ≫ J or not, the zz part is what survives for unlike shifts), is J_kl^zz I_kz
 * I_lz: nucleus k's line splits into f_k ± J_kl/2 (weak coupling).
 *
 * Both couplings are point dipoles from the nuclear positions r (NV at the
 * origin, z along B), in Hz:
 *
 *   a∥_k  = (μ0/4π) ħ γe γC / (2π r³) · (1 − 3 cos²θ)         (θ: angle of r_k to z)
 *   J_kl  = (μ0/4π) ħ γC²  / (2π r³) · (1 − 3 cos²θ_kl)       (r, θ of r_k − r_l)
 *
 * The COSY protocol init − t1 − π/2 − t2 − read, in product operators for a
 * weakly coupled spin system starting from transverse magnetisation I_kx:
 * during t1, I_kx → I_kx cos(2πf_k t1) Π_l cos(πJ_kl t1) + (antiphase
 * 2 I_ky I_lz terms ∝ sin(πJ_kl t1)) + unobserved terms; the π/2_x pulse keeps
 * I_kx and turns 2 I_ky I_lz into 2 I_kz I_ly, antiphase coherence on spin l
 * that refocuses during t2 into observable I_lx ∝ sin(πJ_kl t2) cos(2πf_l t2).
 * The correlation read measures the transverse component, so
 *
 *   S(t1,t2) = Σ_k w_k [ c_k(t1) c_k(t2)                                     (diagonal peaks)
 *                      + Σ_{l≠k} s_kl(t1) s_lk(t2) ]  · e^{−(t1+t2)/T2}     (cross peaks)
 *   c_k(t)   = cos(2πf_k t) Π_{m≠k} cos(πJ_km t)
 *   s_kl(t)  = cos(2πf_k t) sin(πJ_kl t) Π_{m≠k,l} cos(πJ_km t)
 *
 * normalised by Σ w_k so |S| ≤ 1; w_k is the nucleus's readout weight. The
 * NV's ms=0 population after the read is P0 = (1 + C·S)/2 with C the
 * correlation contrast of the dynamical-decoupling blocks.
 *
 * Sampling: t = 4 µs + 18 µs·i, i = 0…49, i.e. f_s = 55.6 kHz. A real cosine
 * at f shows up at its alias |f − round(f/f_s)·f_s| in [0, f_s/2 = 27.8 kHz];
 * f_L = 1.6919 MHz aliases to 25.26 kHz, and the default dimer's a∥ of +3.36
 * and +1.76 kHz put its lines at 21.90 and 23.50 kHz, as in the paper.
 *
 * Readout noise (see `readoutStats`): each of N repetitions ends with a
 * projective ms=0/±1 outcome (binomial), then the optical readout gives
 * Poisson photon counts with mean α0 (ms=0) or α1 (ms=±1) per shot; the
 * population estimate is (counts/N − α1)/(α0 − α1). Its variance is
 * P0(1−P0)/N + (P0α0 + (1−P0)α1)/(N(α0−α1)²); photon shot noise dominates.
 */
import type { Rng } from '../core/rng.js';

/** Physical constants (SI, CODATA 2018). */
export const MU0_OVER_4PI = 1e-7; // T·m/A
export const HBAR = 1.054571817e-34; // J·s
export const GAMMA_E = 1.76085963023e11; // rad/(s·T), NV electron
export const GAMMA_13C = 6.728284e7; // rad/(s·T)

/** a∥ prefactor (μ0/4π)ħγeγC/2π, Hz·nm³ (≈ 19.9 kHz at 1 nm). */
export const HYPERFINE_HZ_NM3 = (MU0_OVER_4PI * HBAR * GAMMA_E * GAMMA_13C) / (2 * Math.PI) * 1e27;
/** J prefactor (μ0/4π)ħγC²/2π, Hz·nm³ (≈ 7.6 Hz at 1 nm). */
export const NUCLEAR_DIPOLAR_HZ_NM3 = (MU0_OVER_4PI * HBAR * GAMMA_13C * GAMMA_13C) / (2 * Math.PI) * 1e27;

/** One 13C nucleus: position relative to the NV in nm (z along B and the NV axis), readout weight. */
export interface Nucleus {
  positionNm: [number, number, number];
  /** Readout weight w_k (dimensionless, > 0); default 1. */
  weight?: number;
}

/** Experiment settings that decide the map. */
export interface CosyParams {
  /** Field along the NV axis, T (default 0.158). */
  fieldT: number;
  /** Electron spin projection during the free evolutions (default −1). */
  ms: number;
  /** Nuclear transverse coherence time, s (default 1.5e-3). */
  t2CoherenceS: number;
  /** Correlation contrast C of P0 = (1 + C·S)/2 (default 0.5). */
  contrast: number;
}

export const DEFAULT_COSY_PARAMS: CosyParams = { fieldT: 0.158, ms: -1, t2CoherenceS: 1.5e-3, contrast: 0.5 };

/** The paper's grid: t1, t2 = 4 µs … 886 µs in 18 µs steps (50 × 50). */
export const COSY_GRID = { n: 50, startUs: 4, stepUs: 18 } as const;

/**
 * The default dimer: a∥ = +3.36 and +1.76 kHz, 0.30 nm apart (J = −367 Hz),
 * placed so the lines alias to 21.9 and 23.5 kHz at 158 mT like the paper's.
 */
export const DEFAULT_DIMER: Nucleus[] = [
  { positionNm: [-1.042, 1.226, 0.446] },
  { positionNm: [-1.187, 1.229, 0.708] },
];

/** Larmor frequency of 13C, Hz, for a field in T. */
export function larmorHz(fieldT: number): number {
  return (GAMMA_13C * fieldT) / (2 * Math.PI);
}

/** Parallel hyperfine component a∥ (Hz) of a 13C at `positionNm` from the NV. */
export function hyperfineParallelHz(positionNm: readonly number[]): number {
  const [x, y, z] = positionNm as [number, number, number];
  const r2 = x * x + y * y + z * z;
  if (!(r2 > 0)) throw new RangeError('positionNm: a nucleus cannot sit on the NV');
  const r = Math.sqrt(r2);
  return (HYPERFINE_HZ_NM3 * (1 - (3 * z * z) / r2)) / (r2 * r);
}

/** Secular nuclear-nuclear coupling J_zz (Hz) between two 13C at the given positions (nm). */
export function dipolarJzzHz(a: readonly number[], b: readonly number[]): number {
  const dx = a[0]! - b[0]!, dy = a[1]! - b[1]!, dz = a[2]! - b[2]!;
  const r2 = dx * dx + dy * dy + dz * dz;
  if (!(r2 > 0)) throw new RangeError('positionNm: two nuclei at the same position');
  const r = Math.sqrt(r2);
  return (NUCLEAR_DIPOLAR_HZ_NM3 * (1 - (3 * dz * dz) / r2)) / (r2 * r);
}

/** Where a real cosine at `fHz` appears when sampled every `stepS` seconds: in [0, 1/(2·stepS)]. */
export function aliasHz(fHz: number, stepS: number): number {
  const fs = 1 / stepS;
  return Math.abs(fHz - Math.round(fHz / fs) * fs);
}

/** The spin system's lines: precession frequencies f_k (Hz) and the coupling matrix J (Hz, n×n, zero diagonal). */
export interface SpinSystem {
  frequenciesHz: number[];
  couplingsHz: number[][];
  weights: number[];
}

export function spinSystem(nuclei: readonly Nucleus[], params: CosyParams = DEFAULT_COSY_PARAMS): SpinSystem {
  if (nuclei.length === 0) throw new RangeError('nuclei: at least one nucleus is needed');
  const fL = larmorHz(params.fieldT);
  const frequenciesHz = nuclei.map((n) => fL + params.ms * hyperfineParallelHz(n.positionNm));
  const couplingsHz = nuclei.map((a, k) => nuclei.map((b, l) => (k === l ? 0 : dipolarJzzHz(a.positionNm, b.positionNm))));
  const weights = nuclei.map((n, k) => {
    const w = n.weight ?? 1;
    if (!(w > 0)) throw new RangeError(`nuclei[${k}].weight: must be > 0, got ${w}`);
    return w;
  });
  return { frequenciesHz, couplingsHz, weights };
}

/**
 * The normalised correlation signal S(t1, t2) ∈ [−1, 1] (see the module
 * comment) at one point; times in s.
 */
export function cosySignal(sys: SpinSystem, t1S: number, t2S: number, t2CoherenceS: number): number {
  const n = sys.frequenciesHz.length;
  const f = sys.frequenciesHz, J = sys.couplingsHz;
  let s = 0, wsum = 0;
  for (let k = 0; k < n; k++) {
    const ck1 = Math.cos(2 * Math.PI * f[k]! * t1S), ck2 = Math.cos(2 * Math.PI * f[k]! * t2S);
    let diag1 = ck1, diag2 = ck2;
    for (let m = 0; m < n; m++) {
      if (m === k) continue;
      diag1 *= Math.cos(Math.PI * J[k]![m]! * t1S);
      diag2 *= Math.cos(Math.PI * J[k]![m]! * t2S);
    }
    let term = diag1 * diag2;
    for (let l = 0; l < n; l++) {
      if (l === k || J[k]![l] === 0) continue;
      // Coherence on k during t1, transferred by the π/2 pulse to l during t2.
      let a = ck1 * Math.sin(Math.PI * J[k]![l]! * t1S);
      let b = Math.cos(2 * Math.PI * f[l]! * t2S) * Math.sin(Math.PI * J[k]![l]! * t2S);
      for (let m = 0; m < n; m++) {
        if (m === k || m === l) continue;
        a *= Math.cos(Math.PI * J[k]![m]! * t1S);
        b *= Math.cos(Math.PI * J[l]![m]! * t2S);
      }
      term += a * b;
    }
    s += sys.weights[k]! * term;
    wsum += sys.weights[k]!;
  }
  return (s / wsum) * Math.exp(-(t1S + t2S) / t2CoherenceS);
}

/** The grid's evolution times, s. */
export function gridTimesS(n: number = COSY_GRID.n, startUs: number = COSY_GRID.startUs, stepUs: number = COSY_GRID.stepUs): Float64Array {
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = (startUs + stepUs * i) * 1e-6;
  return t;
}

/** The noise-free ms=0 population map P0(t1_i, t2_j), row i = t1, C order. */
export function populationMap(sys: SpinSystem, params: CosyParams, t1S: Float64Array, t2S: Float64Array): Float64Array {
  const out = new Float64Array(t1S.length * t2S.length);
  for (let i = 0; i < t1S.length; i++) {
    for (let j = 0; j < t2S.length; j++) {
      out[i * t2S.length + j] = 0.5 * (1 + params.contrast * cosySignal(sys, t1S[i]!, t2S[j]!, params.t2CoherenceS));
    }
  }
  return out;
}

/** Optical readout of the NV: mean photons per shot for ms=0 and ms=±1, repetitions per point. */
export interface ReadoutParams {
  photonsMs0: number;
  photonsMs1: number;
  readouts: number;
}

export const DEFAULT_READOUT: ReadoutParams = { photonsMs0: 0.03, photonsMs1: 0.021, readouts: 150_000 };

/** Expected standard deviation of the population estimate at population `p0` (see module comment). */
export function readoutStd(p0: number, r: ReadoutParams): number {
  const proj = (p0 * (1 - p0)) / r.readouts;
  const shot = (p0 * r.photonsMs0 + (1 - p0) * r.photonsMs1) / (r.readouts * (r.photonsMs0 - r.photonsMs1) ** 2);
  return Math.sqrt(proj + shot);
}

/** One averaged readout: projective outcomes, then photon counts; returns the estimate and the raw counts. */
export function sampleReadout(p0: number, r: ReadoutParams, rng: Rng): { population: number; photons: number; brightShots: number } {
  const brightShots = rng.binomial(r.readouts, Math.min(1, Math.max(0, p0)));
  const photons = rng.poisson(brightShots * r.photonsMs0 + (r.readouts - brightShots) * r.photonsMs1);
  const population = (photons / r.readouts - r.photonsMs1) / (r.photonsMs0 - r.photonsMs1);
  return { population, photons, brightShots };
}

/**
 * A random cluster of `count` 13C nuclei for training data: a seed nucleus at
 * 1.2–3 nm from the NV (|a∥| of a few kHz), the others chained at 0.15–0.45 nm
 * from a random earlier one (bond-like, J of tens to hundreds of Hz), with
 * readout weights in [0.4, 1].
 */
export function randomCluster(count: number, rng: Rng): Nucleus[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count: must be a positive integer, got ${count}`);
  const out: Nucleus[] = [];
  const unit = (): [number, number, number] => {
    const z = rng.range(-1, 1), phi = rng.range(0, 2 * Math.PI), s = Math.sqrt(1 - z * z);
    return [s * Math.cos(phi), s * Math.sin(phi), z];
  };
  while (out.length < count) {
    let p: [number, number, number];
    if (out.length === 0) {
      const r = rng.range(1.2, 3), u = unit();
      p = [u[0] * r, u[1] * r, u[2] * r];
    } else {
      const from = out[rng.int(out.length)]!.positionNm, d = rng.range(0.15, 0.45), u = unit();
      p = [from[0] + u[0] * d, from[1] + u[1] * d, from[2] + u[2] * d];
    }
    const r = Math.hypot(...p);
    if (r < 0.8 || out.some((n) => Math.hypot(n.positionNm[0] - p[0], n.positionNm[1] - p[1], n.positionNm[2] - p[2]) < 0.14)) continue;
    out.push({ positionNm: p, weight: rng.range(0.4, 1) });
  }
  return out;
}
