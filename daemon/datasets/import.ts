/**
 * `qscope import DIR --out SESSION.db`: reads a dataset folder back into a
 * session file that replays like a recorded one. A folder written by `qscope
 * export` comes back whole (session row, frames with their headers and
 * times, results, events); any other folder with a manifest imports each of
 * its arrays as one frame of stream `dataset.<name>` (replayed frame by frame).
 *
 * Everything is read and checked before anything is written; the database is
 * built under a temporary name and renamed into place only when complete, so
 * a bad folder leaves nothing behind.
 */
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { makeFrame, type Frame } from '../../drivers/core/frame.js';
import { SessionStore, isSessionId, type StoreOptions } from '../store/store.js';
import { SESSION_KIND, type Manifest } from '../../pipelines/core/manifest.js';
import { decodeNpy, type NpyArray } from '../../drivers/core/npy.js';
import { datasetFile, readDatasetJson, readDatasetNpy } from '../../drivers/core/dataset-files.js';

/** Most arrays a foreign (non-qscope) dataset folder may hold: each becomes one frame. */
export const MAX_FOREIGN_ARRAYS = 10_000;

export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  readonly code = 'BAD_DATASET';
}

/** The dataset was good but writing the session failed (disk full, file-size limit): nothing was imported. */
export class ImportWriteError extends Error {
  override readonly name = 'ImportWriteError';
  readonly code = 'IMPORT_FAILED';
}

export interface ImportResult {
  id: string;
  path: string;
  frames: number;
  results: number;
  events: number;
  kind: 'session' | 'foreign';
}

function readJson(dir: string, file: unknown, what = 'file'): unknown {
  return readDatasetJson(dir, file, what);
}

interface Loaded {
  frames: { frame: Frame; kind: 'instrument' | 'result' }[];
  events: { t: number; type: string; source: string | null; data: unknown }[];
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A `.png` of an export's raw stream as the u8 frame it was recorded as (its bytes). */
function pngArray(path: string): NpyArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new DatasetError(`${path}: missing`);
  }
  return { dtype: 'u8', shape: [bytes.length], data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) } as NpyArray;
}

