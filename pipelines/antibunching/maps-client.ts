/**
 * The daemon side of the final-maps worker (maps-worker.ts): one short-lived worker thread per finished
 * scan computes the maps, their fits and PNGs, so the event loop stays free when a session ends.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { PipelineOutput } from '../core/pipeline.js';
import type { CalibrationResult } from './calibration.js';
import type { HbtScanData } from './scan.js';
import type { G2PipelineParams } from './pipeline.js';

/** What the worker needs: plain data (structured-cloned; the histograms are copied once). */
export interface MapsRequest {
  meta: HbtScanData['meta'];
  hist: Float64Array;
  photons: Float64Array;
  seconds: Float64Array;
  calibration: CalibrationResult;
  params: Pick<G2PipelineParams, 'method' | 'psfFwhmNm'>;
}

function workerFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // The worker runs compiled JS; from sources (vitest) use the dist copy.
  return here.includes(join('dist', 'pipelines')) ? join(here, 'maps-worker.js') : join(here, '..', '..', 'dist', 'pipelines', 'antibunching', 'maps-worker.js');
}

export function finalOutputsInWorker(data: HbtScanData, calibration: CalibrationResult, p: Pick<G2PipelineParams, 'method' | 'psfFwhmNm'>): Promise<PipelineOutput[]> {
  const request: MapsRequest = { meta: data.meta, hist: data.hist, photons: data.photons, seconds: data.seconds, calibration, params: { method: p.method, psfFwhmNm: p.psfFwhmNm } };
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerFile(), { workerData: request });
    let settled = false;
    worker.once('message', (m: { outputs?: PipelineOutput[]; error?: string }) => {
      settled = true;
      if (m.error !== undefined) reject(new Error(`final maps: ${m.error}`));
      else resolve(m.outputs!);
    });
    worker.once('error', (err) => {
      settled = true;
      reject(new Error(`final maps: ${err.message}`));
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`final maps: worker exited (code ${code}) before answering`));
    });
  });
}
