/**
 * Worker thread computing a finished scan's final maps (maps-client.ts): `workerData` is a MapsRequest;
 * it posts `{outputs}` (payload buffers transferred) or `{error}` once, then exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MapsRequest } from './maps-client.js';
import { computeFinalOutputs } from './pipeline.js';
import { HbtScanData } from './scan.js';

const req = workerData as MapsRequest;
try {
  const data = new HbtScanData(req.meta);
  data.hist.set(req.hist);
  data.photons.set(req.photons);
  data.seconds.set(req.seconds);
  const outputs = await computeFinalOutputs(data, req.calibration, req.params);
  const transfer = outputs.map((o) => o.payload.buffer as ArrayBuffer).filter((b, i, all) => all.indexOf(b) === i);
  parentPort!.postMessage({ outputs }, transfer);
} catch (err) {
  parentPort!.postMessage({ error: (err as Error).message ?? String(err) });
}
