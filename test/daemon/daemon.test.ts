/** The composition root in-process, on the virtual clock. */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../drivers/core/clock.js';
import { DisconnectedError } from '../../drivers/core/errors.js';
import { ConfigValidator, parseConfigText } from '../../daemon/config.js';
import { Daemon, realInstruments, resolveClockOptions } from '../../daemon/daemon.js';
import { createLogger } from '../../drivers/core/log.js';
import type { PlanRunOutcome, Service, ServiceContext } from '../../daemon/services.js';
import { createDefaultRegistry } from '../../drivers/index.js';
import type { PiezoScanner } from '../../drivers/piezo/index.js';

function config(extra = '') {
  return new ConfigValidator(createDefaultRegistry()).validate(
    parseConfigText(`rig: {seed: 5}
instruments:
  piezo0: {kind: piezo, impl: sim${extra}}
demo: {plan: antibunching-scan, speed: 10}
`),
  );
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger({ destination: { write: (s: string) => void lines.push(JSON.parse(s)) } }) };
}

class FakeService implements Service {
  readonly events: string[];
  ctx: ServiceContext | undefined;
  constructor(
    readonly name: string,
    events: string[],
    private readonly fail: { start?: boolean; stop?: boolean } = {},
    readonly runPlanOnce?: (plan: string, params: Record<string, unknown>) => Promise<PlanRunOutcome>,
  ) {
    this.events = events;
  }
  async start(ctx: ServiceContext) {
    this.ctx = ctx;
    this.events.push(`start ${this.name}`);
    if (this.fail.start) throw new Error(`${this.name} cannot start`);
  }
  async stop() {
    this.events.push(`stop ${this.name}`);
    if (this.fail.stop) throw new Error(`${this.name} cannot stop`);
  }
}

