/**
 * The online cosy-2d pipeline: collects the ODMR points of a session into a
 * sparse (t1, t2) map, reconstructs it (DLMC by default) after every batch,
 * proposes the next batch with the native adaptive-sampling kernel, and says
 * when to stop (the reconstruction changed less than `tol` between batches, or
 * the budget is spent).
 *
 * Outputs after each batch (stream `cosy.<name>`): `map` (reconstructed time
 * domain, f64 [n1,n2], input scale), `spectrum` (f64 [n1,n2], centred),
 * `mask` (u8 [n1,n2]), `metrics` (f64 [sampled fraction, relative change,
 * SNR dB]); fields carry the batch index and the same numbers by name.
 *
 * Batches: the plan asks `nextPoints` (recorded decision), measures the
 * points, then asks `shouldStop('session')`; the reconstruction runs there
 * (the engine holds the virtual clock meanwhile), so every batch has exactly
 * one reconstruction and one decision in the record.
 */
import { Subject, ignoreElements, merge, tap, type OperatorFunction } from 'rxjs';
import { finalize } from 'rxjs/operators';
import type { Frame } from '../../drivers/core/frame.js';
import { Rng } from '../../drivers/core/rng.js';
import type { Pipeline, PipelineContext, PipelineDescription, PipelineFactory, PipelineOutput } from '../core/pipeline.js';
import { CONTINUE, type StopDecision } from '../core/stopping.js';
import { cosySnrDb } from '../core/metrics.js';
import { cosySpectrum, type CosyMethod, type DLNetRunner, type SvtKernel } from './methods.js';
import { snrRegions } from './snr.js';
import { reconstructValidated } from './validate.js';
import type { CosyGrid } from './dataset.js';
import { randomMask } from './simdata.js';

/** The plan parameters the pipeline reads (pipelines/cosy/plan.ts declares them). */
export interface CosyPlanParams extends CosyGrid {
  budgetFraction: number;
  tol: number;
  minBatches: number;
  method: CosyMethod;
  strategy: 'uniform' | 'leverage' | 'uncertainty';
  minDistance: number;
  seed: number;
  /** Lines (kHz) whose peaks the SNR looks at. */
  peaksKHz: number[];
}

/** nextSamples of native/index.ts: flat indices of the next points. */
export type NextSamplesKernel = (
  mask: Uint8Array,
  recon: Float64Array | null,
  m: number,
  n: number,
  k: number,
  opts: { strategy: string; uncertainty?: Float64Array; minDistance?: number; seed?: number },
) => ArrayLike<number> | Promise<ArrayLike<number>>;

export interface CosyDeps {
  dlnet?: DLNetRunner;
  svt?: SvtKernel;
  nextSamples?: NextSamplesKernel;
  description?: PipelineDescription;
}

export interface GridPoint {
  i: number;
  j: number;
}

export class CosyPipeline implements Pipeline {
  readonly name = 'cosy';
  readonly version = '1';
  readonly p: CosyPlanParams;
  readonly values: Float64Array;
  readonly mask: Uint8Array;
  private sampled = 0;
  private reconstructedAt = -1;
  private batch = 0;
  private recon: Float64Array | undefined;
  private previous: Float64Array | undefined;
  private lastChange = Infinity;
  private readonly results = new Subject<PipelineOutput>();

  constructor(
    ctx: PipelineContext,
    private readonly deps: CosyDeps = {},
  ) {
    this.p = ctx.planParams as unknown as CosyPlanParams;
    const { n1, n2 } = this.p;
    this.values = new Float64Array(n1 * n2).fill(Number.NaN);
    this.mask = new Uint8Array(n1 * n2);
  }

  accepts(stream: string): boolean {
    return stream.endsWith('.population');
  }

  operator(): OperatorFunction<Frame, PipelineOutput> {
    return (frames$) =>
      merge(frames$.pipe(tap((f) => this.add(f)), ignoreElements(), finalize(() => this.results.complete())), this.results);
  }

