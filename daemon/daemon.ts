/**
 * The composition root: the one place that builds the daemon from a config.
 * It makes the clock and the simulated world, builds and connects the
 * drivers, starts the services, logs `ready`, optionally runs the configured
 * demo plan once, and on stop() tears everything down in reverse.
 *
 * It never pretends: the rig lock (daemon/rig-lock.ts) is taken before any
 * instrument is connected, and a configured service that fails to start makes
 * start() undo everything it did (stop the started services, disconnect the
 * drivers, release the lock) and reject with a DaemonStartError.
 */
import { skip } from 'rxjs';
import { createClock, type Clock, type ClockOptions } from '../drivers/core/clock.js';
import type { Driver } from '../drivers/core/driver.js';
import type { DriverRegistry } from '../drivers/core/registry.js';
import { SimWorld } from '../drivers/core/world.js';
import { createDefaultRegistry } from '../drivers/index.js';
import type { DemoConfig, QscopeConfig, RigConfig } from './config.js';
import type { Logger } from '../drivers/core/log.js';
import { createServices, type Service, type ServiceContext } from './services.js';
import { version as packageVersion } from './package.js';
import { RigLock, rigLockKeys } from './rig-lock.js';

/** start() failed: nothing the daemon started is left running. */
export class DaemonStartError extends Error {
  readonly code = 'DAEMON_START_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DaemonStartError';
  }
}

export interface DaemonOptions {
  config: QscopeConfig;
  configFile?: string;
  log: Logger;
  /** `--speed N`: run on a scaled clock at this speed, whatever the config says. */
  speed?: number;
  /** Overrides the clock the config asks for (tests inject a VirtualClock). */
  clock?: Clock;
  registry?: DriverRegistry;
  /** Overrides the services of `createServices(config)`. */
  services?: Service[];
  /** Run the configured demo after start-up (default: when the config enables one). */
  runDemo?: boolean;
  /** Directory of the rig locks (default: daemon/rig-lock.ts defaultLockDir()). */
  lockDir?: string;
}

/**
 * Which clock a daemon runs on. A rig with a real instrument always runs on
 * the real clock (`realInstruments` names them). A fully simulated rig:
 * `--speed` wins (virtual time paced at that speed); else a real-time rig
 * running a demo with a `speed` gets a scaled clock at that speed; else the
 * rig's (decision 1800).
 */
export function resolveClockOptions(rig: RigConfig, speed?: number, demo?: DemoConfig, realInstruments: string[] = []): ClockOptions {
  if (realInstruments.length > 0) return { kind: 'real' };
  if (speed !== undefined) return { kind: 'scaled', speed };
  if (rig.clock === 'real' && demo?.enabled && demo.speed !== undefined) return { kind: 'scaled', speed: demo.speed };
  return { kind: rig.clock, speed: rig.speed };
}

/** Instruments of a config that are not simulators (impl other than `sim`). */
export function realInstruments(config: Pick<QscopeConfig, 'instruments'>): string[] {
  return Object.entries(config.instruments ?? {})
    .filter(([, e]) => (e as { impl?: string }).impl !== 'sim')
    .map(([id]) => id);
}

export class Daemon {
  readonly config: QscopeConfig;
  readonly clock: Clock;
  readonly world: SimWorld;
  readonly registry: DriverRegistry;
  readonly services: Service[];
  private readonly log: Logger;
  private readonly started: Service[] = [];
  private readonly driverMap = new Map<string, Driver>();
  private readonly unsubscribers: (() => void)[] = [];
  private stopping: Promise<void> | undefined;
  private rigLock: RigLock | undefined;
  /** Settles when the demo (if any) has finished or been skipped. */
  demo: Promise<void> = Promise.resolve();

  constructor(private readonly opts: DaemonOptions) {
    this.config = opts.config;
    this.log = opts.log;
    const demo = (opts.runDemo ?? opts.config.demo?.enabled) ? opts.config.demo : undefined;
    this.clock = opts.clock ?? createClock(resolveClockOptions(opts.config.rig, opts.speed, demo, realInstruments(opts.config)));
    this.world = new SimWorld({ seed: opts.config.rig.seed, clock: this.clock, scene: opts.config.scene });
    this.registry = opts.registry ?? createDefaultRegistry();
    this.services = opts.services ?? createServices(opts.config);
  }

  get drivers(): ReadonlyMap<string, Driver> {
    return this.driverMap;
  }

