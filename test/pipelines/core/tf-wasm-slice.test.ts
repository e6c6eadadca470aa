import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { registerWasmSlice } from '../../../pipelines/core/tf.js';

/** Slices and splits of one tensor on one backend, each as a flat array. */
async function pieces(backend: string, shape: number[]): Promise<number[][]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = tf.range(0, n).reshape(shape);
    const out: tf.Tensor[] = [];
    const r = shape.length;
    for (let d = 0; d < r; d++) {
      // A one-wide slice at each end and the interior along axis d (the periodic-padding pattern).
      const begin = new Array<number>(r).fill(0);
      const size = [...shape];
      size[d] = 1;
      out.push(x.slice(begin, size));
      begin[d] = shape[d]! - 1;
      out.push(x.slice(begin, size));
      if (shape[d]! > 2) {
        const b2 = new Array<number>(r).fill(0);
        const s2 = shape.map((v, i) => (i === d ? v - 2 : Math.max(1, v - 1)));
        b2[d] = 1;
        out.push(x.slice(b2, s2));
        out.push(...tf.split(x, [1, shape[d]! - 2, 1], d));
      }
    }
    out.push(x.slice(new Array(r).fill(0), shape)); // the whole tensor
    return out.map((t) => [...(t.dataSync() as Float32Array)].concat(t.shape));
  });
}

describe('wasm Slice / SplitV (in-place reads)', () => {
  const cases = [[7], [5, 6], [3, 4, 5], [2, 5, 4, 3], [2, 1, 3, 2, 3]];
  for (const shape of cases) {
    it(`equal the cpu backend's for every axis: [${shape}]`, async () => {
      await tf.setBackend('wasm');
      registerWasmSlice();
      expect((tf.getKernel('Slice', 'wasm')!.kernelFunc as { qscope?: boolean }).qscope).toBe(true);
      const cpu = await pieces('cpu', shape);
      const wasm = await pieces('wasm', shape);
      expect(wasm).toEqual(cpu);
    });
  }

  it('the periodic padding of a 4D activation through concat matches cpu, and gradients flow (SplitV)', async () => {
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.range(0, 2 * 4 * 5 * 3).reshape([2, 4, 5, 3]).sin() as tf.Tensor4D;
        const g = tf.grad((v: tf.Tensor4D) => {
          const y = tf.concat([v.slice([0, 0, 4, 0], [-1, -1, 1, -1]), v, v.slice([0, 0, 0, 0], [-1, -1, 1, -1])], 2);
          return y.mul(tf.range(0, y.size).reshape(y.shape).cos()).sum();
        })(x);
        return [...(g.dataSync() as Float32Array)];
      });
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(wasm.length).toBe(cpu.length);
    for (let i = 0; i < cpu.length; i++) expect(wasm[i]).toBeCloseTo(cpu[i]!, 5);
  });

  it('leaks no tensor and no heap buffer', async () => {
    await tf.setBackend('wasm');
    registerWasmSlice();
    const x = tf.randomNormal([3, 4, 5, 2]);
    const step = () => tf.tidy(() => tf.addN(tf.split(x.slice([0, 1, 0, 0], [-1, 2, -1, -1]), [2, 3], 2).map((t) => t.sum()))).dispose();
    step();
    const before = tf.memory();
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    x.dispose();
  });
});
