/**
 * The online domain-imaging pipeline (`domains`): takes the camera's frames,
 * turns them into LR spin maps (header calibration), fine-tunes the SR
 * network on them (the unsupervised LR-consistency loss, as pre-training),
 * and emits an SR frame for every camera frame, live. It reports the loss,
 * and its stopping rule ends the session when the loss has plateaued or the
 * frame budget is reached. At the end (scope `final`) it emits mosaics of
 * the whole field at LR and SR, as arrays and PNGs.
 *
 * Results (stream `domains.<name>`): `lr` (f32 [a, a, C], calibrated spins),
 * `sr` (f32 [a·f, a·f, C]), `loss` (f64 [LR loss of the frame, mean
 * fine-tuning loss]), `mosaic_lr` / `mosaic_sr` (f32 [rows, cols, C]),
 * `png_mosaic_lr` / `png_mosaic_sr` (u8 PNG bytes). Fields carry the frame
 * index, stage position, pixel sizes and the Nyquist flag.
 *
 * Work happens in `shouldStop` (the engine holds the virtual clock while it
 * is awaited), so every frame has exactly one fine-tune + SR and one decision.
 */
import { Subject, ignoreElements, merge, tap, type OperatorFunction } from 'rxjs';
import { finalize } from 'rxjs/operators';
import type { Frame } from '../../drivers/core/frame.js';
import type { Pipeline, PipelineContext, PipelineDescription, PipelineFactory, PipelineOutput } from '../core/pipeline.js';
import { CONTINUE, type StopDecision } from '../core/stopping.js';
import { nyquistCheck, type NyquistReport } from './nyquist.js';
import { renderSpinPng } from './png.js';
import type { SrLoaded, SrRunner } from './sr-runner.js';
import { defaultSrConfig, SR_FACTORS, type SrFactor } from './srnet.js';

/** Plan parameters the pipeline reads (pipelines/domains/plan.ts declares them). */
export interface DomainsPipelineParams {
  /** Up-sampling factor 4, 8 or 16. */
  factor: SrFactor;
  /** `auto` (the committed model matching factor and components), `none` (a fresh network), or a model folder. */
  model: string;
  /** What the operator knows of the sample, for `auto`: 1 (DMI labyrinths), 2 (dipolar domains) or 0 (unknown: Type II first). */
  textureType: 0 | 1 | 2;
  finetuneSteps: number;
  finetuneBatch: number;
  /** Recent frames the fine-tuning draws from. */
  finetuneWindow: number;
  lr: number;
  seed: number;
  maxFrames: number;
  minFrames: number;
  /** Plateau: relative change of the windowed mean LR loss below this stops. */
  plateauTol: number;
  plateauWindow: number;
}

interface Tile {
  index: number;
  lr: Float32Array;
  a: number;
  C: number;
  pixelSizeNm: number;
  stageNm: [number, number, number] | null;
  sr?: Float32Array;
}

export type ModelResolver = (factor: SrFactor, components: 1 | 3) => { dir?: string; name: string; hash?: string };

export class DomainsPipeline implements Pipeline {
  readonly name = 'domains';
  readonly version = '1';
  readonly p: DomainsPipelineParams;
  private readonly tiles: Tile[] = [];
  private processed = 0;
  private readonly losses: number[] = [];
  private readonly results = new Subject<PipelineOutput>();
  private loaded: SrLoaded | undefined;
  private nyquist: NyquistReport | undefined;
  private description: PipelineDescription = {};

  constructor(
    ctx: PipelineContext,
    private readonly runner: SrRunner,
    private readonly resolveModel: ModelResolver,
  ) {
    this.p = ctx.planParams as unknown as DomainsPipelineParams;
    if (!SR_FACTORS.includes(this.p.factor)) throw new RangeError(`factor: must be 4, 8 or 16, got ${this.p.factor}`);
  }

  accepts(stream: string): boolean {
    return stream.endsWith('.frame');
  }

  operator(): OperatorFunction<Frame, PipelineOutput> {
    return (frames$) => merge(frames$.pipe(tap((f) => this.add(f)), ignoreElements(), finalize(() => this.results.complete())), this.results);
  }

