/**
 * The online g2 pipeline of `antibunching-scan`. It reads the correlator's
 * frames by their `phase` header field (set by the plan):
 * - `calibration`: fits the full model → curve shape and peak G2 (result `g2.calibration`);
 * - `scan` (field `pixel`): adds the 1 s histogram to the pixel, updates its
 *   shape-fixed estimate (result `g2.pixel`), which `shouldStop({pixel})` judges;
 * - `final`: builds the maps with the chosen method and emits them as arrays
 *   (`g2.pl`, `g2.g2`, `g2.g2_std`, `g2.crb`, `g2.G2`, `g2.G2_std`, `g2.dwell_s`),
 *   PNGs (`g2.png_*`, u8 PNG bytes) and `g2.metrics` (FWHMs in its fields).
 * The calibration fit and the final maps run in a worker thread (compute-client.ts), the CNN in its own;
 * the clock is held meanwhile (virtual time stands still), and `shouldStop` / `settle()` await them.
 */
import { from, type OperatorFunction } from 'rxjs';
import { concatMap } from 'rxjs/operators';
import type { Frame } from '../../drivers/core/frame.js';
import type { HbtGeometry } from '../../drivers/hbt/model.js';
import type { Pipeline, PipelineContext, PipelineDescription, PipelineFactory, PipelineOutput } from '../core/pipeline.js';
import { CONTINUE, type StopDecision } from '../core/stopping.js';
import { renderMapPng } from '../core/png-image.js';
import type { CalibrationResult } from './calibration.js';
import type { G2Method } from './estimate.js';
import { HbtScanData, estimateMaps, imageFwhm, plPsfFwhmNm, pixelStopDecision, poolKernel, poolKernelSigmaPx, type ScanMaps, type StopPolicy } from './scan.js';
import { shapeFixedFitter, type ShapeFixedFitter } from './shape-fixed-ml.js';
import type { CnnClient } from './cnn-client.js';

/** The plan parameters the pipeline reads. */
export interface G2PipelineParams {
  nx: number;
  ny: number;
  fieldSizeNm: number;
  method: G2Method;
  targetFraction: number;
  maxDwellS: number;
  minDwellS: number;
  earlyStop: boolean;
  /** PL FWHM assumed for the pooling kernel before the PL map exists, nm. */
  psfFwhmNm: number;
  /** Experiment time between two live map updates, s (0: none); absent in sessions recorded before it existed. */
  liveMapS?: number;
}

/** Default of `liveMapS`: a live update every 10 s of experiment time. */
export const LIVE_MAP_S = 10;

export const G2_PIPELINE_VERSION = '1';

export class G2Pipeline implements Pipeline {
  readonly name = 'g2';
  readonly version = G2_PIPELINE_VERSION;
  private data: HbtScanData | undefined;
  private cal: CalibrationResult | undefined;
  private fitter: ShapeFixedFitter | undefined;
  private last = new Map<number, { g2: number; std: number; crb: number; events: number; scale: number }>();
  private pending: Promise<unknown> = Promise.resolve();
  /** True while the calibration fit runs in its worker (scan frames wait for it in the operator's queue). */
  private calibrating = false;
  private cnn: CnnClient | undefined;
  private readonly p: G2PipelineParams;
  /** Experiment time (frame `t`, ns) of the last live map update. */
  private liveAtNs = -Infinity;

  constructor(private readonly ctx: PipelineContext) {
    this.p = ctx.planParams as unknown as G2PipelineParams;
  }

  accepts(stream: string): boolean {
    return stream.endsWith('.histogram') || stream.endsWith('.rate');
  }

  /** Pooling gain the stop rule may count on (√n_eff of the pooling kernel). */
  private poolGain(): number {
    if (this.p.method !== 'pooled') return 1;
    const px = this.p.fieldSizeNm / this.p.nx;
    return Math.sqrt(poolKernel(poolKernelSigmaPx(this.p.psfFwhmNm, px)).nEff);
  }

  private geometryOf(f: Frame): HbtGeometry {
    const h = f.header;
    return { bins: f.payload.length, binWidthNs: Number(h.binWidthNs), zeroBin: Number(h.zeroBin), jitterNs: Number(h.jitterNs ?? 0) };
  }

