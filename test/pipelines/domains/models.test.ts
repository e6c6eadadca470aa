import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listModels, readSrModelJson } from '../../../pipelines/domains/model-io.js';
import { regressionCheck } from '../../../pipelines/domains/regression.js';
import { modelHash } from '../../../pipelines/core/model-files.js';

const models = [...listModels()];

describe('committed SR models (pipelines/domains/model/)', () => {
  it('the priority models are committed, each with its MODEL.md and card', () => {
    const names = models.map(([n]) => n);
    expect(names).toEqual(expect.arrayContaining(['type1-x8-c3', 'type2-x8-c3']));
    for (const [name, dir] of models) {
      expect(readFileSync(join(dir, 'MODEL.md'), 'utf8')).toMatch(new RegExp(`npx qscope train domains --type ${name[4]} --factor ${name.split('-x')[1]!.split('-')[0]}`));
      const json = readSrModelJson(dir);
      expect(`type${json.trainedOn.type}-x${json.config.factor}-c${json.config.components}`).toBe(name);
      expect(modelHash(dir)).toMatch(/^[0-9a-f]{64}$/);
    }
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
