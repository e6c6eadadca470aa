/**
 * Plan `domain-imaging` (paper 001, issue 15): the stage steps the camera's
 * field of view over the sample in a raster of `nx × ny` tiles `stepNm`
 * apart; at each tile the camera snaps one LR frame; the `domains` pipeline
 * fine-tunes the SR network on the frames so far (unsupervised) and emits
 * the SR frame live, and decides whether to stop (LR loss plateaued, or the
 * frame budget reached). At the end it emits mosaics of the whole field at
 * LR and SR (arrays and PNGs). Everything goes through `ctx`: recorded and
 * replayable.
 */
import type { Plan, PlanModel } from '../core/plan.js';
import { bestModel } from './model-io.js';
import type { DomainsPipelineParams } from './pipeline.js';

export interface DomainImagingParams extends DomainsPipelineParams {
  nx: number;
  ny: number;
  stepNm: number;
  centerXNm: number;
  centerYNm: number;
  zNm: number;
  exposureMs: number;
}

export const domainImagingPlan: Plan<DomainImagingParams> = {
  name: 'domain-imaging',
  version: '1',
  description: 'Kerr/SPLEEM camera raster over the sample; unsupervised SR fine-tuned online; live SR frames, LR/SR mosaics; stop on loss plateau or frame budget',
  roles: {
    stage: { kind: 'piezo', description: 'moves the sample under the field of view' },
    camera: { kind: 'camera', description: 'Kerr (S_z) or SPLEEM (S_x, S_y, S_z) camera' },
  },
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      nx: { type: 'integer', unit: '1', minimum: 1, maximum: 64, default: 4, description: 'tiles along x' },
      ny: { type: 'integer', unit: '1', minimum: 1, maximum: 64, default: 4, description: 'tiles along y' },
      stepNm: { type: 'number', unit: 'nm', exclusiveMinimum: 0, maximum: 50_000, default: 640, description: 'stage step between tiles (the default camera sees 1280 nm)' },
      centerXNm: { type: 'number', unit: 'nm', default: 50_000 },
      centerYNm: { type: 'number', unit: 'nm', default: 50_000 },
      zNm: { type: 'number', unit: 'nm', default: 50_000 },
      exposureMs: { type: 'number', unit: 'ms', exclusiveMinimum: 0, maximum: 600_000, default: 100, description: 'exposure per frame' },
      factor: { type: 'integer', unit: '1', enum: [4, 8, 16], default: 8, description: 'SR factor (frame pixel / SR pixel)' },
      model: { type: 'string', default: 'auto', description: "'auto' (committed model for factor and components), 'none' (fresh network), or a model folder / committed name" },
      textureType: { type: 'integer', unit: '1', enum: [0, 1, 2], default: 0, description: "for model 'auto': the sample's texture type if known (1: DMI labyrinths, 2: dipolar domains; 0: unknown, Type II first)" },
      finetuneSteps: { type: 'integer', unit: '1', minimum: 0, maximum: 1000, default: 4, description: 'Adam steps per new frame' },
      finetuneBatch: { type: 'integer', unit: '1', minimum: 1, maximum: 64, default: 4 },
      finetuneWindow: { type: 'integer', unit: '1', minimum: 1, maximum: 256, default: 16, description: 'recent frames the fine-tuning draws from' },
      lr: { type: 'number', unit: '1', exclusiveMinimum: 0, maximum: 1, default: 0.001, description: 'Adam learning rate for fine-tuning' },
      seed: { type: 'integer', unit: '1', minimum: 0, maximum: 2 ** 32 - 1, default: 1 },
      maxFrames: { type: 'integer', unit: '1', minimum: 1, maximum: 4096, default: 64, description: 'frame budget' },
      minFrames: { type: 'integer', unit: '1', minimum: 1, maximum: 100_000, default: 4, description: 'frames before the plateau rule may stop' },
      plateauTol: { type: 'number', unit: '1', minimum: 0, default: 0.01, description: 'stop when the windowed mean LR loss changes less than this fraction' },
      plateauWindow: { type: 'integer', unit: '1', minimum: 1, maximum: 100_000, default: 4, description: 'frames per plateau window' },
    },
  },
  pipeline: () => 'domains',
  // The committed models the session may start from: the best match for the factor (and texture type, if
  // given) with each camera component count (which one is used depends on the camera).
  models: (p) => {
    const out: Record<string, PlanModel> = {};
    if (p.model !== 'auto') return out;
    for (const C of [1, 3] as const) {
      const m = bestModel(p.factor, C, p.textureType === 0 ? undefined : p.textureType);
      if (m) out[m.name] = { dir: m.dir, tfBackend: 'wasm' };
    }
    return out;
  },
  total: (p) => Math.min(p.nx * p.ny, p.maxFrames),
  async run(ctx) {
    const p = ctx.params;
    let done = 0;
    outer: for (let iy = 0; iy < p.ny; iy++)
      for (let ix = 0; ix < p.nx; ix++) {
        const x = p.centerXNm + (ix - (p.nx - 1) / 2) * p.stepNm;
        const y = p.centerYNm + (iy - (p.ny - 1) / 2) * p.stepNm;
        await ctx.call('stage', 'moveTo', { x, y, z: p.zNm });
        await ctx.acquire('camera', 'snap', { exposureMs: p.exposureMs }, { fields: { tile: done, ix, iy } });
        ctx.progress(++done, `tile ${done}`);
        const d = await ctx.shouldStop('session');
        if (d.stop) break outer;
      }
    await ctx.shouldStop('final');
  },
};