  operator(): OperatorFunction<Frame, PipelineOutput> {
    // Scan frames are handled synchronously (shouldStop always sees them); the calibration fit and the final
    // maps run in a worker thread, and concatMap keeps every later frame queued behind them, in order.
    return (frames$) =>
      frames$.pipe(
        concatMap((f) => {
          if (f.header.phase === 'final') {
            // The maps are computed after the frame arrived: their data time is that frame's.
            const work = this.finalOutputs().then((outs) => outs.map((o) => ({ ...o, t: f.header.t })));
            this.pending = work.catch(() => undefined);
            return from(work).pipe(concatMap((outs) => from(outs)));
          }
          if (f.header.phase === 'calibration' && f.header.stream.endsWith('.histogram')) {
            const work = this.calibrate(f);
            this.pending = work.catch(() => undefined);
            return from(work).pipe(concatMap((outs) => from(outs)));
          }
          return from(this.handle(f));
        }),
      );
  }

  /**
   * The calibration: the full three-level LM fit (70–800 ms) in a worker thread, never on the daemon's
   * event loop (issue 18, point 3). The clock is held meanwhile, so on a virtual clock the fit takes no
   * experiment time, as it did in-process. Same function on the same data: bit-identical results.
   */
  private async calibrate(f: Frame): Promise<PipelineOutput[]> {
    const g = this.geometryOf(f);
    this.calibrating = true;
    try {
      // Held from the start (the module import included): virtual time must not run on meanwhile.
      const work = import('./compute-client.js').then((m) => m.calibrateInWorker(f.payload, Number(f.header.counts), Number(f.header.integrationS), g));
      this.cal = await this.ctx.clock.hold(work);
    } finally {
      this.calibrating = false;
    }
    this.fitter = shapeFixedFitter(this.cal.shape);
    this.data = new HbtScanData({ ny: this.p.ny, nx: this.p.nx, pixelSizeNm: this.p.fieldSizeNm / this.p.nx, geometry: g });
    const c = this.cal;
    return [
      {
        name: 'calibration',
        payload: Float64Array.of(c.curve.t1Ns, c.curve.t2Ns, c.curve.bunchingRatio, c.fit.g2, c.fit.std, c.rate, c.g2Peak, c.fit.events),
        fields: { columns: ['t1Ns', 't2Ns', 'bunchingRatio', 'g2', 'g2Std', 'rateCps', 'g2Peak', 'events'] },
        // Emitted after the fit: its data time is the calibration frame's, whatever arrived meanwhile.
        t: f.header.t,
      },
    ];
  }

  private handle(f: Frame): PipelineOutput[] {
    const phase = f.header.phase;
    if (!f.header.stream.endsWith('.histogram')) return [];
    if (phase === 'scan') {
      if (!this.data || !this.fitter) throw new Error('scan frame before the calibration');
      const pixel = Number(f.header.pixel);
      this.data.add(pixel, f.payload, Number(f.header.counts), Number(f.header.integrationS));
      const est = this.fitter.fit(this.data.histogram(pixel));
      this.last.set(pixel, est);
      const out: PipelineOutput[] = [
        {
          name: 'pixel',
          payload: Float64Array.of(pixel, est.g2, est.std, est.crb, est.events, this.data.rate(pixel), this.data.seconds[pixel]!),
          fields: { pixel, columns: ['pixel', 'g2', 'g2Std', 'crb', 'events', 'rateCps', 'dwellS'] },
        },
      ];
      // Progressive maps, throttled by experiment time (the frame's `t`), never wall time: replays stay identical.
      const everyNs = (this.p.liveMapS ?? LIVE_MAP_S) * 1e9;
      const t = Number(f.header.t);
      if (everyNs > 0 && t - this.liveAtNs >= everyNs) {
        this.liveAtNs = t;
        out.push(...liveOutputs(this.data, this.last, this.cal!.shape, pixel, this.p.fieldSizeNm / this.p.nx));
      }
      return out;
    }
    return [];
  }

