/**
 * The small held-out check every committed SR model's card states and the
 * regression test repeats: two held-out textures (seeds HELDOUT_SEED_BASE +
 * 0, 1, annealed at 64² so the check takes seconds), imaged at the model's
 * factor without noise, reconstructed by the model without fine-tuning;
 * mean PSNR (MAX 2) and spin correlation against the truth, and bicubic's.
 */
import { join } from 'node:path';
import { psnr, spinCorrelation } from '../core/metrics.js';
import { upsample } from './baselines.js';
import { hrTruth, lrFrame } from './data.js';
import { loadSrModel, modelRoot } from './model-io.js';
import { InProcessSr } from './sr-runner.js';
import { HELDOUT_SEED_BASE, seedRange, textureSet } from './textures.js';

export const REGRESSION_SIZE = 64;

export interface RegressionResult {
  psnr: number;
  corr: number;
  bicubicPsnr: number;
  bicubicCorr: number;
}

export async function regressionCheck(name: string, dir = join(modelRoot(), name)): Promise<RegressionResult> {
  const sr = await InProcessSr.create();
  const { json } = loadSrModel(sr.tf, dir);
  const { factor: f, components: C } = json.config;
  const n = REGRESSION_SIZE;
  const tex = await textureSet(json.trainedOn.type, seedRange(HELDOUT_SEED_BASE[json.trainedOn.type], 2), { n });
  const lr = tex.map((t) => lrFrame(t, n, f, C));
  const hr = tex.map((t) => hrTruth(t, n, C));
  await sr.load({ modelDir: dir, config: json.config, seed: 1, lr: 0.001 });
  const { sr: out } = await sr.predict(lr, n / f);
  await sr.close();
  const mean = (g: (i: number) => number) => (g(0) + g(1)) / 2;
  const bc = lr.map((x) => upsample('bicubic', x, n / f, f, C));
  return {
    psnr: mean((i) => psnr(out[i]!, hr[i]!, 2)),
    corr: mean((i) => spinCorrelation(out[i]!, hr[i]!, C)),
    bicubicPsnr: mean((i) => psnr(bc[i]!, hr[i]!, 2)),
    bicubicCorr: mean((i) => spinCorrelation(bc[i]!, hr[i]!, C)),
  };
}
