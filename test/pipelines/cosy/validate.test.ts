/**
 * DLMC checks its network on held-out samples (issue 18, point 7; decision 1801): with a deliberately wrong
 * network the fallback (MC or soft-impute) is chosen; with a network that knows the answer it is kept; the
 * choice and the held-out errors reach metrics.json, and the SNR is left out when the dataset names no lines.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../drivers/core/rng.js';
import { writeCosyDataset } from '../../../pipelines/cosy/dataset.js';
import { heldOutOdmrMap } from '../../../pipelines/cosy/heldout.js';
import type { DLNetRunner } from '../../../pipelines/cosy/methods.js';
import { reconstructCosyFolder } from '../../../pipelines/cosy/offline.js';
import { observedRange } from '../../../pipelines/cosy/simdata.js';
import { reconstructValidated } from '../../../pipelines/cosy/validate.js';

const N = 50;
const held = heldOutOdmrMap(1);
const rng = Rng.derive(3, 'validate-test');
const mask = Uint8Array.from({ length: N * N }, () => (rng.uniform() < 0.3 ? 1 : 0));
const map = held.noisy.map((v, k) => (mask[k] ? v : Number.NaN));

/** A network whose prior has nothing to do with the data: a fixed checkerboard. */
const wrongNet: DLNetRunner = { predict: async (inputs) => inputs.map(() => Float64Array.from({ length: N * N }, (_, k) => ((k + Math.floor(k / N)) % 2 ? 1 : 0))) };
/** A network that knows the clean map (on the [0,1] scale of the observed entries). */
const { lo, hi } = observedRange(map, mask);
const oracleNet: DLNetRunner = { predict: async (inputs) => inputs.map(() => held.clean.map((v) => (v - lo) / (hi - lo))) };

const tmp = mkdtempSync(join(tmpdir(), 'qscope-validate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('DLMC validated on held-out samples', () => {
  it('falls back to MC or soft-impute when the network is wrong, and refits on every sample', async () => {
    const r = await reconstructValidated(map, mask, N, N, { method: 'dlmc', dlnet: wrongNet, seed: 1 });
    const v = r.validation!;
    expect(v.requested).toBe('dlmc');
    expect(['mc', 'softimpute']).toContain(v.chosen);
    expect(r.method).toBe(v.chosen);
    expect(Object.keys(v.errors).sort()).toEqual(['dl', 'dlmc', 'mc', 'softimpute']);
    expect(v.errors.dl!).toBeGreaterThan(2 * v.errors[v.chosen]!);
    const sampled = mask.reduce((a, b) => a + b, 0);
    expect(v.heldOut).toBe(Math.round(0.1 * sampled));
    // Refitted on all samples: the result matches a plain run of the chosen method on the full mask.
    const { reconstruct } = await import('../../../pipelines/cosy/methods.js');
    const plain = await reconstruct(map, mask, N, N, { method: v.chosen });
    expect(r.map).toEqual(plain.map);
  });

  it('keeps the network when it predicts the held-out samples best', async () => {
    const r = await reconstructValidated(map, mask, N, N, { method: 'dl', dlnet: oracleNet, seed: 1 });
    expect(r.validation!.chosen).toBe('dl');
    expect(r.validation!.errors.dl!).toBeLessThan(r.validation!.errors.mc!);
  });

  it('methods without a network are not second-guessed', async () => {
    const r = await reconstructValidated(map, mask, N, N, { method: 'softimpute', seed: 1 });
    expect(r.validation).toBeUndefined();
    expect(r.method).toBe('softimpute');
  });

  it('reconstruct cosy reports the choice and the held-out errors in metrics.json; no peaksKHz: no SNR, said so', async () => {
    const input = join(tmp, 'in');
    mkdirSync(input);
    writeCosyDataset(input, { grid: { n1: N, n2: N, t1StartUs: 4, t1StepUs: 18, t2StartUs: 4, t2StepUs: 18 }, map });
    const out = join(tmp, 'out');
    await reconstructCosyFolder({ input, out, method: 'dlmc', dlnet: wrongNet });
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.method).toBe('dlmc');
    expect(['mc', 'softimpute']).toContain(metrics.chosen);
    expect(metrics.validation).toMatchObject({ requested: 'dlmc', chosen: metrics.chosen, errors: { dl: expect.any(Number), dlmc: expect.any(Number), mc: expect.any(Number), softimpute: expect.any(Number) } });
    expect(metrics.snrDb).toBeNull();
    expect(metrics.peaksKHz).toBeNull();
    expect(metrics.snrNote).toMatch(/no peaksKHz/);
  });
});
