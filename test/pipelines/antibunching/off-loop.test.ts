/**
 * The event loop stays free during an antibunching-scan (issue 18, point 3; decision 1810): the
 * calibration's full LM fit and the final maps run in a worker thread. Counted, not timed: the loop keeps
 * turning (a chain of setImmediate ticks) and another request is answered between the frame a computation
 * starts from and its result; on the virtual clock no experiment time passes meanwhile, and the results are
 * bit-identical to the same functions run in-process.
 */
import { describe, expect, it } from 'vitest';
import type { SessionFrame } from '../../../daemon/engine/api.js';
import { PROCESSING_LATENCY_FIELD } from '../../../daemon/engine/session.js';
import { calibrate } from '../../../pipelines/antibunching/calibration.js';
import { scanRig } from './scan-rig.js';

/** Counts turns of the event loop while running; `stop()` returns the count. */
function loopTicks(): { count: () => number; stop: () => number } {
  let n = 0;
  let on = true;
  const tick = () => {
    if (!on) return;
    n++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    count: () => n,
    stop: () => {
      on = false;
      return n;
    },
  };
}

describe('antibunching-scan keeps the event loop free', () => {
  it('the loop turns and another request is answered while the calibration fit and the final maps are computed', async () => {
    const rig = await scanRig({}, 3);
    try {
      const params = { nx: 2, ny: 2, prescanPixels: 4, calibrationS: 120, maxDwellS: 2 };
      // What happened, in order: the frame a computation starts from, loop ticks seen, a request answered, its result.
      const log: string[] = [];
      let ticks: ReturnType<typeof loopTicks> | undefined;
      let requestAnswered = false;
      const startWatching = (what: string) => {
        ticks = loopTicks();
        requestAnswered = false;
        log.push(`${what} frame`);
        // Another request to the daemon, on a later turn of the loop, while the computation runs: its status.
        setImmediate(() => {
          requestAnswered = rig.engine.status().session?.state === 'running';
        });
      };
      const stopWatching = (what: string) => {
        const n = ticks!.stop();
        log.push(`${what} result after ${n > 0 ? 'some' : 'no'} loop ticks, ${requestAnswered ? 'a request answered' : 'no request answered'}`);
      };
      let calibrationFrame: SessionFrame['frame'] | undefined;
      const sub = rig.engine.frames$.subscribe((f) => {
        const h = f.frame.header;
        if (f.kind === 'frame' && h.stream === 'hbt0.histogram' && h.phase === 'calibration') {
          calibrationFrame = f.frame;
          startWatching('calibration');
        } else if (f.kind === 'result' && h.stream === 'g2.calibration') stopWatching('calibration');
        else if (f.kind === 'frame' && h.phase === 'final') startWatching('final');
        else if (f.kind === 'result' && h.stream === 'g2.metrics') stopWatching('final maps');
      });
      const id = await rig.engine.start('antibunching-scan', params);
      const st = await rig.engine.whenEnded(id);
      sub.unsubscribe();
      expect(st.state).toBe('completed');
      expect(log).toEqual([
        'calibration frame',
        'calibration result after some loop ticks, a request answered',
        'final frame',
        'final maps result after some loop ticks, a request answered',
      ]);

      // No experiment time passed during the fit, and the result is the in-process function's, bit for bit.
      const cal = rig.engine.frames(id, 'g2.calibration')[0]!;
      expect(cal.header.t).toBe(calibrationFrame!.header.t);
      expect(cal.header[PROCESSING_LATENCY_FIELD]).toBe(0);
      const h = calibrationFrame!.header;
      const c = calibrate(calibrationFrame!.payload, Number(h.counts), Number(h.integrationS), {
        bins: calibrationFrame!.payload.length,
        binWidthNs: Number(h.binWidthNs),
        zeroBin: Number(h.zeroBin),
        jitterNs: Number(h.jitterNs ?? 0),
      });
      const inProcess = Float64Array.of(c.curve.t1Ns, c.curve.t2Ns, c.curve.bunchingRatio, c.fit.g2, c.fit.std, c.rate, c.g2Peak, c.fit.events);
      expect(Buffer.from((cal.payload as Float64Array).buffer).equals(Buffer.from(inProcess.buffer))).toBe(true);
    } finally {
      await rig.cleanup();
    }
  }, 60_000);
});
