/**
 * The `cosy-2d` dataset (issue 8): a folder with `manifest.json`
 * `{"kind": "cosy-2d", "shape": [n1, n2], "t1StartUs", "t1StepUs",
 * "t2StartUs", "t2StepUs"}` (also accepted under `parameters`, or as DESIGN.md
 * `axes` [{name: 't1', unit: 'us', start, step}, …]) and `map.npy` (n1, n2)
 * float with NaN where not measured. Optional: `reference.npy` (a fully
 * sampled map to score against), `parameters.peaksKHz` (lines for the SNR).
 *
 * This module owns the exporter `qscope export` calls for cosy-2d sessions and
 * the reader of `qscope reconstruct cosy`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderMapPng } from '../core/png-image.js';
import { fftshift2 } from '../core/fftshift.js';

export { fftshift2 };
import type { ArrayAxis } from '../core/manifest.js';
import type { RecordedSession } from '../core/recorded-session.js';
import type { SessionExporter } from '../core/exporter.js';
import { encodeNpy } from '../../drivers/core/npy.js';
import { datasetHas, readDatasetJson, readDatasetNpy } from '../../drivers/core/dataset-files.js';
import { COSY_GRID } from '../../drivers/odmr/physics.js';

export const COSY_KIND = 'cosy-2d';

export interface CosyGrid {
  n1: number;
  n2: number;
  t1StartUs: number;
  t1StepUs: number;
  t2StartUs: number;
  t2StepUs: number;
}

export interface CosyDataset {
  grid: CosyGrid;
  /** [n1, n2], NaN where not measured. */
  map: Float64Array;
  /** 1 where measured (finite in map.npy). */
  mask: Uint8Array;
  reference?: Float64Array;
  peaksKHz?: number[];
}

function fail(dir: string, msg: string): never {
  throw Object.assign(new Error(`${dir}: ${msg}`), { code: 'BAD_DATASET' });
}

/** Largest grid a cosy-2d dataset may describe, per axis (stated bound, checked before anything is allocated). */
export const MAX_COSY_SIDE = 512;

/** Reads a cosy-2d dataset folder; errors name the file and the problem. */
export function readCosyDataset(dir: string): CosyDataset {
  const manifestPath = join(dir, 'manifest.json');
  if (!datasetHas(dir, 'manifest.json')) fail(dir, 'manifest.json not found');
  const m = readDatasetJson(dir, 'manifest.json', 'manifest') as Record<string, unknown>;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) fail(manifestPath, 'must be a JSON object');
  if (m.kind !== COSY_KIND) fail(manifestPath, `kind: must be '${COSY_KIND}', got ${JSON.stringify(m.kind)?.slice(0, 40)}`);
  const shape = m.shape as unknown;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && d > 0 && d <= MAX_COSY_SIDE)) fail(manifestPath, `shape: must be [n1, n2] of integers 1…${MAX_COSY_SIDE}, got ${JSON.stringify(shape)?.slice(0, 60)}`);
  const [n1, n2] = shape as [number, number];
  const params = (m.parameters ?? {}) as Record<string, unknown>;
  const axes = Array.isArray(m.axes) ? (m.axes as { name?: string; start?: number; step?: number }[]) : [];
  const axis = (k: 1 | 2, what: 'Start' | 'Step'): number => {
    const key = `t${k}${what}Us`;
    const ax = axes.find((a) => a.name === `t${k}`);
    const v = m[key] ?? params[key] ?? (ax ? (what === 'Start' ? ax.start : ax.step) : undefined) ?? (what === 'Start' ? COSY_GRID.startUs : COSY_GRID.stepUs);
    if (typeof v !== 'number' || !Number.isFinite(v) || (what === 'Step' && !(v > 0))) fail(manifestPath, `${key}: must be a ${what === 'Step' ? 'positive ' : ''}number, got ${JSON.stringify(v)}`);
    return v;
  };
  const grid: CosyGrid = { n1, n2, t1StartUs: axis(1, 'Start'), t1StepUs: axis(1, 'Step'), t2StartUs: axis(2, 'Start'), t2StepUs: axis(2, 'Step') };
  const readMap = (file: string): Float64Array => {
    const a = readDatasetNpy(dir, file, file);
    if (a.dtype !== 'f64' && a.dtype !== 'f32') fail(join(dir, file), `dtype: must be float64 or float32, got ${a.dtype}`);
    if (a.shape.length !== 2 || a.shape[0] !== n1 || a.shape[1] !== n2) fail(join(dir, file), `shape (${a.shape.join(', ')}) does not match manifest shape (${n1}, ${n2})`);
    return Float64Array.from(a.data as Float64Array);
  };
  if (!datasetHas(dir, 'map.npy')) fail(dir, 'map.npy not found');
  const map = readMap('map.npy');
  for (let k = 0; k < map.length; k++) if (map[k] === Infinity || map[k] === -Infinity) fail(join(dir, 'map.npy'), `value ${k} is ${map[k]}: NaN marks an unmeasured point, infinities are refused`);
  const mask = Uint8Array.from(map, (v) => (Number.isFinite(v) ? 1 : 0));
  if (!mask.some((v) => v)) fail(join(dir, 'map.npy'), 'no measured (finite) entries');
  const peaks = params.peaksKHz ?? m.peaksKHz;
  if (peaks !== undefined && (!Array.isArray(peaks) || peaks.length > 64 || !peaks.every((f) => typeof f === 'number' && Number.isFinite(f)))) fail(manifestPath, 'peaksKHz: must be an array of at most 64 finite numbers');
  return {
    grid,
    map,
    mask,
    ...(datasetHas(dir, 'reference.npy') ? { reference: readMap('reference.npy') } : {}),
    ...(peaks ? { peaksKHz: peaks as number[] } : {}),
  };
}

