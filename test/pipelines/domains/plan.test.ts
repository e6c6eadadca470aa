import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { VirtualClock } from '../../../drivers/core/clock.js';
import { SimWorld } from '../../../drivers/core/world.js';
import { createDefaultRegistry } from '../../../drivers/index.js';
import { Engine } from '../../../daemon/engine/engine.js';
import { SessionStore } from '../../../daemon/store/store.js';
import { DEFAULT_LIMITS } from '../../../daemon/store/writer.js';
import { PlanRegistry } from '../../../daemon/plans/index.js';
import { replaySession } from '../../../daemon/engine/replay.js';
import { PipelineRegistry } from '../../../pipelines/core/pipeline.js';
import { domainImagingPlan } from '../../../pipelines/domains/plan.js';
import { domainsPipelineFactory } from '../../../pipelines/domains/pipeline.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'qscope-domains-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Piezo + a tiny Kerr camera (4×4 px of 80 nm: ×8 over a 10 nm lattice) over a 32-site cycloid, virtual clock. */
async function rig(mode: 'kerr' | 'spleem' = 'kerr') {
  const clock = new VirtualClock();
  const scene = { magnetic: { preset: 'cycloid', sizeHr: 32, periodHr: 16, hrPixelNm: 10 } };
  const world = new SimWorld({ seed: 4, clock, scene });
  const instruments = { piezo0: { kind: 'piezo', impl: 'sim' }, cam0: { kind: 'camera', impl: 'sim', mode, sensorPx: [16, 16], roi: [6, 6, 4, 4], pixelSizeNm: 80 } };
  const drivers = await createDefaultRegistry().build(instruments as never, { clock, world });
  for (const d of drivers.values()) await d.connect();
  const store = new SessionStore(dir, { limits: { ...DEFAULT_LIMITS, minFreeBytes: 1 } });
  const plans = new PlanRegistry().register(domainImagingPlan);
  const pipelines = new PipelineRegistry().register(domainsPipelineFactory);
  const engine = new Engine({ clock, drivers, plans, pipelines, store, config: { rig: { seed: 4, clock: 'virtual' }, instruments, scene }, softwareVersion: 'test' });
  return { engine, store, plans, pipelines, clock };
}

const PARAMS = { nx: 2, ny: 2, stepNm: 160, exposureMs: 50, model: 'none', finetuneSteps: 2, finetuneBatch: 2, maxFrames: 3, plateauTol: 0 };

describe('plan domain-imaging on the virtual clock', () => {
  it('steps the stage, snaps frames, emits an SR frame per frame live, stops at the frame budget, and renders LR/SR mosaics', async () => {
    const { engine, clock } = await rig();
    const t0 = clock.now();
    const id = await engine.start('domain-imaging', PARAMS);
    const st = await engine.whenEnded(id);
    expect(st.state).toBe('completed');
    expect(st.reason).toMatch(/^stopping rule: budget: 3 of 3 frames/);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(3 * 50);
    const r = engine.store.open(id);
    const frames = [...r.frames('frames')].filter((f) => f.header.stream === 'cam0.frame');
    expect(frames).toHaveLength(3);
    expect(frames.map((f) => f.header.stageNm)).toEqual([[49_920, 49_920, 50_000], [50_080, 49_920, 50_000], [49_920, 50_080, 50_000]]);
    const results = [...r.frames('results')];
    const sr = results.filter((f) => f.header.stream === 'domains.sr');
    expect(sr).toHaveLength(3);
    expect(sr[0]!.header.shape).toEqual([32, 32, 1]);
    expect(sr.map((f) => f.header.frame)).toEqual([0, 1, 2]);
    expect(results.filter((f) => f.header.stream === 'domains.loss')).toHaveLength(3);
    // The SR frame of each camera frame is emitted before the next camera frame is taken (live).
    expect(sr[0]!.header.t).toBeLessThan(frames[1]!.header.t);
    const mosaicSr = results.find((f) => f.header.stream === 'domains.mosaic_sr')!;
    const mosaicLr = results.find((f) => f.header.stream === 'domains.mosaic_lr')!;
    // Tiles 160 nm apart at 80 nm (LR) / 10 nm (SR) pixels: 4+2 LR pixels, 32+16 SR pixels across.
    expect(mosaicLr.header.shape).toEqual([6, 6, 1]);
    expect(mosaicSr.header.shape).toEqual([48, 48, 1]);
    const png = PNG.sync.read(Buffer.from(results.find((f) => f.header.stream === 'domains.png_mosaic_sr')!.payload as Uint8Array));
    expect(png.width).toBe(48);
    const decisions = r.events('decision').map((e) => e.data as { kind: string });
    expect(decisions.filter((d) => d.kind === 'shouldStop')).toHaveLength(4); // 3 frames + final
    r.close();
  }, 60_000);

  it('replays bit-identically (same frames, same SR frames from the same fine-tuning)', async () => {
    const { engine, store, plans, pipelines } = await rig('spleem');
    const id = await engine.start('domain-imaging', { ...PARAMS, maxFrames: 2 });
    const rec = await engine.whenEnded(id);
    expect(rec.state).toBe('completed');
    const report = await replaySession({ source: id, sourceStore: store, store, registry: createDefaultRegistry(), plans, pipelines, speed: 'max' });
    expect(report.status.state).toBe('completed');
    expect(report.mismatches).toEqual([]);
    expect(report.frames).toMatchObject({ identical: true });
    expect(report.results).toMatchObject({ identical: true, compared: rec.results });
  }, 60_000);
});
