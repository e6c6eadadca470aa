/**
 * `qscope reconstruct g2 --input DIR --out DIR [--method M] [--no-early-stop]`:
 * the maps of an `hbt-scan` dataset folder, offline, with the same code as
 * the online pipeline. With early stopping (default) each pixel's histograms
 * are taken one by one until the plan's stop rule would have stopped; without
 * it every acquired histogram is used.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NpyArray } from '../../drivers/core/npy.js';
import { datasetHas, readDatasetJson, readDatasetNpy } from '../../drivers/core/dataset-files.js';
import type { HbtGeometry } from '../../drivers/hbt/model.js';
import { calibrate } from './calibration.js';
import { G2_METHODS, type G2Method } from './estimate.js';
import { mapArrays, mapPngs, scanMetrics } from './pipeline.js';
import { HbtScanData, estimateMaps, imageFwhm, plPsfFwhmNm, pixelStopDecision, poolKernel, poolKernelSigmaPx, type ScanCalibration } from './scan.js';
import { shapeFixedFitter } from './shape-fixed-ml.js';

export interface HbtScanDataset {
  ny: number;
  nx: number;
  k: number;
  geometry: HbtGeometry;
  integrationS: number;
  pixelSizeNm: number;
  /** (ny, nx, k, bins) */
  histograms: ArrayLike<number>;
  /** (ny, nx, k) photons per window */
  counts: ArrayLike<number>;
  /** Histograms really acquired per pixel. */
  acquired: Int32Array;
  calibration?: { histogram: ArrayLike<number>; counts: number; integrationS: number };
}

function fail(path: string, msg: string): never {
  throw Object.assign(new Error(`${path}: ${msg}`), { code: 'BAD_DATASET' });
}

/** Largest scan a dataset may describe (pixels per axis) and largest histogram (bins): stated bounds, checked before allocating. */
export const MAX_SCAN_SIDE = 4096;
export const MAX_SCAN_PIXELS = 1 << 20;
export const MAX_HBT_BINS = 65_536;