/** Writes a cosy-2d dataset folder (manifest + map.npy, optional reference). */
export function writeCosyDataset(dir: string, ds: { grid: CosyGrid; map: Float64Array; reference?: Float64Array; parameters?: Record<string, unknown> }): void {
  const { grid } = ds;
  const manifest = {
    kind: COSY_KIND,
    version: 1,
    shape: [grid.n1, grid.n2],
    t1StartUs: grid.t1StartUs,
    t1StepUs: grid.t1StepUs,
    t2StartUs: grid.t2StartUs,
    t2StepUs: grid.t2StepUs,
    axes: [
      { name: 't1', unit: 'us', start: grid.t1StartUs, step: grid.t1StepUs },
      { name: 't2', unit: 'us', start: grid.t2StartUs, step: grid.t2StepUs },
    ],
    ...(ds.parameters ? { parameters: ds.parameters } : {}),
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, 'map.npy'), encodeNpy(ds.map, [grid.n1, grid.n2]));
  if (ds.reference) writeFileSync(join(dir, 'reference.npy'), encodeNpy(ds.reference, [grid.n1, grid.n2]));
}

/**
 * The exporter `qscope export` calls for cosy-2d sessions: the measured
 * points as `map.npy` (NaN elsewhere; a point measured twice is averaged) and
 * the last reconstruction, spectrum and mask the pipeline recorded.
 */
