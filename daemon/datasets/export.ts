/**
 * `qscope export SESSION --out DIR`: a NumPy-compatible folder. Generic part:
 * per stream, the frames stacked into `<stream>.npy` (axis 0 = seq) with
 * `<stream>.t.npy` (ns, f64) and `<stream>.headers.json`; streams whose
 * frames change shape get one `.npy` per frame. Experiments register an
 * exporter for their plan that adds their kind's arrays and sets `kind`,
 * `axes`, `parameters` (DESIGN.md: each experiment owns its exporter).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Frame, Payload } from '../../drivers/core/frame.js';
import { PAYLOAD_CTOR } from '../../drivers/core/frame.js';
import type { SessionReader } from '../store/reader.js';
import { MANIFEST_VERSION, SESSION_KIND, type Manifest, type ManifestArray } from '../../pipelines/core/manifest.js';
import type { SessionExporter } from '../../pipelines/core/exporter.js';
import { encodeNpy } from '../../drivers/core/npy.js';

export type { SessionExporter } from '../../pipelines/core/exporter.js';

export class ExporterRegistry {
  private readonly byPlan = new Map<string, SessionExporter>();
  register(plan: string, exporter: SessionExporter): this {
    if (this.byPlan.has(plan)) throw new Error(`exporter for plan '${plan}' registered twice`);
    this.byPlan.set(plan, exporter);
    return this;
  }
  get(plan: string): SessionExporter | undefined {
    return this.byPlan.get(plan);
  }
}

/** Every kind-specific exporter. Experiments: one line each. */
export async function createDefaultExporters(): Promise<ExporterRegistry> {
  const registry = new ExporterRegistry();
  registry.register('antibunching-scan', (await import('../../pipelines/antibunching/export.js')).exportG2);
  registry.register('cosy-2d', (await import('../../pipelines/cosy/dataset.js')).exportCosy);
  return registry;
}

/** File-name-safe stem of a stream name. */
function stem(stream: string): string {
  return stream.replace(/[^A-Za-z0-9._-]/g, '_');
}

const HEADER_RESERVED = new Set(['stream', 'seq', 't', 'dtype', 'shape']);

export interface ExportResult {
  dir: string;
  manifest: Manifest;
  files: string[];
}

/**
 * Writes the export of an open session into `dir` (created; must be empty or absent). Everything is written into
 * a temporary sibling folder that is renamed to `dir` only when complete: a write error (disk full, file-size
 * limit) leaves no folder that looks like a finished export (decision 1102).
 */
export function exportSession(reader: SessionReader, dir: string, exporters?: ExporterRegistry): ExportResult {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`--out ${dir}: directory is not empty`);
  const tmp = join(dirname(resolve(dir)), `.${basename(resolve(dir))}.exporting-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    const res = writeExport(reader, tmp, exporters);
    if (existsSync(dir)) rmdirSync(dir); // empty (checked above)
    renameSync(tmp, dir);
    return { ...res, dir };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

function writeExport(reader: SessionReader, dir: string, exporters?: ExporterRegistry): ExportResult {
  const session = reader.session();
  const streams = reader.streams();
  mkdirSync(dir, { recursive: true });
  const arrays: ManifestArray[] = [];
  const headers: Record<string, string> = {};
  const files: string[] = [];
  const write = (name: string, data: Buffer | string) => {
    writeFileSync(join(dir, name), data);
    files.push(name);
  };
  for (const s of streams) {
    const table = s.kind === 'instrument' ? 'frames' : 'results';
    const frames: Frame[] = [...reader.frames(table, s.name)];
    const base = stem(s.name);
    const fields = frames.map((f) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(f.header)) if (!HEADER_RESERVED.has(k)) o[k] = v;
      return o;
    });
    const unit = s.unit ?? undefined;
    const sameShape = frames.every((f) => f.header.dtype === s.dtype && JSON.stringify(f.header.shape) === JSON.stringify(s.shape));
    if (sameShape) {
      const per = s.shape.reduce((a, b) => a * b, 1);
      const stacked = new (PAYLOAD_CTOR[s.dtype] as unknown as new (n: number) => Payload)(per * frames.length);
      frames.forEach((f, i) => stacked.set(f.payload as never, i * per));
      const shape = [frames.length, ...s.shape];
      write(`${base}.npy`, encodeNpy(stacked, shape));
      arrays.push({ file: `${base}.npy`, stream: s.name, kind: s.kind, role: 'frames', dtype: s.dtype, shape, ...(unit ? { unit } : {}) });
    } else {
      mkdirSync(join(dir, base), { recursive: true });
      for (const f of frames) {
        const name = `${base}/${String(f.header.seq).padStart(6, '0')}.npy`;
        write(name, encodeNpy(f.payload, f.header.shape));
        arrays.push({ file: name, stream: s.name, kind: s.kind, role: 'single', dtype: f.header.dtype, shape: f.header.shape, seq: f.header.seq, ...(unit ? { unit } : {}) });
      }
    }
    write(`${base}.t.npy`, encodeNpy(Float64Array.from(frames, (f) => f.header.t)));
    arrays.push({ file: `${base}.t.npy`, stream: s.name, kind: s.kind, role: 't', dtype: 'f64', shape: [frames.length], unit: 'ns' });
    write(`${base}.headers.json`, JSON.stringify(fields));
    headers[s.name] = `${base}.headers.json`;
  }
  write('events.json', JSON.stringify(reader.events().map(({ t, type, source, data }) => ({ t, type, source, data }))));
  const manifest: Manifest = {
    kind: SESSION_KIND,
    version: MANIFEST_VERSION,
    parameters: session.params,
    arrays,
    headers,
    events: 'events.json',
    session,
  };
  const specific = exporters?.get(session.plan);
  if (specific) {
    const extra = specific(reader, dir);
    if (extra.kind) manifest.kind = extra.kind;
    if (extra.shape) manifest.shape = extra.shape;
    if (extra.axes) manifest.axes = extra.axes;
    if (extra.parameters) manifest.parameters = { ...manifest.parameters, ...extra.parameters };
    files.push(...(extra.files ?? []));
  }
  write('manifest.json', JSON.stringify(manifest, null, 2) + '\n');
  return { dir, manifest, files };
}