  /** One measured point: header fields i, j (grid indices) and payload [population]. */
  private add(f: Frame): void {
    const { i, j } = f.header as unknown as { i?: number; j?: number };
    const { n1, n2 } = this.p;
    if (!Number.isInteger(i) || !Number.isInteger(j) || i! < 0 || j! < 0 || i! >= n1 || j! >= n2) {
      throw new RangeError(`frame ${f.header.stream}#${f.header.seq}: fields i, j must be grid indices in ${n1}×${n2}, got ${i}, ${j}`);
    }
    const k = i! * n2 + j!;
    const v = Number(f.payload[0]);
    // A point measured twice: keep the mean of the two.
    this.values[k] = this.mask[k] ? (this.values[k]! + v) / 2 : v;
    if (!this.mask[k]) this.sampled++;
    this.mask[k] = 1;
  }

  /** The current reconstruction (input scale), if any. */
  current(): Float64Array | undefined {
    return this.recon;
  }

  async nextPoints(k: number): Promise<GridPoint[]> {
    const { n1, n2, seed } = this.p;
    const free = n1 * n2 - this.sampled;
    const want = Math.min(k, free, Math.max(0, this.budget() - this.sampled));
    if (want <= 0) return [];
    let idx: ArrayLike<number>;
    if (this.sampled === 0 || !this.recon || this.p.strategy === 'uniform') {
      // Start (and the uniform strategy): seeded uniformly random points not yet sampled.
      const rng = Rng.derive(seed, `cosy/batch/${this.batch}`);
      const pick = randomMask(free, want / free, rng);
      const freeIdx: number[] = [];
      for (let q = 0; q < this.mask.length; q++) if (!this.mask[q]) freeIdx.push(q);
      idx = freeIdx.filter((_, q) => pick[q]);
    } else {
      const kernel = this.deps.nextSamples ?? (await loadNativeNextSamples());
      const scaled = this.scaledRecon();
      idx = await kernel(this.mask, scaled, n1, n2, want, { strategy: this.p.strategy, minDistance: this.p.minDistance, seed: seed + this.batch });
    }
    return Array.from(idx, (q) => ({ i: Math.floor(q / n2), j: q % n2 })).sort((a, b) => a.i - b.i || a.j - b.j);
  }

  async shouldStop(scope: unknown): Promise<StopDecision> {
    if (scope !== 'session') return CONTINUE;
    if (this.sampled === 0) return CONTINUE;
    if (this.reconstructedAt !== this.sampled) await this.reconstructNow();
    if (this.sampled >= this.budget()) return { stop: true, reason: `budget: ${this.sampled} of ${this.budget()} points (${pct(this.sampled / this.values.length)})` };
    if (this.batch >= this.p.minBatches && this.lastChange < this.p.tol) {
      return { stop: true, reason: `converged: reconstruction changed ${this.lastChange.toPrecision(3)} < tol ${this.p.tol} after batch ${this.batch} (${pct(this.sampled / this.values.length)} sampled)` };
    }
    return CONTINUE;
  }

  async settle(): Promise<void> {}

  describe(): PipelineDescription {
    return this.deps.description ?? {};
  }

  private budget(): number {
    return Math.max(1, Math.round(this.p.budgetFraction * this.values.length));
  }

  private scaledRecon(): Float64Array {
    const r = this.recon!;
    let lo = Infinity, hi = -Infinity;
    for (const v of r) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const out = new Float64Array(r.length);
    for (let q = 0; q < r.length; q++) out[q] = (r[q]! - lo) / (hi - lo || 1);
    return out;
  }

