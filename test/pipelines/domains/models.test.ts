import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bestModel, listModels, readSrModelJson } from '../../../pipelines/domains/model-io.js';
import { resolveModel } from '../../../pipelines/domains/models.js';
import { nyquistCheck } from '../../../pipelines/domains/nyquist.js';
import { domainImagingPlan, type DomainImagingParams } from '../../../pipelines/domains/plan.js';
import { regressionCheck } from '../../../pipelines/domains/regression.js';
import { modelHash } from '../../../pipelines/core/model-files.js';

const models = [...listModels()];

describe('committed SR models (pipelines/domains/model/)', () => {
  it('the priority models are committed, each with its MODEL.md and card', () => {
    const names = models.map(([n]) => n);
    expect(names).toEqual(expect.arrayContaining(['type1-x4-c3', 'type2-x4-c3', 'type1-x8-c3', 'type2-x8-c3', 'type1-x16-c3', 'type2-x16-c3', 'type2-x8-c1']));
    for (const [name, dir] of models) {
      expect(readFileSync(join(dir, 'MODEL.md'), 'utf8')).toMatch(new RegExp(`npx qscope train domains --type ${name[4]} --factor ${name.split('-x')[1]!.split('-')[0]}`));
      const json = readSrModelJson(dir);
      expect(`type${json.trainedOn.type}-x${json.config.factor}-c${json.config.components}`).toBe(name);
      expect(modelHash(dir)).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('reconstruct and the plan start from the best matching committed model at ×4, ×8 and ×16', () => {
    for (const f of [4, 8, 16])
      for (const t of [1, 2] as const) {
        expect(bestModel(f, 3, t)?.name).toBe(`type${t}-x${f}-c3`);
        expect(resolveModel('auto', f, 3, t).name).toBe(`type${t}-x${f}-c3`);
      }
    // No type given (the plan): Type II first.
    for (const f of [4, 8, 16]) expect(resolveModel('auto', f, 3).name).toBe(`type2-x${f}-c3`);
    expect(resolveModel('auto', 8, 1).name).toBe('type2-x8-c1');
    // The plan records the models a session may start from: the best match per component count.
    const planModels = (factor: 4 | 8 | 16, textureType: 0 | 1 | 2) => Object.keys(domainImagingPlan.models!({ model: 'auto', factor, textureType } as DomainImagingParams)).sort();
    expect(planModels(16, 1)).toEqual(['type1-x16-c3']);
    expect(planModels(4, 0)).toEqual(['type2-x4-c3']);
    expect(planModels(8, 2)).toEqual(['type2-x8-c1', 'type2-x8-c3']);
  });

  it('Type I ×16 is below the LR Nyquist limit: its card says so and what it outputs is flagged unresolved', () => {
    const dir = new Map(models).get('type1-x16-c3')!;
    const json = readSrModelJson(dir);
    expect(json.trainedOn.periodHr).toBeLessThan(2 * 16);
    expect(readFileSync(join(dir, 'MODEL.md'), 'utf8')).toMatch(/below the LR Nyquist limit/);
    const a = 8;
    const frame = Float32Array.from({ length: a * a * 3 }, (_, i) => Math.cos((2 * Math.PI * Math.floor(i / 3)) / 5));
    expect(nyquistCheck([frame], a, 3, 16, json.trainedOn.periodHr).unresolved).toBe(true);
    // The Type II ×16 model's domains (period ≈ 45 sites) are above the limit.
    expect(nyquistCheck([frame], a, 3, 16, readSrModelJson(new Map(models).get('type2-x16-c3')!).trainedOn.periodHr).unresolved).toBe(false);
  });

  for (const [name, dir] of models) {
    it(`${name} loads and meets its model card on the small held-out set`, async () => {
      const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')).regression as { psnr: number; corr: number; bicubicPsnr: number };
      const r = await regressionCheck(name, dir);
      expect(Math.abs(r.psnr - card.psnr)).toBeLessThan(0.5);
      expect(Math.abs(r.corr - card.corr)).toBeLessThan(0.01);
      expect(Math.abs(r.bicubicPsnr - card.bicubicPsnr)).toBeLessThan(0.5);
    }, 120_000);
  }
});
