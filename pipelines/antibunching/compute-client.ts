/**
 * The daemon side of the antibunching compute worker (compute-worker.ts): the heavy steps of the g2
 * pipeline, the calibration's full three-level LM fit and a finished scan's final maps (fits, PNGs), each
 * run in one short-lived worker thread, so the event loop stays free (issue 18, point 3). The worker calls
 * the same functions (`calibrate`, `computeFinalOutputs`) on structured-cloned copies of the same inputs, so
 * the results are bit-identical to computing them in-process.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { HbtGeometry } from '../../drivers/hbt/model.js';
import type { PipelineOutput } from '../core/pipeline.js';
import type { CalibrationResult } from './calibration.js';
import type { HbtScanData } from './scan.js';
import type { G2PipelineParams } from './pipeline.js';

/** The final maps of a scan: plain data (the histograms are copied once). */
export interface MapsRequest {
  kind: 'maps';
  meta: HbtScanData['meta'];
  hist: Float64Array;
  photons: Float64Array;
  seconds: Float64Array;
  calibration: CalibrationResult;
  params: Pick<G2PipelineParams, 'method' | 'psfFwhmNm'>;
}

/** The calibration fit (`calibrate`'s arguments). */
export interface CalibrationRequest {
  kind: 'calibration';
  histogram: ArrayLike<number>;
  photons: number;
  seconds: number;
  geometry: HbtGeometry;
}

export type ComputeRequest = MapsRequest | CalibrationRequest;

function workerFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // The worker runs compiled JS; from sources (vitest) use the dist copy.
  return here.includes(join('dist', 'pipelines')) ? join(here, 'compute-worker.js') : join(here, '..', '..', 'dist', 'pipelines', 'antibunching', 'compute-worker.js');
}

/** Runs one request in a fresh worker; `label` prefixes its errors (empty: the worker's message as is). */
function inWorker<T>(request: ComputeRequest, label: string): Promise<T> {
  const fail = (msg: string) => new Error(label ? `${label}: ${msg}` : msg);
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerFile(), { workerData: request });
    let settled = false;
    worker.once('message', (m: { value?: T; error?: string }) => {
      settled = true;
      if (m.error !== undefined) reject(fail(m.error));
      else resolve(m.value!);
    });
    worker.once('error', (err) => {
      settled = true;
      reject(fail(err.message));
    });
    worker.once('exit', (code) => {
      if (!settled) reject(fail(`compute worker exited (code ${code}) before answering`));
    });
  });
}

export function finalOutputsInWorker(data: HbtScanData, calibration: CalibrationResult, p: Pick<G2PipelineParams, 'method' | 'psfFwhmNm'>): Promise<PipelineOutput[]> {
  const request: MapsRequest = { kind: 'maps', meta: data.meta, hist: data.hist, photons: data.photons, seconds: data.seconds, calibration, params: { method: p.method, psfFwhmNm: p.psfFwhmNm } };
  return inWorker(request, 'final maps');
}

/** `calibrate(histogram, photons, seconds, geometry)` in a worker thread; its errors read as `calibrate`'s own. */
export function calibrateInWorker(histogram: ArrayLike<number>, photons: number, seconds: number, geometry: HbtGeometry): Promise<CalibrationResult> {
  return inWorker({ kind: 'calibration', histogram, photons, seconds, geometry }, '');
}
