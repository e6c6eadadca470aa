/**
 * Offline commands of the cosy-2d pipeline: `qscope train cosy` and
 * `qscope reconstruct cosy`. Option tables only; tfjs and the kernels load
 * inside `run`.
 */
import type { OfflineCommand, PipelineCommands } from '../commands.js';

function intOption(opts: Record<string, string | boolean | undefined>, name: string, min = 1): number {
  const raw = opts[name];
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new RangeError(`--${name}: must be an integer ≥ ${min}, got ${String(raw)}`);
  return v;
}

const train: OfflineCommand = {
  description: 'train DLNet (cosy-2d map completion) on simulated maps; checkpointed every epoch, resumable',
  options: [
    { flags: '--checkpoint <dir>', description: 'checkpoint folder (resumes from it when present)', default: 'train-runs/cosy' },
    { flags: '--out <dir>', description: 'where the finished model is written (default: a new folder models/cosy-<time>; the committed pipelines/cosy/model only when named, with --force)' },
    { flags: '--force', description: 'write into a non-empty --out (e.g. replace the committed model)' },
    { flags: '--seed <n>', description: 'seed of the simulated data and the initial weights', default: '8' },
    { flags: '--epochs <n>', description: 'epochs to reach (counting epochs already in the checkpoint)', default: '20' },
    { flags: '--maps <n>', description: 'distinct simulated training maps', default: '1536' },
    { flags: '--batch <n>', description: 'batch size', default: '16' },
    { flags: '--base <n>', description: 'kernels of the first DLNet group (paper: 32)', default: '8' },
    { flags: '--levels <n>', description: 'stride-2 poolings (paper: 4)', default: '4' },
  ],
  async run(opts) {
    const { checkOutDir, newModelDir } = await import('../core/out-dir.js');
    const out = typeof opts.out === 'string' ? opts.out : newModelDir('cosy');
    checkOutDir(out, opts.force === true);
    const { loadWasmTf } = await import('./wasm-grad.js');
    const { trainDLNet, DEFAULT_TRAIN } = await import('./train.js');
    const { saveModel, loadModel } = await import('./model-io.js');
    const { writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const tf = await loadWasmTf();
    const log = (m: string) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);
    log(`tfjs backend: ${tf.getBackend()}`);
    const checkpointDir = String(opts.checkpoint);
    const progress = await trainDLNet(tf, {
      ...DEFAULT_TRAIN,
      checkpointDir,
      seed: intOption(opts, 'seed', 0),
      epochs: intOption(opts, 'epochs'),
      trainMaps: intOption(opts, 'maps'),
      batchSize: intOption(opts, 'batch'),
      net: { base: intOption(opts, 'base'), levels: intOption(opts, 'levels') },
      log,
    });
    await saveModel(tf, await loadModel(tf, checkpointDir), out);
    await writeFile(join(out, 'training.json'), JSON.stringify(progress, null, 2));
    // The model card's held-out numbers, recomputed from the written model (the regression test checks them).
    const { evaluate, heldOutExamples } = await import('./train.js');
    const heldOut = { count: 16, fraction: 0.1, sigma: DEFAULT_TRAIN.noiseSigma };
    const ev = evaluate(tf, await loadModel(tf, out), heldOutExamples(progress.seed, heldOut.count, heldOut.fraction, heldOut.sigma));
    const card = { seed: progress.seed, net: progress.net, epochs: progress.epochsDone, trainingSeconds: Math.round(progress.wallSeconds), backend: tf.getBackend(), heldOut: { ...heldOut, l1: ev.l1, rmse: ev.rmse } };
    await writeFile(join(out, 'card.json'), JSON.stringify(card, null, 2));
    log(`held-out (${heldOut.count} maps, ${heldOut.fraction * 100} %): L1 ${ev.l1.toFixed(4)}, RMSE ${ev.rmse.toFixed(4)}`);
    log(`model written to ${out} after ${progress.epochsDone} epochs (${(progress.wallSeconds / 60).toFixed(1)} min of training)`);
  },
};

const reconstructCmd: OfflineCommand = {
  description: 'reconstruct a cosy-2d dataset folder (manifest.json + map.npy with NaN where not measured)',
  options: [
    { flags: '--input <dir>', description: 'dataset folder' },
    { flags: '--out <dir>', description: 'output folder (created; must be empty)' },
    { flags: '--method <name>', description: 'orig | mc | dl | dlmc | softimpute', default: 'dlmc' },
    { flags: '--model <dir>', description: 'DLNet model folder (default: the committed pipelines/cosy/model)' },
  ],
  async run(opts) {
    if (typeof opts.input !== 'string') throw new Error('--input: required');
    if (typeof opts.out !== 'string') throw new Error('--out: required');
    const { reconstructCosyFolder } = await import('./offline.js');
    const r = await reconstructCosyFolder({ input: opts.input, out: opts.out, method: String(opts.method) as never, ...(typeof opts.model === 'string' ? { modelDir: opts.model } : {}) });
    process.stdout.write(`${opts.out}: ${r.files.join(', ')}\n${JSON.stringify(r.metrics)}\n`);
  },
};

export const cosyCommands: PipelineCommands = { train, reconstruct: reconstructCmd };
