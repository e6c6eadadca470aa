/** Offline commands of the mrfm-multislice pipeline: `qscope reconstruct mrfm`. Option table only; the kernels load inside `run`. */
import type { PipelineCommands } from '../commands.js';

export const mrfmCommands: PipelineCommands = {
  reconstruct: {
    description: 'reconstruct an mrfm-multislice dataset folder (manifest.json, psf.npy, measurement.npy with NaN where not sampled)',
    options: [
      { flags: '--input <dir>', description: 'dataset folder' },
      { flags: '--out <dir>', description: 'output folder (created; must be empty)' },
      { flags: '--method <name>', description: 'admm | landweber', default: 'admm' },
      { flags: '--cs <transform>', description: 'compressed sensing of unsampled points: dft3 | dct (along the pulses) | none', default: 'dft3' },
      { flags: '--cs-mode <mode>', description: 'use the BPDN estimate to fill unsampled points only, or everywhere', default: 'fill' },
      { flags: '--max-iter <n>', description: 'iteration cap (default 200 for admm, 1000 for landweber)' },
    ],
    async run(opts) {
      const { reconstructMrfmFolder } = await import('./offline.js');
      const { MrfmInputError } = await import('./reconstruct.js');
      if (typeof opts.input !== 'string') throw new MrfmInputError('--input: required');
      if (typeof opts.out !== 'string') throw new MrfmInputError('--out: required');
      const maxIter = opts['maxIter'] === undefined ? undefined : Number(opts['maxIter']);
      const r = await reconstructMrfmFolder({ input: opts.input, out: opts.out, method: String(opts.method), cs: String(opts.cs), csMode: String(opts['csMode']), ...(maxIter !== undefined ? { maxIter } : {}) });
      process.stdout.write(`${opts.out}: ${r.files.join(', ')}\n${JSON.stringify({ method: r.metrics.method, iterations: r.metrics.iterations, stoppingReason: r.metrics.stoppingReason, ...(r.metrics.rmse !== undefined ? { rmse: r.metrics.rmse } : {}) })}\n`);
    },
  },
};
