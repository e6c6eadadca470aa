/**
 * The `emitters` scene: nanodiamond NV centres on a substrate, seen through a
 * Gaussian PSF, over a uniform background. Built once per world from the
 * `scene.emitters` config section and the scene's own seeded generator; the
 * HBT simulator reads the rates at the piezo's focus from it.
 *
 * Units: positions nm, rates counts/s (both detectors together), times ns.
 */
import type { Rng } from '../core/rng.js';

export interface Emitter {
  xNm: number;
  yNm: number;
  /** Depth of the emitter, nm (the sample plane is z = 0). */
  zNm: number;
  /** PL rate with the emitter at the focus centre, both detectors together, counts/s. */
  brightnessCps: number;
  /** g2(0) of the emitter alone. */
  g2zero: number;
  /** Antibunching time (lifetime), ns. */
  t1Ns: number;
  /** Bunching amplitude a2. */
  a2: number;
  /** Bunching time, ns. */
  t2Ns: number;
}

export interface EmitterScene {
  emitters: Emitter[];
  /** Lateral FWHM of the PL PSF in focus, nm. */
  psfFwhmNm: number;
  /** Axial distance over which the PSF widens by √2 (Rayleigh range), nm. */
  rayleighNm: number;
  /** Uncorrelated background (substrate PL + dark counts), both detectors, counts/s. */
  backgroundCps: number;
  /** z of the sample plane (piezo coordinates), nm. */
  samplePlaneNm: number;
  /** The field a scan of this sample should cover (plan defaults). */
  field: { centerNm: [number, number]; sizeNm: number; pixels: number };
}

/** Ranges emitters are drawn from (the paper's population: g2(0) 0.1–0.9, lifetimes 10–100 ns). */
export interface EmitterPopulation {
  g2zero: [number, number];
  t1Ns: [number, number];
  a2: [number, number];
  t2Ns: [number, number];
  /** Brightness at focus, both detectors, counts/s: 2×(1e4–1e5) per detector. */
  brightnessCps: [number, number];
}

export const NV_POPULATION: EmitterPopulation = Object.freeze({
  g2zero: [0.1, 0.9] as [number, number],
  t1Ns: [10, 100] as [number, number],
  a2: [0, 0.4] as [number, number],
  t2Ns: [150, 1000] as [number, number],
  brightnessCps: [2.6e4, 2.2e5] as [number, number],
});

/** One emitter of the population at a position. */
export function drawEmitter(rng: Rng, xNm: number, yNm: number, pop: EmitterPopulation = NV_POPULATION): Emitter {
  const t1Ns = rng.range(pop.t1Ns[0], pop.t1Ns[1]);
  return {
    xNm,
    yNm,
    zNm: 0,
    brightnessCps: rng.range(pop.brightnessCps[0], pop.brightnessCps[1]),
    g2zero: rng.range(pop.g2zero[0], pop.g2zero[1]),
    t1Ns,
    a2: rng.range(pop.a2[0], pop.a2[1]),
    // The shelving time is longer than the lifetime.
    t2Ns: Math.max(rng.range(pop.t2Ns[0], pop.t2Ns[1]), 3 * t1Ns),
  };
}

/** Config of the `scene.emitters` section. */
export interface EmitterSceneConfig {
  /** `single`: the paper's one emitter in 775×775 nm², 32×32 px; `pair`: two emitters `separationNm` apart. */
  preset?: 'single' | 'pair';
  separationNm?: number;
  psfFwhmNm?: number;
  rayleighNm?: number;
  backgroundCps?: number;
  /** z of the sample plane in piezo coordinates, nm (default 50 000: the middle of a 100 µm stage). */
  samplePlaneNm?: number;
  field?: { centerNm?: [number, number]; sizeNm?: number; pixels?: number };
  /** Explicit emitters (override the preset); missing fields are drawn from the population. */
  emitters?: Array<Partial<Emitter> & { xNm: number; yNm: number }>;
}

const EMITTER_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['xNm', 'yNm'],
  properties: {
    xNm: { type: 'number', unit: 'nm' },
    yNm: { type: 'number', unit: 'nm' },
    zNm: { type: 'number', unit: 'nm' },
    brightnessCps: { type: 'number', exclusiveMinimum: 0, unit: 'counts/s' },
    g2zero: { type: 'number', minimum: 0, maximum: 1 },
    t1Ns: { type: 'number', exclusiveMinimum: 0, unit: 'ns' },
    a2: { type: 'number', minimum: 0 },
    t2Ns: { type: 'number', exclusiveMinimum: 0, unit: 'ns' },
  },
} as const;

