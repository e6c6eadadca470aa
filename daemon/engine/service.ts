/**
 * The engine + store as a daemon service: built from the service context
 * (clock, drivers, config) by the composition root; the ZeroMQ API reaches
 * the engine through `services.get('engine').engine`.
 */
import { createDefaultPipelineRegistry } from '../../pipelines/index.js';
import { createDefaultPlanRegistry, type PlanRegistry } from '../plans/index.js';
import type { PipelineRegistry } from '../../pipelines/core/pipeline.js';
import type { PlanRunOutcome, Service, ServiceContext } from '../services.js';
import { storeOptions, type SessionsConfig } from '../store/config.js';
import { SessionStore } from '../store/store.js';
import { Engine } from './engine.js';

export interface EngineServiceOptions {
  /** Overrides `sessions.dir` of the config (`--sessions DIR`). */
  sessionsDir?: string;
  plans?: PlanRegistry;
  pipelines?: PipelineRegistry;
}

export class EngineService implements Service {
  readonly name = 'engine';
  private engineInstance: Engine | undefined;

  constructor(private readonly opts: EngineServiceOptions = {}) {}

  /** The engine (after start). */
  get engine(): Engine {
    if (!this.engineInstance) throw new Error('engine service not started');
    return this.engineInstance;
  }

  async start(ctx: ServiceContext): Promise<void> {
    const sessions = (ctx.config.sessions ?? {}) as Partial<SessionsConfig>;
    const store = new SessionStore(this.opts.sessionsDir ?? sessions.dir ?? './sessions', storeOptions(sessions));
    this.engineInstance = new Engine({
      clock: ctx.clock,
      drivers: ctx.drivers as Map<string, never>,
      plans: this.opts.plans ?? (await createDefaultPlanRegistry()),
      pipelines: this.opts.pipelines ?? (await createDefaultPipelineRegistry()),
      store,
      config: ctx.config as unknown as Record<string, unknown>,
      softwareVersion: ctx.version,
      log: ctx.log,
    });
    ctx.log.info({ sessionsDir: store.dir, plans: this.engineInstance.listPlans().map((p) => p.name) }, 'engine ready');
  }

  async stop(): Promise<void> {
    await this.engineInstance?.stop();
  }

  async runPlanOnce(plan: string, params: Record<string, unknown>): Promise<PlanRunOutcome> {
    const engine = this.engine;
    if (!engine.listPlans().some((p) => p.name === plan)) return { status: 'unknown-plan' };
    const id = await engine.start(plan, params);
    const st = await engine.whenEnded(id);
    return { status: st.state === 'completed' ? 'done' : st.state === 'aborted' ? 'aborted' : 'failed', sessionId: id, ...(st.reason ? { message: st.reason } : {}) };
  }
}
