/**
 * `qscope export SESSION --out DIR`: a folder a person can read (decision 1203).
 * Generic part: under `raw/`, per stream, the frames stacked into
 * `<stream>.npy` (axis 0 = seq) with `<stream>.t.npy` (ns, f64) and
 * `<stream>.headers.json` (streams whose frames change shape: one `.npy` per
 * frame; PNG-encoded results: one `.png` per frame); at the top, the last
 * value of each 2D result. Experiments register an exporter for their plan
 * that writes their dataset kind's arrays and images at the top and sets
 * `kind`, `axes`, `parameters` and the arrays' axes and units
 * (pipelines/<experiment>/, decision 0960).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Frame, Payload } from '../../drivers/core/frame.js';
import { PAYLOAD_CTOR } from '../../drivers/core/frame.js';
import type { SessionReader } from '../store/reader.js';
import { MANIFEST_VERSION, SESSION_KIND, type ArrayAxis, type Manifest, type ManifestArray } from '../../pipelines/core/manifest.js';
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
  const { exportMrfm } = await import('../../pipelines/mrfm/export.js');
  registry.register('mrfm-multislice', exportMrfm).register('mrfm-xyz', exportMrfm);
  registry.register('domain-imaging', (await import('../../pipelines/domains/dataset.js')).exportDomains);
  return registry;
}

/** File-name-safe stem of a stream name. */
function stem(stream: string): string {
  return stream.replace(/[^A-Za-z0-9._-]/g, '_');
}

const HEADER_RESERVED = new Set(['stream', 'seq', 't', 'dtype', 'shape']);

/** Where the raw streams go, under the export folder. */
export const RAW_DIR = 'raw';

export interface ExportResult {
  dir: string;
  manifest: Manifest;
  files: string[];
}

/** `seq` then one unnamed axis per frame dimension. */
function rawAxes(shape: number[]): ArrayAxis[] {
  return [{ name: 'seq', unit: '1' }, ...shape.slice(1).map((_, i) => ({ name: `dim${i + 1}`, unit: '1' }))];
}