/** JSON Schema of `scene.emitters` (for the config loader). */
export const EMITTER_SCENE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    preset: { enum: ['single', 'pair'] },
    separationNm: { type: 'number', exclusiveMinimum: 0, unit: 'nm' },
    psfFwhmNm: { type: 'number', exclusiveMinimum: 0, unit: 'nm' },
    rayleighNm: { type: 'number', exclusiveMinimum: 0, unit: 'nm' },
    backgroundCps: { type: 'number', minimum: 0, unit: 'counts/s' },
    samplePlaneNm: { type: 'number', unit: 'nm' },
    field: {
      type: 'object',
      additionalProperties: false,
      properties: {
        centerNm: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
        sizeNm: { type: 'number', exclusiveMinimum: 0, unit: 'nm' },
        pixels: { type: 'integer', minimum: 2, maximum: 4096 },
      },
    },
    emitters: { type: 'array', maxItems: 10_000, items: EMITTER_SCHEMA },
  },
} as const;

/**
 * Builds the scene from its config (undefined = defaults) and the scene's
 * generator. Emitter properties not given are drawn from the NV population,
 * so a seed fixes the sample.
 */
export function buildEmitterScene(config: unknown, rng: Rng): EmitterScene {
  const c = (config ?? {}) as EmitterSceneConfig;
  if (typeof c !== 'object' || Array.isArray(c)) throw new TypeError('scene.emitters: must be an object');
  // Default field: centred on the piezo's home (middle of a 100 µm stage), in piezo coordinates.
  const center = c.field?.centerNm ?? [50_000, 50_000];
  const samplePlaneNm = c.samplePlaneNm ?? 50_000;
  const field = { centerNm: [center[0], center[1]] as [number, number], sizeNm: c.field?.sizeNm ?? 775, pixels: c.field?.pixels ?? 32 };
  const psfFwhmNm = c.psfFwhmNm ?? 300;
  if (!(psfFwhmNm > 0)) throw new RangeError(`scene.emitters.psfFwhmNm: must be > 0, got ${psfFwhmNm}`);
  const backgroundCps = c.backgroundCps ?? 3000;
  if (!(backgroundCps >= 0)) throw new RangeError(`scene.emitters.backgroundCps: must be ≥ 0, got ${backgroundCps}`);
  let emitters: Emitter[];
  if (c.emitters) {
    emitters = c.emitters.map((e, i) => {
      if (!Number.isFinite(e.xNm) || !Number.isFinite(e.yNm)) throw new RangeError(`scene.emitters.emitters[${i}]: xNm and yNm must be numbers`);
      return { ...drawEmitter(rng, e.xNm, e.yNm), zNm: samplePlaneNm, ...e } as Emitter;
    });
  } else if ((c.preset ?? 'single') === 'pair') {
    const d = c.separationNm ?? 250;
    // Two emitters with clear antibunching, so G2 can separate them.
    const pop = { ...NV_POPULATION, g2zero: [0.15, 0.35] as [number, number], brightnessCps: [9e4, 1.1e5] as [number, number] };
    emitters = [drawEmitter(rng, center[0] - d / 2, center[1], pop), drawEmitter(rng, center[0] + d / 2, center[1], pop)];
  } else {
    const pop = { ...NV_POPULATION, g2zero: [0.2, 0.4] as [number, number], brightnessCps: [9e4, 1.1e5] as [number, number], t1Ns: [15, 30] as [number, number] };
    emitters = [drawEmitter(rng, center[0], center[1], pop)];
  }
  if (!c.emitters) for (const e of emitters) e.zNm = samplePlaneNm;
  return { emitters, psfFwhmNm, rayleighNm: c.rayleighNm ?? 600, backgroundCps, samplePlaneNm, field };
}

/**
 * PL rate of each emitter (both detectors, counts/s) with the focus at
 * `focusNm`: a Gaussian PSF whose width grows and whose peak drops away
 * from the emitter's plane (Gaussian-beam defocus).
 */
export function emitterIntensities(scene: EmitterScene, focusNm: readonly [number, number, number], out = new Float64Array(scene.emitters.length)): Float64Array {
  const k = (4 * Math.LN2) / (scene.psfFwhmNm * scene.psfFwhmNm);
  for (let i = 0; i < scene.emitters.length; i++) {
    const e = scene.emitters[i]!;
    const dz = (focusNm[2] - e.zNm) / scene.rayleighNm;
    const widen = 1 + dz * dz;
    const dx = focusNm[0] - e.xNm;
    const dy = focusNm[1] - e.yNm;
    out[i] = (e.brightnessCps / widen) * Math.exp((-k * (dx * dx + dy * dy)) / widen);
  }
  return out;
}