/** Reads and checks a dataset folder (manifest fields at the top level or under `parameters`). */
export function readHbtScan(dir: string): HbtScanDataset {
  const mpath = join(dir, 'manifest.json');
  if (!datasetHas(dir, 'manifest.json')) fail(mpath, 'missing');
  const m = readDatasetJson(dir, 'manifest.json', 'manifest') as Record<string, unknown>;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) fail(mpath, 'must be a JSON object');
  if (m.kind !== 'hbt-scan') fail(mpath, `kind must be "hbt-scan", got ${JSON.stringify(m.kind)?.slice(0, 40)}`);
  const par = { ...((m.parameters as Record<string, unknown>) ?? {}), ...m };
  const num = (key: string, integer = false, max = Infinity): number => {
    const v = Number(par[key]);
    if (!(Number.isFinite(v) && v > 0 && v <= max) || (integer && !Number.isInteger(v))) fail(mpath, `${key} must be a positive ${integer ? 'integer' : 'number'}${Number.isFinite(max) ? ` ≤ ${max}` : ''}, got ${JSON.stringify(par[key])?.slice(0, 40)}`);
    return v;
  };
  const bins = num('bins', true, MAX_HBT_BINS);
  const binWidthNs = num('binWidthNs');
  const zeroBin = Number(par.zeroBin);
  if (!Number.isInteger(zeroBin) || zeroBin < 0 || zeroBin >= bins) fail(mpath, `zeroBin must be an integer in [0, ${bins - 1}], got ${JSON.stringify(par.zeroBin)?.slice(0, 40)}`);
  const integrationS = num('integrationS');
  const pixelSizeNm = num('pixelSizeNm');
  const shape = par.shape as number[];
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((x) => Number.isInteger(x) && x > 0 && x <= MAX_SCAN_SIDE) || shape[0]! * shape[1]! > MAX_SCAN_PIXELS) {
    fail(mpath, `shape must be [ny, nx] with 1…${MAX_SCAN_SIDE} pixels per axis and at most ${MAX_SCAN_PIXELS} pixels, got ${JSON.stringify(par.shape)?.slice(0, 60)}`);
  }
  const [ny, nx] = shape as [number, number];
  const h = readDatasetNpy(dir, 'histograms.npy', 'histograms');
  if (h.shape.length !== 4 || h.shape[0] !== ny || h.shape[1] !== nx || h.shape[3] !== bins) fail(join(dir, 'histograms.npy'), `shape (${h.shape.join(', ')}) must be (${ny}, ${nx}, k, ${bins})`);
  const k = h.shape[2]!;
  // k ≥ 1: every allocation below (ny·nx·bins) is then backed by at least as many values actually in the file.
  if (k < 1) fail(join(dir, 'histograms.npy'), `shape (${h.shape.join(', ')}): k must be at least 1 (no histograms)`);
  const c = readDatasetNpy(dir, 'counts.npy', 'counts');
  if (c.shape.length !== 3 || c.shape[0] !== ny || c.shape[1] !== nx || c.shape[2] !== k) fail(join(dir, 'counts.npy'), `shape (${c.shape.join(', ')}) must be (${ny}, ${nx}, ${k})`);
  checkCounts(c.data as ArrayLike<number>, join(dir, 'counts.npy'), 'photon counts');
  const acquired = new Int32Array(ny * nx).fill(k);
  const dpath = join(dir, 'dwell_s.npy');
  if (datasetHas(dir, 'dwell_s.npy')) {
    const d = readDatasetNpy(dir, 'dwell_s.npy', 'dwell');
    if (d.shape.length !== 2 || d.shape[0] !== ny || d.shape[1] !== nx) fail(dpath, `shape (${d.shape.join(', ')}) must be (${ny}, ${nx})`);
    for (let p = 0; p < ny * nx; p++) {
      const n = Math.round(Number(d.data[p]) / integrationS);
      if (!(n >= 0 && n <= k)) fail(dpath, `pixel ${p}: ${Number(d.data[p])} s is not 0…${k} windows of ${integrationS} s`);
      acquired[p] = n;
    }
  }
  checkCounts(h.data as ArrayLike<number>, join(dir, 'histograms.npy'), 'histogram counts');
  const geometry: HbtGeometry = { bins, binWidthNs, zeroBin, jitterNs: Number(par.jitterNs ?? 0) || 0 };
  const out: HbtScanDataset = { ny, nx, k, geometry, integrationS, pixelSizeNm, histograms: h.data as ArrayLike<number>, counts: c.data as ArrayLike<number>, acquired };
  const cal = par.calibration as { file?: unknown; counts?: number; integrationS?: number } | undefined;
  if (cal?.file !== undefined) {
    const a: NpyArray = readDatasetNpy(dir, cal.file, 'calibration.file');
    const cpath = join(dir, String(cal.file));
    if (a.data.length !== bins) fail(cpath, `must hold ${bins} bins`);
    checkCounts(a.data as ArrayLike<number>, cpath, 'calibration counts');
    const counts = Number(cal.counts);
    const seconds = Number(cal.integrationS);
    if (!(Number.isFinite(counts) && counts >= 0) || !(Number.isFinite(seconds) && seconds > 0)) fail(mpath, 'calibration: counts must be a finite number ≥ 0 and integrationS a finite number > 0');
    out.calibration = { histogram: a.data as ArrayLike<number>, counts, integrationS: seconds };
  }
  return out;
}

/** Counts are finite and ≥ 0 (NaN, ±Inf and negative values are refused, naming the first). */
function checkCounts(data: ArrayLike<number>, path: string, what: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (!(v >= 0 && v < Infinity)) fail(path, `${what} must be finite and ≥ 0; value ${i} is ${v}`);
  }
}

export interface ReconstructOptions {
  method: G2Method;
  earlyStop: boolean;
  targetFraction: number;
  maxDwellS: number;
  minDwellS: number;
  psfFwhmNm: number;
}

export const DEFAULT_RECONSTRUCT: ReconstructOptions = { method: 'pooled', earlyStop: true, targetFraction: 0.05, maxDwellS: Infinity, minDwellS: 1, psfFwhmNm: 300 };

