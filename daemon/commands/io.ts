/**
 * What the engine's commands (run, replay, export, import, sessions) share:
 * injectable output and registries (tests call the actions in-process), and
 * one exit-code convention:
 *   0 done (session completed; replay identical)
 *   1 the session ran but did not complete (failed, aborted)
 *   2 bad input: usage, params, a missing/corrupt/foreign file
 *   4 replay completed but its decisions or results differ from the recording
 */
import type { DriverRegistry } from '../../drivers/core/registry.js';
import type { PipelineRegistry } from '../../pipelines/core/pipeline.js';
import type { PlanRegistry } from '../plans/index.js';

export const EXIT = { ok: 0, notCompleted: 1, badInput: 2, differs: 4 } as const;

export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  /** Show a progress bar (default: when stderr is a TTY). */
  progress?: boolean;
}

export const processIO: CommandIO = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

export interface CommandDeps {
  io: CommandIO;
  drivers?: () => DriverRegistry;
  plans?: () => Promise<PlanRegistry>;
  pipelines?: () => Promise<PipelineRegistry>;
}

export async function resolveDeps(d: CommandDeps): Promise<{ io: CommandIO; drivers: DriverRegistry; plans: PlanRegistry; pipelines: PipelineRegistry }> {
  const drivers = d.drivers ? d.drivers() : (await import('../../drivers/index.js')).createDefaultRegistry();
  const plans = d.plans ? await d.plans() : await (await import('../plans/index.js')).createDefaultPlanRegistry();
  const pipelines = d.pipelines ? await d.pipelines() : await (await import('../../pipelines/index.js')).createDefaultPipelineRegistry();
  return { io: d.io, drivers, plans, pipelines };
}

/** Errors that mean "bad input" (exit 2), by their code. */
export function isInputError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return ['SESSION_FILE', 'BAD_NPY', 'BAD_DATASET', 'BAD_PARAMS', 'UNKNOWN_PLAN', 'UNKNOWN_SESSION', 'BINDING', 'DISK_SPACE', 'CONFIG', 'SESSIONS_DIR'].includes(code ?? '') || err instanceof RangeError || (err as Error)?.name === 'ConfigError';
}

export function message(err: unknown): string {
  const e = err as { issues?: string[]; message?: string };
  if (Array.isArray(e?.issues)) return e.issues.join('\n');
  return e?.message ?? String(err);
}

/** `role=id` pairs of `--instrument`. */
export function parsePairs(pairs: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new RangeError(`${what} ${p}: expected name=value`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
