/**
 * HBT physics, pure: the three-level g2(τ) model, its bin averages over the
 * correlator's delay bins (with detector and correlator jitter), the mixture
 * of several emitters and background seen at one focus, and the expected
 * coincidence histogram. The simulator samples from it and the estimators in
 * pipelines/antibunching/ fit it, so both sides use one copy of the model.
 *
 * Units: delays in ns, rates in counts/s, times in s.
 */

/** The correlator's delay axis. */
export interface HbtGeometry {
  /** Number of delay bins (215 in the paper). */
  bins: number;
  /** Bin width in ns (500 ns / 215 in the paper). */
  binWidthNs: number;
  /** Index of the bin whose centre is zero delay. */
  zeroBin: number;
  /** Total timing jitter σ in ns (two detectors and the correlator in quadrature). */
  jitterNs: number;
}

/** The paper's correlator: ±250 ns in 215 bins, 30 ps per detector and 4 ps correlator jitter. */
export const PAPER_GEOMETRY: HbtGeometry = Object.freeze({
  bins: 215,
  binWidthNs: 500 / 215,
  zeroBin: 107,
  jitterNs: Math.hypot(0.03, 0.03, 0.004),
});

/** Three-level emitter: g2(τ) = 1 − a1·e^(−|τ|/t1) + a2·e^(−|τ|/t2), so g2(0) = 1 − a1 + a2. */
export interface ThreeLevel {
  a1: number;
  /** Antibunching time (≈ fluorescence lifetime at low pump), ns. */
  t1: number;
  /** Bunching amplitude (shelving in the metastable state). */
  a2: number;
  /** Bunching time, ns. */
  t2: number;
}

/** The three-level parameters of an emitter with the given g2(0), lifetime and bunching. */
export function threeLevelFromG0(g0: number, t1: number, a2: number, t2: number): ThreeLevel {
  return { a1: 1 + a2 - g0, t1, a2, t2 };
}

export function g2Zero(p: ThreeLevel): number {
  return 1 - p.a1 + p.a2;
}

/** Checks a geometry, naming the bad field. */
export function checkGeometry(g: HbtGeometry, path = 'geometry'): void {
  if (!Number.isInteger(g.bins) || g.bins < 3) throw new RangeError(`${path}.bins: must be an integer ≥ 3, got ${g.bins}`);
  if (!(g.binWidthNs > 0)) throw new RangeError(`${path}.binWidthNs: must be > 0, got ${g.binWidthNs}`);
  if (!Number.isInteger(g.zeroBin) || g.zeroBin < 0 || g.zeroBin >= g.bins) throw new RangeError(`${path}.zeroBin: must be an integer in [0, ${g.bins - 1}], got ${g.zeroBin}`);
  if (!(g.jitterNs >= 0)) throw new RangeError(`${path}.jitterNs: must be ≥ 0, got ${g.jitterNs}`);
}

/** Total delay window T_w covered by the histogram, ns. */
export function windowNs(g: HbtGeometry): number {
  return g.bins * g.binWidthNs;
}

/**
 * Bin averages of the jittered decay e^(−|τ|/t) ⊗ N(0, σ²), exactly: the
 * bin average is [E P(hi+ε) − E P(lo+ε)]/Δτ with P the primitive of the
 * decay, whose Gaussian expectation has a closed form (erf/erfc). Far from
 * zero delay (|τ| > 12σ) the jitter only multiplies the decay by e^(σ²/2t²).
 */
export function binAveragedDecay(t: number, g: HbtGeometry): Float64Array {
  const out = new Float64Array(g.bins);
  const w = g.binWidthNs;
  const s = g.jitterNs;
  const far = s > 0 ? Math.exp((s * s) / (2 * t * t)) : 1;
  const q = Math.exp(-w / t);
  // Bin edges x_k = (k − zeroBin − ½)·w; far from zero the primitive needs only e^(∓x/t), stepped by q.
  const x0 = (-g.zeroBin - 0.5) * w;
  let eNeg = Math.exp(x0 / t); // e^(x/t) for negative edges
  let ePos = NaN; // e^(−x/t) for positive edges, set at the first one
  const primitive = (k: number): number => {
    const x = x0 + k * w;
    if (x < -12 * s && x < 0) {
      const v = -t * (1 - far * eNeg);
      eNeg /= q;
      return v;
    }
    if (x > 12 * s && x > 0) {
      if (Number.isNaN(ePos)) ePos = Math.exp(-x / t);
      const v = t * (1 - far * ePos);
      ePos *= q;
      return v;
    }
    eNeg /= q;
    return jitteredPrimitive(x, t, s);
  };
  let prev = primitive(0);
  for (let b = 0; b < g.bins; b++) {
    const next = primitive(b + 1);
    out[b] = (next - prev) / w;
    prev = next;
  }
  return out;
}

