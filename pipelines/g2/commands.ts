/**
 * Offline commands of the g2 pipeline: `qscope train g2` and
 * `qscope reconstruct g2`. Heavy modules load inside `run`.
 */
import type { PipelineCommands } from '../commands.js';

export const g2Commands: PipelineCommands = {
  train: {
    description: 'train the g2(0) CNN from the HBT simulator (wasm backend, checkpointed each epoch, resumable)',
    options: [
      { flags: '--checkpoint <dir>', description: 'checkpoint directory (rerun to resume)', default: 'train-runs/g2' },
      { flags: '--model-dir <dir>', description: 'where the finished weights are published', default: 'pipelines/g2/model' },
      { flags: '--seed <n>', description: 'seed of data, initialisation and shuffling', default: '7' },
      { flags: '--epochs <n>', description: 'epochs', default: '14' },
      { flags: '--samples-per-epoch <n>', description: 'augmented samples per epoch', default: '10000' },
    ],
    async run(opts) {
      const { useTrainingBackend } = await import('./tf-backend.js');
      const { trainG2, publishModel, DEFAULT_TRAIN } = await import('./train.js');
      const { writeFileSync } = await import('node:fs');
      const { join } = await import('node:path');
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
      publishModel(options.checkpointDir, String(opts.modelDir));
      writeFileSync(join(String(opts.modelDir), 'training.json'), JSON.stringify({ backend, options, state }, null, 1));
      console.log(`published ${opts.modelDir} after ${state.epochsDone} epochs, ${state.wallS.toFixed(0)} s of training`);
    },
  },
};
