/**
 * NeXus/HDF5 export (decision 1204): structure, values, units and the
 * @default chain, read back with h5wasm — and with h5py where python3-h5py is
 * installed. The file is written in a worker thread, raw streams chunked,
 * gzip-compressed and appended frame by frame.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import h5wasm from 'h5wasm/node';
import { exportNexus } from '../../../daemon/datasets/nexus.js';
import { pythonWith } from '../../support/python.js';
import { scanRig } from '../../pipelines/antibunching/scan-rig.js';
import { tmpDir } from '../../pipelines/cosy/helpers.js';

const h5py = pythonWith(['h5py', 'numpy']);

describe('qscope export --format nexus', () => {
  let rig: Awaited<ReturnType<typeof scanRig>>;
  let id: string;
  let file: string;
  const tmp = tmpDir('qscope-nexus-test-');
  beforeAll(async () => {
    rig = await scanRig({}, 7);
    id = await rig.engine.start('antibunching-scan', { nx: 4, ny: 3, prescanPixels: 2, calibrationS: 60, maxDwellS: 3 });
    expect((await rig.engine.whenEnded(id)).state).toBe('completed');
    file = join(tmp.dir, 'scan.nxs');
    const summary = await exportNexus(rig.store.pathOf(id), file, 'test-version');
    expect(summary.maps).toEqual(expect.arrayContaining(['G2', 'g2', 'pl', 'dwell_s']));
    expect(summary.streams).toEqual(expect.arrayContaining(['hbt0.histogram', 'hbt0.rate', 'g2.G2']));
  }, 120_000);
  afterAll(async () => {
    await rig?.cleanup();
    tmp.cleanup();
  });

  it('has the NXentry with times, plan, parameters, software version, model hashes and the full config', async () => {
    await h5wasm.ready;
    const f = new h5wasm.File(file, 'r');
    try {
      const session = rig.store.open(id);
      const row = session.session();
      session.close();
      expect(f.attrs['NX_class']!.value).toBe('NXroot');
      const entry = f.get('entry') as InstanceType<typeof h5wasm.Group>;
      expect(entry.attrs['NX_class']!.value).toBe('NXentry');
      const text = (p: string) => (f.get(`entry/${p}`) as InstanceType<typeof h5wasm.Dataset>).value;
      expect(text('start_time')).toBe(row.startedAt);
      expect(text('end_time')).toBe(row.endedAt);
      expect(text('plan')).toBe('antibunching-scan');
      expect(JSON.parse(String(text('parameters')))).toEqual(row.params);
      expect(text('software_version')).toBe(row.softwareVersion);
      expect(JSON.parse(String(text('model_hashes')))).toEqual(row.modelHashes);
      expect(JSON.parse(String(text('config')))).toEqual(row.config);
    } finally {
      f.close();
    }
  });

  it('one NXdata per result map with @signal, @axes, units, long_name and the @default chain', async () => {
    await h5wasm.ready;
    const f = new h5wasm.File(file, 'r');
    try {
      // /@default → entry; entry/@default → G2; G2/@signal → data; @axes → y, x.
      expect(f.attrs['default']!.value).toBe('entry');
      const entry = f.get('entry') as InstanceType<typeof h5wasm.Group>;
      expect(entry.attrs['default']!.value).toBe('G2');
      const g = f.get('entry/G2') as InstanceType<typeof h5wasm.Group>;
      expect(g.attrs['NX_class']!.value).toBe('NXdata');
      expect(g.attrs['signal']!.value).toBe('data');
      expect(g.attrs['axes']!.value).toEqual(['y', 'x']);
      const data = f.get('entry/G2/data') as InstanceType<typeof h5wasm.Dataset>;
      expect(data.shape).toEqual([3, 4]);
      expect(Array.from(data.value as Float64Array)).toEqual(Array.from(rig.engine.frames(id, 'g2.G2').at(-1)!.payload as Float64Array));
      expect(data.attrs['long_name']!.value).toMatch(/^G2 = /);
      expect(typeof data.attrs['units']!.value).toBe('string');
      const x = f.get('entry/G2/x') as InstanceType<typeof h5wasm.Dataset>;
      const pixel = 775 / 4;
      expect(Array.from(x.value as Float64Array)).toEqual([0, 1, 2, 3].map((i) => 50_000 - 1.5 * pixel + i * pixel));
      expect(x.attrs['units']!.value).toBe('nm');
      expect(g.attrs['x_indices']!.value).toBe(1);
    } finally {
      f.close();
    }
  });

  it('raw frame streams are chunked, gzip-compressed, one row per frame, with their times', async () => {
    await h5wasm.ready;
    const f = new h5wasm.File(file, 'r');
    try {
      const d = f.get('entry/raw/hbt0_histogram/data') as InstanceType<typeof h5wasm.Dataset>;
      const frames = rig.engine.frames(id, 'hbt0.histogram');
      expect(d.shape).toEqual([frames.length, 215]);
      expect(d.filters.map((x) => x.name)).toContain('deflate');
      expect(Array.from(d.slice([[frames.length - 1, frames.length]]) as Uint32Array)).toEqual(Array.from(frames.at(-1)!.payload));
      expect(Array.from(d.slice([[0, 1]]) as Uint32Array)).toEqual(Array.from(frames[0]!.payload));
      const t = f.get('entry/raw/hbt0_histogram/t') as InstanceType<typeof h5wasm.Dataset>;
      expect(Array.from(t.value as Float64Array)).toEqual(frames.map((fr) => fr.header.t));
      expect(t.attrs['units']!.value).toBe('ns');
    } finally {
      f.close();
    }
  });

  it('refuses to overwrite an existing file', async () => {
    await expect(exportNexus(rig.store.pathOf(id), file, 'v')).rejects.toThrow(/file exists/);
  });

  it.runIf(h5py !== undefined)('h5py reads the same values, units and default plot chain (needs python3-h5py)', () => {
    const script = `
import h5py, json, math, sys
f = h5py.File(sys.argv[1], 'r')
e = f[f.attrs['default']]
d = e[e.attrs['default']]
sig = d[d.attrs['signal']]
axes = [a.decode() if isinstance(a, bytes) else a for a in d.attrs['axes']]
print(json.dumps({'entry': f.attrs['default'], 'map': e.attrs['default'], 'shape': list(sig.shape), 'values': [None if math.isnan(v) else v for v in sig[()].ravel().tolist()],
  'units': sig.attrs['units'], 'axes': axes, 'x_units': d[axes[1]].attrs['units'], 'x0': float(d[axes[1]][0]),
  'raw_compression': e['raw/hbt0_histogram/data'].compression, 'raw_chunks': list(e['raw/hbt0_histogram/data'].chunks)}))
`;
    const r = spawnSync(h5py!, ['-c', script, file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    const g2 = rig.engine.frames(id, 'g2.G2').at(-1)!.payload as Float64Array;
    expect(out).toMatchObject({ entry: 'entry', map: 'G2', shape: [3, 4], axes: ['y', 'x'], x_units: 'nm', raw_compression: 'gzip' });
    expect(out.values).toEqual(Array.from(g2, (v) => (Number.isNaN(v) ? null : v)));
    expect(out.x0 as number).toBeCloseTo(50_000 - 1.5 * (775 / 4), 9);
    expect((out.raw_chunks as number[])[1]).toBe(215);
  });
});
