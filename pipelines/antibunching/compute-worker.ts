/**
 * Worker thread of the antibunching pipeline's heavy steps (compute-client.ts): `workerData` is a
 * ComputeRequest; it posts `{value}` (payload buffers transferred) or `{error}` once, then exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { calibrate } from './calibration.js';
import type { ComputeRequest } from './compute-client.js';
import { computeFinalOutputs } from './pipeline.js';
import { HbtScanData } from './scan.js';

const req = workerData as ComputeRequest;
try {
  if (req.kind === 'calibration') {
    const value = calibrate(req.histogram, req.photons, req.seconds, req.geometry);
    parentPort!.postMessage({ value });
  } else {
    const data = new HbtScanData(req.meta);
    data.hist.set(req.hist);
    data.photons.set(req.photons);
    data.seconds.set(req.seconds);
    const value = await computeFinalOutputs(data, req.calibration, req.params);
    const transfer = value.map((o) => o.payload.buffer as ArrayBuffer).filter((b, i, all) => all.indexOf(b) === i);
    parentPort!.postMessage({ value }, transfer);
  }
} catch (err) {
  parentPort!.postMessage({ error: (err as Error).message ?? String(err) });
}
