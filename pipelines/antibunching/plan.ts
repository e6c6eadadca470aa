/**
 * Plan `antibunching-scan` (paper 002, issue 7): ML-assisted antibunching
 * super-resolution with early stopping.
 *
 * 1. Quick PL pre-scan of the field (count rate on a coarse grid).
 * 2. Calibration: a long histogram on the brightest pre-scan spot; the g2
 *    pipeline fits the full three-level model → curve shape, peak G2.
 * 3. Raster scan: at each pixel, 1 s histograms until the pipeline says stop
 *    (target σ of G2 reached, dark pixel, or dwell cap).
 * 4. A short PL read at the calibration spot (drift check); on it the
 *    pipeline emits the maps, PNGs and metrics.
 * Everything goes through `ctx`, so it is recorded and replayable.
 */
import type { Frame } from '../../drivers/core/frame.js';
import { G2_METHODS } from './estimate.js';
import { defaultModelDir } from './cnn-client.js';
import type { Plan } from '../core/plan.js';

export interface AntibunchingScanParams {
  nx: number;
  ny: number;
  fieldSizeNm: number;
  centerXNm: number;
  centerYNm: number;
  zNm: number;
  prescanPixels: number;
  prescanDwellMs: number;
  calibrationS: number;
  integrationMs: number;
  method: (typeof G2_METHODS)[number];
  earlyStop: boolean;
  targetFraction: number;
  maxDwellS: number;
  minDwellS: number;
  psfFwhmNm: number;
  liveMapS: number;
}

