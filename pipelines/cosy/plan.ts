/**
 * Plan `cosy-2d`: NV-detected 2D NMR (COSY) on a (t1, t2) grid with DLMC
 * reconstruction, adaptive sampling and early stopping (issue 8).
 *
 * 1. Program the rf generator's nuclear π/2 mixing pulse and arm it.
 * 2. Ask the pipeline for a small random start (`initialFraction`), measure it.
 * 3. Repeat: the pipeline reconstructs (DLMC) and decides whether to stop
 *    (change between batches < `tol`, or the budget spent); if not, it picks
 *    the next batch with the native adaptive-sampling kernel from the current
 *    reconstruction. Every point, batch choice, decision and reconstruction is
 *    recorded by the engine.
 * 4. Disarm the rf.
 */
import type { Plan } from '../core/plan.js';
import { COSY_METHODS, type CosyMethod } from './methods.js';
import type { CosyPlanParams, GridPoint } from './pipeline.js';

export interface Cosy2dParams extends CosyPlanParams {
  readouts: number;
  initialFraction: number;
  batchFraction: number;
  pulseFrequencyHz: number;
  pulseBandwidthHz: number;
  pulseDurationUs: number;
}

export const cosy2dPlan: Plan<Cosy2dParams> = {
  name: 'cosy-2d',
  version: '1',
  description: 'NV-detected 2D NMR: sparse (t1,t2) correlation map, DLMC reconstruction, adaptive batches, early stop',
  roles: { rf: { kind: 'rf', description: 'carries the nuclear π/2 mixing pulse' }, readout: { kind: 'odmr', description: 'NV correlation readout' } },
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      n1: { type: 'integer', unit: '1', minimum: 4, maximum: 64, default: 50, description: 't1 grid points' },
      n2: { type: 'integer', unit: '1', minimum: 4, maximum: 64, default: 50, description: 't2 grid points' },
      t1StartUs: { type: 'number', unit: 'us', minimum: 0, default: 4 },
      t1StepUs: { type: 'number', unit: 'us', exclusiveMinimum: 0, default: 18 },
      t2StartUs: { type: 'number', unit: 'us', minimum: 0, default: 4 },
      t2StepUs: { type: 'number', unit: 'us', exclusiveMinimum: 0, default: 18 },
      readouts: { type: 'integer', unit: '1', minimum: 1, maximum: 1_000_000_000, default: 150_000, description: 'repetitions averaged per point' },
      initialFraction: { type: 'number', unit: '1', exclusiveMinimum: 0, maximum: 1, default: 0.04, description: 'random start, fraction of the grid' },
      batchFraction: { type: 'number', unit: '1', exclusiveMinimum: 0, maximum: 1, default: 0.01, description: 'points per adaptive batch, fraction of the grid' },
      budgetFraction: { type: 'number', unit: '1', exclusiveMinimum: 0, maximum: 1, default: 0.4, description: 'stop once this fraction is sampled' },
      tol: { type: 'number', unit: '1', exclusiveMinimum: 0, default: 0.02, description: 'stop when ‖X_k − X_{k−1}‖/‖X_k‖ (mean-free) falls below' },
      minBatches: { type: 'integer', unit: '1', minimum: 1, maximum: 10_000, default: 3, description: 'reconstructions before the change rule may stop' },
      method: { type: 'string', enum: [...COSY_METHODS], default: 'dlmc' },
      strategy: { type: 'string', enum: ['uniform', 'leverage', 'uncertainty'], default: 'leverage', description: 'native nextSamples strategy' },
      minDistance: { type: 'number', unit: '1', minimum: 0, default: 1.5, description: 'minimum distance between points of one batch, grid steps' },
      seed: { type: 'integer', unit: '1', minimum: 0, maximum: 2 ** 32 - 1, default: 1, description: 'seed of the random start and of the sampling tie-breaks' },
      peaksKHz: { type: 'array', maxItems: 64, items: { type: 'number', unit: 'kHz' }, default: [21.9, 23.5], description: 'lines whose peaks the SNR reports' },
      pulseFrequencyHz: { type: 'number', unit: 'Hz', exclusiveMinimum: 0, default: 1.6919e6, description: 'mixing pulse centre (13C Larmor at 158 mT)' },
      pulseBandwidthHz: { type: 'number', unit: 'Hz', exclusiveMinimum: 0, default: 60e3 },
      pulseDurationUs: { type: 'number', unit: 'us', exclusiveMinimum: 0, default: 150 },
    },
  },
  pipeline: () => 'cosy',
  total: (p) => Math.round(p.budgetFraction * p.n1 * p.n2),
  // Upper bound: the whole budget sampled (the change rule may stop sooner); per point, readouts × (overhead + t1 + t2)
  // with the simulated readout's default 170 µs overhead (drivers/odmr/sim.ts) and the grid's mean t1 and t2.
  estimate: (p) => {
    const meanUs = p.t1StartUs + (p.t1StepUs * (p.n1 - 1)) / 2 + p.t2StartUs + (p.t2StepUs * (p.n2 - 1)) / 2;
    const ms = (Math.round(p.budgetFraction * p.n1 * p.n2) * p.readouts * (170 + meanUs)) / 1000;
    return { totalMs: ms, phases: [{ name: 'adaptive sampling', ms }], upperBound: true };
  },
  async run(ctx) {
    const p = ctx.params;
    const cells = p.n1 * p.n2;
    ctx.phase('adaptive sampling', { total: Math.round(p.budgetFraction * cells), unit: 'points' });
    await ctx.call('rf', 'setPulses', { pulses: [{ frequencyHz: p.pulseFrequencyHz, bandwidthHz: p.pulseBandwidthHz, durationUs: p.pulseDurationUs, phaseDeg: 0 }] });
    await ctx.call('rf', 'arm');
    let k = Math.max(1, Math.round(p.initialFraction * cells));
    let done = 0;
    for (let batch = 0; ; batch++) {
      const points = await ctx.nextPoints<GridPoint>(k);
      if (points.length === 0) break;
      ctx.mark('batch', { batch, points: points.length });
      for (const { i, j } of points) {
        const t1Us = p.t1StartUs + i * p.t1StepUs, t2Us = p.t2StartUs + j * p.t2StepUs;
        await ctx.acquire('readout', 'correlation', { t1Us, t2Us, readouts: p.readouts }, { fields: { i, j, batch } });
        ctx.progress(++done);
        ctx.phaseProgress(done);
      }
      if ((await ctx.shouldStop('session')).stop) break;
      k = Math.max(1, Math.round(p.batchFraction * cells));
    }
    await ctx.call('rf', 'disarm');
  },
};

export type { CosyMethod };
