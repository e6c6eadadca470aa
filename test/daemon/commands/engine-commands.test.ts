import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../../../daemon/commands/run.js';
import { replayCommand } from '../../../daemon/commands/replay.js';
import { exportCommand, importCommand } from '../../../daemon/commands/datasets.js';
import { listSessions, showSession } from '../../../daemon/commands/sessions.js';
import type { CommandIO } from '../../../daemon/commands/io.js';
import { TEST_INSTRUMENTS, testDriverRegistry, testPipelines, testPlans } from '../engine/doubles.js';
import { tmpDir } from '../engine/helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '../../../dist/daemon/cli.js');
const run = promisify(execFile);

let tmp: ReturnType<typeof tmpDir>;
beforeEach(() => {
  tmp = tmpDir();
});
afterEach(() => tmp.cleanup());

function captureIO(): CommandIO & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', progress: false, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

const deps = (io: CommandIO) => ({ io, drivers: testDriverRegistry, plans: async () => testPlans(), pipelines: async () => testPipelines() });

function writeConfig(extra = ''): string {
  const file = join(tmp.dir, 'rig.yaml');
  const inst = Object.entries(TEST_INSTRUMENTS).map(([id, c]) => `  ${id}: {kind: ${c.kind}, impl: ${c.impl}}`).join('\n');
  writeFileSync(file, `rig: {seed: 3, clock: virtual}\nlog: {level: warn}\ninstruments:\n${inst}\nsessions: {dir: ${join(tmp.dir, 'cfg-sessions')}, durability: full, minFreeMiB: 1}\n${extra}`);
  return file;
}

