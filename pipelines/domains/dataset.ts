/**
 * Dataset kind `spin-frames` (decision 1501): a folder with
 *   manifest.json {"kind":"spin-frames","factor":f,"gaussianSigma":1,"kernel":23,
 *                  "shape":[N,a,a,C],"hrShape":[a·f,a·f,C]}
 *   frames.npy    float32 (N, a, a, C), C = 3 (SPLEEM: Sx, Sy, Sz) or 1 (Kerr: Sz), spin units
 *   truth.npy     optional float32 (N, a·f, a·f, C): the HR truth, for metrics only (simulated data)
 * `readSpinFrames` checks everything before anything is used and throws a
 * SpinDatasetError (code BAD_DATASET → CLI exit 2) naming the problem.
 * The exporter of `domain-imaging` sessions writes this kind.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy, readNpy, type NpyArray } from '../../drivers/core/npy.js';
import type { SessionExporter } from '../core/exporter.js';
import { BLUR_KERNEL, BLUR_SIGMA } from '../../drivers/camera/imaging.js';
import { SR_FACTORS, type SrFactor } from './srnet.js';

export const SPIN_FRAMES_KIND = 'spin-frames';

export class SpinDatasetError extends Error {
  override readonly name = 'SpinDatasetError';
  readonly code = 'BAD_DATASET';
}

export interface SpinFrames {
  factor: SrFactor;
  a: number;
  components: 1 | 3;
  frames: Float32Array[];
  truth?: Float32Array[];
}

function bad(dir: string, msg: string): never {
  throw new SpinDatasetError(`${dir}: ${msg}`);
}

function readArray(dir: string, file: string): NpyArray {
  const path = join(dir, file);
  if (!existsSync(path)) bad(dir, `${file} missing`);
  try {
    return readNpy(path);
  } catch (err) {
    bad(dir, `${file}: ${(err as Error).message}`);
  }
}

/** Splits a (k, …) array into k float32 frames, checking every value is finite. */
function splitFinite(dir: string, file: string, arr: NpyArray, count: number, size: number): Float32Array[] {
  const data = arr.data instanceof Float32Array ? arr.data : Float32Array.from(arr.data as ArrayLike<number>);
  const out: Float32Array[] = [];
  for (let i = 0; i < count; i++) {
    const f = data.slice(i * size, (i + 1) * size);
    const j = f.findIndex((v) => !Number.isFinite(v));
    if (j >= 0) bad(dir, `${file}: frame ${i} holds a non-finite value (${f[j]}) at index ${j}`);
    out.push(f);
  }
  return out;
}

export function checkFactor(dir: string, f: unknown): SrFactor {
  if (typeof f !== 'number' || !Number.isInteger(f) || f < 2 || (f & (f - 1)) !== 0) bad(dir, `manifest.factor must be a power of two ≥ 2, got ${JSON.stringify(f)}`);
  if (!SR_FACTORS.includes(f as SrFactor)) bad(dir, `manifest.factor ${f}: no SR network for it (4, 8 or 16)`);
  return f as SrFactor;
}

export function readSpinFrames(dir: string): SpinFrames {
  if (!existsSync(dir)) bad(dir, 'folder missing');
  const mpath = join(dir, 'manifest.json');
  if (!existsSync(mpath)) bad(dir, 'manifest.json missing');
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(readFileSync(mpath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    bad(dir, `manifest.json is not JSON (${(err as Error).message})`);
  }
  if (m.kind !== SPIN_FRAMES_KIND) bad(dir, `manifest.kind must be '${SPIN_FRAMES_KIND}', got ${JSON.stringify(m.kind)}`);
  // `qscope export` puts the kind's fields under `parameters`; a hand-made folder has them at the top.
  const params = (m.parameters ?? {}) as Record<string, unknown>;
  for (const k of ['factor', 'gaussianSigma', 'kernel', 'hrShape']) if (m[k] === undefined && params[k] !== undefined) m[k] = params[k];
  const f = checkFactor(dir, m.factor);
  if (m.gaussianSigma !== BLUR_SIGMA) bad(dir, `manifest.gaussianSigma must be ${BLUR_SIGMA} (the network's fixed down-sampling), got ${JSON.stringify(m.gaussianSigma)}`);
  if (m.kernel !== BLUR_KERNEL) bad(dir, `manifest.kernel must be ${BLUR_KERNEL}, got ${JSON.stringify(m.kernel)}`);
  const shape = m.shape as number[];
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((v) => Number.isInteger(v) && v > 0)) bad(dir, `manifest.shape must be [N, a, a, C] of positive integers, got ${JSON.stringify(m.shape)}`);
  const [N, a, a2, C] = shape as [number, number, number, number];
  if (a !== a2) bad(dir, `manifest.shape [${shape}]: frames must be square (a × a)`);
  if (C !== 1 && C !== 3) bad(dir, `manifest.shape [${shape}]: C must be 1 (Kerr) or 3 (SPLEEM)`);
  if (a < 2 || a > 512) bad(dir, `manifest.shape [${shape}]: a must be in [2, 512]`);
  const hr = m.hrShape as number[];
  if (!Array.isArray(hr) || hr.join(',') !== [a * f, a * f, C].join(',')) bad(dir, `manifest.hrShape must be [${a * f}, ${a * f}, ${C}] (a·f, a·f, C), got ${JSON.stringify(m.hrShape)}`);
  const frames = readArray(dir, 'frames.npy');
  if (frames.shape.join(',') !== shape.join(',')) bad(dir, `frames.npy has shape [${frames.shape}], the manifest says [${shape}]`);
  if (frames.dtype !== 'f32' && frames.dtype !== 'f64') bad(dir, `frames.npy must be float32, got ${frames.dtype}`);
  const out: SpinFrames = { factor: f, a, components: C as 1 | 3, frames: splitFinite(dir, 'frames.npy', frames, N, a * a * C) };
  if (existsSync(join(dir, 'truth.npy'))) {
    const t = readArray(dir, 'truth.npy');
    if (t.shape.join(',') !== [N, a * f, a * f, C].join(',')) bad(dir, `truth.npy has shape [${t.shape}], expected [${N}, ${a * f}, ${a * f}, ${C}]`);
    out.truth = splitFinite(dir, 'truth.npy', t, N, a * f * a * f * C);
  }
  return out;
}

