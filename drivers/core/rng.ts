/**
 * Seeded, platform-independent random numbers for the simulators:
 * xoshiro128** on 32-bit integer maths (identical on every JS engine), with
 * the distributions the physics needs written out here so no platform
 * library decides a sample.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | undefined;

  constructor(seed: number | string) {
    // splitmix32 expands the seed into the 128-bit state.
    let x = typeof seed === 'string' ? hashString(seed) : seed >>> 0 ^ Math.floor(seed / 2 ** 32);
    const next = () => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** An independent generator derived from this one's seed and a name. */
  static derive(seed: number, name: string): Rng {
    return new Rng(hashString(`${seed}/${name}`));
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [a, b). */
  range(a: number, b: number): number {
    return a + (b - a) * this.uniform();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Marsaglia polar method). */
  normal(mean = 0, sd = 1): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return mean + sd * v;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return mean + sd * u * f;
  }

  /**
   * Poisson sample with mean `lambda`: Knuth's product method for small means,
   * a rounded normal approximation above 1000 (relative error of the
   * variance < 1e-3 there), and in between Knuth's method on chunks of at
   * most 30 (a sum of Poissons is Poisson), so the result stays exact.
   */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda > 1000) return Math.max(0, Math.round(this.normal(lambda, Math.sqrt(lambda))));
    let k = 0;
    let remaining = lambda;
    // Sum of Poissons is Poisson: take it in chunks of at most 30 so exp() stays well away from underflow.
    while (remaining > 0) {
      const chunk = Math.min(remaining, 30);
      remaining -= chunk;
      const limit = Math.exp(-chunk);
      let p = this.uniform();
      while (p > limit) {
        k++;
        p *= this.uniform();
      }
    }
    return k;
  }

  /**
   * Binomial(n, p). Exact (Bernoulli sum, or geometric waiting times when
   * n·min(p,1−p) is small); the normal limit, rounded, when the variance
   * exceeds 20.
   */
  binomial(n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    // Symmetry keeps the small-mean path exact for p near 1 too.
    if (p > 0.5) return n - this.binomial(n, 1 - p);
    if (n < 64) {
      let k = 0;
      for (let i = 0; i < n; i++) if (this.uniform() < p) k++;
      return k;
    }
    const mean = n * p;
    const variance = mean * (1 - p);
    if (variance >= 20) return Math.min(n, Math.max(0, Math.round(this.normal(mean, Math.sqrt(variance)))));
    // Waiting times between successes are geometric: about n·p + 1 draws.
    const logQ = Math.log1p(-p);
    let k = 0;
    let pos = 0;
    for (;;) {
      pos += Math.floor(Math.log(1 - this.uniform()) / logQ) + 1;
      if (pos > n) return k;
      k++;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** FNV-1a 32-bit hash of a string. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
