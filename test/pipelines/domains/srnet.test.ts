import { beforeAll, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs';
import { loadTf } from '../../../pipelines/core/tf.js';
import { createLogger } from '../../../drivers/core/log.js';
import { SrNet, defaultSrConfig, downsampleMatrix, type SrFactor } from '../../../pipelines/domains/srnet.js';
import { trainingBatch } from '../../../pipelines/domains/train.js';
import { annealTexture } from '../../../pipelines/domains/textures.js';

let tf: typeof TF;
beforeAll(async () => {
  tf = (await loadTf({ prefer: 'wasm', log: createLogger({ level: 'warn' }) })).tf;
});

describe('SR network (pipelines/domains/srnet.ts)', () => {
  it('the fixed down-sampling layer equals an explicit periodic 23×23 Gaussian convolution + stride (1e-6)', () => {
    const N = 32, f = 4, C = 3, a = N / f;
    const x = Float32Array.from({ length: N * N * C }, (_, i) => Math.sin(0.7 * i) * Math.cos(0.013 * i * i));
    const net = SrNet.create(tf, { ...defaultSrConfig(4, 3), width: 2 }, 1);
    const got = tf.tidy(() => net.downsample(tf.tensor4d(x, [1, N, N, C])).dataSync() as Float32Array);
    // Explicit 2D kernel, not the separable taps.
    const K: number[] = [];
    let s = 0;
    for (let i = -11; i <= 11; i++) for (let j = -11; j <= 11; j++) s += K[K.push(Math.exp(-(i * i + j * j) / 2)) - 1]!;
    let worst = 0;
    for (let p = 0; p < a; p++)
      for (let q = 0; q < a; q++)
        for (let c = 0; c < C; c++) {
          let v = 0;
          for (let i = 0; i < 23; i++)
            for (let j = 0; j < 23; j++) {
              const r = (((p * f + i - 11) % N) + N) % N, cc = (((q * f + j - 11) % N) + N) % N;
              v += (K[i * 23 + j]! / s) * x[(r * N + cc) * C + c]!;
            }
          worst = Math.max(worst, Math.abs(v - got[(p * a + q) * C + c]!));
        }
    expect(worst).toBeLessThan(1e-6);
    // It is not trainable: the matrix is a constant and no variable holds it.
    expect(net.trainableVariables().every((v) => !v.name.includes('down'))).toBe(true);
    expect(downsampleMatrix(a, f).length).toBe(a * N);
    net.dispose();
  });

  it('outputs [B, a·f, a·f, C] for ×4/×8/×16 and 1 or 3 components: unit spins (C = 3), S_z in [−1, 1] (C = 1)', () => {
    for (const f of [4, 8, 16] as SrFactor[])
      for (const C of [1, 3] as const) {
        const net = SrNet.create(tf, { ...defaultSrConfig(f, C), width: 4 }, 2);
        const a = 2;
        const [sr] = net.predict([Float32Array.from({ length: a * a * C }, (_, i) => Math.cos(i))], a);
        expect(sr!.length).toBe(a * f * a * f * C);
        const y = tf.tidy(() => net.forward(tf.zeros([2, a, a, C]) as TF.Tensor4D, false).shape);
        expect(y).toEqual([2, a * f, a * f, C]);
        if (C === 3) for (let i = 0; i < sr!.length; i += 3) expect(Math.hypot(sr![i]!, sr![i + 1]!, sr![i + 2]!)).toBeCloseTo(1, 4);
        else expect(sr!.every((v) => v >= -1 && v <= 1)).toBe(true);
        // The paper's decoder: one up-sampling block per factor of 2.
        expect(net.blocks.length).toBe(4 + Math.log2(f));
        net.dispose();
      }
  });

  it('training lowers the LR-consistency loss on a small set (unsupervised: LR frames only)', async () => {
    const n = 32;
    const textures = [await annealTexture(2, 5, n), await annealTexture(2, 6, n)];
    const o = { factor: 4 as const, components: 3 as const, batch: 4, noise: 0, seed: 3 };
    const net = SrNet.create(tf, { ...defaultSrConfig(4, 3), width: 8 }, 4);
    const probe = tf.tensor4d(trainingBatch(textures, n, o, 1000), [4, 8, 8, 3]);
    const before = net.loss(probe, true);
    const opt = tf.train.adam(0.01);
    for (let s = 0; s < 12; s++) {
      const x = tf.tensor4d(trainingBatch(textures, n, o, s), [4, 8, 8, 3]);
      net.trainStep(opt, x);
      x.dispose();
    }
    const after = net.loss(probe, true);
    expect(after).toBeLessThan(0.5 * before);
    // Same seed, same steps: the same weights (deterministic on wasm).
    const twin = SrNet.create(tf, { ...defaultSrConfig(4, 3), width: 8 }, 4);
    const opt2 = tf.train.adam(0.01);
    for (let s = 0; s < 12; s++) {
      const x = tf.tensor4d(trainingBatch(textures, n, o, s), [4, 8, 8, 3]);
      twin.trainStep(opt2, x);
      x.dispose();
    }
    expect(Buffer.from(twin.weights()[0]!.data.buffer).equals(Buffer.from(net.weights()[0]!.data.buffer))).toBe(true);
    probe.dispose();
    net.dispose();
    twin.dispose();
  }, 60_000);
});
