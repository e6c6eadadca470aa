import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../../drivers/core/clock.js';
import { SimWorld } from '../../../drivers/core/world.js';
import { createDefaultRegistry } from '../../../drivers/index.js';
import { Engine } from '../../../daemon/engine/engine.js';
import { SessionStore } from '../../../daemon/store/store.js';
import { DEFAULT_LIMITS } from '../../../daemon/store/writer.js';
import { PlanRegistry } from '../../../daemon/plans/index.js';
import { replaySession } from '../../../daemon/engine/replay.js';
import { PipelineRegistry } from '../../../pipelines/core/pipeline.js';
import { mrfmMultislicePlan, mrfmXyzPlan } from '../../../pipelines/mrfm/plan.js';
import { mrfmPipelineFactory } from '../../../pipelines/mrfm/pipeline.js';
import { createDefaultExporters, exportSession } from '../../../daemon/datasets/export.js';
import { readMrfmDataset } from '../../../pipelines/mrfm/dataset.js';
import { reconstructMrfmFolder } from '../../../pipelines/mrfm/offline.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'qscope-mrfm-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const SCENE = { mrfm: { grid: { nx: 12, ny: 12, nz: 8, voxelNm: 5, standoffNm: 15 } } };
const INSTRUMENTS = {
  piezo0: { kind: 'piezo', impl: 'sim' },
  rf1: { kind: 'rf', impl: 'sim' },
  force0: { kind: 'force', impl: 'sim', rf: 'rf1' },
};
const SMALL = { nx: 6, ny: 6, nz: 4, stepNm: 5, nf: 3, zSteps: 3, TmS: 30, maxIter: 30, reconstructEvery: 3, subSamples: 1 };

async function rig() {
  const clock = new VirtualClock();
  const world = new SimWorld({ seed: 4, clock, scene: SCENE });
  const drivers = await createDefaultRegistry().build(INSTRUMENTS, { clock, world });
  for (const d of drivers.values()) await d.connect();
  const store = new SessionStore(dir, { limits: { ...DEFAULT_LIMITS, minFreeBytes: 1 } });
  const plans = new PlanRegistry().register(mrfmMultislicePlan).register(mrfmXyzPlan);
  const pipelines = new PipelineRegistry().register(mrfmPipelineFactory);
  const engine = new Engine({ clock, drivers, plans, pipelines, store, config: { rig: { seed: 4, clock: 'virtual' }, instruments: INSTRUMENTS, scene: SCENE }, softwareVersion: 'test' });
  return { engine, clock, store, plans, pipelines };
}

describe('plans mrfm-multislice and mrfm-xyz on the virtual clock', () => {
  it('multislice: the masked points under each pulse, T_m each, progressive reconstructions, then replays bit-identically', async () => {
    const { engine, clock, store, plans, pipelines } = await rig();
    const t0 = clock.now();
    const id = await engine.start('mrfm-multislice', { ...SMALL, p: 0.5 });
    const st = await engine.whenEnded(id);
    expect(st.state).toBe('completed');
    const r = engine.store.open(id);
    const frames = [...r.frames('frames')].filter((f) => f.header.stream === 'force0.variance');
    const mask = r.events('mark').map((e) => e.data as { type: string; data: { sampled: number } }).find((e) => e.type === 'mask')!;
    expect(frames).toHaveLength(mask.data.sampled);
    expect(frames.length).toBeGreaterThan(0.3 * 6 * 6 * 3);
    expect(frames.length).toBeLessThan(0.7 * 6 * 6 * 3);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(frames.length * 30_000);
    expect(new Set(frames.map((f) => f.header.l))).toEqual(new Set([0, 1, 2]));
    const recons = [...r.frames('results')].filter((f) => f.header.stream === 'mrfm.recon');
    expect(recons.length).toBe(2); // after row 3 and at the end
    expect(recons.at(-1)!.header.shape).toEqual([6, 6, 4]);
    expect(recons.at(-1)!.header.sampledFraction).toBeCloseTo(frames.length / (6 * 6 * 3), 12);
    expect([...recons.at(-1)!.payload].some((v) => v > 0)).toBe(true);
    // qscope export writes the session as an mrfm-multislice dataset that reconstruct reads
    const out = join(dir, 'export');
    const ex = exportSession(r, out, await createDefaultExporters());
    expect(ex.manifest.kind).toBe('mrfm-multislice');
    const ds = readMrfmDataset(out);
    expect(ds.dims).toEqual({ nx: 6, ny: 6, nz: 4, nf: 3 });
    expect(ds.measurement.filter((v) => !Number.isNaN(v))).toHaveLength(frames.length);
    const rec2 = await reconstructMrfmFolder({ input: out, out: join(dir, 'recon'), maxIter: 30 });
    expect(rec2.files).toContain('recon.npy');
    r.close();
    const rec = st;
    const report = await replaySession({ source: id, sourceStore: store, store, registry: createDefaultRegistry(), plans, pipelines, speed: 'max' });
    expect(report.status.state).toBe('completed');
    expect(report.mismatches).toEqual([]);
    expect(report.frames).toMatchObject({ identical: true });
    expect(report.results).toMatchObject({ identical: true, compared: rec.results });
  });

  it('xyz: one pulse, the sample stepped in z, every point measured, and replays bit-identically', async () => {
    const { engine, store, plans, pipelines } = await rig();
    const id = await engine.start('mrfm-xyz', { ...SMALL });
    const st = await engine.whenEnded(id);
    expect(st.state).toBe('completed');
    const r = engine.store.open(id);
    const frames = [...r.frames('frames')].filter((f) => f.header.stream === 'force0.variance');
    expect(frames).toHaveLength(6 * 6 * 3);
    expect(new Set(frames.map((f) => f.header.pulse))).toEqual(new Set([0]));
    const moves = r.events('command').map((e) => e.data as { command: string; params: { z: number } }).filter((c) => c.command === 'moveTo');
    expect(new Set(moves.map((m) => m.params.z))).toEqual(new Set([50_000, 50_005, 50_010]));
    r.close();
    const report = await replaySession({ source: id, sourceStore: store, store, registry: createDefaultRegistry(), plans, pipelines, speed: 'max' });
    expect(report.mismatches).toEqual([]);
    expect(report.results).toMatchObject({ identical: true, compared: st.results });
  });
});
