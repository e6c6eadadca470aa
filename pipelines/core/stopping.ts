/**
 * Stopping rules: small pure functions of running statistics, so a pipeline's
 * `shouldStop(scope)` is one line over its own state, and the reason a dwell
 * or a session ended is written in words into the record.
 *
 *   const rule = anyOf(maxSamples(7), allOf(minSamples(2), targetSigma(0.1)));
 *   shouldStop({pixel}) { return rule(this.stats(pixel)); }
 */

export interface StopDecision {
  stop: boolean;
  /** Why (recorded with the decision): e.g. `σ=0.08 ≤ target 0.1 after 3 samples`. */
  reason: string;
}

/** Running statistics a rule looks at; every field is optional except `n`. */
export interface StopStats {
  /** Samples (chunks, histograms, frames) taken so far in this scope. */
  n: number;
  /** Current estimate of the quantity of interest. */
  estimate?: number;
  /** Its standard uncertainty (same unit as `estimate`). */
  sigma?: number;
  /** Events (photons, coincidences) accumulated. */
  events?: number;
  /** Experiment time spent in this scope, ms. */
  elapsedMs?: number;
}

export type StoppingRule = (s: StopStats) => StopDecision;

export const CONTINUE: StopDecision = Object.freeze({ stop: false, reason: 'continue' });

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(3);
}

/** Stops once `n ≥ max` (the plan's budget). */
export function maxSamples(max: number): StoppingRule {
  if (!(max >= 1)) throw new RangeError(`max: must be ≥ 1, got ${max}`);
  return (s) => (s.n >= max ? { stop: true, reason: `budget: ${s.n} of ${max} samples` } : CONTINUE);
}

/** Never stops before `n ≥ min` (use inside allOf). */
export function minSamples(min: number): StoppingRule {
  return (s) => (s.n >= min ? { stop: true, reason: `${s.n} ≥ ${min} samples` } : CONTINUE);
}

/** Stops once σ ≤ target. */
export function targetSigma(target: number): StoppingRule {
  if (!(target > 0)) throw new RangeError(`target: must be > 0, got ${target}`);
  return (s) =>
    s.sigma !== undefined && Number.isFinite(s.sigma) && s.sigma <= target
      ? { stop: true, reason: `precision: σ=${fmt(s.sigma)} ≤ target ${fmt(target)} after ${s.n} samples` }
      : CONTINUE;
}

/** Stops once σ/|estimate| ≤ target. */
export function targetRelativeSigma(target: number): StoppingRule {
  if (!(target > 0)) throw new RangeError(`target: must be > 0, got ${target}`);
  return (s) => {
    if (s.sigma === undefined || s.estimate === undefined || s.estimate === 0) return CONTINUE;
    const r = s.sigma / Math.abs(s.estimate);
    return Number.isFinite(r) && r <= target
      ? { stop: true, reason: `precision: σ/|x|=${fmt(r)} ≤ target ${fmt(target)} after ${s.n} samples` }
      : CONTINUE;
  };
}

/** Stops once at least `min` events were collected. */
export function minEvents(min: number): StoppingRule {
  return (s) => (s.events !== undefined && s.events >= min ? { stop: true, reason: `events: ${s.events} ≥ ${min}` } : CONTINUE);
}

/** Stops once `elapsedMs ≥ ms`. */
export function maxElapsed(ms: number): StoppingRule {
  return (s) => (s.elapsedMs !== undefined && s.elapsedMs >= ms ? { stop: true, reason: `time: ${fmt(s.elapsedMs)} ms ≥ ${fmt(ms)} ms` } : CONTINUE);
}

/** Stops when any rule stops (first reason wins). */
export function anyOf(...rules: StoppingRule[]): StoppingRule {
  return (s) => {
    for (const r of rules) {
      const d = r(s);
      if (d.stop) return d;
    }
    return CONTINUE;
  };
}

/** Stops when every rule stops (reasons joined). */
export function allOf(...rules: StoppingRule[]): StoppingRule {
  return (s) => {
    const reasons: string[] = [];
    for (const r of rules) {
      const d = r(s);
      if (!d.stop) return CONTINUE;
      reasons.push(d.reason);
    }
    return { stop: true, reason: reasons.join(' and ') };
  };
}
