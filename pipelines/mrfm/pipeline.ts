/**
 * The online mrfm pipeline: collects the force-variance frames of an
 * `mrfm-multislice` or `mrfm-xyz` session into the (nx, ny, nf) measurement
 * (NaN where not yet measured) and reconstructs the volume progressively
 * whenever the plan asks `shouldStop(scope)`: the PSF is computed once
 * (native, async), then BPDN fills the unsampled points and ADMM/Landweber
 * reconstructs (pipelines/mrfm/reconstruct.ts). Each reconstruction emits
 * `mrfm.recon` (f64 [nx, ny, nz], spins/nm³) and `mrfm.metrics` (f64
 * [sampled fraction, iterations, final residual, noise energy]) with the
 * same numbers as fields. The standard errors come from the instrument
 * (payload[1] of each variance frame), so the pipeline needs no noise model.
 */
import { Subject, ignoreElements, merge, tap, type OperatorFunction } from 'rxjs';
import { finalize } from 'rxjs/operators';
import type { Frame } from '../../drivers/core/frame.js';
import { computePsf, computeXyzPsf, TABLE1_SETUP, type MrfmGrid, type MrfmSetup } from '../../drivers/force/physics.js';
import type { Pipeline, PipelineContext, PipelineFactory, PipelineOutput } from '../core/pipeline.js';
import { CONTINUE, type StopDecision } from '../core/stopping.js';
import { DEFAULT_SOLVE, reconstructMrfm, type MrfmMethod } from './reconstruct.js';
import { planPulseCentres, type MrfmPlanParams } from './plan.js';

export function setupOf(p: MrfmPlanParams): MrfmSetup {
  return { ...TABLE1_SETUP, magnet: { radiusNm: p.magnetRadiusNm, heightNm: p.magnetHeightNm, mu0MsT: p.mu0MsT }, b0T: p.b0T };
}
export function gridOf(p: MrfmPlanParams): MrfmGrid {
  return { nx: p.nx, ny: p.ny, nz: p.nz, voxelNm: p.stepNm, standoffNm: p.standoffNm };
}

export class MrfmPipeline implements Pipeline {
  readonly name = 'mrfm';
  readonly version = '1';
  readonly p: MrfmPlanParams;
  readonly values: Float64Array;
  readonly se: Float64Array;
  private sampled = 0;
  private psf: Float32Array | undefined;
  private readonly results = new Subject<PipelineOutput>();
  private reconstructions = 0;

  constructor(ctx: PipelineContext) {
    this.p = ctx.planParams as unknown as MrfmPlanParams;
    const n = this.p.nx * this.p.ny * this.nf;
    this.values = new Float64Array(n).fill(Number.NaN);
    this.se = new Float64Array(n).fill(Number.NaN);
  }

  get nf(): number {
    return this.p.protocol === 'xyz' ? this.p.zSteps : this.p.nf;
  }

  accepts(stream: string): boolean {
    return stream.endsWith('.variance');
  }

  operator(): OperatorFunction<Frame, PipelineOutput> {
    return (frames$) => merge(frames$.pipe(tap((f) => this.add(f)), ignoreElements(), finalize(() => this.results.complete())), this.results);
  }

  /** One measurement: fields i, j (scan indices) and l (pulse or z step); payload [variance, SE]. */
  private add(f: Frame): void {
    const { i, j, l } = f.header as unknown as { i?: number; j?: number; l?: number };
    const { nx, ny } = this.p;
    const nf = this.nf;
    const ok = (v: number | undefined, n: number) => Number.isInteger(v) && v! >= 0 && v! < n;
    if (!ok(i, nx) || !ok(j, ny) || !ok(l, nf)) throw new RangeError(`frame ${f.header.stream}#${f.header.seq}: fields i, j, l must index the ${nx}×${ny}×${nf} scan, got ${i}, ${j}, ${l}`);
    const k = (i! * ny + j!) * nf + l!;
    if (Number.isNaN(this.values[k]!)) this.sampled++;
    this.values[k] = Number(f.payload[0]);
    this.se[k] = Number(f.payload[1]);
  }

  async shouldStop(_scope: unknown): Promise<StopDecision> {
    if (this.sampled > 0) await this.reconstructNow();
    return CONTINUE;
  }

  async settle(): Promise<void> {}

  private async reconstructNow(): Promise<void> {
    const p = this.p;
    const grid = gridOf(p);
    const setup = setupOf(p);
    if (!this.psf) {
      const f0Hz = planPulseCentres(p);
      this.psf = p.protocol === 'xyz'
        ? await computeXyzPsf({ setup, grid, geometry: p.geometry, f0Hz: f0Hz[0]!, fBWHz: p.fBWHz, subSamples: p.subSamples }, Array.from({ length: p.zSteps }, (_, k) => k * p.stepNm))
        : await computePsf({ setup, grid, geometry: p.geometry, f0Hz, fBWHz: p.fBWHz, subSamples: p.subSamples });
    }
    const dims = { nx: p.nx, ny: p.ny, nz: p.nz, nf: this.nf };
    const noise = { sThAnPerRtHz: 0, bandwidthHz: 1, tauMS: 1, TmS: p.TmS, nf: this.nf };
    const r = await reconstructMrfm(
      { psf: this.psf, dims, voxelVolumeNm3: p.stepNm ** 3, measurement: Float64Array.from(this.values), se: this.se, noise },
      { ...DEFAULT_SOLVE, method: p.method as MrfmMethod, maxIter: p.maxIter },
    );
    const fraction = this.sampled / this.values.length;
    const fields = { reconstruction: this.reconstructions++, sampledFraction: fraction, iterations: r.solver.iterations, reason: r.solver.reason, noiseEnergy: r.noiseEnergy };
    this.results.next({ name: 'recon', payload: r.o, shape: [p.nx, p.ny, p.nz], fields });
    this.results.next({ name: 'metrics', payload: Float64Array.of(fraction, r.solver.iterations, r.solver.residual.at(-1) ?? NaN, r.noiseEnergy), fields });
  }
}

export const mrfmPipelineFactory: PipelineFactory = {
  name: 'mrfm',
  version: '1',
  description: 'mrfm-multislice / mrfm-xyz: force variances → BPDN fill → ADMM (or Landweber) volume, progressively',
  create: (ctx) => new MrfmPipeline(ctx),
};