/** Calibration from the dataset's calibration histogram, else from the sum over its brightest 5 % of pixels. */
export function datasetCalibration(ds: HbtScanDataset): ScanCalibration {
  const { bins } = ds.geometry;
  if (ds.calibration) return calibrate(ds.calibration.histogram, ds.calibration.counts, ds.calibration.integrationS, ds.geometry);
  const P = ds.ny * ds.nx;
  const rate = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    let c = 0;
    for (let j = 0; j < ds.acquired[p]!; j++) c += Number(ds.counts[p * ds.k + j]);
    rate[p] = ds.acquired[p]! > 0 ? c / (ds.acquired[p]! * ds.integrationS) : 0;
  }
  const order = [...rate.keys()].sort((a, b) => rate[b]! - rate[a]!).slice(0, Math.max(1, Math.round(0.05 * P)));
  const sum = new Float64Array(bins);
  let photons = 0;
  let seconds = 0;
  for (const p of order)
    for (let j = 0; j < ds.acquired[p]!; j++) {
      for (let b = 0; b < bins; b++) sum[b]! += Number(ds.histograms[(p * ds.k + j) * bins + b]);
      photons += Number(ds.counts[p * ds.k + j]);
      seconds += ds.integrationS;
    }
  return calibrate(sum, photons / order.length, seconds / order.length, ds.geometry);
}

/** Builds the scan data, replaying the stop rule when `earlyStop`. */
export function accumulate(ds: HbtScanDataset, cal: ScanCalibration, o: ReconstructOptions): HbtScanData {
  const data = new HbtScanData({ ny: ds.ny, nx: ds.nx, pixelSizeNm: ds.pixelSizeNm, geometry: ds.geometry });
  const fitter = shapeFixedFitter(cal.shape);
  const bins = ds.geometry.bins;
  const poolGain = o.method === 'pooled' ? Math.sqrt(poolKernel(poolKernelSigmaPx(o.psfFwhmNm, ds.pixelSizeNm)).nEff) : 1;
  const policy = { targetFraction: o.targetFraction, maxDwellS: o.maxDwellS, minDwellS: o.minDwellS, poolGain };
  const one = new Float64Array(bins);
  for (let p = 0; p < ds.ny * ds.nx; p++) {
    for (let j = 0; j < ds.acquired[p]!; j++) {
      for (let b = 0; b < bins; b++) one[b] = Number(ds.histograms[(p * ds.k + j) * bins + b]);
      data.add(p, one, Number(ds.counts[p * ds.k + j]), ds.integrationS);
      if (o.earlyStop && pixelStopDecision(fitter.fit(data.histogram(p)), data.rate(p), data.seconds[p]!, cal.g2Peak, policy).stop) break;
    }
  }
  return data;
}

/** Runs a reconstruction into `outDir`; returns the metrics written to metrics.json. */
export async function reconstructG2(inputDir: string, outDir: string, o: ReconstructOptions = DEFAULT_RECONSTRUCT): Promise<Record<string, unknown>> {
  if (!G2_METHODS.includes(o.method)) throw new RangeError(`--method: must be one of ${G2_METHODS.join(', ')}, got '${o.method}'`);
  const ds = readHbtScan(inputDir);
  const cal = datasetCalibration(ds);
  const data = accumulate(ds, cal, o);
  let cnn: import('./cnn-client.js').CnnClient | undefined;
  try {
    const plMaps = await estimateMaps(data, { method: 'shape-fixed-ml', calibration: cal });
    const poolSigmaPx = poolKernelSigmaPx(plPsfFwhmNm(plMaps.pl, data.meta, o.psfFwhmNm), ds.pixelSizeNm);
    if (o.method === 'cnn') {
      const { CnnClient } = await import('./cnn-client.js');
      cnn = new CnnClient(undefined, ds.geometry.bins);
    }
    const client = cnn;
    const maps = await estimateMaps(data, { method: o.method, calibration: cal, poolSigmaPx, ...(client ? { cnn: (h: Float64Array, n: number) => client.predict(h, n) } : {}) });
    mkdirSync(outDir, { recursive: true });
    const { encodeNpy } = await import('../../drivers/core/npy.js');
    const shape = [ds.ny, ds.nx];
    for (const [name, a] of Object.entries(mapArrays(maps))) writeFileSync(join(outDir, `${name}.npy`), encodeNpy(a, shape));
    for (const [name, png] of Object.entries(mapPngs(maps, ds.ny, ds.nx, ds.pixelSizeNm))) writeFileSync(join(outDir, `${name}.png`), png);
    const metrics = { method: o.method, earlyStop: o.earlyStop, ...scanMetrics(maps, ds.ny, ds.nx, ds.pixelSizeNm), availableS: [...ds.acquired].reduce((a, b) => a + b, 0) * ds.integrationS };
    writeFileSync(join(outDir, 'metrics.json'), JSON.stringify(metrics, null, 1) + '\n');
    return metrics;
  } finally {
    await cnn?.close();
  }
}
