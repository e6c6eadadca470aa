/**
 * Motion physics of a closed-loop piezo stage, pure (time is passed in, ms).
 *
 * Each axis ramps at the maximum velocity to its target, then the servo
 * overshoots and settles: the error after arrival is
 *   e(t') = A · (t'/τ) · exp(1 − t'/τ),   A = overshootFraction · |step|,
 * which is continuous at arrival, peaks at A after τ and decays with time
 * constant τ. The controller reports on-target once every axis stays within
 * the tolerance for good: at arrival if A ≤ tolerance, otherwise at the
 * crossing after the peak. Axes move independently; the move settles when
 * the slowest axis has.
 */
import type { Vec3 } from './interface.js';

export interface PiezoMotionParams {
  /** Travel per axis, nm. */
  rangeNm: Vec3;
  /** nm per ms (= mm/s). */
  maxVelocityNmPerMs: number;
  /** On-target window, nm. */
  settleToleranceNm: number;
  /** Servo settling time constant τ, ms. */
  settleTimeConstantMs: number;
  /** Peak overshoot as a fraction of the step. */
  overshootFraction: number;
}

/** Time from arrival until |e| stays ≤ tolerance, ms (0 when the overshoot never leaves the window). */
export function settleAfterArrivalMs(stepNm: number, p: PiezoMotionParams): number {
  const peak = p.overshootFraction * Math.abs(stepNm);
  if (peak <= p.settleToleranceNm) return 0;
  // Solve u·e^(1−u) = q for u > 1 (the decaying branch) by bisection.
  const q = p.settleToleranceNm / peak;
  const f = (u: number) => u * Math.exp(1 - u) - q;
  let lo = 1;
  let hi = 2;
  while (f(hi) > 0) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) > 0) lo = mid;
    else hi = mid;
  }
  return hi * p.settleTimeConstantMs;
}

/** One move from `from` to `to` starting at `startMs`. */
export class PiezoMotion {
  /** Per axis: arrival time after start, ms. */
  private readonly arrivalMs: Vec3;
  /** When the controller reports on-target (absolute ms): what the model predicts. */
  readonly settledAtMs: number;

  constructor(
    readonly from: Vec3,
    readonly to: Vec3,
    readonly startMs: number,
    private readonly p: PiezoMotionParams,
  ) {
    this.arrivalMs = from.map((f, i) => Math.abs(to[i]! - f) / p.maxVelocityNmPerMs) as Vec3;
    this.settledAtMs = startMs + Math.max(...from.map((f, i) => this.arrivalMs[i]! + settleAfterArrivalMs(to[i]! - f, p)));
  }

  /** Move duration the model predicts (start to on-target), ms. */
  get durationMs(): number {
    return this.settledAtMs - this.startMs;
  }

  /** True stage position at `tMs`, nm (clamped to the travel). */
  positionAt(tMs: number): Vec3 {
    const t = Math.max(0, tMs - this.startMs);
    return this.from.map((f, i) => {
      const step = this.to[i]! - f;
      const dir = Math.sign(step);
      const arrive = this.arrivalMs[i]!;
      let x: number;
      if (t < arrive) x = f + dir * this.p.maxVelocityNmPerMs * t;
      else {
        const u = (t - arrive) / this.p.settleTimeConstantMs;
        x = this.to[i]! + dir * this.p.overshootFraction * Math.abs(step) * u * Math.exp(1 - u);
      }
      return Math.min(this.p.rangeNm[i]!, Math.max(0, x));
    }) as Vec3;
  }

  /** Whether the controller reports on-target at `tMs`. */
  onTargetAt(tMs: number): boolean {
    return tMs >= this.settledAtMs;
  }
}
