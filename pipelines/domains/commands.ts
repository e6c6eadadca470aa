/**
 * Offline commands of the domain-imaging pipeline: `qscope train domains`
 * and `qscope reconstruct domains`. Option tables only; tfjs and the kernels
 * load inside `run`.
 */
import type { OfflineCommand, PipelineCommands } from '../commands.js';

type Opts = Record<string, string | boolean | undefined>;

function intOption(opts: Opts, name: string, min: number, allowed?: readonly number[]): number {
  const raw = opts[name];
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || (allowed && !allowed.includes(v))) {
    throw new UsageError(`--${name}: must be ${allowed ? `one of ${allowed.join(', ')}` : `an integer ≥ ${min}`}, got ${String(raw)}`);
  }
  return v;
}

function numberOption(opts: Opts, name: string, min: number): number {
  const v = Number(opts[name]);
  if (!Number.isFinite(v) || v < min) throw new UsageError(`--${name}: must be a number ≥ ${min}, got ${String(opts[name])}`);
  return v;
}

/** A usage error (exit code 2, like a bad dataset). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'BAD_USAGE';
}

function utcStamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
}

const train: OfflineCommand = {
  description: 'pre-train the SR network (unsupervised, LR frames only) on annealed textures; checkpointed, resumable',
  options: [
    { flags: '--type <n>', description: 'texture type: 1 (exchange + DMI labyrinths) or 2 (dipolar domains)', default: '2' },
    { flags: '--factor <n>', description: 'up-sampling factor 4, 8 or 16', default: '8' },
    { flags: '--components <n>', description: '1 (Kerr: S_z) or 3 (SPLEEM: S_x, S_y, S_z)', default: '3' },
    { flags: '--out <dir>', description: 'run folder (resumes from its checkpoint when present); default a new train-runs/domains/<model>-<UTC time>' },
    { flags: '--steps <n>', description: 'optimiser steps to reach (counting those in the checkpoint)', default: '300' },
    { flags: '--batch <n>', description: 'LR frames per step', default: '8' },
    { flags: '--lr <x>', description: 'Adam learning rate (the paper: 0.01)', default: '0.005' },
    { flags: '--seed <n>', description: 'seed of the initial weights and the batches', default: '1' },
    { flags: '--textures <n>', description: 'training textures (annealed from training seeds)', default: '16' },
    { flags: '--validation <n>', description: 'held-out textures for the validation metric', default: '4' },
    { flags: '--noise <x>', description: 'LR noise σ per frame drawn in [0, x]', default: '0.05' },
    { flags: '--width <n>', description: 'filters of the expanding part (the paper: 64)', default: '16' },
    { flags: '--size <n>', description: 'texture side, HR sites (the paper: 128)', default: '128' },
    { flags: '--crop <n>', description: 'HR window per training frame (≤ size; smaller is cheaper)', default: '64' },
    { flags: '--checkpoint-every <n>', description: 'steps between checkpoints (and validation)', default: '25' },
    { flags: '--texture-cache <dir>', description: 'folder caching annealed textures (default <out>/textures)' },
  ],
  async run(opts) {
    const type = intOption(opts, 'type', 1, [1, 2]) as 1 | 2;
    const factor = intOption(opts, 'factor', 4, [4, 8, 16]) as 4 | 8 | 16;
    const components = intOption(opts, 'components', 1, [1, 3]) as 1 | 3;
    const { modelName } = await import('./model-io.js');
    const out = typeof opts.out === 'string' ? opts.out : `train-runs/domains/${modelName(type, factor, components)}-${utcStamp()}`;
    const { loadTf } = await import('../core/tf.js');
    const { trainDomains } = await import('./train.js');
    const { tf, backend } = await loadTf({ prefer: 'wasm' });
    const log = (m: string) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);
    log(`tfjs backend: ${backend}; run folder ${out}`);
    const r = await trainDomains(tf, {
      type,
      factor,
      components,
      out,
      steps: intOption(opts, 'steps', 1),
      batch: intOption(opts, 'batch', 1),
      lr: numberOption(opts, 'lr', 0),
      seed: intOption(opts, 'seed', 0),
      textures: intOption(opts, 'textures', 1),
      validation: intOption(opts, 'validation', 1),
      noise: numberOption(opts, 'noise', 0),
      width: intOption(opts, 'width', 1),
      size: intOption(opts, 'size', 16),
      crop: intOption(opts, 'crop', 16),
      checkpointEvery: intOption(opts, 'checkpointEvery', 1),
      ...(typeof opts.textureCache === 'string' ? { textureCache: opts.textureCache } : {}),
      log,
    });
    const last = r.validation.at(-1)?.metrics;
    log(`model written to ${out} after ${r.step} steps (${(r.trainSeconds / 60).toFixed(1)} min of training)${last ? `; validation PSNR ${last.psnr.toFixed(2)} dB, Corr ${last.corr.toFixed(4)}` : ''}`);
  },
};

const reconstruct: OfflineCommand = {
  description: 'SR of a spin-frames dataset (or one large LR image in patches): fine-tunes the best matching model on it, writes sr.npy, baselines, PNGs, metrics.json',
  options: [
    { flags: '--input <dir>', description: 'dataset folder (kind spin-frames)' },
    { flags: '--image <file>', description: 'one large LR image .npy [H, W] or [H, W, C], cut into periodic-padded patches and stitched back' },
    { flags: '--factor <n>', description: 'up-sampling factor for --image (4, 8, 16)', default: '8' },
    { flags: '--patch <n>', description: 'patch side for --image, LR pixels', default: '16' },
    { flags: '--overlap <n>', description: 'overlap trimmed on each side of a patch, LR pixels', default: '4' },
    { flags: '--out <dir>', description: 'output folder (created; must be empty or absent)' },
    { flags: '--model <name>', description: "'auto' (committed model for factor and components), 'none' (fresh network), a committed name or a folder", default: 'auto' },
    { flags: '--type <n>', description: 'texture type hint for auto: 1 (labyrinths) or 2 (domains)' },
    { flags: '--finetune-steps <n>', description: 'unsupervised fine-tuning steps on the given frames', default: '50' },
    { flags: '--seed <n>', description: 'seed of the fine-tuning batches (and of a fresh network)', default: '1' },
  ],
  async run(opts) {
    if (typeof opts.out !== 'string') throw new UsageError('--out: required');
    const { reconstructDomains } = await import('./reconstruct.js');
    const r = await reconstructDomains({
      ...(typeof opts.input === 'string' ? { input: opts.input } : {}),
      ...(typeof opts.image === 'string' ? { image: opts.image, factor: intOption(opts, 'factor', 2), patch: intOption(opts, 'patch', 4), overlap: intOption(opts, 'overlap', 0) } : {}),
      out: opts.out,
      model: String(opts.model ?? 'auto'),
      ...(opts.type !== undefined ? { type: intOption(opts, 'type', 1, [1, 2]) as 1 | 2 } : {}),
      finetuneSteps: intOption(opts, 'finetuneSteps', 0),
      seed: intOption(opts, 'seed', 0),
    });
    const m = r.metrics;
    const line = (k: string) => `${k} LR-MSE ${m.methods[k as 'sr'].lrConsistency.toExponential(2)}${m.methods[k as 'sr'].psnr !== undefined ? ` PSNR ${m.methods[k as 'sr'].psnr!.toFixed(2)} dB` : ''}`;
    process.stdout.write(`${opts.out}: ${r.files.length} files (model ${m.model}, ${m.finetune.steps} fine-tuning steps)${m.nyquist.unresolved ? ' — UNRESOLVED: texture period below the LR Nyquist limit' : ''}\n${['sr', 'bicubic', 'bilinear', 'gaussian'].map(line).join('\n')}\n`);
  },
};

export const domainsCommands: PipelineCommands = { train, reconstruct };
