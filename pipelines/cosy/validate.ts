/**
 * DLMC knows when not to trust its network (issue 18, point 7; decision 1801). A random part of the
 * observed samples is held out; DL, DLMC, MC and soft-impute each complete the map from the rest; the method
 * with the smallest error on the held-out samples is chosen and refitted on every sample. On a map unlike
 * DLNet's training data the network's prior can override the data (worse than zero-filling on one
 * weak-signal map of five): then MC or soft-impute wins the check and is used instead.
 */
import { Rng } from '../../drivers/core/rng.js';
import { reconstruct, type CosyMethod, type ReconstructOptions, type Reconstruction } from './methods.js';

/** The methods compared, in order of preference on a tie. */
export const VALIDATION_CANDIDATES: readonly CosyMethod[] = ['dlmc', 'dl', 'mc', 'softimpute'];

/** Methods whose result is checked on held-out samples before it is trusted (they use the network). */
export function needsValidation(method: CosyMethod): boolean {
  return method === 'dl' || method === 'dlmc';
}

export interface Validation {
  /** The method asked for. */
  requested: CosyMethod;
  /** The method used for the result (smallest held-out error). */
  chosen: CosyMethod;
  /** Samples held out, and their share of the observed samples. */
  heldOut: number;
  heldOutFraction: number;
  seed: number;
  /** RMSE on the held-out samples, on the input's scale, per method tried. */
  errors: Partial<Record<CosyMethod, number>>;
}

export interface ValidateOptions extends ReconstructOptions {
  /** Share of the observed samples held out [0.1]. */
  holdoutFraction?: number;
  /** Seed of the held-out choice [0]. */
  seed?: number;
  candidates?: readonly CosyMethod[];
}

/** Fewer observed samples than this (after holding out): no check, the requested method runs as is. */
const MIN_FIT_SAMPLES = 16;

/**
 * Completes the map with the method that predicts held-out samples best, refitted on all samples. With too
 * few samples to spare, or a method that uses no network, it is `reconstruct` with `validation` undefined.
 */
export async function reconstructValidated(
  map: ArrayLike<number>,
  mask: Uint8Array,
  n1: number,
  n2: number,
  opts: ValidateOptions,
): Promise<Reconstruction & { validation?: Validation }> {
  const fraction = opts.holdoutFraction ?? 0.1;
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`holdoutFraction: must be in (0, 1), got ${fraction}`);
  const seed = opts.seed ?? 0;
  const observed: number[] = [];
  for (let k = 0; k < mask.length; k++) if (mask[k] !== 0) observed.push(k);
  const nHold = Math.max(1, Math.round(fraction * observed.length));
  if (!needsValidation(opts.method) || observed.length - nHold < MIN_FIT_SAMPLES) return reconstruct(map, mask, n1, n2, opts);

  // Seeded partial Fisher–Yates: the first nHold of a shuffle of the observed indices.
  const rng = Rng.derive(seed, 'cosy/holdout');
  const pick = observed.slice();
  for (let i = 0; i < nHold; i++) {
    const j = i + rng.int(pick.length - i);
    [pick[i], pick[j]] = [pick[j]!, pick[i]!];
  }
  const held = pick.slice(0, nHold);
  const fitMask = Uint8Array.from(mask);
  for (const k of held) fitMask[k] = 0;

  const candidates = (opts.candidates ?? VALIDATION_CANDIDATES).filter((m) => !needsValidation(m) || opts.dlnet !== undefined);
  const ordered = [opts.method, ...candidates.filter((m) => m !== opts.method)];
  // The caller's SVT settings are for the method it asked for; the others run with their own defaults.
  const { svtSettings, ...base } = opts;
  const optsFor = (method: CosyMethod): ReconstructOptions => (method === opts.method && svtSettings ? { ...base, method, svtSettings } : { ...base, method });
  const errors: Partial<Record<CosyMethod, number>> = {};
  let chosen = opts.method;
  let best = Infinity;
  for (const method of ordered) {
    const r = await reconstruct(map, fitMask, n1, n2, optsFor(method));
    let se = 0;
    for (const k of held) se += (r.map[k]! - Number(map[k])) ** 2;
    const rmse = Math.sqrt(se / held.length);
    errors[method] = rmse;
    if (rmse < best) [best, chosen] = [rmse, method];
  }
  const final = await reconstruct(map, mask, n1, n2, optsFor(chosen));
  return { ...final, validation: { requested: opts.method, chosen, heldOut: nHold, heldOutFraction: nHold / observed.length, seed, errors } };
}