export const exportCosy: SessionExporter = (reader: RecordedSession, dir: string) => {
  const s = reader.session();
  const p = s.params as Partial<CosyGrid> & { peaksKHz?: number[] };
  const grid: CosyGrid = {
    n1: p.n1 ?? COSY_GRID.n,
    n2: p.n2 ?? COSY_GRID.n,
    t1StartUs: p.t1StartUs ?? COSY_GRID.startUs,
    t1StepUs: p.t1StepUs ?? COSY_GRID.stepUs,
    t2StartUs: p.t2StartUs ?? COSY_GRID.startUs,
    t2StepUs: p.t2StepUs ?? COSY_GRID.stepUs,
  };
  const map = new Float64Array(grid.n1 * grid.n2).fill(Number.NaN);
  const seen = new Uint16Array(map.length);
  for (const f of reader.frames('frames')) {
    if (!f.header.stream.endsWith('.population')) continue;
    const { i, j } = f.header as unknown as { i: number; j: number };
    const k = i * grid.n2 + j;
    const v = Number(f.payload[0]);
    map[k] = seen[k] ? (map[k]! * seen[k]! + v) / (seen[k]! + 1) : v;
    seen[k]!++;
  }
  const ax = cosyAxes(grid);
  const files = ['map.npy', 'map.png'];
  writeFileSync(join(dir, 'map.npy'), encodeNpy(map, [grid.n1, grid.n2]));
  writeCosyPng(join(dir, 'map.png'), map, grid, { title: 'measured P(ms=0)' });
  const arrays: NonNullable<ReturnType<SessionExporter>['arrays']> = [
    { file: 'map.npy', role: 'dataset', dtype: 'f64', shape: [grid.n1, grid.n2], unit: '1', axes: ax.time, longName: 'measured NV population P(ms=0), NaN where not sampled' },
  ];
  // The last reconstruction, spectrum (fftshifted here: zero frequency in the middle) and mask, with their images.
  const outputs = [
    { stream: 'cosy.map', file: 'recon', title: 'reconstruction', longName: 'reconstructed time-domain map', unit: '1', spectrum: false },
    { stream: 'cosy.spectrum', file: 'spectrum', title: 'spectrum (2D FFT)', longName: '2D spectrum magnitude, zero frequency in the middle', unit: 'a.u.', spectrum: true },
    { stream: 'cosy.mask', file: 'mask', title: 'sampled points', longName: 'sampling mask (1 = measured)', unit: '1', spectrum: false },
  ];
  for (const o of outputs) {
    let last;
    for (const f of reader.frames('results', o.stream)) last = f;
    if (!last) continue;
    const values = o.spectrum ? fftshift2(last.payload as ArrayLike<number>, grid.n1, grid.n2) : Float64Array.from(last.payload as ArrayLike<number>);
    writeFileSync(join(dir, `${o.file}.npy`), encodeNpy(values, [grid.n1, grid.n2]));
    writeCosyPng(join(dir, `${o.file}.png`), last.payload as ArrayLike<number>, grid, { title: o.title, spectrum: o.spectrum });
    files.push(`${o.file}.npy`, `${o.file}.png`);
    arrays.push({ file: `${o.file}.npy`, role: 'dataset', dtype: 'f64', shape: [grid.n1, grid.n2], unit: o.unit, axes: o.spectrum ? ax.frequency : ax.time, longName: o.longName });
  }
  return {
    kind: COSY_KIND,
    shape: [grid.n1, grid.n2],
    axes: [
      { name: 't1', unit: 'us', start: grid.t1StartUs, step: grid.t1StepUs },
      { name: 't2', unit: 'us', start: grid.t2StartUs, step: grid.t2StepUs },
    ],
    parameters: { ...grid, ...(p.peaksKHz ? { peaksKHz: p.peaksKHz } : {}) },
    files,
    arrays,
    mapAxes: {
      '*': { axes: ax.time },
      spectrum: { axes: ax.frequency, unit: 'a.u.', longName: '2D spectrum magnitude', fftshift: true },
      map: { axes: ax.time, unit: '1', longName: 'reconstructed time-domain map' },
      mask: { axes: ax.time, unit: '1', longName: 'sampling mask (1 = measured)' },
    },
  };
};

/** Axes of a [n1, n2] time-domain map (t1 rows, t2 columns) in ms, and of its fftshifted spectrum in kHz. */
export function cosyAxes(grid: CosyGrid): { time: [ArrayAxis, ArrayAxis]; frequency: [ArrayAxis, ArrayAxis] } {
  const df1 = 1e3 / (grid.n1 * grid.t1StepUs); // kHz
  const df2 = 1e3 / (grid.n2 * grid.t2StepUs);
  return {
    time: [
      { name: 't1', unit: 'ms', start: grid.t1StartUs / 1e3, step: grid.t1StepUs / 1e3 },
      { name: 't2', unit: 'ms', start: grid.t2StartUs / 1e3, step: grid.t2StepUs / 1e3 },
    ],
    frequency: [
      { name: 'f1', unit: 'kHz', start: -Math.floor(grid.n1 / 2) * df1, step: df1 },
      { name: 'f2', unit: 'kHz', start: -Math.floor(grid.n2 / 2) * df2, step: df2 },
    ],
  };
}

/**
 * Writes a titled PNG of a [n1, n2] cosy array (viridis, colour bar, axis ticks): time-domain maps with
 * t1/t2 axes in ms; `spectrum` is fftshifted first and drawn with f1/f2 axes in kHz. Unmeasured (NaN) points are grey.
 */
export function writeCosyPng(path: string, data: ArrayLike<number>, grid: CosyGrid, o: { title: string; spectrum?: boolean; unit?: string }): void {
  const ax = cosyAxes(grid);
  const [a1, a2] = o.spectrum ? ax.frequency : ax.time;
  const values = o.spectrum ? fftshift2(data, grid.n1, grid.n2) : data;
  const png = renderMapPng(values, {
    shape: [grid.n1, grid.n2],
    title: o.title,
    ...(o.unit ? { unit: o.unit } : {}),
    zoom: Math.max(2, Math.ceil(300 / grid.n2)),
    axes: { y: { label: `${a1.name} (${a1.unit})`, start: a1.start!, step: a1.step! }, x: { label: `${a2.name} (${a2.unit})`, start: a2.start!, step: a2.step! } },
  });
  writeFileSync(path, png);
}
