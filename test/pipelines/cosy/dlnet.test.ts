import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadWasmTf } from '../../../pipelines/cosy/wasm-grad.js';
import { buildDLNet } from '../../../pipelines/cosy/dlnet.js';
import { saveModel } from '../../../pipelines/cosy/model-io.js';
import { DLNetWorker, InProcessDLNet, defaultModelDir } from '../../../pipelines/cosy/dlnet-runner.js';
import { evaluate, heldOutExamples } from '../../../pipelines/cosy/train.js';
import { heldOutOdmrMap } from '../../../pipelines/cosy/heldout.js';
import { randomMask } from '../../../pipelines/cosy/simdata.js';
import { reconstruct } from '../../../pipelines/cosy/methods.js';
import { scoreCosy } from '../../../pipelines/cosy/score.js';
import { Rng } from '../../../drivers/core/rng.js';

const tmp = mkdtempSync(join(tmpdir(), 'qscope-dlnet-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('DLNet on wasm', () => {
  it('trains on wasm: the filter gradients of conv2d and conv2dTranspose match the cpu backend', async () => {
    const grads = async (backend: string) => {
      await tf.setBackend(backend);
      const model = buildDLNet(tf, { base: 2, levels: 2 }, 3);
      const x = tf.tensor4d(Float32Array.from({ length: 64 * 64 * 2 }, (_, k) => Math.sin(k * 0.37)), [1, 64, 64, 2]);
      const { grads: g } = tf.variableGrads(() => tf.mean(tf.abs(model.apply(x) as tf.Tensor)) as tf.Scalar);
      const out: [string, Float32Array][] = [];
      for (const [name, t] of Object.entries(g)) out.push([name, (await t.data()) as Float32Array]);
      tf.dispose([x, ...Object.values(g)]);
      model.dispose();
      return out;
    };
    await loadWasmTf();
    const cpu = await grads('cpu');
    const wasm = await grads('wasm');
    expect(cpu.filter(([n]) => /(pool|up)\d+(_\d+)?\/kernel/.test(n))).toHaveLength(4); // two strided convs, two transposed convs
    expect(wasm).toHaveLength(cpu.length);
    for (const [k0, [, a]] of cpu.entries()) {
      const b = wasm[k0]![1];
      let scale = 0, err = 0;
      for (let k = 0; k < a.length; k++) [scale, err] = [Math.max(scale, Math.abs(a[k]!)), Math.max(err, Math.abs(a[k]! - b[k]!))];
      expect(err).toBeLessThanOrEqual(1e-4 * scale + 1e-7);
    }
  });

  it('the worker thread gives the same numbers as in-process inference', async () => {
    const tfw = await loadWasmTf();
    const dir = join(tmp, 'untrained');
    await saveModel(tfw, buildDLNet(tfw, { base: 4, levels: 2 }, 5), dir);
    const local = await InProcessDLNet.load(dir);
    const worker = await DLNetWorker.start(dir);
    try {
      expect(worker.backend).toBe('wasm');
      const input = [Float64Array.from({ length: 2500 }, (_, k) => (k % 7) / 7)];
      const mask = [Uint8Array.from({ length: 2500 }, (_, k) => (k % 3 ? 0 : 1))];
      const a = await local.predict(input, mask, 50, 50);
      const b = await worker.predict(input, mask, 50, 50);
      expect([...b[0]!]).toEqual([...a[0]!]);
    } finally {
      await worker.close();
    }
  });
});

describe('the committed DLNet (pipelines/cosy/model)', () => {
  const readCard = () => JSON.parse(readFileSync(join(defaultModelDir(), 'card.json'), 'utf8')) as { seed: number; heldOut: { count: number; fraction: number; sigma: number; l1: number; rmse: number } };

  it('loads and reproduces the model card RMSE on its held-out set', async () => {
    const card = readCard();
    const net = await InProcessDLNet.load();
    const h = card.heldOut;
    const ev = evaluate(net.tf, net.model, heldOutExamples(card.seed, h.count, h.fraction, h.sigma));
    expect(ev.rmse).toBeCloseTo(h.rmse, 5);
    expect(ev.l1).toBeCloseTo(h.l1, 5);
  });

  it('DLMC beats MC at 10 % sampling on held-out ODMR maps (frequency-domain RMSE)', async () => {
    const net = await InProcessDLNet.load();
    const rm: Record<string, number[]> = { mc: [], dlmc: [] };
    for (let i = 0; i < 3; i++) {
      const m = heldOutOdmrMap(i);
      const mask = randomMask(2500, 0.1, Rng.derive(11, `dlmc-vs-mc/${i}`));
      const observed = m.noisy.map((v, k) => (mask[k] ? v : Number.NaN));
      for (const method of ['mc', 'dlmc'] as const) {
        const r = await reconstruct(observed, mask, 50, 50, { method, dlnet: net });
        rm[method]!.push((await scoreCosy(r.map, m.clean, 50, 50, { step1Us: 18, step2Us: 18, peaksKHz: m.linesKHz })).rmseFreq);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
    expect(mean(rm.dlmc!)).toBeLessThan(mean(rm.mc!));
  });
});
