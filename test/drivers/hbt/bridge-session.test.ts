/**
 * An antibunching scan with its correlator behind a bridge: the Node test
 * bridge serves the frames a simulated session recorded, and the session
 * through the bridge records exactly those frames. Killing the bridge
 * process mid-session suspends the session with the reason recorded; a
 * restarted bridge and the operator's resume finish it with no frame lost or
 * duplicated.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filter, firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../../drivers/core/frame.js';
import type { HbtGeometry } from '../../../drivers/hbt/model.js';
import type { HbtCorrelator } from '../../../drivers/hbt/interface.js';
import { scanRig } from '../../pipelines/antibunching/scan-rig.js';

const here = dirname(fileURLToPath(import.meta.url));
const BRIDGE = join(here, '../../support/test-bridge.mjs');
const PARAMS = { nx: 3, ny: 2, prescanPixels: 2, calibrationS: 60, method: 'shape-fixed-ml', maxDwellS: 3 };
const STREAMS = ['hbt0.histogram', 'hbt0.rate', 'g2.calibration', 'g2.g2', 'g2.pl', 'g2.dwell_s', 'g2.metrics'];
const tmp = mkdtempSync(join(tmpdir(), 'qscope-bridge-session-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

type Recorded = Record<string, Frame[]>;
let simulated: Recorded;
let geometry: HbtGeometry;

function toRecording(frames: Frame[]) {
  return frames.map((f) => {
    const { stream: _s, seq: _q, t: _t, dtype, shape, ...fields } = f.header;
    return { dtype, shape, data: Array.from(f.payload as ArrayLike<number>), fields };
  });
}

/** Starts the test bridge as its own process; resolves with its control endpoint. */
function startBridge(options: Record<string, unknown>, onHold?: () => void): Promise<{ child: ChildProcess; control: string }> {
  const file = join(tmp, `opts-${children.length}.json`);
  writeFileSync(file, JSON.stringify(options));
  const child = spawn(process.execPath, [BRIDGE, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m && !out.includes('\u0000resolved')) {
        out += '\u0000resolved';
        resolve({ child, control: m[1]! });
      }
      if (/HOLD /.test(out) && onHold) {
        const h = onHold;
        onHold = undefined;
        h();
      }
    });
    child.once('exit', (code) => reject(new Error(`test bridge exited (${code}) before READY`)));
  });
}

async function runScan(instruments?: Parameters<typeof scanRig>[2], onFault?: 'suspend') {
  const rig = await scanRig({}, 11, instruments);
  const id = await rig.engine.start('antibunching-scan', PARAMS, onFault ? { onFault } : undefined);
  return { rig, id };
}

function collect(rig: Awaited<ReturnType<typeof scanRig>>, id: string): Recorded {
  return Object.fromEntries(STREAMS.map((s) => [s, rig.engine.frames(id, s)]));
}

/** Headers and payloads, as plain data. */
const plain = (fs: Frame[]) => fs.map((f) => ({ header: f.header, payload: Array.from(f.payload as ArrayLike<number>) }));

beforeAll(async () => {
  const { rig, id } = await runScan();
  try {
    expect((await rig.engine.whenEnded(id)).state).toBe('completed');
    simulated = collect(rig, id);
    geometry = (rig.drivers.get('hbt0') as unknown as HbtCorrelator).geometry;
  } finally {
    await rig.cleanup();
  }
  expect(simulated['hbt0.histogram']!.length).toBeGreaterThan(6);
  writeFileSync(
    join(tmp, 'recording.json'),
    JSON.stringify({ instruments: [{ id: 'tagger0', kind: 'hbt', static: { geometry }, streams: { histogram: toRecording(simulated['hbt0.histogram']!), countRate: toRecording(simulated['hbt0.rate']!) } }] }),
  );
}, 120_000);

describe('antibunching-scan through the bridge', () => {
  it('records the same frames and results as the simulator for the same scene', async () => {
    const { control } = await startBridge({ recordingFile: join(tmp, 'recording.json'), cursorFile: join(tmp, 'cursor-a.json') });
    const { rig, id } = await runScan({ piezo0: { kind: 'piezo', impl: 'sim' }, hbt0: { kind: 'hbt', impl: 'bridge', endpoint: control, heartbeatMs: 200 } });
    try {
      expect(await rig.engine.whenEnded(id)).toMatchObject({ state: 'completed', reason: 'plan finished' });
      const got = collect(rig, id);
      for (const s of STREAMS) {
        expect(got[s]!.length, s).toBe(simulated[s]!.length);
        expect(plain(got[s]!), s).toEqual(plain(simulated[s]!));
      }
    } finally {
      await rig.cleanup();
    }
  }, 120_000);

  it('killing the bridge mid-session suspends it with the reason recorded; a restarted bridge and resume lose and duplicate nothing', async () => {
    const n = simulated['hbt0.histogram']!.length;
    const holdAt = Math.floor(n / 2);
    const cursorFile = join(tmp, 'cursor-b.json');
    const recordingFile = join(tmp, 'recording.json');
    let killed!: () => void;
    const held = new Promise<void>((r) => (killed = r));
    const first = await startBridge({ recordingFile, cursorFile, holdAt: { method: 'histogram', index: holdAt } }, () => {
      first.child.kill('SIGKILL');
      killed();
    });
    const port = /:(\d+)$/.exec(first.control)![1];
    const { rig, id } = await runScan({ piezo0: { kind: 'piezo', impl: 'sim' }, hbt0: { kind: 'hbt', impl: 'bridge', endpoint: first.control, heartbeatMs: 200 } }, 'suspend');
    try {
      const suspended = firstValueFrom(rig.engine.events$.pipe(filter((e) => e.type === 'suspended' && e.sessionId === id)));
      await held;
      const ev = await suspended;
      expect(ev.status.state).toBe('suspended');
      expect(ev.status.reason).toMatch(/^suspended: hbt0: (connection to the bridge at tcp:\/\/127\.0\.0\.1:\d+ lost|bridge at .* silent for \d+ ms)/);
      expect(rig.engine.frames(id, 'hbt0.histogram')).toHaveLength(holdAt);

      // The same endpoint (the port read back from the first start), the cursor where the killed bridge stopped.
      await startBridge({ recordingFile, cursorFile, control: `tcp://127.0.0.1:${port}` });
      rig.engine.resume(id);
      expect((await rig.engine.whenEnded(id)).state).toBe('completed');
      const got = collect(rig, id);
      for (const s of STREAMS) expect(plain(got[s]!).map((f) => ({ ...f, header: { ...f.header, t: 0 } })), s).toEqual(plain(simulated[s]!).map((f) => ({ ...f, header: { ...f.header, t: 0 } })));
      const r = rig.store.open(id);
      try {
        expect(r.events('suspend')).toHaveLength(1);
        expect(r.events('suspend')[0]).toMatchObject({ source: 'hbt0', data: { code: 'DISCONNECTED' } });
        expect(r.events().map((e) => e.type).filter((t) => ['suspend', 'resume', 'reconnect'].includes(t))).toEqual(['suspend', 'resume', 'reconnect']);
        expect([...r.frames('frames')].filter((f) => f.header.stream === 'hbt0.histogram').map((f) => f.header.seq)).toEqual([...Array(n).keys()]);
      } finally {
        r.close();
      }
    } finally {
      await rig.cleanup();
    }
  }, 120_000);
});
