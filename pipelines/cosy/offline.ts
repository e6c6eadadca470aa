/**
 * `qscope reconstruct cosy --input DIR --out DIR [--method …]`: reconstructs
 * a cosy-2d dataset folder and writes `recon.npy` (time domain, the input's
 * scale), `spectrum.npy` (magnitude, zero frequency centred), `mask.npy`,
 * `metrics.json` and PNGs of all three.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '../../drivers/core/npy.js';
import { readCosyDataset, writeCosyPng } from './dataset.js';
import { COSY_METHODS, cosySpectrum, type CosyMethod, type DLNetRunner } from './methods.js';
import { reconstructValidated } from './validate.js';
import { cosySnrOfMap, scoreCosy } from './score.js';
import { PAPER_LINES_KHZ } from './snr.js';

export interface OfflineOptions {
  input: string;
  out: string;
  method: CosyMethod;
  /** DLNet for dl/dlmc (default: the committed model, loaded in-process). */
  dlnet?: DLNetRunner;
  modelDir?: string;
}

export interface OfflineResult {
  files: string[];
  metrics: Record<string, unknown>;
}

export async function reconstructCosyFolder(o: OfflineOptions): Promise<OfflineResult> {
  if (!COSY_METHODS.includes(o.method)) throw new RangeError(`--method: must be one of ${COSY_METHODS.join(', ')}, got '${o.method}'`);
  const ds = readCosyDataset(o.input);
  if (existsSync(o.out) && readdirSync(o.out).length > 0) throw new Error(`--out ${o.out}: directory is not empty`);
  const { n1, n2, t1StepUs, t2StepUs } = ds.grid;
  let dlnet = o.dlnet;
  let modelHash: string | undefined;
  if (!dlnet && (o.method === 'dl' || o.method === 'dlmc')) {
    const { InProcessDLNet, defaultModelDir } = await import('./dlnet-runner.js');
    const { modelHash: hashOf } = await import('./model-io.js');
    const dir = o.modelDir ?? defaultModelDir();
    dlnet = await InProcessDLNet.load(dir);
    modelHash = await hashOf(dir);
  }
  const started = performance.now();
  // dl/dlmc: checked on held-out samples against MC and soft-impute; the best is refitted on all samples.
  const r = await reconstructValidated(ds.map, ds.mask, n1, n2, { method: o.method, ...(dlnet ? { dlnet } : {}) });
  const seconds = (performance.now() - started) / 1000;
  const spectrum = await cosySpectrum(r.map, n1, n2);
  // The SNR is only meaningful at the sample's own lines: without peaksKHz in the dataset it is left out
  // (peaks located in the reconstruction itself would make the SNR flatter the method; decision 1801).
  const peaksKHz = ds.peaksKHz;
  const sampled = ds.mask.reduce((a, b) => a + b, 0);
  const metrics: Record<string, unknown> = {
    kind: 'cosy-2d',
    method: o.method,
    ...(r.validation ? { chosen: r.validation.chosen, validation: r.validation } : { chosen: o.method }),
    shape: [n1, n2],
    sampled,
    sampledFraction: sampled / (n1 * n2),
    peaksKHz: peaksKHz ?? null,
    snrDb: peaksKHz ? await cosySnrOfMap(r.map, n1, n2, { step1Us: t1StepUs, step2Us: t2StepUs, peaksKHz }) : null,
    ...(peaksKHz ? {} : { snrNote: 'no peaksKHz in the dataset: the SNR needs the sample\'s line frequencies, so it is left out' }),
    seconds,
    ...(r.svt ? { svt: r.svt } : {}),
    ...(modelHash ? { modelHash } : {}),
  };
  if (ds.reference) {
    const s = await scoreCosy(r.map, ds.reference, n1, n2, { step1Us: t1StepUs, step2Us: t2StepUs, peaksKHz: peaksKHz ?? PAPER_LINES_KHZ });
    metrics.reference = { rmseFreq: s.rmseFreq, ssim: s.ssim };
  }
  mkdirSync(o.out, { recursive: true });
  const files: string[] = [];
  const put = (name: string, data: Buffer | string) => {
    writeFileSync(join(o.out, name), data);
    files.push(name);
  };
  put('recon.npy', encodeNpy(r.map, [n1, n2]));
  put('spectrum.npy', encodeNpy(spectrum, [n1, n2]));
  put('mask.npy', encodeNpy(ds.mask, [n1, n2]));
  put('metrics.json', JSON.stringify(metrics, null, 2));
  const grid = ds.grid;
  for (const [name, data, title, isSpectrum] of [
    ['recon.png', r.map, 'reconstruction', false],
    ['spectrum.png', spectrum, 'spectrum (2D FFT)', true],
    ['mask.png', ds.mask, 'sampled points', false],
    ['input.png', ds.map, 'measured P(ms=0)', false],
  ] as const) {
    writeCosyPng(join(o.out, name), data, grid, { title, spectrum: isSpectrum });
    files.push(name);
  }
  return { files, metrics };
}
