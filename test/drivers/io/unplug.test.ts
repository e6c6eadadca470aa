/**
 * Pulling the plug mid-move (decisions 1300, 1301, 1310), end to end: the PI GCS
 * adapter on a socat pseudo-terminal, the engine, the ZeroMQ API. The pty is
 * killed while the stage is moving: the instrument goes to `fault`, the
 * session is suspended with the reason recorded and its earlier frames
 * intact, the daemon keeps answering `daemon.status`; when the pty comes
 * back the adapter reconnects by itself and reads the state back, and the
 * emulator's log shows that nothing mutating was sent (no move re-sent, no
 * servo switched on) until the operator resumed through the API.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import { engineTarget } from '../../../daemon/api/engine-target.js';
import { ApiServer } from '../../../daemon/api/server.js';
import type { Plan } from '../../../pipelines/core/plan.js';
import { PiGcsPiezo } from '../../../drivers/piezo/pi-gcs/driver.js';
import { gcsTable, type GcsDevice } from '../../../drivers/piezo/pi-gcs/emulator.js';
import { makeEngine, tmpDir } from '../../daemon/engine/helpers.js';
import { client, EPHEMERAL } from '../../daemon/api/helpers.js';
import { startEmulator, waitState, whenReceived } from './support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Four pixels: move the real stage, then integrate the (simulated) correlator there. */
const stagePlan: Plan<{ n: number }> = {
  name: 'test-stage-scan',
  version: '1',
  description: 'real stage + simulated correlator',
  roles: { scanner: { kind: 'piezo' }, correlator: { kind: 'hbt' } },
  params: { type: 'object', additionalProperties: false, properties: { n: { type: 'integer', unit: '1', minimum: 1, default: 4 } } },
  total: (p) => p.n,
  async run(ctx) {
    for (let pixel = 0; pixel < ctx.params.n; pixel++) {
      await ctx.call('scanner', 'moveTo', { x: 10_000 * (pixel + 1), y: 20_000, z: 50_000 });
      await ctx.acquire('correlator', 'histogram', { integrationMs: 100 }, { fields: { pixel } });
      ctx.progress(pixel + 1);
    }
  },
};