  shouldStop(scope: unknown): StopDecision | Promise<StopDecision> {
    // A scan frame pushed while the calibration fit runs is handled right after it: answer from it then.
    if (this.calibrating) return this.pending.then(() => this.shouldStop(scope));
    const pixel = (scope as { pixel?: number } | undefined)?.pixel;
    if (pixel === undefined || !this.data || !this.cal) return CONTINUE;
    const est = this.last.get(pixel);
    if (!est) return CONTINUE;
    const seconds = this.data.seconds[pixel]!;
    const policy: StopPolicy = { targetFraction: this.p.targetFraction, maxDwellS: this.p.maxDwellS, minDwellS: this.p.minDwellS, poolGain: this.poolGain() };
    if (!this.p.earlyStop) return seconds >= this.p.maxDwellS ? { stop: true, reason: `fixed dwell: ${seconds} s` } : CONTINUE;
    return pixelStopDecision(est, this.data.rate(pixel), seconds, this.cal.g2Peak, policy);
  }

  async settle(): Promise<void> {
    await this.pending;
  }

  describe(): PipelineDescription {
    return this.cnn ? { modelHashes: { g2cnn: this.cnn.modelHash } } : {};
  }

  private async finalOutputs(): Promise<PipelineOutput[]> {
    if (!this.data || !this.cal) throw new Error('final frame before any scan data');
    if (this.p.method !== 'cnn') {
      // The maps, their fits and PNGs take ~0.1 s for 8×8 and more for larger scans: in a worker thread,
      // never on the daemon's event loop (issue 18, point 3).
      const { finalOutputsInWorker } = await import('./compute-client.js');
      return finalOutputsInWorker(this.data, this.cal, this.p);
    }
    const { CnnClient } = await import('./cnn-client.js');
    this.cnn = new CnnClient();
    const client = this.cnn;
    try {
      return await computeFinalOutputs(this.data, this.cal, this.p, (h, n) => client.predict(h, n));
    } finally {
      await this.cnn?.close();
    }
  }
}

/**
 * The final maps of a scan with the chosen method, as result outputs (arrays, PNGs, metrics). The pooling
 * kernel follows the measured PL width. Runs in the compute worker (compute-worker.ts), or in-process for the CNN
 * (whose network already runs in its own worker).
 */
export async function computeFinalOutputs(
  data: HbtScanData,
  cal: CalibrationResult,
  p: Pick<G2PipelineParams, 'method' | 'psfFwhmNm'>,
  cnn?: (h: Float64Array, n: number) => Promise<{ g2: Float32Array; std: Float32Array }>,
): Promise<PipelineOutput[]> {
  const meta = data.meta;
  const plOnly = await estimateMaps(data, { method: 'shape-fixed-ml', calibration: cal });
  const poolSigmaPx = poolKernelSigmaPx(plPsfFwhmNm(plOnly.pl, meta, p.psfFwhmNm), meta.pixelSizeNm);
  const maps = p.method === 'shape-fixed-ml' ? plOnly : await estimateMaps(data, { method: p.method, calibration: cal, ...(cnn ? { cnn } : {}), poolSigmaPx });
  return mapOutputs(maps, meta.ny, meta.nx, meta.pixelSizeNm, p.method);
}


/**
 * The maps so far (`g2.live_pl`, `live_g2`, `live_G2`, `live_dwell_s`: f32 [ny, nx], NaN where no pixel
 * estimate exists yet) from the per-pixel shape-fixed estimates, and the current pixel's summed histogram
 * with its fitted curve λ_b = A(1 − (1 − g2)·v_b) (`g2.live_fit`: f64 [2, bins], rows counts and fit).
 * Cheap (O(pixels + bins)), so it runs on the event loop; the final maps use the chosen method.
 */
