/**
 * Start–stop histogram of photon pairs (one on channel A, one on channel B)
 * within one acquisition window: every pair whose delay τ = t_B − t_A falls
 * in the delay axis is counted once, when its later photon arrives — what a
 * time tagger's correlation measurement gives. Bin k holds
 * τ ∈ [(k − zeroBin − ½)·w, (k − zeroBin + ½)·w) (the HbtGeometry convention,
 * drivers/hbt/model.ts). Pairs never span two windows: `reset()` at each new
 * window forgets the earlier photons.
 */
export class PairHistogrammer {
  private readonly lo: number;
  private readonly hi: number;
  private readonly a: number[] = [];
  private readonly b: number[] = [];
  private a0 = 0;
  private b0 = 0;

  /** `binWidthPs`: bin width w in ps. */
  constructor(
    readonly bins: number,
    readonly binWidthPs: number,
    readonly zeroBin: number,
  ) {
    this.lo = -(zeroBin + 0.5) * binWidthPs;
    this.hi = this.lo + bins * binWidthPs;
  }

  reset(): void {
    this.a.length = this.b.length = this.a0 = this.b0 = 0;
  }

  /** A photon on channel A (`isA`) or B at `tPs`; counts its pairs into `row` (length `bins`). */
  add(tPs: number, isA: boolean, row: Uint32Array): void {
    const { lo, hi, binWidthPs: w, bins } = this;
    if (isA) {
      // Earlier B photons: τ = t_B − t ≤ 0.
      const b = this.b;
      while (this.b0 < b.length && b[this.b0]! - tPs < lo - w) this.b0++;
      for (let j = b.length - 1; j >= this.b0; j--) {
        const k = Math.floor((b[j]! - tPs - lo) / w);
        if (k >= 0 && k < bins) row[k]!++;
      }
      this.push(this.a, tPs, true);
    } else {
      const a = this.a;
      while (this.a0 < a.length && tPs - a[this.a0]! > hi + w) this.a0++;
      for (let j = a.length - 1; j >= this.a0; j--) {
        const k = Math.floor((tPs - a[j]! - lo) / w);
        if (k >= 0 && k < bins) row[k]!++;
      }
      this.push(this.b, tPs, false);
    }
  }

  private push(list: number[], t: number, isA: boolean): void {
    list.push(t);
    // Drop the forgotten prefix now and then so memory stays bounded by the photons within one delay span.
    const start = isA ? this.a0 : this.b0;
    if (start > 4096 && start * 2 > list.length) {
      list.splice(0, start);
      if (isA) this.a0 = 0;
      else this.b0 = 0;
    }
  }
}