/** E[P(x + ε)], ε ~ N(0, s²), P(x) = sgn(x)·t·(1 − e^(−|x|/t)) the primitive of e^(−|τ|/t). */
function jitteredPrimitive(x: number, t: number, s: number): number {
  const far = Math.exp((s * s) / (2 * t * t));
  if (!(s > 0)) return Math.sign(x) * t * (1 - Math.exp(-Math.abs(x) / t));
  if (x > 12 * s) return t * (1 - far * Math.exp(-x / t));
  if (x < -12 * s) return -t * (1 - far * Math.exp(x / t));
  const k = (s * s) / t;
  const phi = (z: number) => 0.5 * erfc(-z / Math.SQRT2);
  const erf = 1 - erfc(x / (s * Math.SQRT2));
  return t * erf - t * far * (Math.exp(-x / t) * phi((x - k) / s) - Math.exp(x / t) * phi((-x - k) / s));
}

/** Complementary error function (Chebyshev fit, relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Bin averages of g2(τ) − 1 for one emitter: −a1·D(t1) + a2·D(t2). */
export function binnedDeficit(p: ThreeLevel, g: HbtGeometry): Float64Array {
  const d1 = binAveragedDecay(p.t1, g);
  const d2 = p.a2 !== 0 ? binAveragedDecay(p.t2, g) : undefined;
  const out = new Float64Array(g.bins);
  for (let b = 0; b < g.bins; b++) out[b] = -p.a1 * d1[b]! + (d2 ? p.a2 * d2[b]! : 0);
  return out;
}

/** Bin averages of g2(τ) for one emitter. */
export function binnedG2(p: ThreeLevel, g: HbtGeometry): Float64Array {
  const d = binnedDeficit(p, g);
  for (let b = 0; b < d.length; b++) d[b]! += 1;
  return d;
}

/**
 * Weights of each emitter's g2 − 1 in the measured g2 at one focus:
 * g2_meas(τ) = 1 + Σ w_i (g2_i(τ) − 1), w_i = I_i² / (Σ I + B)².
 * `intensities` and `background` in the same units (counts/s).
 */
export function mixtureWeights(intensities: ArrayLike<number>, background: number): Float64Array {
  let total = background;
  for (let i = 0; i < intensities.length; i++) total += intensities[i]!;
  const w = new Float64Array(intensities.length);
  if (!(total > 0)) return w;
  for (let i = 0; i < intensities.length; i++) w[i] = (intensities[i]! / total) ** 2;
  return w;
}

/** g2_meas(0) of a mixture: 1 + Σ w_i (g2_i(0) − 1). */
export function mixtureG2Zero(weights: ArrayLike<number>, g2zeros: ArrayLike<number>): number {
  let v = 1;
  for (let i = 0; i < weights.length; i++) v += weights[i]! * (g2zeros[i]! - 1);
  return v;
}

/** Correlator settings that turn rates into coincidences. */
export interface CorrelatorSettings {
  /** Start–stop efficiency η (fraction of photon pairs the correlator records), dimensionless. */
  efficiency: number;
}

/**
 * Expected coincidences per bin: R1·R2·Δτ·T·η·g2_meas(τ) with g2_meas from
 * the per-emitter binned deficits and their mixture weights.
 * Rates in counts/s per detector, `seconds` the integration time.
 */
export function expectedHistogram(
  r1: number,
  r2: number,
  seconds: number,
  deficits: readonly Float64Array[],
  weights: ArrayLike<number>,
  g: HbtGeometry,
  c: CorrelatorSettings,
  out = new Float64Array(g.bins),
): Float64Array {
  const base = r1 * r2 * g.binWidthNs * 1e-9 * seconds * c.efficiency;
  for (let b = 0; b < g.bins; b++) {
    let v = 1;
    for (let i = 0; i < deficits.length; i++) v += weights[i]! * deficits[i]![b]!;
    out[b] = base * Math.max(0, v);
  }
  return out;
}

/** Minimal random source for sampling (drivers/core/rng.ts's Rng fits). */
export interface PoissonSource {
  poisson(lambda: number): number;
}

/** One Poisson draw per bin of an expected histogram, into `out`. */
export function samplePoissonHistogram<T extends Uint32Array | Uint16Array | Float64Array | Float32Array>(rng: PoissonSource, expected: ArrayLike<number>, out: T): T {
  for (let b = 0; b < expected.length; b++) out[b] = rng.poisson(expected[b]!);
  return out;
}
