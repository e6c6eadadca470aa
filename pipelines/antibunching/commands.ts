/**
 * Offline commands of the g2 pipeline: `qscope train g2` and
 * `qscope reconstruct g2`. Heavy modules load inside `run`.
 */
import type { PipelineCommands } from '../commands.js';
import { G2_METHODS, G2_METHOD_HELP } from './estimate.js';

export const g2Commands: PipelineCommands = {
  train: {
    description: 'train the g2(0) CNN from the HBT simulator (wasm backend, checkpointed each epoch, resumable)',
    options: [
      { flags: '--checkpoint <dir>', description: 'checkpoint directory (rerun to resume)', default: 'train-runs/g2' },
      { flags: '--out <dir>', description: 'where the finished model is written (default: a new folder models/g2-<time>; the committed pipelines/antibunching/model only when named, with --force)' },
      { flags: '--force', description: 'write into a non-empty --out (e.g. replace the committed model)' },
      { flags: '--seed <n>', description: 'seed of data, initialisation and shuffling', default: '7' },
      { flags: '--epochs <n>', description: 'epochs', default: '14' },
      { flags: '--samples-per-epoch <n>', description: 'augmented samples per epoch', default: '10000' },
    ],
    async run(opts) {
      const { useTrainingBackend } = await import('./tf-backend.js');
      const { trainG2, publishModel, DEFAULT_TRAIN } = await import('./train.js');
      const { writeFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      const { checkOutDir, newModelDir } = await import('../core/out-dir.js');
      const modelDir = typeof opts.out === 'string' ? opts.out : newModelDir('g2');
      checkOutDir(modelDir, opts.force === true);
      const backend = await useTrainingBackend();
      const int = (name: string, v: unknown) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0) throw new RangeError(`--${name}: must be a positive integer, got '${String(v)}'`);
        return n;
      };
      const options = {
        ...DEFAULT_TRAIN,
        checkpointDir: String(opts.checkpoint),
        seed: int('seed', opts.seed),
        epochs: int('epochs', opts.epochs),
        samplesPerEpoch: int('samples-per-epoch', opts.samplesPerEpoch),
      };
      console.log(`backend ${backend}; options ${JSON.stringify({ ...options, shape: undefined })}`);
      const state = await trainG2(options);
      publishModel(options.checkpointDir, modelDir);
      writeFileSync(join(modelDir, 'training.json'), JSON.stringify({ backend, options, state }, null, 1));
      console.log(`published ${modelDir} after ${state.epochsDone} epochs, ${state.wallS.toFixed(0)} s of training`);
    },
  },
  reconstruct: {
    description: 'g2(0), G2, PL and dwell maps of an hbt-scan dataset folder (qscope export of a session, or hand-made)',
    options: [
      { flags: '--input <dir>', description: 'dataset folder (manifest.json, histograms.npy, counts.npy[, dwell_s.npy])' },
      { flags: '--out <dir>', description: 'output folder (created; must be empty unless --force)' },
      { flags: '--force', description: 'write into a non-empty --out' },
      {
        flags: '--method <m>',
        description: `estimator: ${G2_METHODS.map((m) => `${m} (${G2_METHOD_HELP[m]})`).join('; ')}`,
        default: 'pooled',
      },
      { flags: '--no-early-stop', description: 'use every acquired histogram (default: replay the per-pixel stop rule)' },
      { flags: '--target <fraction>', description: 'early-stop target σ(G2) as a fraction of the peak G2', default: '0.05' },
    ],
    async run(opts) {
      if (!opts.input) throw new Error('--input: required');
      if (!opts.out) throw new Error('--out: required');
      (await import('../core/out-dir.js')).checkOutDir(String(opts.out), opts.force === true);
      const { reconstructG2, DEFAULT_RECONSTRUCT } = await import('./reconstruct.js');
      const target = Number(opts.target);
      if (!(target > 0)) throw new RangeError(`--target: must be > 0, got '${String(opts.target)}'`);
      const metrics = await reconstructG2(String(opts.input), String(opts.out), {
        ...DEFAULT_RECONSTRUCT,
        method: String(opts.method) as (typeof G2_METHODS)[number],
        earlyStop: opts.earlyStop !== false,
        targetFraction: target,
      });
      console.log(JSON.stringify(metrics));
    },
  },
};
