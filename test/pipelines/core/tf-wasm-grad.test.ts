import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { registerWasmConv2DBackpropFilter } from '../../../pipelines/core/tf.js';

/** Filter gradient of sum(conv2d(x, w) · probe) on one backend. */
async function filterGrad(backend: string, xv: Float32Array, xs: number[], wv: Float32Array, ws: number[], stride: number, pad: 'same' | 'valid'): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, xs as [number, number, number, number]);
    const w = tf.tensor4d(wv, ws as [number, number, number, number]);
    const g = tf.grad((wt: tf.Tensor4D) => {
      const y = tf.conv2d(x, wt, stride, pad);
      const probe = tf.range(0, y.size).reshape(y.shape).sin();
      return y.mul(probe).sum();
    })(w);
    return g.dataSync() as Float32Array;
  });
}

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    a[i] = s / 2147483648 - 0.5;
  }
  return a;
}

describe('wasm Conv2DBackpropFilter', () => {
  registerWasmConv2DBackpropFilter();
  const cases: Array<[string, number[], number[], number, 'same' | 'valid']> = [
    ['conv1d-like valid', [3, 1, 40, 2], [1, 4, 2, 5], 1, 'valid'],
    ['conv1d-like same', [3, 1, 37, 3], [1, 4, 3, 4], 1, 'same'],
    ['2d stride 2 same', [2, 9, 11, 3], [3, 3, 3, 4], 2, 'same'],
    ['2d stride 2 valid with leftover', [2, 10, 10, 2], [3, 3, 2, 3], 2, 'valid'],
  ];
  for (const [name, xs, ws, stride, pad] of cases) {
    it(`matches the cpu backend's gradient: ${name}`, async () => {
      const xv = rand(xs.reduce((a, b) => a * b), 7);
      const wv = rand(ws.reduce((a, b) => a * b), 11);
      const cpu = await filterGrad('cpu', xv, xs, wv, ws, stride, pad);
      const wasm = await filterGrad('wasm', xv, xs, wv, ws, stride, pad);
      expect(wasm.length).toBe(cpu.length);
      let maxRel = 0;
      const scale = Math.max(...cpu.map(Math.abs));
      for (let i = 0; i < cpu.length; i++) maxRel = Math.max(maxRel, Math.abs(wasm[i]! - cpu[i]!) / scale);
      expect(maxRel).toBeLessThan(1e-5);
    });
  }

  it('frees its intermediates (no tensor or buffer leak per call)', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([4, 1, 50, 3]);
    const w = tf.randomNormal([1, 4, 3, 8]);
    const step = () => tf.tidy(() => tf.grad((wt: tf.Tensor4D) => tf.conv2d(x as tf.Tensor4D, wt, 1, 'valid').sum())(w as tf.Tensor4D)).dispose();
    step();
    const before = tf.memory().numBytes;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numBytes).toBe(before);
    x.dispose();
    w.dispose();
  });
});
