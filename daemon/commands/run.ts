/**
 * `qscope run PLAN [--param key=value …] [--config FILE] [--sessions DIR]`:
 * runs one plan in-process (no network API) on the configured rig, shows
 * progress, and exits when the session ends: 0 completed, 1 failed/aborted,
 * 2 bad input. Ctrl-C aborts the session (instruments left safe).
 */
import type { Command } from 'commander';
import { defaultConfigFile } from '../package.js';
import { parsePositiveNumber } from './options.js';
import { EXIT, collect, isInputError, message, parsePairs, processIO, resolveDeps, type CommandDeps, type CommandIO } from './io.js';

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
    const estimate = engine.session(id).estimate;
    if (estimate) io.err(`${describeEstimate(estimate.totalMs, estimate.upperBound, daemon.clock)}\n`);
    if (handleSignals) {
      onSigint = () => {
        io.err('\nabort requested: leaving instruments safe...\n');
        void engine.abort(id, 'aborted from the command line (SIGINT)').catch(() => undefined);
      };
      process.once('SIGINT', onSigint);
    }
    const stopBar = io.progress ? await progressBar(engine, id) : phaseLines(engine, id, io);
    const st = await engine.whenEnded(id);
    await engine.whenClosed(id); // the session file is complete when the command returns
    stopBar();
    io.out(`${st.id} ${st.state}: ${st.reason ?? ''} (${st.frames} frames, ${st.results} results, ${(st.elapsedNs / 1e9).toFixed(3)} s of experiment time)\n`);
    return st.state === 'completed' ? EXIT.ok : EXIT.notCompleted;
  } finally {
    if (onSigint) process.removeListener('SIGINT', onSigint);
    await daemon.stop('run finished');
  }
}

/** `1 h 12 min`, `36 min`, `4.2 s`: a duration for people. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const min = s / 60;
  if (min < 60) return `${Math.round(min)} min`;
  const h = Math.floor(min / 60);
  return `${h} h ${Math.round(min - 60 * h)} min`;
}

/** The estimate on the chosen clock: experiment time, and wall time unless the clock is virtual. */
export function describeEstimate(totalMs: number, upperBound: boolean | undefined, clock: { kind: string; speed?: number }): string {
  const bound = upperBound ? 'at most ' : 'about ';
  const exp = `${bound}${formatDuration(totalMs)} of experiment time`;
  if (clock.kind === 'virtual') return `estimated duration: ${exp}; on the virtual clock it runs as fast as the computer allows`;
  const speed = clock.kind === 'scaled' ? (clock.speed ?? 1) : 1;
  return `estimated duration: ${exp}, ${bound}${formatDuration(totalMs / speed)} of wall time${speed !== 1 ? ` at ×${speed}` : ' (real time; --speed N or --virtual go faster)'}`;
}

type Engine = import('../engine/engine.js').Engine;
type Status = ReturnType<Engine['session']>;

/** `raster 12/64 pixels`, or the plan's own progress when it has no phase. */
function phaseText(st: Status): { name: string; done: number; total: number; left: string } {
  const ph = st.phase;
  const left = ph?.remainingMs !== undefined ? `~${formatDuration(ph.remainingMs)} left in phase` : '';
  const total = st.estimate?.remainingMs !== undefined ? `, ~${formatDuration(st.estimate.remainingMs)} left` : '';
  if (ph) return { name: `${ph.count ? `${ph.index + 1}/${ph.count} ` : ''}${ph.name}${ph.unit ? ` (${ph.unit})` : ''}`, done: ph.done, total: ph.total ?? 0, left: left + total };
  return { name: st.progress.label ?? '', done: st.progress.done, total: st.progress.total ?? 0, left: total };
}

/**
 * A cli-progress bar on stderr: the current phase with its own progress and time remaining (experiment
 * time), and the frame count. Refreshed by the engine's events and every 250 ms of wall time (a long
 * single step, like a 30 min calibration histogram, sends no events). Returns its stopper.
 */
export async function progressBar(engine: Engine, id: string): Promise<() => void> {
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar({ format: ' {phase} {bar} {value}/{total} | {frames} frames | {left}', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  bar.start(1, 0, { phase: '', frames: 0, left: '' });
  const refresh = () => {
    const st = engine.session(id);
    const t = phaseText(st);
    bar.setTotal(t.total || 1);
    bar.update(t.done, { phase: t.name, frames: st.frames, left: t.left });
  };
  const sub = engine.events$.subscribe((e) => e.sessionId === id && refresh());
  const timer = setInterval(refresh, 250);
  return () => {
    clearInterval(timer);
    sub.unsubscribe();
    refresh();
    bar.stop();
  };
}

/** Without a terminal: one line per phase entered (name, estimate) on stderr. Returns its stopper. */
export function phaseLines(engine: Engine, id: string, io: CommandIO): () => void {
  let shown = -1;
  const sub = engine.events$.subscribe((e) => {
    const ph = e.sessionId === id ? e.status.phase : undefined;
    if (!ph || ph.index === shown) return;
    shown = ph.index;
    io.err(`phase ${ph.count ? `${ph.index + 1}/${ph.count}` : ph.index + 1}: ${ph.name}${ph.total !== undefined ? ` (${ph.total}${ph.unit ? ` ${ph.unit}` : ''})` : ''}${ph.estimateMs !== undefined ? `, estimated ${formatDuration(ph.estimateMs)} of experiment time` : ''}\n`);
  });
  return () => sub.unsubscribe();
}