/** Reads and checks a `qscope export` folder completely. */
function loadSessionExport(dir: string, m: Manifest): Loaded {
  if (!Array.isArray(m.arrays) || typeof m.headers !== 'object' || m.headers === null) throw new DatasetError(`${join(dir, 'manifest.json')}: arrays and headers must be present in a qscope-session manifest`);
  const byStream = new Map<string, { kind: 'instrument' | 'result'; stacked?: NpyArray; t?: NpyArray; singles: { seq: number; a: NpyArray }[] }>();
  for (const a of m.arrays) {
    if (typeof a?.file !== 'string' || typeof a.stream !== 'string' || !Array.isArray(a.shape)) throw new DatasetError(`${join(dir, 'manifest.json')}: arrays[]: each entry needs a file, a stream and a shape`);
    if (a.role === 'dataset' || a.role === 'map') continue; // derived at export; the raw streams are the session
    const path = join(dir, a.file);
    const arr = a.role === 'image' ? pngArray(datasetFile(dir, a.file, 'arrays[].file')) : readDatasetNpy(dir, a.file, 'arrays[].file');
    if (arr.dtype !== a.dtype || !sameShape(arr.shape, a.shape)) {
      throw new DatasetError(`${path}: holds ${arr.dtype} (${arr.shape.join(', ')}) but manifest.json says ${a.dtype} (${a.shape.join(', ')})`);
    }
    let s = byStream.get(a.stream);
    if (!s) byStream.set(a.stream, (s = { kind: a.kind, singles: [] }));
    if (a.role === 'frames') s.stacked = arr;
    else if (a.role === 't') s.t = arr;
    else if (a.role === 'single' || a.role === 'image') s.singles.push({ seq: Number(a.seq), a: arr });
    else throw new DatasetError(`${join(dir, 'manifest.json')}: arrays[]: unknown role '${String(a.role)}'`);
  }
  const out: Loaded = { frames: [], events: [] };
  for (const [stream, s] of byStream) {
    const headerFile = Object.hasOwn(m.headers, stream) ? m.headers[stream] : undefined;
    if (!headerFile) throw new DatasetError(`${join(dir, 'manifest.json')}: headers: no entry for stream '${stream}'`);
    const fields = readJson(dir, headerFile, `headers.${stream}`);
    if (!Array.isArray(fields)) throw new DatasetError(`${join(dir, headerFile)}: must be an array`);
    const n = s.stacked ? s.stacked.shape[0]! : s.singles.length;
    if (!s.t || s.t.shape[0] !== n) throw new DatasetError(`${dir}: stream '${stream}': ${n} frames but ${s.t?.shape[0] ?? 'no'} times`);
    if (fields.length !== n) throw new DatasetError(`${join(dir, headerFile)}: ${fields.length} headers for ${n} frames`);
    const times = s.t.data;
    for (let i = 0; i < n; i++) {
      let payload;
      let shape: number[];
      let seq = i;
      if (s.stacked) {
        shape = s.stacked.shape.slice(1);
        const per = shape.reduce((a, b) => a * b, 1);
        payload = s.stacked.data.slice(i * per, (i + 1) * per);
      } else {
        const single = s.singles.sort((x, y) => x.seq - y.seq)[i]!;
        shape = single.a.shape;
        payload = single.a.data;
        seq = single.seq;
      }
      const t = times[i]!;
      if (!Number.isSafeInteger(t)) throw new DatasetError(`${dir}: stream '${stream}' frame ${i}: time ${t} is not an integer number of ns`);
      out.frames.push({ frame: makeFrame(stream, seq, t, payload, shape, fields[i] as Record<string, unknown>), kind: s.kind });
    }
  }
  if (m.events) {
    const ev = readJson(dir, m.events, 'events');
    if (!Array.isArray(ev)) throw new DatasetError(`${join(dir, String(m.events))}: must be an array`);
    for (const [i, e] of ev.entries()) {
      if (typeof e !== 'object' || e === null || !Number.isSafeInteger(e.t) || typeof e.type !== 'string' || (e.source !== null && e.source !== undefined && typeof e.source !== 'string')) {
        throw new DatasetError(`${join(dir, String(m.events))}: event ${i}: needs an integer t (ns), a string type and a string or null source`);
      }
    }
    out.events = ev as Loaded['events'];
  }
  return out;
}

/** Reads a foreign folder: every listed (or every) .npy becomes one frame. */
function loadForeign(dir: string, m: Manifest): Loaded {
  const files = Array.isArray(m.arrays) ? m.arrays.map((a) => (a as { file?: unknown })?.file) : readdirSync(dir).filter((f) => f.endsWith('.npy')).sort();
  if (files.length === 0) throw new DatasetError(`${dir}: no .npy arrays to import`);
  if (files.length > MAX_FOREIGN_ARRAYS) throw new DatasetError(`${dir}: ${files.length} arrays, more than the ${MAX_FOREIGN_ARRAYS} a foreign dataset may hold`);
  const out: Loaded = { frames: [], events: [] };
  for (const f of files) {
    const a = readDatasetNpy(dir, f, 'arrays[].file');
    const file = String(f);
    const name = basename(file, '.npy').replace(/[^A-Za-z0-9_-]/g, '_');
    out.frames.push({ frame: makeFrame(`dataset.${name}`, 0, 0, a.data, a.shape, { file }), kind: 'instrument' });
  }
  return out;
}

