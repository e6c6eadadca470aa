/**
 * qscope's bridge adapters against the reference Python bridges (bridges/, --fake backends): the two sides are
 * written independently from docs/BRIDGE.md. Runs only where a python3 with pyzmq exists (Debian: python3-zmq);
 * qscope itself never needs Python.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../drivers/core/clock.js';
import type { Driver } from '../../../drivers/core/driver.js';
import { BridgeHbt } from '../../../drivers/hbt/bridge.js';
import { BridgeCamera } from '../../../drivers/camera/bridge.js';
import { BridgeForce } from '../../../drivers/force/bridge.js';
import { pythonWithZmq } from '../../support/python.js';

const bridges = join(dirname(fileURLToPath(import.meta.url)), '../../../bridges');
const running: (ChildProcess | Driver)[] = [];
afterEach(async () => {
  for (const x of running.splice(0)) {
    if ('disconnect' in x) await x.disconnect();
    else if (x.exitCode === null) x.kill('SIGKILL');
  }
});

function start(script: string): Promise<string> {
  const child = spawn(pythonWithZmq!, [join(bridges, script), '--fake', '--control', 'tcp://127.0.0.1:*', '--heartbeat-ms', '500'], { stdio: ['ignore', 'pipe', 'inherit'] });
  running.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /READY (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`${script} exited (${c})`)));
  });
}

describe.runIf(pythonWithZmq)('the reference Python bridges with qscope’s adapters (needs python3 + pyzmq)', () => {
  it('swabian_timetagger.py --fake: geometry with an integer-ps bin width, histograms and count rates', async () => {
    const d = new BridgeHbt('hbt0', new VirtualClock(), { endpoint: await start('swabian_timetagger.py'), heartbeatMs: 500 });
    running.push(d);
    await d.connect();
    expect(d.geometry).toEqual({ bins: 215, binWidthNs: 2.326, zeroBin: 107, jitterNs: 0.042 });
    expect(d.helloInfo?.bridge).toEqual({ name: 'swabian-timetagger', version: '0.1.0' });
    const h = await d.histogram(100_000);
    expect(h.payload).toHaveLength(215);
    expect(h.fields).toMatchObject({ integrationS: 100, binWidthNs: 2.326, zeroBin: 107, events: h.payload.reduce((a, b) => a + b, 0) });
    const r = await d.countRate(1000);
    expect(r.payload[0]).toBe(r.fields!.counts);
  });

  it('aravis_camera.py --fake: configure (read back) and snap', async () => {
    const cam = new BridgeCamera('cam0', new VirtualClock(), { endpoint: await start('aravis_camera.py'), heartbeatMs: 500 });
    running.push(cam);
    await cam.connect();
    expect(cam.sensor).toEqual({ width: 128, height: 128, pixelSizeNm: 80 });
    await cam.configure({ x: 16, y: 16, width: 32, height: 32 }, 4);
    const m = await cam.snap({ exposureMs: 3 });
    expect(m.shape).toEqual([8, 8, 1]);
    expect(m.fields).toMatchObject({ mode: 'kerr', components: ['Sz'], exposureMs: 3, pixelSizeNm: 320, binning: 4, roi: { x: 16, y: 16, width: 32, height: 32 } });
  });

  it('zi_mfli.py --fake: the in-minus-out variance of its quadratures sees the spin variance', async () => {
    const f = new BridgeForce('force0', new VirtualClock(), { endpoint: await start('zi_mfli.py'), heartbeatMs: 500 });
    running.push(f);
    await f.connect();
    const m = await f.measureVariance({ pulse: 0, Tm: 30 });
    // σ_spin² = 400 aN² over σ_th² = 1000 aN², 3000 samples.
    expect(m.payload[0]).toBeGreaterThan(150);
    expect(m.payload[0]).toBeLessThan(650);
    expect(m.fields).toMatchObject({ samples: 3000, Tm: 30, pulse: 0 });
  });
});
