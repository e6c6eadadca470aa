/**
 * Engine behaviour on an instrument fault (decision 1300): any owned driver
 * whose state$ goes to `fault` suspends a suspend-on-fault session at once,
 * the reason is recorded, the engine keeps answering, and the operator
 * resumes (the instrument is reconnected first) or aborts. Frames recorded
 * before the fault stay intact.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import { DisconnectedError } from '../../../drivers/core/errors.js';
import type { SessionEvent } from '../../../daemon/engine/api.js';
import { makeEngine, tmpDir, turns } from './helpers.js';
import type { TestScanner } from './doubles.js';

let tmp: ReturnType<typeof tmpDir>;
beforeEach(() => {
  tmp = tmpDir();
});
afterEach(() => tmp.cleanup());

const suspendedEvent = (engine: Awaited<ReturnType<typeof makeEngine>>['engine']) =>
  firstValueFrom(engine.events$.pipe(filter((e): e is SessionEvent => e.type === 'suspended')));

/** Lets virtual time and the store run until the frame count stops changing. */
async function settle(frames: () => number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 20 && frames() !== last; i++) {
    last = frames();
    await turns(50);
  }
  return frames();
}

describe('engine: an instrument fault suspends the session', () => {
  it('a fault of an idle instrument (no step of its own running) suspends at once; resume reconnects it and the plan goes on', async () => {
    // The scanner drops while the correlator integrates pixel 0: no scanner step is running.
    const { engine, drivers } = await makeEngine(tmp.dir, { faults: { piezo0: { disconnectAtMs: 2500 } } });
    const suspended = suspendedEvent(engine);
    const id = await engine.start('test-raster', { nx: 2, ny: 2, minEvents: 100000, maxChunks: 4 }, { onFault: 'suspend' });
    const ev = await suspended;
    expect(ev.detail).toMatchObject({ code: 'DISCONNECTED', instrument: 'piezo0' });
    expect(ev.status).toMatchObject({ state: 'suspended', reason: 'suspended: piezo0: instrument disconnected (fault injected at 2500 ms)' });

    // Nothing new starts while suspended; the engine keeps answering.
    const held = await settle(() => engine.session(id).frames);
    expect(held).toBeGreaterThan(0);
    await turns(100);
    expect(engine.session(id).frames).toBe(held);
    expect(engine.status()).toMatchObject({ state: 'busy', session: { state: 'suspended' } });
    expect(engine.status().instruments.find((i) => i.id === 'piezo0')).toMatchObject({ state: 'fault', owner: id });

    const scanner = drivers.get('piezo0') as TestScanner;
    const movesBefore = scanner.moves;
    engine.resume(id);
    const st = await engine.whenEnded(id);
    expect(st.state).toBe('completed');
    // 4 pixels, each moved to exactly once: the fault interrupted no move, none was repeated.
    expect(scanner.moves).toBe(4);
    expect(movesBefore).toBe(1);
    const r = engine.store.open(id);
    expect(r.events('start')[0]!.data).toMatchObject({ onFault: 'suspend' });
    const kinds = r.events().map((e) => e.type).filter((t) => ['suspend', 'resume', 'reconnect'].includes(t));
    expect(kinds).toEqual(['suspend', 'resume', 'reconnect']);
    expect(r.events('suspend')[0]).toMatchObject({ source: 'piezo0', data: { code: 'DISCONNECTED', message: 'piezo0: instrument disconnected (fault injected at 2500 ms)' } });
    expect(r.count('frames')).toBe(st.frames);
    expect(r.integrity()).toBe('ok');
    r.close();
  });

  it('abort while suspended ends the session as aborted with every earlier frame kept', async () => {
    const { engine, drivers } = await makeEngine(tmp.dir, { faults: { hbt0: { disconnectAtMs: 3500 } } });
    const suspended = suspendedEvent(engine);
    const id = await engine.start('test-raster', { nx: 3, ny: 1, minEvents: 100000, maxChunks: 5 }, { onFault: 'suspend' });
    await suspended;
    const held = await settle(() => engine.session(id).frames);
    const st = await engine.abort(id, 'operator gave up');
    expect(st).toMatchObject({ state: 'aborted', reason: 'operator gave up', frames: held });
    expect((drivers.get('piezo0') as TestScanner).safed).toBe(1);
    const r = engine.store.open(id);
    expect(r.session()).toMatchObject({ status: 'aborted' });
    expect(r.count('frames')).toBe(held);
    expect([...r.frames('frames')].map((f) => f.header.seq)).toEqual([...Array(held).keys()]);
    expect(r.events('suspend')).toHaveLength(1);
    r.close();
  });

  it('a resume while the instrument is still gone suspends again with the new reason; a later resume completes', async () => {
    const { engine, drivers } = await makeEngine(tmp.dir, { faults: { piezo0: { disconnectAtMs: 1500 } } });
    const id = await engine.start('test-raster', { nx: 2, ny: 1, minEvents: 100000, maxChunks: 3 }, { onFault: 'suspend' });
    await suspendedEvent(engine);
    const scanner = drivers.get('piezo0') as unknown as { doConnect: () => Promise<void> };
    const real = scanner.doConnect;
    scanner.doConnect = async () => {
      throw new DisconnectedError('piezo0', 'still unplugged');
    };
    const again = firstValueFrom(engine.events$.pipe(filter((e) => e.type === 'suspended')));
    engine.resume(id);
    expect((await again).status.reason).toBe('suspended: piezo0: still unplugged');
    scanner.doConnect = real;
    engine.resume(id);
    expect((await engine.whenEnded(id)).state).toBe('completed');
    const r = engine.store.open(id);
    expect(r.events('suspend').map((e) => (e.data as { message: string }).message)).toEqual([
      'piezo0: instrument disconnected (fault injected at 1500 ms)',
      'piezo0: still unplugged',
    ]);
    r.close();
  });

  it("without onFault: 'suspend' the same fault still fails the session (the plan's default)", async () => {
    const { engine } = await makeEngine(tmp.dir, { faults: { piezo0: { disconnectAtMs: 2500 } } });
    const id = await engine.start('test-raster', { nx: 2, ny: 2, minEvents: 100000, maxChunks: 4 });
    const st = await engine.whenEnded(id);
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(/^fault: piezo0: instrument disconnected/);
  });
});
