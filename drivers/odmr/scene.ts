/**
 * The `nuclei` scene: the 13C nuclei around the NV that the ODMR readout
 * senses. Config `scene.nuclei`: explicit `positionsNm` (and optional
 * `weights`), or `random: count` for a random cluster (2–5 like the training
 * data); default: the paper-like dimer of physics.ts.
 */
import type { Rng } from '../core/rng.js';
import { DEFAULT_DIMER, randomCluster, type Nucleus } from './physics.js';

export interface NucleiSceneConfig {
  positionsNm?: [number, number, number][];
  weights?: number[];
  random?: number;
}

export const NUCLEI_SCENE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    positionsNm: { type: 'array', minItems: 1, maxItems: 8, items: { type: 'array', items: { type: 'number', unit: 'nm' }, minItems: 3, maxItems: 3 } },
    weights: { type: 'array', maxItems: 8, items: { type: 'number', exclusiveMinimum: 0 } },
    random: { type: 'integer', minimum: 1, maximum: 8 },
  },
} as const;

export function buildNuclei(config: unknown, rng: Rng): Nucleus[] {
  const cfg = (config ?? {}) as NucleiSceneConfig;
  if (cfg.positionsNm && cfg.random !== undefined) throw new RangeError('scene.nuclei: give positionsNm or random, not both');
  if (cfg.random !== undefined) return randomCluster(cfg.random, rng);
  if (cfg.positionsNm) {
    if (cfg.weights && cfg.weights.length !== cfg.positionsNm.length) throw new RangeError(`scene.nuclei.weights: ${cfg.weights.length} weights for ${cfg.positionsNm.length} positions`);
    return cfg.positionsNm.map((p, i) => ({ positionNm: [p[0], p[1], p[2]], weight: cfg.weights?.[i] ?? 1 }));
  }
  return DEFAULT_DIMER.map((n) => ({ ...n, positionNm: [...n.positionNm] as [number, number, number] }));
}