export const antibunchingScanPlan: Plan<AntibunchingScanParams> = {
  name: 'antibunching-scan',
  version: '1',
  description: 'PL pre-scan, calibration on the brightest spot, raster of 1 s HBT histograms with per-pixel early stopping; PL, g2(0), G2 and dwell maps',
  roles: {
    scanner: { kind: 'piezo', description: 'moves the focus over the sample' },
    correlator: { kind: 'hbt', description: 'HBT interferometer: histograms and PL rate' },
  },
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      nx: { type: 'integer', unit: '1', minimum: 2, maximum: 256, default: 32, description: 'pixels along x' },
      ny: { type: 'integer', unit: '1', minimum: 2, maximum: 256, default: 32, description: 'pixels along y' },
      fieldSizeNm: { type: 'number', unit: 'nm', exclusiveMinimum: 0, maximum: 100_000, default: 775, description: 'side of the square field' },
      centerXNm: { type: 'number', unit: 'nm', default: 50_000 },
      centerYNm: { type: 'number', unit: 'nm', default: 50_000 },
      zNm: { type: 'number', unit: 'nm', default: 50_000, description: 'focus height (the sample plane)' },
      prescanPixels: { type: 'integer', unit: '1', minimum: 2, maximum: 128, default: 16, description: 'PL pre-scan grid per axis' },
      prescanDwellMs: { type: 'number', unit: 'ms', exclusiveMinimum: 0, default: 20 },
      calibrationS: { type: 'number', unit: 's', minimum: 1, maximum: 36_000, default: 1800, description: 'calibration histogram on the brightest spot (the full model needs ~20 000 events)' },
      integrationMs: { type: 'number', unit: 'ms', minimum: 10, maximum: 60_000, default: 1000, description: 'one histogram per window (the paper: 1 s)' },
      method: { type: 'string', enum: [...G2_METHODS], default: 'pooled', description: 'estimator for the final maps' },
      earlyStop: { type: 'boolean', default: true, description: 'false: every pixel dwells maxDwellS' },
      targetFraction: { type: 'number', unit: '1', exclusiveMinimum: 0, default: 0.1, description: 'target σ(G2) per pixel as a fraction of the peak G2' },
      maxDwellS: { type: 'number', unit: 's', minimum: 1, default: 20, description: 'dwell cap per pixel' },
      minDwellS: { type: 'number', unit: 's', minimum: 0, default: 1 },
      psfFwhmNm: { type: 'number', unit: 'nm', exclusiveMinimum: 0, default: 300, description: 'PL PSF FWHM expected (pooling kernel until the PL map is measured)' },
      liveMapS: { type: 'number', unit: 's', minimum: 0, default: 10, description: 'publish the live maps (g2.live_*) every this much experiment time; 0: only the final maps' },
    },
  },
  pipeline: () => 'g2',
  // The CNN (method 'cnn', or a later `reconstruct`) runs in a worker on wasm (cnn-worker.ts).
  models: () => ({ g2cnn: { dir: defaultModelDir(), tfBackend: 'wasm' } }),
  total: (p) => p.nx * p.ny,
  // Upper bound: every raster pixel dwelling maxDwellS (early stopping usually ends sooner); moves take ms.
  estimate: (p) => {
    const phases = [
      { name: 'pre-scan', ms: p.prescanPixels * p.prescanPixels * p.prescanDwellMs },
      { name: 'calibration', ms: p.calibrationS * 1000 },
      { name: 'raster', ms: p.nx * p.ny * (p.earlyStop ? p.maxDwellS : Math.ceil((p.maxDwellS * 1000) / p.integrationMs) * p.integrationMs / 1000) * 1000 },
      { name: 'reconstruction', ms: 100 },
    ];
    return { totalMs: phases.reduce((a, x) => a + x.ms, 0), phases, upperBound: p.earlyStop };
  },
  async run(ctx) {
    const p = ctx.params;
    const at = (i: number, n: number) => (i - (n - 1) / 2) * (p.fieldSizeNm / n);
    const move = (x: number, y: number) => ctx.call('scanner', 'moveTo', { x, y, z: p.zNm });

    // 1. PL pre-scan.
    ctx.phase('pre-scan', { total: p.prescanPixels * p.prescanPixels, unit: 'pixels' });
    let best = { x: p.centerXNm, y: p.centerYNm, rate: -1 };
    for (let iy = 0; iy < p.prescanPixels; iy++)
      for (let ix = 0; ix < p.prescanPixels; ix++) {
        const x = p.centerXNm + at(ix, p.prescanPixels);
        const y = p.centerYNm + at(iy, p.prescanPixels);
        await move(x, y);
        const [f] = await ctx.acquire('correlator', 'countRate', { integrationMs: p.prescanDwellMs }, { channel: 'rate', fields: { phase: 'prescan', ix, iy } });
        const rate = (f as Frame).payload[0]!;
        if (rate > best.rate) best = { x, y, rate };
        ctx.phaseProgress(iy * p.prescanPixels + ix + 1);
      }
    ctx.mark('brightest', best);

    // 2. Calibration on the brightest spot: one long histogram (its time remaining counts down from the estimate).
    ctx.phase('calibration');
    await move(best.x, best.y);
    await ctx.acquire('correlator', 'histogram', { integrationMs: p.calibrationS * 1000 }, { channel: 'histogram', fields: { phase: 'calibration', xNm: best.x, yNm: best.y } });

    // 3. Raster with per-pixel early stopping.
    const maxChunks = Math.ceil((p.maxDwellS * 1000) / p.integrationMs);
    ctx.phase('raster', { total: p.nx * p.ny, unit: 'pixels' });
    for (let iy = 0; iy < p.ny; iy++)
      for (let ix = 0; ix < p.nx; ix++) {
        const pixel = iy * p.nx + ix;
        await move(p.centerXNm + at(ix, p.nx), p.centerYNm + at(iy, p.ny));
        for (let k = 0; k < maxChunks; k++) {
          await ctx.acquire('correlator', 'histogram', { integrationMs: p.integrationMs }, { channel: 'histogram', fields: { phase: 'scan', pixel, ix, iy } });
          if ((await ctx.shouldStop({ pixel })).stop) break;
        }
        ctx.progress(pixel + 1, `pixel ${pixel + 1}/${p.nx * p.ny}`);
        ctx.phaseProgress(pixel + 1);
      }

    // 4. Drift check at the calibration spot; the pipeline emits the maps on it.
    ctx.phase('reconstruction');
    await move(best.x, best.y);
    await ctx.acquire('correlator', 'countRate', { integrationMs: 100 }, { channel: 'rate', fields: { phase: 'final', calibrationRate: best.rate } });
  },
};
