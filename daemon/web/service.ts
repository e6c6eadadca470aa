/**
 * The browser view as a daemon service (daemon/services.ts): serves the
 * engine service's Engine through the same ControlTarget adapter the ZeroMQ
 * API uses, with the `web` config section (`daemon --web ADDR` overrides it).
 * Logs the URL to open; for a non-loopback bind the URL carries the token,
 * printed this once.
 */
import type { Engine } from '../engine/engine.js';
import { engineTarget } from '../api/engine-target.js';
import type { Service, ServiceContext } from '../services.js';
import type { WebOptions } from './config.js';
import { WebServer } from './server.js';

export class WebService implements Service {
  readonly name = 'web';
  server: WebServer | undefined;

  async start(ctx: ServiceContext): Promise<void> {
    const opts = ((ctx.config as { web?: WebOptions }).web ?? {}) as WebOptions;
    if (opts.enabled === false) {
      ctx.log.info('web: disabled (web.enabled: false)');
      return;
    }
    let engine: Engine | undefined;
    try {
      engine = (ctx.services.get('engine') as { engine?: Engine } | undefined)?.engine;
    } catch {
      // the engine service exists but did not start
    }
    if (!engine) throw new Error("web: no engine to show (the 'engine' service must start before 'web')");
    const log = ctx.log;
    this.server = new WebServer(engineTarget(engine, ctx.version), opts, (level, msg, extra) => log[level](extra ?? {}, msg));
    const url = await this.server.start();
    log.info({ url, token: this.server.access.token !== undefined }, `web view: open ${url}`);
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }
}
