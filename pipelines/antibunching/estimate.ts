/**
 * What every g2(0) estimator returns, and the names the CLI and the plan use.
 */

/** One g2(0) estimate from one histogram. */
export interface G2Estimate {
  /** Estimated g2(0). */
  g2: number;
  /** The estimator's own 1σ uncertainty (Infinity when it has none, e.g. no events). */
  std: number;
  /** Cramér–Rao bound on σ(g2(0)) at the estimate, curve shape known, scale a nuisance. */
  crb: number;
  /** Coincidence events in the histogram. */
  events: number;
  /** Fitted accidental level A (expected counts per bin far from zero delay); 0 when unknown. */
  scale: number;
}

/** Estimators offered by `qscope reconstruct g2 --method` and the plan. */
export const G2_METHODS = ['shape-fixed-ml', 'lm', 'cnn', 'pooled'] as const;
export type G2Method = (typeof G2_METHODS)[number];

export const G2_METHOD_HELP: Record<G2Method, string> = {
  'shape-fixed-ml': 'Poisson ML of g2(0) and scale, curve shape (t1, t2, a2/a1) from calibration',
  lm: 'Levenberg–Marquardt fit of the full three-level model (the paper\'s baseline)',
  cnn: '1D CNN regressor with uncertainty head (pipelines/antibunching/model)',
  pooled: 'shape-fixed ML with the accidental level tied to the PL map, pooled across the scan',
};