  /** One camera frame: calibrated to spins. */
  private add(f: Frame): void {
    const h = f.header as unknown as { shape: number[]; components?: string[]; calibration?: { offset: number; gain: number }; pixelSizeNm?: number; stageNm?: [number, number, number] | null };
    const [rows, cols, C] = h.shape;
    if (h.shape.length !== 3 || rows !== cols || (C !== 1 && C !== 3)) throw new RangeError(`frame ${f.header.stream}#${f.header.seq}: shape [${h.shape}] must be [a, a, 1|3]`);
    const { offset, gain } = h.calibration ?? { offset: 0, gain: 1 };
    if (!(gain !== 0 && Number.isFinite(gain) && Number.isFinite(offset))) throw new RangeError(`frame ${f.header.stream}#${f.header.seq}: calibration gain must be finite and non-zero`);
    const lr = Float32Array.from(f.payload as Float32Array, (v) => (v - offset) / gain);
    if (this.tiles.length && (this.tiles[0]!.a !== rows || this.tiles[0]!.C !== C)) throw new RangeError(`frame ${f.header.stream}#${f.header.seq}: shape [${h.shape}] differs from the session's first frame`);
    this.tiles.push({ index: this.tiles.length, lr, a: rows!, C: C!, pixelSizeNm: Number(h.pixelSizeNm ?? 1), stageNm: h.stageNm ?? null });
  }

  private async ensureLoaded(C: 1 | 3): Promise<void> {
    if (this.loaded) return;
    const m = this.p.model === 'none' ? { name: 'fresh' } : this.resolveModel(this.p.factor, C);
    this.loaded = await this.runner.load({ ...(m.dir ? { modelDir: m.dir } : {}), config: defaultSrConfig(this.p.factor, C), seed: this.p.seed, lr: this.p.lr });
    if (this.loaded.config.factor !== this.p.factor || this.loaded.config.components !== C) {
      throw new Error(`model ${m.name}: ×${this.loaded.config.factor} with ${this.loaded.config.components} components does not fit ×${this.p.factor} frames with ${C}`);
    }
    this.description = { tfBackend: this.loaded.backend, ...(m.hash ? { modelHashes: { [m.name]: m.hash } } : {}) };
  }

  async shouldStop(scope: unknown): Promise<StopDecision> {
    if (scope === 'final') {
      await this.emitMosaics();
      return { stop: true, reason: 'final' };
    }
    if (scope !== 'session' || this.tiles.length === 0) return CONTINUE;
    while (this.processed < this.tiles.length) await this.processNext();
    const n = this.tiles.length;
    if (n >= this.p.maxFrames) return { stop: true, reason: `budget: ${n} of ${this.p.maxFrames} frames` };
    const w = this.p.plateauWindow;
    if (n >= Math.max(this.p.minFrames, 2 * w)) {
      const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
      const recent = mean(this.losses.slice(-w));
      const before = mean(this.losses.slice(-2 * w, -w));
      const change = Math.abs(before - recent) / Math.max(before, 1e-12);
      if (change < this.p.plateauTol) return { stop: true, reason: `plateau: LR loss ${recent.toExponential(3)} changed ${(100 * change).toFixed(2)} % over the last ${w} frames (< ${100 * this.p.plateauTol} %)` };
    }
    return CONTINUE;
  }

  private async processNext(): Promise<void> {
    const tile = this.tiles[this.processed]!;
    await this.ensureLoaded(tile.C as 1 | 3);
    const window = this.tiles.slice(Math.max(0, this.processed + 1 - this.p.finetuneWindow), this.processed + 1).map((t) => t.lr);
    const ft = await this.runner.finetune(window, tile.a, this.p.finetuneSteps, this.p.finetuneBatch, this.p.seed + tile.index);
    const { sr, lrLoss } = await this.runner.predict([tile.lr], tile.a);
    tile.sr = sr[0]!;
    this.losses.push(lrLoss[0]!);
    this.nyquist ??= nyquistCheck([tile.lr], tile.a, tile.C, this.p.factor, this.loaded!.trainedOn?.periodHr);
    const ftMean = ft.length ? ft.reduce((s, v) => s + v, 0) / ft.length : Number.NaN;
    const N = tile.a * this.p.factor;
    const fields = { frame: tile.index, stageNm: tile.stageNm, lrLoss: lrLoss[0]!, finetuneLoss: Number.isFinite(ftMean) ? ftMean : null, finetuneSteps: ft.length, pixelSizeNm: tile.pixelSizeNm / this.p.factor, lrPixelSizeNm: tile.pixelSizeNm, unresolved: this.nyquist.unresolved };
    this.results.next({ name: 'lr', payload: tile.lr, shape: [tile.a, tile.a, tile.C], fields });
    this.results.next({ name: 'sr', payload: tile.sr, shape: [N, N, tile.C], fields });
    this.results.next({ name: 'loss', payload: Float64Array.of(lrLoss[0]!, ftMean), fields });
    this.processed++;
  }

