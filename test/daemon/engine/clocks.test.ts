/**
 * Replay identity on any clock (issue 18, point 1; decision 1800): a result's `t` is the data time it was
 * computed from, `--speed N` paces virtual time (computation takes no experiment time), and a session
 * recorded on the real clock replays with identical values and times.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlan } from '../../../daemon/commands/run.js';
import { replayCommand } from '../../../daemon/commands/replay.js';
import type { CommandIO } from '../../../daemon/commands/io.js';
import { compareRecordings } from '../../../daemon/engine/replay.js';
import { PROCESSING_LATENCY_FIELD } from '../../../daemon/engine/session.js';
import { SessionStore } from '../../../daemon/store/store.js';
import { DEFAULT_LIMITS } from '../../../daemon/store/writer.js';
import { tmpDir } from './helpers.js';

function captureIO(): CommandIO & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', progress: false, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

// A tiny antibunching-scan: pre-scan, 1 s calibration, 2×2 pixels, final maps (computed after the last frame).
const PARAMS = ['nx=2', 'ny=2', 'prescanPixels=4', 'prescanDwellMs=5', 'calibrationS=1', 'integrationMs=100', 'maxDwellS=1', 'minDwellS=0'];
// On the real clock every pixel stops after its first 10 ms histogram (a huge target σ), so the run takes ~1.1 s.
const REAL_PARAMS = ['nx=2', 'ny=2', 'prescanPixels=4', 'prescanDwellMs=5', 'calibrationS=1', 'integrationMs=10', 'maxDwellS=1', 'minDwellS=0', 'targetFraction=1000'];

let tmp: ReturnType<typeof tmpDir>;
beforeAll(() => {
  tmp = tmpDir('qscope-clocks-');
});
afterAll(() => tmp.cleanup());

function config(name: string, clock: 'virtual' | 'real'): string {
  const file = join(tmp.dir, `${name}.yaml`);
  writeFileSync(
    file,
    `rig: {name: clocks-${name}, seed: 11, clock: ${clock}}\nlog: {level: warn}\ninstruments:\n  piezo0: {kind: piezo, impl: sim}\n  hbt0: {kind: hbt, impl: sim, efficiency: 1}\nsessions: {dir: ${join(tmp.dir, name)}, durability: normal, minFreeMiB: 1}\n`,
  );
  return file;
}

async function record(name: string, clock: 'virtual' | 'real', params: string[], speed?: number): Promise<{ id: string; sessions: string }> {
  const io = captureIO();
  const sessions = join(tmp.dir, name);
  const code = await runPlan('antibunching-scan', { param: params, instrument: [], config: config(name, clock), sessions, ...(speed ? { speed } : {}) }, { io });
  expect(io.stderr + io.stdout).toMatch(/completed/);
  expect(code).toBe(0);
  return { id: io.stdout.trim().split(' ')[0]!, sessions };
}

function open(rec: { id: string; sessions: string }) {
  return new SessionStore(rec.sessions, { limits: { ...DEFAULT_LIMITS, minFreeBytes: 1 } }).open(rec.id);
}

describe('antibunching-scan on the virtual clock and on the paced clock at two speeds', () => {
  it('is the same experiment: same experiment time, identical frames and results (times included); replay at max exits 0', async () => {
    const virtual = await record('virtual', 'virtual', PARAMS);
    const slow = await record('paced-500', 'virtual', PARAMS, 500);
    const fast = await record('paced-20000', 'virtual', PARAMS, 20_000);
    const [rv, rs, rf] = [open(virtual), open(slow), open(fast)];
    try {
      expect(rs.session().config).toMatchObject({ rig: { clock: 'virtual' } });
      const duration = rv.session().durationNs;
      expect(duration).toBeGreaterThan(1e9); // at least the 1 s calibration
      expect(rs.session().durationNs).toBe(duration);
      expect(rf.session().durationNs).toBe(duration);
      for (const other of [rs, rf]) {
        const frames = compareRecordings(rv, other, 'frames');
        expect(frames.differences).toEqual([]);
        const results = compareRecordings(rv, other, 'results');
        expect(results.differences).toEqual([]);
        expect(results.compared).toBeGreaterThan(10);
      }
      // The final maps carry the time of the frame they were computed from: the last frame of the session.
      const rate = [...rv.frames('frames', 'hbt0.rate')];
      const last = rate[rate.length - 1]!;
      expect(last.header.phase).toBe('final');
      const maps = [...rv.frames('results', 'g2.G2')];
      expect(maps).toHaveLength(1);
      expect(maps[0]!.header.t).toBe(last.header.t);
      expect(maps[0]!.header[PROCESSING_LATENCY_FIELD]).toBe(0); // virtual time stands still while the maps are computed
    } finally {
      for (const r of [rv, rs, rf]) r.close();
    }
    for (const rec of [slow, fast]) {
      const rp = captureIO();
      expect(await replayCommand(rec.id, { speed: 'max', sessions: rec.sessions }, { io: rp })).toBe(0);
      expect(rp.stdout).toMatch(/frames: identical/);
      expect(rp.stdout).toMatch(/results: bit-identical \(\d+\)/);
    }
  }, 240_000);
});

describe('a recording on the real clock (simulated instruments)', () => {
  it('replays at max speed with identical values and times; only the processing latency differs', async () => {
    const real = await record('real', 'real', REAL_PARAMS);
    const r = open(real);
    let latency: number;
    try {
      expect(r.session().config).toMatchObject({ rig: { clock: 'real' } });
      const rate = [...r.frames('frames', 'hbt0.rate')];
      const maps = [...r.frames('results', 'g2.G2')];
      expect(maps[0]!.header.t).toBe(rate[rate.length - 1]!.header.t);
      latency = Number(maps[0]!.header[PROCESSING_LATENCY_FIELD]);
      expect(latency).toBeGreaterThan(0); // the maps took real time to compute after their data
    } finally {
      r.close();
    }
    const rp = captureIO();
    expect(await replayCommand(real.id, { speed: 'max', sessions: real.sessions }, { io: rp })).toBe(0);
    expect(rp.stdout).toMatch(/frames: identical/);
    expect(rp.stdout).toMatch(/results: bit-identical \(\d+\)/);
  }, 120_000);
});
