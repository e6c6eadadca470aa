/**
 * `qscope run PLAN [--param key=value …] [--config FILE] [--sessions DIR]`:
 * runs one plan in-process (no network API) on the configured rig, shows
 * progress, and exits when the session ends: 0 completed, 1 failed/aborted,
 * 2 bad input. Ctrl-C aborts the session (instruments left safe).
 */
import type { Command } from 'commander';
import { defaultConfigFile } from '../package.js';
import { parsePositiveNumber } from './options.js';
import { EXIT, collect, isInputError, message, parsePairs, processIO, resolveDeps, type CommandDeps } from './io.js';

export interface RunOptions {
  param: string[];
  instrument: string[];
  config: string;
  sessions?: string;
  speed?: number;
  virtual?: boolean;
  sample?: string;
  operator?: string;
  notes?: string;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run one plan on the configured rig in-process and record it as a session')
    .argument('<plan>', 'plan name (see `qscope sessions` for recorded ones)')
    .option('-p, --param <key=value>', 'plan parameter (repeatable; dotted keys nest, JSON values allowed)', collect, [])
    .option('-i, --instrument <role=id>', 'bind a plan role to an instrument id (repeatable)', collect, [])
    .option('-c, --config <file>', 'rig config (YAML)', defaultConfigFile)
    .option('-s, --sessions <dir>', 'sessions directory (default: the config\'s sessions.dir, ./sessions)')
    .option('--speed <n>', 'pace the virtual clock: at most N experiment seconds per wall second (fully simulated rigs; computation takes no experiment time)', parsePositiveNumber)
    .option('--virtual', 'run the simulated rig on the virtual clock, as fast as the computer allows')
    .option('--sample <text>', 'session metadata: sample')
    .option('--operator <text>', 'session metadata: operator')
    .option('--notes <text>', 'session metadata: notes')
    .action(async (plan: string, opts: RunOptions) => {
      process.exitCode = await runPlan(plan, opts, { io: { ...processIO, progress: process.stderr.isTTY } }, true);
    });
}

export async function runPlan(plan: string, opts: RunOptions, deps: CommandDeps, handleSignals = false): Promise<number> {
  const { io } = deps;
  const { loadConfig } = await import('../config.js');
  const { parseParamArgs } = await import('../../pipelines/core/params.js');
  const { Daemon } = await import('../daemon.js');
  const { EngineService } = await import('../engine/service.js');
  const { createLogger, prettyDestination } = await import('../../drivers/core/log.js');
  const { destination } = await import('pino');
  let params: Record<string, unknown>;
  let instruments: Record<string, string>;
  let config;
  let resolved;
  try {
    params = parseParamArgs(opts.param ?? []);
    instruments = parsePairs(opts.instrument ?? [], '--instrument');
    resolved = await resolveDeps(deps);
    config = await loadConfig(opts.config, resolved.drivers);
  } catch (err) {
    io.err(`qscope run: ${message(err)}\n`);
    return EXIT.badInput;
  }
  const service = new EngineService({ ...(opts.sessions ? { sessionsDir: opts.sessions } : {}), plans: resolved.plans, pipelines: resolved.pipelines });
  const log = createLogger({ level: 'warn', destination: process.stderr.isTTY ? prettyDestination(2) : destination({ dest: 2, sync: true }) });
  if (opts.virtual && opts.speed) {
    io.err('qscope run: --virtual and --speed exclude each other (the virtual clock runs as fast as it can)\n');
    return EXIT.badInput;
  }
  const { createClock } = await import('../../drivers/core/clock.js');
  const daemon = new Daemon({
    config,
    configFile: opts.config,
    log,
    registry: resolved.drivers,
    services: [service],
    runDemo: false,
    ...(opts.speed ? { speed: opts.speed } : {}),
    ...(opts.virtual ? { clock: createClock({ kind: 'virtual' }) } : {}),
  });
  let onSigint: (() => void) | undefined;
  try {
    try {
      await daemon.start();
    } catch (err) {
      io.err(`qscope run: ${message(err)}\n`);
      return EXIT.notCompleted;
    }
    const engine = service.engine;
    let id: string;
    try {
      const metadata = { ...(opts.sample ? { sample: opts.sample } : {}), ...(opts.operator ? { operator: opts.operator } : {}), ...(opts.notes ? { notes: opts.notes } : {}) };
      id = await engine.start(plan, params, { instruments, metadata });
    } catch (err) {
      io.err(`qscope run: ${message(err)}\n`);
      return isInputError(err) ? EXIT.badInput : EXIT.notCompleted;
    }
    io.err(`session ${id}: ${plan} running (${engine.store.pathOf(id)})\n`);
    if (handleSignals) {
      onSigint = () => {
        io.err('\nabort requested: leaving instruments safe...\n');
        void engine.abort(id, 'aborted from the command line (SIGINT)').catch(() => undefined);
      };
      process.once('SIGINT', onSigint);
    }
    const stopBar = io.progress ? await progressBar(engine, id) : () => undefined;
    const st = await engine.whenEnded(id);
    stopBar();
    io.out(`${st.id} ${st.state}: ${st.reason ?? ''} (${st.frames} frames, ${st.results} results, ${(st.elapsedNs / 1e9).toFixed(3)} s of experiment time)\n`);
    return st.state === 'completed' ? EXIT.ok : EXIT.notCompleted;
  } finally {
    if (onSigint) process.removeListener('SIGINT', onSigint);
    await daemon.stop('run finished');
  }
}

/** A cli-progress bar on stderr fed by the engine's progress events; returns its stopper. */
export async function progressBar(engine: import('../engine/engine.js').Engine, id: string): Promise<() => void> {
  const { SingleBar, Presets } = await import('cli-progress');
  const total = engine.session(id).progress.total ?? 0;
  const bar = new SingleBar({ format: ' {bar} {percentage}% | {value}/{total} {label} | {frames} frames', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  bar.start(total || 1, 0, { label: '', frames: 0 });
  const sub = engine.events$.subscribe((e) => {
    if (e.sessionId !== id) return;
    if (e.status.progress.total) bar.setTotal(e.status.progress.total);
    bar.update(e.status.progress.done, { label: e.status.progress.label ?? '', frames: e.status.frames });
  });
  return () => {
    sub.unsubscribe();
    bar.stop();
  };
}