  /** Places every tile at its stage position (averaging overlaps) at LR and SR; emits arrays and PNGs. */
  private async emitMosaics(): Promise<void> {
    while (this.processed < this.tiles.length) await this.processNext();
    const tiles = this.tiles.filter((t) => t.sr);
    if (tiles.length === 0) return;
    const { C, a, pixelSizeNm: p } = tiles[0]!;
    const f = this.p.factor;
    for (const [name, scale] of [['lr', 1], ['sr', f]] as const) {
      const px = p / scale;
      const side = a * scale;
      const pos = tiles.map((t) => {
        const [x, y] = t.stageNm ?? [0, 0, 0];
        return [Math.round(x / px - side / 2), Math.round(y / px - side / 2)] as const;
      });
      const x0 = Math.min(...pos.map((q) => q[0])), y0 = Math.min(...pos.map((q) => q[1]));
      const cols = Math.max(...pos.map((q) => q[0])) - x0 + side, rows = Math.max(...pos.map((q) => q[1])) - y0 + side;
      const sum = new Float64Array(rows * cols * C), count = new Uint32Array(rows * cols);
      tiles.forEach((t, k) => {
        const img = name === 'lr' ? t.lr : t.sr!;
        const [ox, oy] = [pos[k]![0] - x0, pos[k]![1] - y0];
        for (let r = 0; r < side; r++)
          for (let c = 0; c < side; c++) {
            const q = (oy + r) * cols + ox + c;
            count[q]!++;
            for (let k2 = 0; k2 < C; k2++) sum[q * C + k2]! += img[(r * side + c) * C + k2]!;
          }
      });
      const mosaic = new Float32Array(rows * cols * C);
      for (let q = 0; q < rows * cols; q++) for (let k2 = 0; k2 < C; k2++) mosaic[q * C + k2] = count[q] ? sum[q * C + k2]! / count[q]! : Number.NaN;
      const fields = { tiles: tiles.length, pixelSizeNm: px, originNm: [x0 * px, y0 * px], unresolved: this.nyquist?.unresolved ?? false };
      this.results.next({ name: `mosaic_${name}`, payload: mosaic, shape: [rows, cols, C], fields });
      this.results.next({ name: `png_mosaic_${name}`, payload: new Uint8Array(renderSpinPng(mosaic, rows, cols, C, name === 'lr' ? f : 1)), fields });
    }
  }

  async settle(): Promise<void> {}

  describe(): PipelineDescription {
    return this.description;
  }

  /** The Nyquist report of the session (after the first frame). */
  resolution(): NyquistReport | undefined {
    return this.nyquist;
  }
}

/**
 * The registered factory: the SR network in a worker thread (wasm), the
 * committed model matching the frames (or a fresh one), closed when the
 * session's frames end.
 */
export const domainsPipelineFactory: PipelineFactory = {
  name: 'domains',
  version: '1',
  description: 'domain-imaging: camera frames → online fine-tuned unsupervised SR (LR-consistency loss), live SR frames, mosaics, plateau stop',
  async create(ctx) {
    const { SrWorker } = await import('./sr-runner.js');
    const { resolveModel } = await import('./models.js');
    const worker = await SrWorker.start();
    const pp = ctx.planParams as { model?: string; textureType?: number };
    const model = String(pp.model ?? 'auto');
    const type = pp.textureType === 1 || pp.textureType === 2 ? pp.textureType : undefined;
    const pipeline = new DomainsPipeline(ctx, worker, (f, C) => resolveModel(model, f, C, type));
    const op = pipeline.operator.bind(pipeline);
    pipeline.operator = () => (frames$) => op()(frames$).pipe(finalize(() => void worker.close()));
    return pipeline;
  },
};
