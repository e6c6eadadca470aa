/**
 * The API as a daemon service (daemon/services.ts): exposes the engine
 * service's Engine over ZeroMQ with the `api` config section (which the
 * `daemon --control/--data` options override before start).
 */
import type { Engine } from '../engine/engine.js';
import type { Service, ServiceContext } from '../services.js';
import { engineTarget } from './engine-target.js';
import { ApiServer, type ApiOptions } from './server.js';

export class ApiService implements Service {
  readonly name = 'api';
  server: ApiServer | undefined;

  async start(ctx: ServiceContext): Promise<void> {
    let engine: Engine | undefined;
    try {
      engine = (ctx.services.get('engine') as { engine?: Engine } | undefined)?.engine;
    } catch {
      // the engine service exists but did not start
    }
    if (!engine) throw new Error("api: no engine to expose (the 'engine' service must start before 'api')");
    const log = ctx.log;
    this.server = new ApiServer(engineTarget(engine, ctx.version), (ctx.config.api ?? {}) as ApiOptions, (level, msg, extra) =>
      log[level](extra ?? {}, msg),
    );
    const endpoints = await this.server.start();
    log.info({ ...endpoints, curve: this.server.curveEnabled }, `api: control ${endpoints.control}, data ${endpoints.data}`);
  }

  /** Stops taking requests, finishes those in flight (bounded), closes the sockets (bounded linger). */
  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }
}