describe('qscope run / sessions / replay / export / import (in-process)', () => {
  it('run completes with exit 0, records into --sessions, and the other commands work on it', async () => {
    const io = captureIO();
    const sessions = join(tmp.dir, 'sessions');
    const code = await runPlan('test-raster', { param: ['nx=2', 'ny=2', 'chunkMs=500'], instrument: [], config: writeConfig(), sessions, sample: 'NV-7' }, deps(io));
    expect(io.stderr).toMatch(/session \S+: test-raster running/);
    expect(code).toBe(0);
    const [line] = io.stdout.trim().split('\n');
    const id = line!.split(' ')[0]!;
    expect(line).toMatch(/ completed: plan finished \(\d+ frames, \d+ results, [\d.]+ s of experiment time\)/);
    expect(readdirSync(sessions)).toEqual([`${id}.db`]);

    const ls = captureIO();
    expect(await listSessions({ sessions }, ls)).toBe(0);
    expect(ls.stdout).toMatch(new RegExp(`^${id}  test-raster +completed`));
    const show = captureIO();
    expect(await showSession(id, { sessions }, show)).toBe(0);
    expect(show.stdout).toMatch(/params \{"nx":2,"ny":2,"chunkMs":500,/);
    expect(show.stdout).toMatch(/metadata +\{"sample":"NV-7"\}/);
    expect(show.stdout).toMatch(/stream +hbt0\.histogram +instrument u32 \[16\]/);

    const rp = captureIO();
    expect(await replayCommand(id, { speed: 'max', sessions }, deps(rp))).toBe(0);
    expect(rp.stdout).toMatch(/decisions: all as recorded/);
    expect(rp.stdout).toMatch(/results: bit-identical \(\d+\)/);

    const ex = captureIO();
    expect(await exportCommand(id, { out: join(tmp.dir, 'export'), sessions }, ex)).toBe(0);
    expect(existsSync(join(tmp.dir, 'export', 'manifest.json'))).toBe(true);
    const im = captureIO();
    expect(await importCommand(join(tmp.dir, 'export'), { out: join(sessions, 'back.db') }, im)).toBe(0);
    expect(im.stdout).toMatch(/session back \(session: \d+ frames/);
  });

  it('run: bad params, unknown plans and bad configs exit 2 with the reason; a failed session exits 1', async () => {
    const cfg = writeConfig();
    const io = captureIO();
    expect(await runPlan('test-raster', { param: ['nx=0'], instrument: [], config: cfg }, deps(io))).toBe(2);
    expect(io.stderr).toMatch(/qscope run: params\.nx: must be >= 1/);
    const io2 = captureIO();
    expect(await runPlan('nope', { param: [], instrument: [], config: cfg }, deps(io2))).toBe(2);
    expect(io2.stderr).toMatch(/unknown plan 'nope' \(plans: /);
    const io3 = captureIO();
    expect(await runPlan('test-raster', { param: ['nx'], instrument: [], config: cfg }, deps(io3))).toBe(2);
    expect(io3.stderr).toMatch(/--param nx: expected key=value/);
    const bad = join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, 'rig: {seed: 1, clock: virtual}\nsessions: {dri: x}\n');
    const io4 = captureIO();
    expect(await runPlan('test-raster', { param: [], instrument: [], config: bad }, deps(io4))).toBe(2);
    expect(io4.stderr).toMatch(/sessions\.dri: unknown key/);
    const faulty = writeConfig().replace('hbt0: {kind: hbt, impl: sim}', 'hbt0: {kind: hbt, impl: sim, faults: {disconnectAtMs: 1500}}');
    writeFileSync(join(tmp.dir, 'faulty.yaml'), readFileSync(faulty, 'utf8').replace('hbt0: {kind: hbt, impl: sim}', 'hbt0: {kind: hbt, impl: sim, faults: {disconnectAtMs: 1500}}'));
    const io5 = captureIO();
    expect(await runPlan('test-raster', { param: [], instrument: [], config: join(tmp.dir, 'faulty.yaml') }, deps(io5))).toBe(1);
    expect(io5.stdout).toMatch(/ failed: fault: hbt0: instrument disconnected/);
    // Without --sessions, the config's sessions.dir is used.
    expect(readdirSync(join(tmp.dir, 'cfg-sessions')).filter((f) => f.endsWith('.db'))).toHaveLength(1);
  });
});

describe('corrupt or foreign files given to the built CLI', () => {
  it('replay/export/import/sessions show: clear error, exit 2, nothing else on disk touched', async () => {
    if (!existsSync(cli)) throw new Error('dist/ missing: run `npx tsc -p tsconfig.json` first');
    const sessions = join(tmp.dir, 'sessions');
    mkdirSync(sessions);
    writeFileSync(join(sessions, 'random.db'), Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 31) % 256)));
    writeFileSync(join(sessions, 'trunc.db'), Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(200)]));
    const ds = join(tmp.dir, 'ds');
    mkdirSync(ds);
    copyFileSync(join(here, '../../fixtures/npy/lying_shape.npy'), join(ds, 'x.npy'));
    writeFileSync(join(ds, 'manifest.json'), '{"kind": "thing", "version": 1}');
    const snap = () => {
      const o: Record<string, string> = {};
      for (const d of [sessions, ds]) for (const f of readdirSync(d)) o[join(d, f)] = readFileSync(join(d, f)).toString('base64');
      return o;
    };
    const before = snap();
    const cases: [string[], RegExp][] = [
      [['replay', 'random', '--sessions', sessions], /qscope replay: .*random\.db: not a qscope session \(not an SQLite database\)/],
      [['replay', join(sessions, 'trunc.db')], /qscope replay: .*trunc\.db: (not a qscope session|truncated or corrupt)/],
      [['replay', 'nothere', '--sessions', sessions], /nothere\.db: no such session file/],
      [['replay', 'random', '--sessions', sessions, '--speed', 'fast'], /--speed: must be realtime, max or a number > 0, got 'fast'/],
      [['export', 'random', '--sessions', sessions, '--out', join(tmp.dir, 'out')], /qscope export: .*random\.db: not a qscope session/],
      [['import', ds, '--out', join(sessions, 'new.db')], /qscope import: .*x\.npy: header says shape \(9, 9\)/],
      [['sessions', 'show', 'random', '--sessions', sessions], /random\.db: not a qscope session/],
    ];
    for (const [args, re] of cases) {
      const err = await run(process.execPath, [cli, ...args]).then(
        () => undefined,
        (e: { code: number; stderr: string }) => e,
      );
      expect(err, args.join(' ')).toBeDefined();
      expect(err!.code, args.join(' ')).toBe(2);
      expect(err!.stderr).toMatch(re);
    }
    expect(snap()).toEqual(before);
    expect(existsSync(join(tmp.dir, 'out'))).toBe(false);
  });
});