export function importDataset(dir: string, outPath: string, options: Partial<StoreOptions> = {}): ImportResult {
  const folder = resolve(dir);
  const out = resolve(outPath);
  if (!out.endsWith('.db')) throw new DatasetError(`--out ${outPath}: must name a .db file`);
  if (existsSync(out)) throw new DatasetError(`--out ${outPath}: already exists (not overwritten)`);
  const m = readJson(folder, 'manifest.json') as Manifest;
  if (typeof m !== 'object' || m === null || typeof m.kind !== 'string') throw new DatasetError(`${join(folder, 'manifest.json')}: must be an object with a 'kind'`);
  const isSession = m.session !== undefined && (m.kind === SESSION_KIND || Array.isArray(m.arrays));
  const loaded = isSession ? loadSessionExport(folder, m) : loadForeign(folder, m);

  const id = basename(out, '.db');
  if (!isSessionId(id)) throw new DatasetError(`--out ${outPath}: '${id}' is not a session id (letters, digits, '.', '_', '-'; at most 128)`);
  const tmp = join(dirname(out), `.${id}.importing.db`);
  // No background checkpoints while importing: the file is renamed into place when complete.
  const store = new SessionStore(dirname(out), { ...options, checkpointIntervalMs: Number.POSITIVE_INFINITY });
  const s = m.session;
  const cleanup = () => {
    for (const suffix of ['', '-wal', '-shm', '.lock', '.lock-journal']) rmSync(tmp + suffix, { force: true });
  };
  try {
    const { writer } = store.create(
      {
        id,
        plan: s?.plan ?? 'import',
        ...(s?.planVersion ? { planVersion: s.planVersion } : {}),
        params: s?.params ?? m.parameters ?? {},
        config: s?.config ?? {},
        metadata: s?.metadata ?? {},
        softwareVersion: s?.softwareVersion ?? 'unknown',
        ...(s?.pipeline ? { pipeline: s.pipeline } : {}),
        ...(s?.pipelineVersion ? { pipelineVersion: s.pipelineVersion } : {}),
        ...(s?.tfBackend ? { tfBackend: s.tfBackend } : {}),
        ...(s?.modelHashes ? { modelHashes: s.modelHashes } : {}),
        instruments: s?.instruments ?? {},
        clock: s?.clock ?? 'virtual',
        source: { ...(s?.source ?? {}), importedFrom: folder, ...(s ? { originalId: s.id } : {}) },
        ...(s?.startedAt ? { startedAt: new Date(s.startedAt) } : {}),
      },
      tmp,
    );
    // Recording order is lost per stream in an export; time order restores it (stable within a stream).
    const ordered = loaded.frames.map((f, i) => ({ ...f, i })).sort((a, b) => a.frame.header.t - b.frame.header.t || a.i - b.i);
    for (const f of ordered) writer.append(f.frame, f.kind);
    for (const e of loaded.events) writer.event(e.t, e.type, e.source, e.data);
    const status = (s?.status ?? 'completed') as 'completed' | 'aborted' | 'failed' | 'interrupted';
    writer.finish(
      { status: status === 'interrupted' ? 'interrupted' : status, reason: s?.reason ?? `imported from ${folder}`, durationNs: s?.durationNs ?? 0 },
      s?.endedAt ? new Date(s.endedAt) : new Date(),
    );
    // finish() marks a session whose writes failed as `failed` and keeps what it wrote: an import is all or nothing.
    const want = { frames: loaded.frames.filter((f) => f.kind === 'instrument').length, results: loaded.frames.filter((f) => f.kind === 'result').length, events: loaded.events.length };
    const got = writer.committed;
    if (writer.failure || got.frames !== want.frames || got.results !== want.results || got.events !== want.events) {
      throw new ImportWriteError(
        `writing ${out} failed after ${got.frames} of ${want.frames} frames, ${got.results} of ${want.results} results, ${got.events} of ${want.events} events` +
          `${writer.failure ? ` (${writer.failure.message})` : ''}; nothing was imported (the partial file was removed)`,
      );
    }
    renameSync(tmp, out);
    cleanup();
  } catch (err) {
    cleanup();
    throw err;
  }
  return {
    id,
    path: out,
    frames: loaded.frames.filter((f) => f.kind === 'instrument').length,
    results: loaded.frames.filter((f) => f.kind === 'result').length,
    events: loaded.events.length,
    kind: isSession ? 'session' : 'foreign',
  };
}

export { decodeNpy };
