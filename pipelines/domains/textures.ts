/**
 * Annealed magnetic textures from the native annealer (native/spins.cc,
 * decision 1500): the project's own simulator for the domain-imaging
 * networks. Training and held-out textures come from disjoint seed ranges,
 * so an evaluation never sees a texture (or a seed) used in training.
 * Textures can be cached as `.npy` files in a directory (float32 [n, n, 3]).
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy, readNpy } from '../../drivers/core/npy.js';
import { annealSpins } from '../../native/index.js';

export type TextureType = 1 | 2;

/** Training seeds: TRAIN_SEED_BASE[type] + i. */
export const TRAIN_SEED_BASE: Readonly<Record<TextureType, number>> = Object.freeze({ 1: 10_000, 2: 20_000 });
/** Held-out seeds (benchmark, regression tests, reconstruct's check): HELDOUT_SEED_BASE[type] + i; never trained on. */
export const HELDOUT_SEED_BASE: Readonly<Record<TextureType, number>> = Object.freeze({ 1: 910_000, 2: 920_000 });

/** The schedule every dataset texture uses (decision 1500). */
export const TEXTURE_SCHEDULE = Object.freeze({ t0: 1.5, t1: 0.01, sweeps: 400, alignSweeps: 50 });

/** Side of the paper's textures. */
export const TEXTURE_SIZE = 128;

/** One annealed texture, float32 [n, n, 3]. */
export async function annealTexture(type: TextureType, seed: number, n = TEXTURE_SIZE, signal?: AbortSignal): Promise<Float32Array> {
  const r = await annealSpins({ type, n }, { ...TEXTURE_SCHEDULE, seed, ...(signal ? { signal } : {}) });
  return Float32Array.from(r.spins);
}

/**
 * Textures for `seeds`, read from `cacheDir` when there (`type<T>-n<n>-seed<S>.npy`), annealed and
 * written there otherwise (atomically: a crash never leaves half a file).
 */
export async function textureSet(type: TextureType, seeds: readonly number[], opts: { n?: number; cacheDir?: string; signal?: AbortSignal; onTexture?: (i: number) => void } = {}): Promise<Float32Array[]> {
  const n = opts.n ?? TEXTURE_SIZE;
  if (opts.cacheDir) mkdirSync(opts.cacheDir, { recursive: true });
  const out: Float32Array[] = [];
  for (let i = 0; i < seeds.length; i++) {
    const seed = seeds[i]!;
    const file = opts.cacheDir ? join(opts.cacheDir, `type${type}-n${n}-seed${seed}.npy`) : undefined;
    if (file && existsSync(file)) {
      const a = readNpy(file);
      if (a.data instanceof Float32Array && a.data.length === n * n * 3) {
        out.push(a.data);
        opts.onTexture?.(i);
        continue;
      }
    }
    const t = await annealTexture(type, seed, n, opts.signal);
    if (file) {
      writeFileSync(`${file}.tmp`, encodeNpy(t, [n, n, 3]));
      renameSync(`${file}.tmp`, file);
    }
    out.push(t);
    opts.onTexture?.(i);
  }
  return out;
}

/** Seeds base + 0 … base + count − 1. */
export function seedRange(base: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => base + i);
}
