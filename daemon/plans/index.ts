/**
 * The plan registry. Each experiment registers its plan with one line in
 * `createDefaultPlanRegistry()` (the plan itself lives in
 * `pipelines/<experiment>/plan.ts`).
 */
import type { Plan } from '../../pipelines/core/plan.js';
import { ParamsValidator, describeParams, suggestion, type ParamDescription, type ParamsSchema } from '../../pipelines/core/params.js';

export type { Plan, PlanContext, PlanRole, PlanModel, AcquireOptions } from '../../pipelines/core/plan.js';
export { ParamsError, ParamsValidator, parseParamArgs, describeParams } from '../../pipelines/core/params.js';
export type { ParamsSchema, ParamSchema, ParamDescription } from '../../pipelines/core/params.js';

export interface PlanDescription {
  name: string;
  version: string;
  description: string;
  roles: Record<string, { kind: string; description?: string }>;
  params: ParamDescription[];
  /** The JSON Schema itself (types, units, defaults, ranges). */
  schema: ParamsSchema;
  onFault: 'fail' | 'suspend';
}

export class PlanRegistry {
  private readonly plans = new Map<string, { plan: Plan<never>; validator: ParamsValidator }>();

  register<P>(plan: Plan<P>): this {
    if (this.plans.has(plan.name)) throw new Error(`plan '${plan.name}' registered twice`);
    this.plans.set(plan.name, { plan: plan as unknown as Plan<never>, validator: new ParamsValidator(plan.params) });
    return this;
  }

  get(name: string): Plan<Record<string, unknown>> {
    return this.entry(name).plan as unknown as Plan<Record<string, unknown>>;
  }

  has(name: string): boolean {
    return this.plans.has(name);
  }

  /** Validates and coerces params for plan `name` (throws ParamsError). */
  validate(name: string, params: unknown): Record<string, unknown> {
    return this.entry(name).validator.validate(params);
  }

  list(): PlanDescription[] {
    return [...this.plans.keys()].map((n) => this.describe(n));
  }

  describe(name: string): PlanDescription {
    const { plan } = this.entry(name);
    return {
      name: plan.name,
      version: plan.version,
      description: plan.description,
      roles: { ...plan.roles },
      params: describeParams(plan.params),
      schema: plan.params,
      onFault: plan.onFault ?? 'fail',
    };
  }

  /** `unknown plan 'x' (did you mean 'y'? plans: a, b)`. */
  unknown(name: string): string {
    return `unknown plan '${name}' ${suggestion(name, [...this.plans.keys()], 'plans')}`;
  }

  private entry(name: string) {
    const e = this.plans.get(name);
    if (!e) throw new RangeError(this.unknown(name));
    return e;
  }
}

/** Every plan qscope ships. Experiments: add one `registry.register(...)` line each. */
export async function createDefaultPlanRegistry(): Promise<PlanRegistry> {
  const registry = new PlanRegistry();
  registry.register((await import('../../pipelines/antibunching/plan.js')).antibunchingScanPlan);
  registry.register((await import('../../pipelines/cosy/plan.js')).cosy2dPlan);
  const mrfm = await import('../../pipelines/mrfm/plan.js');
  registry.register(mrfm.mrfmMultislicePlan).register(mrfm.mrfmXyzPlan);
  registry.register((await import('../../pipelines/domains/plan.js')).domainImagingPlan);
  return registry;
}
