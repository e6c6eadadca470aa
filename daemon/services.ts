/**
 * The daemon's services: long-lived parts (engine + store, ZeroMQ API, ...)
 * that the composition root (daemon.ts) starts in order and stops in reverse.
 * Each owner adds one line to `createServices`.
 */
import type { Clock } from '../drivers/core/clock.js';
import type { Driver } from '../drivers/core/driver.js';
import type { DriverRegistry } from '../drivers/core/registry.js';
import type { SimWorld } from '../drivers/core/world.js';
import type { QscopeConfig } from './config.js';
import type { Logger } from '../drivers/core/log.js';
import { EngineService } from './engine/service.js';
import { ApiService } from './api/service.js';
import { WebService } from './web/service.js';

/** What every service gets at start: one context object, nothing global. */
export interface ServiceContext {
  config: QscopeConfig;
  /** Path of the config file, when loaded from one. */
  configFile?: string;
  clock: Clock;
  world: SimWorld;
  registry: DriverRegistry;
  /** Built drivers by id, in config order (connected, or in `fault` if connecting failed). */
  drivers: ReadonlyMap<string, Driver>;
  /** The service's own logger (`owner` = service name). */
  log: Logger;
  /** Software version (package.json). */
  version: string;
  /** The other services, by name, for those that build on each other (the API on the engine). */
  services: ReadonlyMap<string, Service>;
}

/** The outcome of a plan run requested through `runPlanOnce`. */
export type PlanRunOutcome = { status: 'done' | 'aborted' | 'failed'; sessionId?: string; message?: string } | { status: 'unknown-plan' };

export interface Service {
  /** Short name, used in logs (`owner`). */
  readonly name: string;
  start(ctx: ServiceContext): Promise<void>;
  stop(): Promise<void>;
  /**
   * Optional: runs a registered plan once to its end (the engine implements
   * it). The daemon uses it for the configured `demo`.
   */
  runPlanOnce?(plan: string, params: Record<string, unknown>): Promise<PlanRunOutcome>;
}

/** The services for a config, in start order. */
export function createServices(_config: QscopeConfig): Service[] {
  const services: Service[] = [];
  // ---- one line per service, e.g. `services.push(new EngineService());` ----
  services.push(new EngineService());
  services.push(new ApiService()); // keep after the engine: it exposes the engine, and stops before it
  services.push(new WebService()); // the browser view: a client of the same methods and frames as the API
  return services;
}