/**
 * Writes the export of an open session into `dir` (created; must be empty or absent). Layout: the
 * experiment's dataset and images (its exporter) and the last value of every 2D result (`<name>.npy`)
 * at the top; every recorded stream under `raw/` (stacked frames, their times, their header fields;
 * PNG-encoded results as `.png` files, never as byte arrays); `manifest.json` describing every array
 * with its axes and units. Everything is written into a temporary sibling folder that is renamed to
 * `dir` only when complete: a write error (disk full, file-size limit) leaves no folder that looks like
 * a finished export (decision 1102).
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
  mkdirSync(join(dir, RAW_DIR), { recursive: true });
  const arrays: ManifestArray[] = [];
  const headers: Record<string, string> = {};
  const files: string[] = [];
  const write = (name: string, data: Buffer | string) => {
    writeFileSync(join(dir, name), data);
    files.push(name);
  };
  const lastMaps: { name: string; frame: Frame; unit?: string }[] = [];
  for (const s of streams) {
    const table = s.kind === 'instrument' ? 'frames' : 'results';
    const frames: Frame[] = [...reader.frames(table, s.name)];
    const base = `${RAW_DIR}/${stem(s.name)}`;
    const fields = frames.map((f) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(f.header)) if (!HEADER_RESERVED.has(k)) o[k] = v;
      return o;
    });
    const unit = s.unit ?? undefined;
    const sameShape = frames.every((f) => f.header.dtype === s.dtype && JSON.stringify(f.header.shape) === JSON.stringify(s.shape));
    const png = frames.length > 0 && frames.every((f) => f.header.format === 'png');
    if (png) {
      mkdirSync(join(dir, base), { recursive: true });
      for (const f of frames) {
        const name = `${base}/${String(f.header.seq).padStart(6, '0')}.png`;
        write(name, Buffer.from(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength));
        arrays.push({ file: name, stream: s.name, kind: s.kind, role: 'image', dtype: f.header.dtype, shape: f.header.shape, seq: f.header.seq });
      }
    } else if (sameShape) {
      const per = s.shape.reduce((a, b) => a * b, 1);
      const stacked = new (PAYLOAD_CTOR[s.dtype] as unknown as new (n: number) => Payload)(per * frames.length);
      frames.forEach((f, i) => stacked.set(f.payload as never, i * per));
      const shape = [frames.length, ...s.shape];
      write(`${base}.npy`, encodeNpy(stacked, shape));
      arrays.push({ file: `${base}.npy`, stream: s.name, kind: s.kind, role: 'frames', dtype: s.dtype, shape, ...(unit ? { unit } : {}), axes: rawAxes(shape) });
    } else {
      mkdirSync(join(dir, base), { recursive: true });
      for (const f of frames) {
        const name = `${base}/${String(f.header.seq).padStart(6, '0')}.npy`;
        write(name, encodeNpy(f.payload, f.header.shape));
        arrays.push({ file: name, stream: s.name, kind: s.kind, role: 'single', dtype: f.header.dtype, shape: f.header.shape, seq: f.header.seq, ...(unit ? { unit } : {}), axes: rawAxes([1, ...f.header.shape]).slice(1) });
      }
    }
    write(`${base}.t.npy`, encodeNpy(Float64Array.from(frames, (f) => f.header.t)));
    arrays.push({ file: `${base}.t.npy`, stream: s.name, kind: s.kind, role: 't', dtype: 'f64', shape: [frames.length], unit: 'ns', axes: [{ name: 'seq', unit: '1' }] });
    write(`${base}.headers.json`, JSON.stringify(fields));
    headers[s.name] = `${base}.headers.json`;
    const last = frames.at(-1);
    if (s.kind === 'result' && !png && last && last.header.shape.length === 2) lastMaps.push({ name: s.name.slice(s.name.indexOf('.') + 1), frame: last, ...(unit ? { unit } : {}) });
  }
  write(`${RAW_DIR}/events.json`, JSON.stringify(reader.events().map(({ t, type, source, data }) => ({ t, type, source, data }))));
  const manifest: Manifest = {
    kind: SESSION_KIND,
    version: MANIFEST_VERSION,
    parameters: session.params,
    arrays,
    headers,
    events: `${RAW_DIR}/events.json`,
    session,
  };
  const specific = exporters?.get(session.plan);
  const extra = specific ? specific(reader, dir) : {};
  if (extra.kind) manifest.kind = extra.kind;
  if (extra.shape) manifest.shape = extra.shape;
  if (extra.axes) manifest.axes = extra.axes;
  if (extra.parameters) manifest.parameters = { ...manifest.parameters, ...extra.parameters };
  files.push(...(extra.files ?? []));
  for (const a of extra.arrays ?? []) arrays.push({ stream: '', kind: 'result', ...a, role: a.role ?? 'dataset' });
  // The last value of every 2D result, at the top, with the experiment's axes when it gave them.
  for (const m of lastMaps) {
    const file = `${stem(m.name)}.npy`;
    if (existsSync(join(dir, file))) continue;
    const described = extra.mapAxes?.[m.name] ?? extra.mapAxes?.['*'];
    const [r, c] = m.frame.header.shape as [number, number];
    const axes = described && described.axes.length === 2 ? described.axes : [{ name: 'row', unit: '1' }, { name: 'column', unit: '1' }];
    write(file, encodeNpy(m.frame.payload, [r, c]));
    arrays.push({ file, stream: m.frame.header.stream, kind: 'result', role: 'map', dtype: m.frame.header.dtype, shape: [r, c], seq: m.frame.header.seq, ...(m.unit ?? described?.unit ? { unit: (m.unit ?? described?.unit)! } : {}), axes, longName: described?.longName ?? m.name });
  }
  write('manifest.json', JSON.stringify(manifest, null, 2) + '\n');
  return { dir, manifest, files };
}
