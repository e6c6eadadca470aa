/**
 * Writes one recorded session as a NeXus/HDF5 file with h5wasm (decision 1204).
 * Runs inside the worker of nexus.ts: h5wasm is synchronous and its heap is
 * bounded, so raw streams are appended in chunks of frames, never loaded whole.
 *
 *   /                       @NX_class=NXroot @default=entry @creator @file_name
 *   /entry                  NXentry @default=<first map>: start_time, end_time, title (plan), plan,
 *                           plan_version, parameters (JSON), software_version, model_hashes (JSON),
 *                           tf_backend, config (JSON), session_id, status, reason, clock, instruments (JSON)
 *   /entry/<map>            NXdata per 2D result (its last value) @signal=data @axes=[y, x]
 *                           data (@units, @long_name), one axis dataset per dimension (@units)
 *   /entry/raw              NXcollection: one NXcollection per recorded stream, `data` (axis 0 = seq,
 *                           chunked, gzip, extensible) and `t` (ns) appended frame by frame
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Frame } from '../../drivers/core/frame.js';
import { fftshift2 } from '../../pipelines/core/fftshift.js';
import type { ArrayAxis } from '../../pipelines/core/manifest.js';
import type { SessionExporter } from '../../pipelines/core/exporter.js';
import type { SessionReader } from '../store/reader.js';

/** Frames buffered before one resize + write of a raw stream (bounds memory and HDF5 calls). */
const APPEND_FRAMES = 64;

const H5_DTYPE: Record<string, string> = { f64: '<d', f32: '<f', i32: '<i', u32: '<I', i16: '<h', u16: '<H', u8: '<B', i8: '<b' };

export interface NexusSummary {
  file: string;
  maps: string[];
  streams: string[];
  /** Streams not written (PNG-encoded images; streams whose frames change shape), with why. */
  skipped: Record<string, string>;
}

type H5 = typeof import('h5wasm/node').default;
type Group = InstanceType<H5['Group']>;