export function liveOutputs(
  data: HbtScanData,
  last: ReadonlyMap<number, { g2: number; std: number; events: number; scale: number }>,
  shape: Float64Array,
  pixel: number,
  pixelSizeNm: number,
): PipelineOutput[] {
  const { ny, nx } = data.meta;
  const pl = new Float32Array(data.pixels);
  const g2 = new Float32Array(data.pixels).fill(NaN);
  const G2 = new Float32Array(data.pixels).fill(NaN);
  const dwell = new Float32Array(data.pixels);
  for (let p = 0; p < data.pixels; p++) {
    const n = data.rate(p);
    pl[p] = data.seconds[p]! > 0 ? n : NaN;
    dwell[p] = data.seconds[p]!;
    const e = last.get(p);
    if (e) {
      g2[p] = e.g2;
      G2[p] = n * n * (1 - e.g2);
    }
  }
  const hist = data.histogram(pixel);
  const e = last.get(pixel)!;
  const fit = new Float64Array(2 * hist.length);
  fit.set(hist);
  for (let b = 0; b < hist.length; b++) fit[hist.length + b] = e.scale * (1 - (1 - e.g2) * shape[b]!);
  const map = (name: string, payload: Float32Array, unit: string): PipelineOutput => ({ name, payload, shape: [ny, nx], fields: { pixel, unit, pixelSizeNm, live: true } });
  return [
    map('live_pl', pl, 'counts/s'),
    map('live_g2', g2, '1'),
    map('live_G2', G2, '(counts/s)^2'),
    map('live_dwell_s', dwell, 's'),
    {
      name: 'live_fit',
      payload: fit,
      shape: [2, hist.length],
      fields: { pixel, g2: e.g2, g2Std: e.std, events: e.events, rows: ['counts', 'fit'], binWidthNs: data.meta.geometry.binWidthNs, zeroBin: data.meta.geometry.zeroBin, live: true },
    },
  ];
}

/** The result frames and PNGs of a finished scan (also used by `reconstruct`). */
export function mapOutputs(maps: ScanMaps, ny: number, nx: number, pixelSizeNm: number, method: G2Method): PipelineOutput[] {
  const shape = [ny, nx];
  const metrics = scanMetrics(maps, ny, nx, pixelSizeNm);
  const out: PipelineOutput[] = [];
  for (const [name, a] of Object.entries(mapArrays(maps))) out.push({ name, payload: a, shape, fields: { method } });
  for (const [name, png] of Object.entries(mapPngs(maps, ny, nx, pixelSizeNm))) out.push({ name: `png_${name}`, payload: new Uint8Array(png), fields: { format: 'png' } });
  out.push({ name: 'metrics', payload: Float64Array.of(metrics.plFwhmNm, metrics.g2FwhmNm, metrics.fwhmRatio, metrics.totalDwellS), fields: { ...metrics, method } });
  return out;
}

export function mapArrays(maps: ScanMaps): Record<string, Float64Array> {
  return { pl: maps.pl, g2: maps.g2, g2_std: maps.g2Std, crb: maps.crb, G2: maps.G2, G2_std: maps.G2Std, dwell_s: maps.dwellS };
}

export function mapPngs(maps: ScanMaps, ny: number, nx: number, pixelSizeNm: number): Record<string, Buffer> {
  const shape: [number, number] = [ny, nx];
  const clipStd = maps.g2Std.map((s) => (Number.isFinite(s) ? Math.min(s, 1) : 1));
  return {
    pl: renderMapPng(maps.pl, { shape, pixelSizeNm, title: 'PL', unit: 'counts/s' }),
    g2: renderMapPng(maps.g2, { shape, pixelSizeNm, title: 'g2(0)', unit: '1', range: [0, 1.2] }),
    g2_std: renderMapPng(clipStd, { shape, pixelSizeNm, title: 'std g2(0)', unit: '1' }),
    G2: renderMapPng(maps.G2, { shape, pixelSizeNm, title: 'G2 = N^2(1-g2)', unit: '(counts/s)^2' }),
    dwell_s: renderMapPng(maps.dwellS, { shape, pixelSizeNm, title: 'dwell', unit: 's' }),
  };
}

export interface ScanMetrics {
  plFwhmNm: number;
  g2FwhmNm: number;
  fwhmRatio: number;
  totalDwellS: number;
}

export function scanMetrics(maps: ScanMaps, ny: number, nx: number, pixelSizeNm: number): ScanMetrics {
  let total = 0;
  for (const s of maps.dwellS) total += s;
  try {
    const f = imageFwhm(maps, { ny, nx, pixelSizeNm, geometry: undefined as never });
    return { plFwhmNm: f.pl.fwhm, g2FwhmNm: f.G2.fwhm, fwhmRatio: f.ratio, totalDwellS: total };
  } catch {
    return { plFwhmNm: NaN, g2FwhmNm: NaN, fwhmRatio: NaN, totalDwellS: total };
  }
}

export const g2PipelineFactory: PipelineFactory = {
  name: 'g2',
  version: G2_PIPELINE_VERSION,
  description: 'antibunching-scan: calibration, per-pixel g2(0) with early stopping, PL/g2/G2 maps and PNGs',
  create: (ctx) => new G2Pipeline(ctx),
};
