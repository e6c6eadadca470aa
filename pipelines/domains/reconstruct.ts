/**
 * `qscope reconstruct domains`: offline SR of a `spin-frames` dataset (or of
 * one large LR image cut into overlapping periodic-padded patches and
 * stitched back, as the paper did with its MOKE image). Fine-tunes the best
 * matching pre-trained model on the given frames (unsupervised, as online),
 * then writes sr.npy, the baselines' arrays, PNGs and metrics.json.
 *
 * Everything is read and checked before the output folder is created: a bad
 * dataset (SpinDatasetError, exit 2) writes nothing.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { blurSample } from '../../drivers/camera/imaging.js';
import { encodeNpy, readNpy } from '../../drivers/core/npy.js';
import { mse, psnr, spinCorrelation } from '../core/metrics.js';
import { BASELINES, upsample, type BaselineMethod } from './baselines.js';
import { checkFactor, readSpinFrames, SpinDatasetError, type SpinFrames } from './dataset.js';
import { resolveModel } from './models.js';
import { nyquistCheck, TYPE1_PERIOD_HR, type NyquistReport } from './nyquist.js';
import { renderSpinPng } from './png.js';
import { InProcessSr, type SrRunner } from './sr-runner.js';
import { defaultSrConfig, type SrFactor } from './srnet.js';

export interface ReconstructOptions {
  /** Dataset folder (kind spin-frames); or `image`. */
  input?: string;
  /** One large LR image .npy [H, W, C] or [H, W] (C = 1). */
  image?: string;
  /** Factor for `image` (a dataset carries its own). */
  factor?: number;
  /** Patch side (LR pixels) and overlap on each side for `image`. */
  patch?: number;
  overlap?: number;
  out: string;
  /** 'auto' (default), 'none', a committed model name or a folder. */
  model?: string;
  finetuneSteps?: number;
  finetuneBatch?: number;
  lr?: number;
  seed?: number;
  /** Texture type hint for choosing the model (1 or 2). */
  type?: 1 | 2;
  runner?: SrRunner;
}

export interface MethodMetrics {
  /** LR consistency: MSE between the input LR frames and the method's SR blurred and strided by the forward model. */
  lrConsistency: number;
  /** Against truth.npy when the dataset has it. */
  mse?: number;
  psnr?: number;
  corr?: number;
}

export interface ReconstructMetrics {
  frames: number;
  factor: number;
  components: number;
  model: string;
  finetune: { steps: number; seconds: number; firstLoss: number | null; lastLoss: number | null };
  methods: Record<'sr' | BaselineMethod, MethodMetrics>;
  nyquist: NyquistReport;
  image?: { shape: number[]; patch: number; overlap: number; patches: number };
}

/** LR frame [a, a, C] of an SR map [a·f, a·f, C] through the forward model. */
function forward(sr: Float32Array, a: number, f: number, C: number): Float64Array {
  const N = a * f;
  return blurSample({ data: sr, rows: N, cols: N, channels: C }, 0, 0, f, a, a);
}

function usage(msg: string): never {
  throw Object.assign(new Error(msg), { code: 'BAD_USAGE' });
}

/** Cuts [H, W, C] into periodic-padded patches of `patch` LR pixels whose cores (patch − 2·overlap) tile the image. */
export function cutPatches(img: Float32Array, H: number, W: number, C: number, patch: number, overlap: number): { patches: Float32Array[]; origins: [number, number][] } {
  const core = patch - 2 * overlap;
  const patches: Float32Array[] = [];
  const origins: [number, number][] = [];
  for (let y = 0; y < H; y += core)
    for (let x = 0; x < W; x += core) {
      const p = new Float32Array(patch * patch * C);
      for (let r = 0; r < patch; r++)
        for (let c = 0; c < patch; c++) {
          const sy = (((y - overlap + r) % H) + H) % H, sx = (((x - overlap + c) % W) + W) % W;
          for (let k = 0; k < C; k++) p[(r * patch + c) * C + k] = img[(sy * W + sx) * C + k]!;
        }
      patches.push(p);
      origins.push([y, x]);
    }
  return { patches, origins };
}