describe('Daemon', () => {
  it('starts services in order and stops them in reverse, each stop isolated, then disconnects the drivers', async () => {
    const events: string[] = [];
    const { log, lines } = capture();
    const services = [new FakeService('a', events), new FakeService('c', events, { stop: true })];
    const daemon = new Daemon({ config: config(), log, clock: new VirtualClock(), services, runDemo: false });
    await daemon.start();
    expect(daemon.drivers.get('piezo0')!.state).toBe('ready');
    expect(lines.find((l) => l.msg === 'qscope daemon ready')).toMatchObject({ services: ['a', 'c'], drivers: ['piezo0:ready'] });
    expect(services[0]!.ctx!.drivers.get('piezo0')).toBe(daemon.drivers.get('piezo0'));
    await daemon.stop();
    await daemon.stop(); // idempotent
    expect(events).toEqual(['start a', 'start c', 'stop c', 'stop a']);
    expect(lines.find((l) => l.msg === 'service c failed to stop')).toMatchObject({ owner: 'c' });
    expect(daemon.drivers.get('piezo0')!.state).toBe('disconnected');
    expect(lines.find((l) => /drivers disconnected/.test(String(l.msg)))).toMatchObject({ drivers: ['piezo0'] });
  });

  it('a service that fails to start stops the daemon: the started ones stop, the drivers disconnect, no `ready`', async () => {
    const events: string[] = [];
    const { log, lines } = capture();
    const services = [new FakeService('a', events), new FakeService('b', events, { start: true }), new FakeService('c', events)];
    const daemon = new Daemon({ config: config(), log, clock: new VirtualClock(), services, runDemo: false });
    await expect(daemon.start()).rejects.toThrow(/^service b failed to start: b cannot start$/);
    expect(events).toEqual(['start a', 'start b', 'stop a']);
    expect(lines.find((l) => l.msg === 'service b failed to start')).toMatchObject({ owner: 'b', err: 'b cannot start', level: 50 });
    expect(lines.some((l) => l.msg === 'qscope daemon ready')).toBe(false);
    expect(daemon.drivers.get('piezo0')!.state).toBe('disconnected');
  });

  it('a piezo fault mid-move surfaces as a typed error and fault state while the daemon keeps serving', async () => {
    const { log, lines } = capture();
    const events: string[] = [];
    const daemon = new Daemon({ config: config(', faults: {disconnectAtMs: 4}'), log, clock: new VirtualClock(), services: [new FakeService('api', events)], runDemo: false });
    await daemon.start();
    const piezo = daemon.drivers.get('piezo0') as PiezoScanner;
    await expect(piezo.moveTo(10_000, 10_000, 10_000)).rejects.toBeInstanceOf(DisconnectedError);
    expect(piezo.state).toBe('fault');
    expect(lines.find((l) => l.owner === 'piezo0' && l.state === 'fault')).toMatchObject({ code: 'DISCONNECTED', level: 50 });
    // Still serving: the service is up and the driver can be reconnected and used.
    expect(events).toEqual(['start api']);
    await piezo.connect();
    await piezo.moveTo(10_000, 10_000, 10_000);
    await daemon.stop();
    expect(events).toEqual(['start api', 'stop api']);
    expect(piezo.state).toBe('disconnected');
  });

  it('logs connect/disconnect at info and the ready/busy toggles of every command at debug', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
    const daemon = new Daemon({ config: config(), log, clock: new VirtualClock(), services: [], runDemo: false });
    await daemon.start();
    const piezo = daemon.drivers.get('piezo0') as PiezoScanner;
    await piezo.moveTo(10_000, 10_000, 10_000);
    await piezo.moveTo(20_000, 10_000, 10_000);
    await daemon.stop();
    const states = lines.filter((l) => l.owner === 'piezo0' && typeof l.state === 'string').map((l) => `${String(l.state)}@${String(l.level)}`);
    expect(states).toEqual(['connecting@30', 'ready@30', 'busy@20', 'ready@20', 'busy@20', 'ready@20', 'disconnected@30']);
  });

  it.each<[string, Service[], RegExp]>([
    ['no service runs plans', [], /demo: plan 'antibunching-scan' is not available yet \(no service runs plans\)/],
    ['the plan is not registered', [new FakeService('engine', [], {}, async () => ({ status: 'unknown-plan' }))], /is not available yet \(not registered\)/],
    ['the plan runs', [new FakeService('engine', [], {}, async (plan) => ({ status: 'done', sessionId: `s-${plan}` }))], /demo: plan 'antibunching-scan' done/],
  ])('runs the configured demo once when %s', async (_what, services, message) => {
    const { log, lines } = capture();
    const daemon = new Daemon({ config: config(), log, clock: new VirtualClock(), services });
    await daemon.start();
    await daemon.demo;
    expect(lines.some((l) => message.test(String(l.msg)))).toBe(true);
    await daemon.stop();
  });

  it('picks its clock: --speed, else the demo speed on a real-time rig, else the rig clock', () => {
    const rig = { seed: 1, clock: 'real' as const, speed: 1 };
    const demo = { enabled: true, plan: 'p', params: {}, speed: 10 };
    expect(resolveClockOptions(rig, 3, demo)).toEqual({ kind: 'scaled', speed: 3 });
    expect(resolveClockOptions(rig, undefined, demo)).toEqual({ kind: 'scaled', speed: 10 });
    expect(resolveClockOptions(rig)).toEqual({ kind: 'real', speed: 1 });
    expect(resolveClockOptions({ ...rig, clock: 'virtual' }, undefined, demo)).toEqual({ kind: 'virtual', speed: 1 });
  });

  it('a rig with a real instrument always runs on the real clock, whatever --speed or the config ask', () => {
    const rig = { seed: 1, clock: 'virtual' as const, speed: 1 };
    const cfg = { instruments: { piezo0: { kind: 'piezo', impl: 'sim' }, stage: { kind: 'piezo', impl: 'pi-gcs' } } };
    expect(realInstruments(cfg)).toEqual(['stage']);
    expect(resolveClockOptions(rig, 100, undefined, realInstruments(cfg))).toEqual({ kind: 'real' });
    expect(resolveClockOptions({ ...rig, clock: 'scaled' }, undefined, undefined, ['stage'])).toEqual({ kind: 'real' });
    expect(realInstruments({ instruments: { piezo0: { kind: 'piezo', impl: 'sim' } } })).toEqual([]);
  });
});