  async start(): Promise<void> {
    const clockDesc = this.clock.kind === 'scaled' ? `scaled x${(this.clock as { speed?: number }).speed}` : this.clock.kind;
    this.log.info({ config: this.opts.configFile, clock: clockDesc, seed: this.config.rig.seed }, 'qscope daemon starting');
    const real = realInstruments(this.config);
    if (real.length > 0 && !this.opts.clock && (this.opts.speed !== undefined || this.config.rig.clock !== 'real')) {
      this.log.warn({ instruments: real }, `real instruments (${real.join(', ')}): the rig runs on the real clock, the requested ${this.opts.speed !== undefined ? `--speed ${this.opts.speed}` : `${this.config.rig.clock} clock`} is ignored`);
    }

    // One daemon per rig: refused (naming the holder) before any instrument is touched.
    try {
      this.rigLock = RigLock.acquire(rigLockKeys(this.config), this.opts.lockDir);
    } catch (err) {
      throw new DaemonStartError(`refusing to start: ${(err as Error).message}`, { cause: err });
    }

    let built: Map<string, Driver>;
    try {
      built = await this.registry.build(this.config.instruments, { clock: this.clock, world: this.world, log: this.log });
    } catch (err) {
      this.rigLock.release();
      this.rigLock = undefined;
      throw err;
    }
    for (const [id, driver] of built) {
      this.driverMap.set(id, driver);
      const dlog = this.log.child({ owner: id });
      // skip(1): the initial `disconnected` every new driver starts in.
      let previous = driver.state;
      const sub = driver.state$.pipe(skip(1)).subscribe((state) => {
        const from = previous;
        previous = state;
        if (state === 'fault') dlog.error({ state, code: driver.lastFault?.code, err: driver.lastFault?.message }, `${id}: fault`);
        // Every command toggles ready/busy: at info that would bury the log (connect, disconnect stay at info).
        else if ((from === 'ready' && state === 'busy') || (from === 'busy' && state === 'ready')) dlog.debug({ state }, `${id}: ${state}`);
        else dlog.info({ state }, `${id}: ${state}`);
      });
      this.unsubscribers.push(() => sub.unsubscribe());
    }
    for (const [id, driver] of this.driverMap) {
      try {
        await driver.connect();
      } catch (err) {
        // A driver that cannot connect stays in `fault`; the daemon serves the rest.
        this.log.error({ owner: id, err: (err as Error).message }, `${id}: connect failed`);
      }
    }

    const serviceMap = new Map(this.services.map((s) => [s.name, s]));
    for (const service of this.services) {
      const ctx: ServiceContext = {
        config: this.config,
        configFile: this.opts.configFile,
        clock: this.clock,
        world: this.world,
        registry: this.registry,
        drivers: this.driverMap,
        log: this.log.child({ owner: service.name }),
        version: packageVersion,
        services: serviceMap,
      };
      try {
        await service.start(ctx);
        this.started.push(service);
        this.log.info({ owner: service.name }, `service ${service.name} started`);
      } catch (err) {
        // A configured service that cannot serve stops the daemon: never `ready` without it.
        const msg = (err as Error).message;
        this.log.error({ owner: service.name, err: msg }, `service ${service.name} failed to start`);
        await this.stop(`service ${service.name} failed to start`);
        throw new DaemonStartError(`service ${service.name} failed to start: ${msg}`, { cause: err });
      }
    }

    this.log.info(
      {
        drivers: [...this.driverMap].map(([id, d]) => `${id}:${d.state}`),
        services: this.started.map((s) => s.name),
        version: packageVersion,
      },
      'qscope daemon ready',
    );

    if (this.opts.runDemo ?? this.config.demo?.enabled ?? false) this.demo = this.runDemo();
  }

  /** Runs the configured demo plan once through a service that can run plans. */
  private async runDemo(): Promise<void> {
    const demo = this.config.demo;
    if (!demo) return;
    const log = this.log.child({ owner: 'demo' });
    const runner = this.started.find((s) => typeof s.runPlanOnce === 'function');
    if (!runner?.runPlanOnce) {
      log.warn({ plan: demo.plan }, `demo: plan '${demo.plan}' is not available yet (no service runs plans)`);
      return;
    }
    try {
      log.info({ plan: demo.plan, params: demo.params }, `demo: running plan '${demo.plan}' once`);
      // Progress every 10 % and, once done, an export with the images (owner of these lines: g2).
      const engine = (runner as { engine?: import('./engine/engine.js').Engine }).engine;
      let shown = -1;
      const progress = engine?.events$.subscribe((ev) => {
        const p = ev.status.progress;
        const pct = p.total ? Math.floor((10 * p.done) / p.total) * 10 : -1;
        if (ev.type === 'progress' && pct > shown) {
          shown = pct;
          log.info({ session: ev.sessionId, done: p.done, total: p.total }, `demo: ${pct} % (${p.label ?? p.done})`);
        }
      });
      const outcome = await runner.runPlanOnce(demo.plan, demo.params).finally(() => progress?.unsubscribe());
      if (outcome.status === 'done' && outcome.sessionId && engine) {
        try {
          const dir = (this.config as { sessions?: { dir?: string } }).sessions?.dir ?? './sessions';
          const { exportDemoSession } = await import('./demo-export.js');
          const out = await exportDemoSession(dir, outcome.sessionId);
          log.info({ session: outcome.sessionId, dir: out }, `demo: images and arrays exported to ${out}`);
        } catch (err) {
          log.warn({ session: outcome.sessionId, err: (err as Error).message }, 'demo: export failed');
        }
      }
      if (outcome.status === 'unknown-plan') log.warn({ plan: demo.plan }, `demo: plan '${demo.plan}' is not available yet (not registered)`);
      else log.info({ plan: demo.plan, ...outcome }, `demo: plan '${demo.plan}' ${outcome.status}`);
    } catch (err) {
      log.error({ plan: demo.plan, err: (err as Error).message }, `demo: plan '${demo.plan}' failed`);
    }
  }

  /** Stops services (reverse order) and disconnects every driver; each step isolated. Idempotent. */
  stop(reason = 'stop requested'): Promise<void> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<void> {
    this.log.info({ reason }, 'qscope daemon stopping');
    for (const service of [...this.started].reverse()) {
      try {
        await service.stop();
        this.log.info({ owner: service.name }, `service ${service.name} stopped`);
      } catch (err) {
        this.log.error({ owner: service.name, err: (err as Error).message }, `service ${service.name} failed to stop`);
      }
    }
    this.started.length = 0;
    const disconnected: string[] = [];
    for (const [id, driver] of this.driverMap) {
      try {
        await driver.disconnect();
        disconnected.push(id);
      } catch (err) {
        this.log.error({ owner: id, err: (err as Error).message }, `${id}: disconnect failed`);
      }
    }
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.log.info({ drivers: disconnected }, `drivers disconnected (${disconnected.length}/${this.driverMap.size})`);
    this.rigLock?.release();
    this.rigLock = undefined;
    this.log.info('qscope daemon stopped');
  }
}