/** Stitches SR patches back: each patch's core (overlap trimmed) goes to its place, ×f. */
export function stitchPatches(patches: Float32Array[], origins: [number, number][], H: number, W: number, C: number, patch: number, overlap: number, f: number): Float32Array {
  const out = new Float32Array(H * f * W * f * C);
  const P = patch * f, o = overlap * f, core = (patch - 2 * overlap) * f;
  patches.forEach((p, i) => {
    const [y0, x0] = origins[i]!;
    for (let r = 0; r < core; r++)
      for (let c = 0; c < core; c++) {
        const Y = y0 * f + r, X = x0 * f + c;
        if (Y >= H * f || X >= W * f) continue;
        for (let k = 0; k < C; k++) out[(Y * W * f + X) * C + k] = p[((o + r) * P + o + c) * C + k]!;
      }
  });
  return out;
}

interface Loaded {
  data: SpinFrames;
  image?: { H: number; W: number; img: Float32Array; patch: number; overlap: number; origins: [number, number][] };
}

function loadInput(o: ReconstructOptions): Loaded {
  if ((o.input === undefined) === (o.image === undefined)) usage('give exactly one of --input DIR or --image FILE.npy');
  if (o.input !== undefined) return { data: readSpinFrames(o.input) };
  const file = o.image!;
  const where = dirname(file);
  if (!existsSync(file)) throw new SpinDatasetError(`${file}: missing`);
  let arr;
  try {
    arr = readNpy(file);
  } catch (err) {
    throw new SpinDatasetError(`${file}: ${(err as Error).message}`);
  }
  const shape = arr.shape.length === 2 ? [...arr.shape, 1] : arr.shape;
  if (shape.length !== 3 || (shape[2] !== 1 && shape[2] !== 3)) throw new SpinDatasetError(`${file}: shape [${arr.shape}] must be [H, W] or [H, W, C] with C = 1 or 3`);
  const [H, W, C] = shape as [number, number, number];
  const img = Float32Array.from(arr.data as ArrayLike<number>);
  const bad = img.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new SpinDatasetError(`${file}: non-finite value (${img[bad]}) at index ${bad}`);
  const f = checkFactor(where, o.factor ?? 8);
  const patch = o.patch ?? 16, overlap = o.overlap ?? 4;
  if (!Number.isInteger(patch) || patch < 4 || !Number.isInteger(overlap) || overlap < 0 || patch - 2 * overlap < 1) usage(`--patch ${patch} / --overlap ${overlap}: need integers with patch ≥ 4 and patch − 2·overlap ≥ 1`);
  if (H < 2 || W < 2) throw new SpinDatasetError(`${file}: image ${H}×${W} is too small`);
  const { patches, origins } = cutPatches(img, H, W, C, patch, overlap);
  return { data: { factor: f, a: patch, components: C as 1 | 3, frames: patches }, image: { H, W, img, patch, overlap, origins } };
}

