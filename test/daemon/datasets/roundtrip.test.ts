import { existsSync, readdirSync, readFileSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportSession } from '../../../daemon/datasets/export.js';
import { importDataset } from '../../../daemon/datasets/import.js';
import { readNpy } from '../../../drivers/core/npy.js';
import { replaySession } from '../../../daemon/engine/replay.js';
import { SessionStore } from '../../../daemon/store/store.js';
import { DEFAULT_LIMITS } from '../../../daemon/store/writer.js';
import { testDriverRegistry, testPipelines, testPlans } from '../engine/doubles.js';
import { makeEngine, tmpDir } from '../engine/helpers.js';

let tmp: ReturnType<typeof tmpDir>;
beforeEach(() => {
  tmp = tmpDir();
});
afterEach(() => tmp.cleanup());

const limits = { ...DEFAULT_LIMITS, minFreeBytes: 1 };

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[p] = readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return out;
}

describe('export → import → replay', () => {
  it('round-trips arrays exactly (dtype and shape included) and the imported session replays bit-identically', async () => {
    const sessions = join(tmp.dir, 'sessions');
    const { engine } = await makeEngine(sessions);
    const id = await engine.start('test-xy-rf', { nx: 3, ny: 3, pulses: 2 });
    await engine.whenEnded(id);
    const store = new SessionStore(sessions, { limits });
    const reader = store.open(id);
    const out = join(tmp.dir, 'export');
    const { manifest } = exportSession(reader, out);
    expect(manifest.kind).toBe('qscope-session');
    const forces = readNpy(join(out, 'raw', 'force0.quadratures.npy'));
    const recorded = [...reader.frames('frames', 'force0.quadratures')];
    expect(forces.dtype).toBe('f64');
    expect(forces.shape).toEqual([recorded.length, 2]);
    expect([...forces.data]).toEqual(recorded.flatMap((f) => [...f.payload]));
    const stack = readNpy(join(out, 'raw', 'stack.stack.npy'));
    expect(stack.shape).toEqual([recorded.length, 2, 3, 3]);
    reader.close();

    const dbPath = join(sessions, 'imported.db');
    const res = importDataset(out, dbPath, { limits });
    expect(res).toMatchObject({ id: 'imported', kind: 'session', frames: recorded.length, results: recorded.length });
    const a = store.open(id);
    const b = store.open('imported');
    for (const table of ['frames', 'results'] as const) {
      const fa = [...a.frames(table)].sort((x, y) => x.header.t - y.header.t);
      const fb = [...b.frames(table)];
      expect(fb.map((f) => f.header)).toEqual(fa.map((f) => f.header));
      fb.forEach((f, i) => {
        expect(f.payload.constructor).toBe(fa[i]!.payload.constructor);
        expect(f.payload).toEqual(fa[i]!.payload);
      });
    }
    expect(b.session()).toMatchObject({ plan: 'test-xy-rf', status: 'completed', source: { originalId: id } });
    expect(b.events().length).toBe(a.events().length);
    a.close();
    b.close();

    const report = await replaySession({ source: 'imported', sourceStore: store, store, registry: testDriverRegistry(), plans: testPlans(), pipelines: testPipelines(), speed: 'max' });
    expect(report.mode).toBe('plan');
    expect(report.mismatches).toEqual([]);
    expect(report.frames.identical).toBe(true);
    expect(report.results.identical).toBe(true);
    // ... and its results equal the original recording's.
    const orig = store.open(id);
    const rep = store.open(report.id);
    expect([...rep.frames('results')].map((f) => [...f.payload])).toEqual([...orig.frames('results')].map((f) => [...f.payload]));
    orig.close();
    rep.close();
  });

  it('imports a foreign folder (NumPy-written arrays + manifest) as one frame per array, replayable frame by frame', async () => {
    const dir = join(tmp.dir, 'foreign');
    mkdirSync(dir);
    const fx = join(import.meta.dirname, '../../fixtures/npy');
    copyFileSync(join(fx, 'f64_2x3.npy'), join(dir, 'map.npy'));
    copyFileSync(join(fx, 'i16_fortran_3x4.npy'), join(dir, 'mask.npy'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ kind: 'cosy-2d', version: 1, axes: [{ name: 't1', unit: 'us', start: 4, step: 18 }], parameters: { n: 2 } }));
    const sessions = join(tmp.dir, 'sessions');
    const res = importDataset(dir, join(sessions, 'foreign.db'), { limits });
    expect(res).toMatchObject({ kind: 'foreign', frames: 2 });
    const store = new SessionStore(sessions, { limits });
    const r = store.open('foreign');
    const frames = [...r.frames('frames')];
    expect(frames.map((f) => [f.header.stream, f.header.dtype, f.header.shape])).toEqual([
      ['dataset.map', 'f64', [2, 3]],
      ['dataset.mask', 'i16', [3, 4]],
    ]);
    expect([...frames[1]!.payload]).toEqual(Array.from({ length: 12 }, (_, i) => i - 6));
    r.close();
    const report = await replaySession({ source: 'foreign', sourceStore: store, store, registry: testDriverRegistry(), plans: testPlans(), pipelines: testPipelines(), speed: 'max' });
    expect(report).toMatchObject({ mode: 'frames', status: { state: 'completed', frames: 2 } });
    expect(report.frames.identical).toBe(true);
  });

  it('a lying NPY header, a missing manifest or an existing --out give clear errors and leave nothing on disk', () => {
    const dir = join(tmp.dir, 'bad');
    mkdirSync(dir);
    const fx = join(import.meta.dirname, '../../fixtures/npy');
    copyFileSync(join(fx, 'f64_2x3.npy'), join(dir, 'a.npy'));
    copyFileSync(join(fx, 'lying_shape.npy'), join(dir, 'b.npy'));
    const sessions = join(tmp.dir, 'sessions');
    mkdirSync(sessions);
    expect(() => importDataset(dir, join(sessions, 'x.db'))).toThrow(/bad\/manifest\.json: missing/);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ kind: 'thing', version: 1 }));
    const before = { ...snapshot(dir), ...snapshot(sessions) };
    expect(() => importDataset(dir, join(sessions, 'x.db'))).toThrow(/b\.npy: header says shape \(9, 9\) of <f8 = 648 bytes of data, but the file holds 48/);
    expect({ ...snapshot(dir), ...snapshot(sessions) }).toEqual(before);
    expect(readdirSync(sessions)).toEqual([]);
    writeFileSync(join(dir, 'manifest.json'), '{ nope');
    expect(() => importDataset(dir, join(sessions, 'x.db'))).toThrow(/manifest\.json: invalid JSON/);
    writeFileSync(join(sessions, 'x.db'), 'keep me');
    expect(() => importDataset(dir, join(sessions, 'x.db'))).toThrow(/already exists/);
    expect(readFileSync(join(sessions, 'x.db'), 'utf8')).toBe('keep me');
    expect(existsSync(join(sessions, '.x.importing.db'))).toBe(false);
  });
});
