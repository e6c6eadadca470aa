/**
 * DLNet: the DLMC paper's encoder–decoder CNN that completes a sparsely
 * sampled 2D correlation map. Input [B, 64, 64, 2] = (masked map normalised
 * to [0, 1]) ⊕ (sampling mask), the 50×50 map in the top-left corner and
 * zeros elsewhere; output [B, 64, 64, 1], the completed map on the same scale.
 *
 * Paper: conv(32) → 4 × [res block + learnable 2×2/2 pooling] with 32, 32→64,
 * 64→128, 128→256 kernels → res block(512) at 4×4 → 4 × [2×2/2 transposed
 * conv + skip + res block], halving kernels → conv(1). All convolutions 3×3,
 * stride 1, padding 1.
 *
 * Here, narrowed to train on one shared CPU core (decision 0801): the same
 * building blocks with `base` kernels (default 16) and `levels` poolings
 * (default 3: 64 → 32 → 16 → 8), kernels doubling per level up to the
 * bottleneck; skips add the encoder feature to the transposed-conv output
 * (same kernel count) instead of concatenating.
 */
import type * as TF from '@tensorflow/tfjs';

export const DLNET_SIZE = 64;

export interface DLNetConfig {
  /** Kernels in the first group. */
  base: number;
  /** Number of stride-2 poolings (and transposed convolutions). */
  levels: number;
}

export const DEFAULT_DLNET: DLNetConfig = { base: 16, levels: 3 };

export function buildDLNet(tf: typeof TF, cfg: DLNetConfig = DEFAULT_DLNET, seed = 1): TF.LayersModel {
  if (!Number.isInteger(cfg.base) || cfg.base < 1) throw new RangeError(`base: must be a positive integer, got ${cfg.base}`);
  if (!Number.isInteger(cfg.levels) || cfg.levels < 1 || DLNET_SIZE % 2 ** cfg.levels !== 0) throw new RangeError(`levels: must be 1..6, got ${cfg.levels}`);
  let layerSeed = seed * 1000;
  const init = () => tf.initializers.heNormal({ seed: layerSeed++ });
  const conv = (x: TF.SymbolicTensor, filters: number, name: string, activation: 'relu' | 'linear' = 'relu') =>
    tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation, kernelInitializer: init(), name }).apply(x) as TF.SymbolicTensor;
  // Res block: conv → ReLU → conv → + input → ReLU (the paper's Fig. 2b).
  const res = (x: TF.SymbolicTensor, filters: number, name: string) => {
    const a = conv(x, filters, `${name}_c1`);
    const b = conv(a, filters, `${name}_c2`, 'linear');
    const sum = tf.layers.add({ name: `${name}_add` }).apply([x, b]) as TF.SymbolicTensor;
    return tf.layers.activation({ activation: 'relu', name: `${name}_relu` }).apply(sum) as TF.SymbolicTensor;
  };
  const filtersAt = (level: number) => cfg.base * 2 ** level;

  const input = tf.input({ shape: [DLNET_SIZE, DLNET_SIZE, 2], name: 'map_and_mask' });
  let x = conv(input, filtersAt(0), 'g1_conv');
  const skips: TF.SymbolicTensor[] = [];
  for (let l = 0; l < cfg.levels; l++) {
    x = res(x, filtersAt(l), `enc${l}`);
    skips.push(x);
    // Learnable pooling: a 2×2 stride-2 convolution, doubling the kernels.
    x = tf.layers.conv2d({ filters: filtersAt(l + 1), kernelSize: 2, strides: 2, padding: 'valid', activation: 'relu', kernelInitializer: init(), name: `pool${l}` }).apply(x) as TF.SymbolicTensor;
  }
  x = res(x, filtersAt(cfg.levels), 'bottleneck');
  for (let l = cfg.levels - 1; l >= 0; l--) {
    x = tf.layers.conv2dTranspose({ filters: filtersAt(l), kernelSize: 2, strides: 2, padding: 'valid', activation: 'relu', kernelInitializer: init(), name: `up${l}` }).apply(x) as TF.SymbolicTensor;
    x = tf.layers.add({ name: `skip${l}` }).apply([x, skips[l]!]) as TF.SymbolicTensor;
    x = res(x, filtersAt(l), `dec${l}`);
  }
  const out = tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'linear', kernelInitializer: tf.initializers.glorotNormal({ seed: layerSeed++ }), name: 'out' }).apply(x) as TF.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'dlnet' });
}

/**
 * Packs maps into DLNet's input layout: `maps[k]` (n1×n2, already on the
 * [0,1] scale, any value where not sampled) and `masks[k]` (1 = sampled) into
 * a Float32Array [B, 64, 64, 2], top-left aligned, zero-padded.
 */
export function packInput(maps: ArrayLike<number>[], masks: ArrayLike<number>[], n1: number, n2: number): Float32Array {
  if (n1 > DLNET_SIZE || n2 > DLNET_SIZE) throw new RangeError(`shape: DLNet takes maps up to ${DLNET_SIZE}×${DLNET_SIZE}, got ${n1}×${n2}`);
  const S = DLNET_SIZE;
  const out = new Float32Array(maps.length * S * S * 2);
  for (let k = 0; k < maps.length; k++) {
    const m = maps[k]!, w = masks[k]!;
    for (let i = 0; i < n1; i++) {
      for (let j = 0; j < n2; j++) {
        const o = ((k * S + i) * S + j) * 2;
        const seen = w[i * n2 + j]! !== 0;
        out[o] = seen ? m[i * n2 + j]! : 0;
        out[o + 1] = seen ? 1 : 0;
      }
    }
  }
  return out;
}

/** Crops DLNet's [B,64,64,1] output back to B maps of n1×n2 (Float64Array each). */
export function unpackOutput(out: Float32Array, batch: number, n1: number, n2: number): Float64Array[] {
  const S = DLNET_SIZE;
  const maps: Float64Array[] = [];
  for (let k = 0; k < batch; k++) {
    const m = new Float64Array(n1 * n2);
    for (let i = 0; i < n1; i++) for (let j = 0; j < n2; j++) m[i * n2 + j] = out[(k * S + i) * S + j]!;
    maps.push(m);
  }
  return maps;
}