export async function reconstructDomains(o: ReconstructOptions): Promise<{ metrics: ReconstructMetrics; files: string[] }> {
  const { data, image } = loadInput(o);
  if (existsSync(o.out) && readdirSync(o.out).length > 0) usage(`--out ${o.out}: directory is not empty`);
  const steps = o.finetuneSteps ?? 50;
  if (!Number.isInteger(steps) || steps < 0) usage(`--finetune-steps: must be an integer ≥ 0, got ${steps}`);
  const { factor: f, a, components: C, frames } = data;
  const model = resolveModel(o.model ?? 'auto', f, C, o.type);
  const runner = o.runner ?? (await InProcessSr.create());
  const seed = o.seed ?? 1;
  const loaded = await runner.load({ ...(model.dir ? { modelDir: model.dir } : {}), config: defaultSrConfig(f as SrFactor, C), seed, lr: o.lr ?? 0.001 });
  if (loaded.config.factor !== f || loaded.config.components !== C) usage(`model ${model.name}: ×${loaded.config.factor}, ${loaded.config.components} components; the data is ×${f} with ${C}`);
  const t0 = performance.now();
  const losses = await runner.finetune(frames, a, steps, Math.min(o.finetuneBatch ?? 8, frames.length), seed);
  const seconds = (performance.now() - t0) / 1000;
  const { sr } = await runner.predict(frames, a);
  if (!o.runner) await runner.close();
  // The texture's period: from the model's training data, else the physics of the given type (Type I:
  // the cycloid period), else the LR spectrum (which aliases a sub-Nyquist period: only a lower bound).
  const knownPeriod = loaded.trainedOn?.periodHr ?? (o.type === 1 ? TYPE1_PERIOD_HR : undefined);
  const nyquist = nyquistCheck(frames, a, C, f, knownPeriod);

  const outputs: Record<'sr' | BaselineMethod, Float32Array[]> = { sr, bilinear: [], bicubic: [], gaussian: [] };
  for (const m of BASELINES) outputs[m] = frames.map((lr) => upsample(m, lr, a, f, C));
  const methods = {} as ReconstructMetrics['methods'];
  for (const [name, out] of Object.entries(outputs) as ['sr' | BaselineMethod, Float32Array[]][]) {
    const mm: MethodMetrics = { lrConsistency: out.reduce((s, x, i) => s + mse(forward(x, a, f, C), frames[i]!), 0) / out.length };
    if (data.truth) {
      mm.mse = out.reduce((s, x, i) => s + mse(x, data.truth![i]!), 0) / out.length;
      mm.psnr = out.reduce((s, x, i) => s + psnr(x, data.truth![i]!, 2), 0) / out.length;
      mm.corr = out.reduce((s, x, i) => s + spinCorrelation(x, data.truth![i]!, C), 0) / out.length;
    }
    methods[name] = mm;
  }

  // Write into a temporary sibling, then rename: an interrupted run leaves no half-written folder.
  const tmp = `${o.out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const files: string[] = [];
  const N = a * f;
  const write = (name: string, bytes: Buffer) => (writeFileSync(join(tmp, name), bytes), files.push(name));
  let shape: number[];
  if (image) {
    const { H, W, patch, overlap, origins } = image;
    for (const [name, out] of Object.entries(outputs)) write(`${name}.npy`, encodeNpy(stitchPatches(out, origins, H, W, C, patch, overlap, f), [H * f, W * f, C]));
    const stitched = stitchPatches(sr, origins, H, W, C, patch, overlap, f);
    write('sr.png', renderSpinPng(stitched, H * f, W * f, C, 1));
    write('lr.png', renderSpinPng(image.img, H, W, C, f));
    write('bicubic.png', renderSpinPng(stitchPatches(outputs.bicubic, origins, H, W, C, patch, overlap, f), H * f, W * f, C, 1));
    shape = [H * f, W * f, C];
  } else {
    const stack = (xs: Float32Array[]) => {
      const s = new Float32Array(xs.length * N * N * C);
      xs.forEach((x, i) => s.set(x, i * N * N * C));
      return s;
    };
    for (const [name, out] of Object.entries(outputs)) write(`${name}.npy`, encodeNpy(stack(out), [frames.length, N, N, C]));
    for (let i = 0; i < Math.min(frames.length, 8); i++) {
      write(`lr_${i}.png`, renderSpinPng(frames[i]!, a, a, C, f));
      write(`sr_${i}.png`, renderSpinPng(sr[i]!, N, N, C, 1));
      write(`bicubic_${i}.png`, renderSpinPng(outputs.bicubic[i]!, N, N, C, 1));
    }
    shape = [frames.length, N, N, C];
  }
  const metrics: ReconstructMetrics = {
    frames: frames.length,
    factor: f,
    components: C,
    model: model.name,
    finetune: { steps: losses.length, seconds, firstLoss: losses[0] ?? null, lastLoss: losses.at(-1) ?? null },
    methods,
    nyquist,
    ...(image ? { image: { shape, patch: image.patch, overlap: image.overlap, patches: frames.length } } : {}),
  };
  write('metrics.json', Buffer.from(JSON.stringify(metrics, null, 1)));
  if (existsSync(o.out)) rmSync(o.out, { recursive: true });
  mkdirSync(dirname(o.out), { recursive: true });
  renameSync(tmp, o.out);
  return { metrics, files };
}