/** Writes a spin-frames folder (dir must exist). */
export function writeSpinFrames(dir: string, d: SpinFrames): string[] {
  const { a, factor: f, components: C } = d;
  const N = d.frames.length;
  const stack = (xs: Float32Array[], size: number) => {
    const out = new Float32Array(xs.length * size);
    xs.forEach((x, i) => out.set(x, i * size));
    return out;
  };
  writeFileSync(join(dir, 'frames.npy'), encodeNpy(stack(d.frames, a * a * C), [N, a, a, C]));
  const files = ['manifest.json', 'frames.npy'];
  if (d.truth) {
    writeFileSync(join(dir, 'truth.npy'), encodeNpy(stack(d.truth, a * f * a * f * C), [N, a * f, a * f, C]));
    files.push('truth.npy');
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(spinFramesManifest(N, a, f, C), null, 1));
  return files;
}

export function spinFramesManifest(N: number, a: number, f: number, C: number): Record<string, unknown> {
  return { kind: SPIN_FRAMES_KIND, factor: f, gaussianSigma: BLUR_SIGMA, kernel: BLUR_KERNEL, shape: [N, a, a, C], hrShape: [a * f, a * f, C] };
}

/**
 * Exporter of `domain-imaging` sessions (`qscope export`): the calibrated LR
 * frames the pipeline saw as `frames.npy` (kind spin-frames, readable by
 * `qscope reconstruct domains`), the live SR frames as `sr.npy`, the mosaics
 * as PNGs.
 */
export const exportDomains: SessionExporter = (reader, dir) => {
  const session = reader.session();
  const factor = Number((session.params as { factor?: number }).factor);
  const lr = [...reader.frames('results', 'domains.lr')];
  if (lr.length === 0) throw new Error(`session ${session.id}: no domains.lr results (not a domain-imaging session, or no frame processed)`);
  const [a, , C] = lr[0]!.header.shape as [number, number, number];
  const frames = lr.map((f) => Float32Array.from(f.payload as Float32Array));
  writeFileSync(join(dir, 'frames.npy'), encodeNpy(stack(frames), [frames.length, a, a, C]));
  const files = ['frames.npy'];
  const sr = [...reader.frames('results', 'domains.sr')].map((f) => Float32Array.from(f.payload as Float32Array));
  if (sr.length === frames.length) {
    writeFileSync(join(dir, 'sr.npy'), encodeNpy(stack(sr), [sr.length, a * factor, a * factor, C]));
    files.push('sr.npy');
  }
  for (const name of ['lr', 'sr']) {
    const png = [...reader.frames('results', `domains.png_mosaic_${name}`)].at(-1);
    if (!png) continue;
    writeFileSync(join(dir, `mosaic_${name}.png`), png.payload as Uint8Array);
    files.push(`mosaic_${name}.png`);
  }
  const m = spinFramesManifest(frames.length, a, factor, C);
  return { kind: SPIN_FRAMES_KIND, shape: m.shape as number[], parameters: { factor, gaussianSigma: BLUR_SIGMA, kernel: BLUR_KERNEL, hrShape: m.hrShape }, files };
};

function stack(xs: Float32Array[]): Float32Array {
  const out = new Float32Array(xs.reduce((s, x) => s + x.length, 0));
  let o = 0;
  for (const x of xs) out.set(x, o), (o += x.length);
  return out;
}