function nxName(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Writes `reader`'s session to `outFile` (which must not exist). */
export async function writeNexus(reader: SessionReader, outFile: string, exporter: SessionExporter | undefined, version: string): Promise<NexusSummary> {
  const h5wasm = (await import('h5wasm/node')).default;
  await h5wasm.ready;
  const session = reader.session();
  const streams = reader.streams();

  // The experiment's description of its maps (axes, units, names): its exporter, run into a scratch folder.
  let described: ReturnType<SessionExporter> = {};
  if (exporter) {
    const scratch = mkdtempSync(join(tmpdir(), 'qscope-nexus-'));
    try {
      described = exporter(reader, scratch);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  const path = resolve(outFile);
  const f = new h5wasm.File(path, 'x');
  const summary: NexusSummary = { file: path, maps: [], streams: [], skipped: {} };
  try {
    f.create_attribute('NX_class', 'NXroot');
    f.create_attribute('default', 'entry');
    f.create_attribute('creator', `qscope ${version}`);
    f.create_attribute('file_name', path);
    f.create_attribute('HDF5_Version', 'h5wasm');
    const entry = f.create_group('entry');
    entry.create_attribute('NX_class', 'NXentry');
    const text = (g: Group, name: string, value: string) => g.create_dataset({ name, data: value });
    text(entry, 'title', `${session.plan} ${session.id}`);
    text(entry, 'session_id', session.id);
    text(entry, 'plan', session.plan);
    text(entry, 'plan_version', String(session.planVersion ?? ''));
    text(entry, 'status', session.status);
    if (session.reason) text(entry, 'reason', session.reason);
    text(entry, 'start_time', session.startedAt);
    if (session.endedAt) text(entry, 'end_time', session.endedAt);
    text(entry, 'clock', String(session.clock));
    text(entry, 'software_version', session.softwareVersion);
    const program = text(entry, 'program_name', 'qscope');
    program.create_attribute('version', session.softwareVersion);
    text(entry, 'parameters', JSON.stringify(session.params));
    text(entry, 'model_hashes', JSON.stringify(session.modelHashes ?? {}));
    if (session.tfBackend) text(entry, 'tf_backend', session.tfBackend);
    text(entry, 'config', JSON.stringify(session.config));
    text(entry, 'instruments', JSON.stringify(session.instruments));
    if (Object.keys(session.metadata ?? {}).length) text(entry, 'metadata', JSON.stringify(session.metadata));
    if (described.kind) text(entry, 'dataset_kind', described.kind);

    // One NXdata per 2D result map: its last value, with the experiment's axes and units.
    for (const s of streams.filter((x) => x.kind === 'result')) {
      let last: Frame | undefined;
      for (const fr of reader.frames('results', s.name)) last = fr;
      if (!last || last.header.shape.length !== 2 || last.header.format === 'png') continue;
      const name = s.name.slice(s.name.indexOf('.') + 1);
      const d = described.mapAxes?.[name] ?? described.mapAxes?.['*'];
      const [ny, nx] = last.header.shape as [number, number];
      const axes: ArrayAxis[] = d && d.axes.length === 2 ? d.axes : [{ name: 'row', unit: '1', start: 0, step: 1 }, { name: 'column', unit: '1', start: 0, step: 1 }];
      const g = entry.create_group(nxName(name));
      g.create_attribute('NX_class', 'NXdata');
      g.create_attribute('signal', 'data');
      g.create_attribute('axes', axes.map((a) => nxName(a.name)));
      // A spectrum the experiment marks `fftshift` is stored with zero frequency in the middle, matching its axes.
      const values = d?.fftshift ? fftshift2(last.payload as ArrayLike<number>, ny, nx) : last.payload;
      const data = g.create_dataset({ name: 'data', data: values as never, shape: [ny, nx], dtype: d?.fftshift ? '<d' : (H5_DTYPE[last.header.dtype] ?? '<d') });
      const unit = s.unit ?? d?.unit;
      if (unit) data.create_attribute('units', unit);
      data.create_attribute('long_name', `${d?.longName ?? name}${unit && unit !== '1' ? ` (${unit})` : ''}`);
      axes.forEach((a, i) => {
        const n = i === 0 ? ny : nx;
        const values = Float64Array.from({ length: n }, (_, k) => (a.start ?? 0) + k * (a.step ?? 1));
        const ds = g.create_dataset({ name: nxName(a.name), data: values });
        ds.create_attribute('units', a.unit);
        ds.create_attribute('long_name', `${a.name} (${a.unit})`);
        g.create_attribute(`${nxName(a.name)}_indices`, i);
      });
      summary.maps.push(nxName(name));
    }
    if (summary.maps.length) entry.create_attribute('default', (['G2', 'spectrum', 'map'].find((m) => summary.maps.includes(m)) ?? summary.maps[0]!));

    // Raw streams, appended in chunks of frames: never the whole session in memory.
    const raw = entry.create_group('raw');
    raw.create_attribute('NX_class', 'NXcollection');
    for (const s of streams) {
      const table = s.kind === 'instrument' ? 'frames' : 'results';
      const per = s.shape.reduce((a, b) => a * b, 1);
      const dtype = H5_DTYPE[s.dtype];
      if (!dtype) {
        summary.skipped[s.name] = `dtype ${s.dtype}`;
        continue;
      }
      let g: Group | undefined;
      let data: ReturnType<Group['create_dataset']> | undefined;
      let times: ReturnType<Group['create_dataset']> | undefined;
      let n = 0;
      let buf: Frame[] = [];
      const flush = () => {
        if (!buf.length || !data || !times) return;
        const block = new (buf[0]!.payload.constructor as new (k: number) => Frame['payload'])(buf.length * per);
        buf.forEach((fr, i) => block.set(fr.payload as never, i * per));
        data.resize([n + buf.length, ...s.shape]);
        data.write_slice([[n, n + buf.length]], block);
        times.resize([n + buf.length]);
        times.write_slice([[n, n + buf.length]], Float64Array.from(buf, (fr) => fr.header.t));
        n += buf.length;
        buf = [];
      };
      let skipped: string | undefined;
      for (const fr of reader.frames(table, s.name)) {
        if (fr.header.format === 'png') {
          skipped = 'PNG-encoded images (the maps are in their NXdata groups)';
          break;
        }
        if (fr.header.dtype !== s.dtype || JSON.stringify(fr.header.shape) !== JSON.stringify(s.shape)) {
          skipped = 'frames change shape';
          break;
        }
        if (!g) {
          g = raw.create_group(nxName(s.name));
          g.create_attribute('NX_class', 'NXcollection');
          g.create_attribute('stream', s.name);
          const chunkRows = Math.max(1, Math.min(APPEND_FRAMES, Math.floor(65536 / Math.max(1, per))));
          data = g.create_dataset({ name: 'data', data: new (fr.payload.constructor as new (k: number) => Frame['payload'])(0) as never, shape: [0, ...s.shape], maxshape: [null, ...s.shape], chunks: [chunkRows, ...s.shape], dtype, compression: 'gzip', compression_opts: 4 });
          if (s.unit) data.create_attribute('units', s.unit);
          data.create_attribute('long_name', `${s.name}, one row per frame (axis 0 = seq)`);
          times = g.create_dataset({ name: 't', data: new Float64Array(0), shape: [0], maxshape: [null], chunks: [1024], dtype: '<d', compression: 'gzip', compression_opts: 4 });
          times.create_attribute('units', 'ns');
          times.create_attribute('long_name', 'time since the session started');
        }
        buf.push(fr);
        if (buf.length >= APPEND_FRAMES) flush();
      }
      if (skipped) {
        flush();
        if (g) g.create_attribute('note', `${skipped} after frame ${n}: the rest is not written`);
        summary.skipped[s.name] = skipped;
        continue;
      }
      flush();
      if (g) summary.streams.push(s.name);
    }
  } finally {
    f.close();
  }
  return summary;
}