describe('unplugging a serial instrument mid-move', () => {
  it('faults the instrument, suspends the session with its frames intact, reconnects without re-sending, and resumes on the operator’s word', async () => {
    const tmp = tmpDir('qscope-unplug-');
    cleanups.push(tmp.cleanup);
    const { emu, address, cleanup } = await startEmulator(gcsTable({ servoOnAtPowerUp: true }), 'pty');
    cleanups.push(cleanup);
    const rig = await makeEngine(tmp.dir, { extraPlans: [stagePlan as Plan<never>] });
    const stage = new PiGcsPiezo('stage', rig.clock, { address, replyTimeoutMs: 10_000, watchdogMs: 0, pollMs: 0 }, rig.world);
    cleanups.push(() => stage.dispose());
    await stage.connect();
    rig.drivers.delete('piezo0');
    rig.drivers.set('stage', stage);
    const server = new ApiServer(engineTarget(rig.engine, 'test'), { ...EPHEMERAL, lingerMs: 0 });
    const endpoints = await server.start();
    cleanups.push(() => server.stop());
    const c = client(endpoints);
    cleanups.push(() => c.close());

    // The second move never settles on its own: the plug is pulled while the adapter polls ONT?.
    const dev = () => emu.dev as GcsDevice;
    let moves = 0;
    emu.on('command', (cmd: { command: string }) => {
      if (cmd.command.startsWith('MOV ') && ++moves === 2) dev().settlePolls = Infinity;
    });
    const secondMove = whenReceived(emu, /^MOV 1 20\.0+ /);
    const suspended = firstValueFrom(rig.engine.events$.pipe(filter((e) => e.type === 'suspended')));
    const faulted = waitState(stage, 'fault');

    const started = await c.start('test-stage-scan', { n: 4 }, undefined, { onFault: 'suspend' });
    await secondMove;
    await whenReceived(emu, /^ONT\?/);
    const logAtUnplug = emu.log.length;
    await emu.unplug();
    // The daemon answers while the adapter finds out.
    expect(await c.status()).toMatchObject({ running: started.id });

    // Detected by the transport → fault → session suspended with the reason. Which comes first is a race: the
    // port's hang-up (its close, or a read of 0 bytes) or the next ONT? poll's write failing (EIO).
    await faulted;
    expect(stage.lastFault?.code).toBe('DISCONNECTED');
    expect(stage.lastFault?.message).toMatch(/^stage: serial:\/.*: (unplugged|write of .* failed)/);
    const ev = await suspended;
    expect(ev.status).toMatchObject({ id: started.id, state: 'suspended', reason: expect.stringMatching(/^suspended: stage: serial:.*(unplugged|write of .* failed)/) });
    // The daemon keeps serving.
    const st1 = await c.status();
    expect(st1).toMatchObject({ running: started.id, state: 'busy' });
    expect((st1.instruments as { id: string; state: string }[]).find((i) => i.id === 'stage')!.state).toBe('fault');
    expect(await c.session(started.id)).toMatchObject({ state: 'suspended', frames: 1 });
    // The first pixel's frame is recorded and intact.
    const r0 = rig.engine.frames(started.id, 'hbt0.histogram', 0, 10);
    expect(r0.map((f) => f.header.pixel)).toEqual([0]);

    // The cable goes back in: the adapter reconnects by itself and reads the state back.
    const ready = waitState(stage, 'ready');
    await emu.replug();
    expect(await c.status()).toMatchObject({ running: started.id });
    await ready;
    const sinceUnplug = emu.log.slice(logAtUnplug);
    expect(sinceUnplug.map((x) => x.command)).toEqual(expect.arrayContaining(['*IDN?', 'SVO? 1 2 3', 'POS? 1 2 3']));
    expect(emu.mutatingSince(logAtUnplug)).toEqual([]);
    expect(Object.values(dev().axes).map((a) => a.servo)).toEqual([true, true, true]);
    expect((await c.status()).instruments).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'stage', state: 'ready' })]));
    // Still suspended: only the operator resumes.
    expect(await c.session(started.id)).toMatchObject({ state: 'suspended', frames: 1 });

    dev().settlePolls = 2;
    const logAtResume = emu.log.length;
    await c.resume(started.id);
    const final = await rig.engine.whenEnded(started.id);
    expect(final).toMatchObject({ state: 'completed', frames: 4 });
    // After the resume: the interrupted move (the operator's decision), then the remaining ones; nothing else mutating.
    expect(emu.mutatingSince(logAtResume).map((x) => x.command.split(' ').slice(0, 3).join(' '))).toEqual(['MOV 1 20.000000', 'MOV 1 30.000000', 'MOV 1 40.000000']);
    const r = rig.engine.store.open(started.id);
    const types = r.events().map((e) => e.type);
    expect(types.filter((t) => ['suspend', 'resume'].includes(t))).toEqual(['suspend', 'resume']);
    expect(r.events('suspend')[0]).toMatchObject({ source: 'stage', data: { code: 'DISCONNECTED' } });
    // Every command the session sent to the stage is recorded, the one the unplug interrupted included.
    const stageCommands = r.events('command').filter((e) => e.source === 'stage');
    expect(stageCommands.map((e) => (e.data as { params: { x: number } }).params.x)).toEqual([10_000, 20_000, 20_000, 30_000, 40_000]);
    expect([...r.frames('frames')].map((f) => f.header.pixel)).toEqual([0, 1, 2, 3]);
    expect(r.integrity()).toBe('ok');
    r.close();
    expect(await c.status()).toMatchObject({ running: null, state: 'idle' });
  });
});
