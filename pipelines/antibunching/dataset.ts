/**
 * Simulated HBT data for training and evaluating the g2(0) estimators,
 * generated with the simulator's physics (drivers/hbt/model.ts).
 *
 * A *source* is one emitter seen at one focus position (bright on the
 * emitter, dim beside it, over a background): its true measured g2(0) is the
 * mixture value 1 + w·(g2_emitter(0) − 1) with w = (I/(I+B))². Each source
 * has a bank of consecutive 1 s histograms; training samples are sums of
 * 1–10 of them (the paper's augmentation), labelled g2 = 1 when they hold
 * fewer than 4 events (the paper's dark-pixel rule). Training and held-out
 * sources come from differently named generators, so the held-out emitters
 * are never seen in training.
 */
import { Rng } from '../../drivers/core/rng.js';
import {
  PAPER_GEOMETRY,
  binnedDeficit,
  expectedHistogram,
  samplePoissonHistogram,
  threeLevelFromG0,
  type CorrelatorSettings,
  type HbtGeometry,
} from '../../drivers/hbt/model.js';
import { NV_POPULATION, drawEmitter, type Emitter } from '../../drivers/hbt/scene.js';

/** The calibrated correlator: η such that an in-focus NV gives 1–61 events/s (the paper's range). */
export const DEFAULT_CORRELATOR: CorrelatorSettings = Object.freeze({ efficiency: 0.01 });

export interface Source {
  emitter: Emitter;
  /** Total PL rate, both detectors, counts/s. */
  rateCps: number;
  /** Mixture weight of the emitter's g2 − 1. */
  weight: number;
  /** True measured g2(0) at this source. */
  g2: number;
  /** Expected 1 s histogram. */
  expected: Float64Array;
  /** Bank of consecutive 1 s histograms, row-major (seconds × bins). */
  bank: Uint16Array;
  seconds: number;
}

export interface SourceOptions {
  geometry?: HbtGeometry;
  correlator?: CorrelatorSettings;
  /** 1 s histograms per source. */
  seconds: number;
  psfFwhmNm?: number;
  /** Background range, both detectors, counts/s. */
  backgroundCps?: [number, number];
  /** Fraction of sources placed away from the emitter peak (dim or dark pixels). */
  offPeakFraction?: number;
}

/** Draws `count` sources from the NV population with generator `rng`. */
export function makeSources(rng: Rng, count: number, o: SourceOptions): Source[] {
  const g = o.geometry ?? PAPER_GEOMETRY;
  const c = o.correlator ?? DEFAULT_CORRELATOR;
  const fwhm = o.psfFwhmNm ?? 300;
  const [b0, b1] = o.backgroundCps ?? [1000, 8000];
  const off = o.offPeakFraction ?? 0.3;
  const out: Source[] = [];
  for (let i = 0; i < count; i++) {
    const e = drawEmitter(rng, 0, 0, NV_POPULATION);
    // Distance of the focus from the emitter: mostly near the peak, some far into the tails.
    const r = rng.uniform() < off ? fwhm * rng.range(0.4, 1.3) : fwhm * 0.4 * Math.sqrt(rng.uniform());
    const intensity = e.brightnessCps * Math.exp((-4 * Math.LN2 * r * r) / (fwhm * fwhm));
    const background = rng.range(b0, b1);
    const rate = intensity + background;
    const weight = (intensity / rate) ** 2;
    const deficit = binnedDeficit(threeLevelFromG0(e.g2zero, e.t1Ns, e.a2, e.t2Ns), g);
    const expected = expectedHistogram(rate / 2, rate / 2, 1, [deficit], [weight], g, c);
    const bank = new Uint16Array(o.seconds * g.bins);
    for (let s = 0; s < o.seconds; s++) samplePoissonHistogram(rng, expected, bank.subarray(s * g.bins, (s + 1) * g.bins));
    out.push({ emitter: e, rateCps: rate, weight, g2: 1 + weight * (e.g2zero - 1), expected, bank, seconds: o.seconds });
  }
  return out;
}

/** Events below which a histogram is a dark pixel, labelled g2 = 1 (the paper). */
export const DARK_EVENTS = 4;

export interface Samples {
  /** Row-major n × bins summed histograms. */
  histograms: Float32Array;
  /** Training label (1 for dark samples). */
  labels: Float32Array;
  /** True measured g2(0) of the source (what an unbiased estimator targets). */
  truth: Float32Array;
  events: Float32Array;
  seconds: Uint8Array;
  source: Int32Array;
  n: number;
}

function emptySamples(n: number, bins: number): Samples {
  return {
    histograms: new Float32Array(n * bins),
    labels: new Float32Array(n),
    truth: new Float32Array(n),
    events: new Float32Array(n),
    seconds: new Uint8Array(n),
    source: new Int32Array(n),
    n,
  };
}

/**
 * `n` augmented samples: a random source, k uniform in [kMin, kMax] seconds,
 * the sum of k distinct 1 s histograms of its bank.
 */
export function augmentedSamples(rng: Rng, sources: Source[], n: number, kMin: number, kMax: number, bins: number): Samples {
  const s = emptySamples(n, bins);
  const pick: number[] = [];
  for (let i = 0; i < n; i++) {
    const si = rng.int(sources.length);
    const src = sources[si]!;
    const k = kMin + rng.int(kMax - kMin + 1);
    pick.length = 0;
    while (pick.length < Math.min(k, src.seconds)) {
      const j = rng.int(src.seconds);
      if (!pick.includes(j)) pick.push(j);
    }
    fill(s, i, src, si, pick, bins);
  }
  return s;
}

/**
 * Evaluation samples: for each source, consecutive non-overlapping windows of
 * `k` seconds (as a real acquisition would give), as many as its bank holds.
 */
export function windowSamples(sources: Source[], k: number, bins: number): Samples {
  const per = sources.map((src) => Math.floor(src.seconds / k));
  const s = emptySamples(per.reduce((a, b) => a + b, 0), bins);
  let i = 0;
  sources.forEach((src, si) => {
    for (let w = 0; w < per[si]!; w++) {
      const pick = Array.from({ length: k }, (_, j) => w * k + j);
      fill(s, i++, src, si, pick, bins);
    }
  });
  return s;
}

function fill(s: Samples, i: number, src: Source, si: number, pick: number[], bins: number): void {
  const row = s.histograms.subarray(i * bins, (i + 1) * bins);
  let events = 0;
  for (const j of pick) {
    const h = src.bank.subarray(j * bins, (j + 1) * bins);
    for (let b = 0; b < bins; b++) {
      row[b]! += h[b]!;
      events += h[b]!;
    }
  }
  s.events[i] = events;
  s.seconds[i] = pick.length;
  s.source[i] = si;
  s.truth[i] = src.g2;
  s.labels[i] = events < DARK_EVENTS ? 1 : src.g2;
}

/** Generator names: training and held-out emitters never share a stream. */
export function trainingRng(seed: number): Rng {
  return Rng.derive(seed, 'g2/train-emitters');
}
export function heldOutRng(seed: number): Rng {
  return Rng.derive(seed, 'g2/held-out-emitters');
}
