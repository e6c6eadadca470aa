/**
 * Training and evaluation frames from HR textures: the camera's forward model
 * (drivers/camera/imaging.ts: periodic 23×23 Gaussian blur σ = 1, stride f)
 * applied to augmented textures, plus optional Gaussian noise.
 *
 * Augmentations (all exact symmetries of both Hamiltonians, decision 1501):
 * cyclic translations (free for periodic textures; they also move the
 * sampling phase, so one texture gives f² different LR frames), 90° lattice
 * rotations that rotate (S_x, S_y) with the lattice (interfacial DMI is
 * invariant under rotations about z), and time reversal S → −S (every term
 * is even in S). No mirrors: a naive image mirror flips the DMI chirality.
 */
import { blurSample } from '../../drivers/camera/imaging.js';
import type { Rng } from '../../drivers/core/rng.js';

/** Channels of [Sx, Sy, Sz] a frame keeps: Kerr sees S_z, SPLEEM all three. */
export function componentChannels(components: 1 | 3): number[] {
  return components === 1 ? [2] : [0, 1, 2];
}

export interface Augmentation {
  /** Cyclic shift of the texture, HR sites (rows, cols). */
  shift: [number, number];
  /** Quarter turns counter-clockwise (0–3). */
  rot: number;
  /** Time reversal. */
  flip: boolean;
}

export function randomAugmentation(rng: Rng, n: number): Augmentation {
  return { shift: [rng.int(n), rng.int(n)], rot: rng.int(4), flip: rng.uniform() < 0.5 };
}

/** The augmented texture [n, n, 3] (rotation and flip applied; the shift is applied by sampling). */
export function transformTexture(hr: Float32Array, n: number, aug: Pick<Augmentation, 'rot' | 'flip'>): Float32Array {
  if (aug.rot === 0 && !aug.flip) return hr;
  const out = new Float32Array(hr.length);
  const sgn = aug.flip ? -1 : 1;
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      // Rotate position and in-plane spin by rot·90°: (x, y) → (−y, x), (Sx, Sy) → (−Sy, Sx).
      let X = x, Y = y;
      let sx = hr[(y * n + x) * 3]!, sy = hr[(y * n + x) * 3 + 1]!;
      for (let k = 0; k < aug.rot; k++) {
        [X, Y] = [(n - Y) % n, X];
        [sx, sy] = [-sy, sx];
      }
      const o = (Y * n + X) * 3;
      out[o] = sgn * sx;
      out[o + 1] = sgn * sy;
      out[o + 2] = sgn * hr[(y * n + x) * 3 + 2]!;
    }
  return out;
}

/** LR frame [n/f, n/f, C] of a texture [n, n, 3] seen from `shift`, plus noise σ. */
export function lrFrame(hr: Float32Array, n: number, f: number, components: 1 | 3, shift: [number, number] = [0, 0], noise = 0, rng?: Rng): Float32Array {
  const a = n / f;
  const v = blurSample({ data: hr, rows: n, cols: n, channels: 3 }, shift[0], shift[1], f, a, a, componentChannels(components));
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! + (noise > 0 && rng ? rng.normal(0, noise) : 0);
  return out;
}

/** The HR truth [n, n, C] matching `lrFrame(hr, n, f, C, shift)`: the texture rolled by `shift`. */
export function hrTruth(hr: Float32Array, n: number, components: 1 | 3, shift: [number, number] = [0, 0]): Float32Array {
  const ch = componentChannels(components);
  const C = ch.length;
  const out = new Float32Array(n * n * C);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) {
      const src = ((((r + shift[0]) % n) * n + ((c + shift[1]) % n)) * 3);
      for (let k = 0; k < C; k++) out[(r * n + c) * C + k] = hr[src + ch[k]!]!;
    }
  return out;
}