  private async reconstructNow(): Promise<void> {
    const { n1, n2 } = this.p;
    // dl/dlmc are checked on held-out samples against MC and soft-impute each batch (validate.ts).
    const r = await reconstructValidated(this.values, this.mask, n1, n2, {
      method: this.p.method,
      seed: this.p.seed + this.batch,
      ...(this.deps.dlnet ? { dlnet: this.deps.dlnet } : {}),
      ...(this.deps.svt ? { svt: this.deps.svt } : {}),
    });
    this.previous = this.recon;
    this.recon = r.map;
    this.reconstructedAt = this.sampled;
    this.batch++;
    this.lastChange = this.previous ? relativeChange(this.recon, this.previous) : Infinity;
    const spectrum = await cosySpectrum(r.map, n1, n2);
    const { peaks, blank } = snrRegions(this.p.peaksKHz, n1, n2, this.p.t1StepUs, this.p.t2StepUs);
    const snr = cosySnrDb(spectrum, [n1, n2], peaks, blank);
    const fraction = this.sampled / this.values.length;
    const fields = { batch: this.batch, sampled: this.sampled, fraction, change: Number.isFinite(this.lastChange) ? this.lastChange : null, snrDb: snr, method: this.p.method, ...(r.validation ? { chosen: r.validation.chosen, heldOutErrors: r.validation.errors } : {}), ...(r.svt ? { svt: r.svt } : {}) };
    this.results.next({ name: 'map', payload: r.map, shape: [n1, n2], fields });
    this.results.next({ name: 'spectrum', payload: spectrum, shape: [n1, n2], fields });
    this.results.next({ name: 'mask', payload: Uint8Array.from(this.mask), shape: [n1, n2], fields });
    this.results.next({ name: 'metrics', payload: new Float64Array([fraction, Number.isFinite(this.lastChange) ? this.lastChange : Number.NaN, snr]), fields });
  }
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

/** ‖a − b‖_F / ‖a‖_F. */
export function relativeChange(a: Float64Array, b: Float64Array): number {
  let d = 0, s = 0;
  // Compare mean-free maps: the offset (P0 ≈ 0.5) would hide changes of the signal.
  let ma = 0, mb = 0;
  for (let q = 0; q < a.length; q++) {
    ma += a[q]!;
    mb += b[q]!;
  }
  ma /= a.length;
  mb /= b.length;
  for (let q = 0; q < a.length; q++) {
    d += (a[q]! - ma - (b[q]! - mb)) ** 2;
    s += (a[q]! - ma) ** 2;
  }
  return Math.sqrt(d / (s || 1));
}

let nativeNextSamples: NextSamplesKernel | undefined;

async function loadNativeNextSamples(): Promise<NextSamplesKernel> {
  if (!nativeNextSamples) {
    const native = (await import('../../native/index.js')) as unknown as { nextSamples?: NextSamplesKernel };
    if (typeof native.nextSamples !== 'function') throw new Error('native nextSamples: not available in this build');
    nativeNextSamples = native.nextSamples;
  }
  return nativeNextSamples;
}

/**
 * The registered factory: DLNet in a worker thread (for dl/dlmc), native svt
 * and nextSamples. The worker is shut down when the session's frames end.
 */
export const cosyPipelineFactory: PipelineFactory = {
  name: 'cosy',
  version: '1',
  description: 'cosy-2d: sparse (t1,t2) map → DLMC reconstruction, 2D spectrum, adaptive next batch, early stop',
  async create(ctx) {
    const method = (ctx.planParams as { method?: string }).method ?? 'dlmc';
    if (method !== 'dl' && method !== 'dlmc') return new CosyPipeline(ctx);
    const { DLNetWorker, defaultModelDir } = await import('./dlnet-runner.js');
    const { modelHash } = await import('./model-io.js');
    const dir = defaultModelDir();
    const worker = await DLNetWorker.start(dir);
    const pipeline = new CosyPipeline(ctx, { dlnet: worker, description: { tfBackend: worker.backend, modelHashes: { dlnet: await modelHash(dir) } } });
    const op = pipeline.operator.bind(pipeline);
    pipeline.operator = () => (frames$) => op()(frames$).pipe(finalize(() => void worker.close()));
    return pipeline;
  },
};
