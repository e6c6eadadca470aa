/**
 * `qscope replay SESSION [--speed realtime|max|<factor>] [--pipeline NAME]`:
 * plays a recorded session back through the drivers (the replay source
 * standing in for the simulator), re-runs the pipeline, records the replay as
 * a new session naming its source, and reports decision mismatches and result
 * differences. Exit: 0 identical, 4 differences, 1 replay did not complete,
 * 2 bad input (missing, corrupt or foreign session file).
 */
import type { Command } from 'commander';
import { EXIT, isInputError, message, processIO, resolveDeps, type CommandDeps } from './io.js';

export interface ReplayCliOptions {
  speed: string;
  pipeline?: string;
  sessions: string;
  frames?: boolean;
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('replay a recorded session through the drivers and re-run its pipeline; recorded as a new session')
    .argument('<session>', 'session id (in --sessions), `latest` (the newest), or path to a .db file')
    .option('--speed <speed>', 'realtime | max | a factor (experiment seconds per wall second)', 'max')
    .option('--pipeline <name>', 'run this pipeline instead of the recorded one')
    .option('--frames', 'replay frame by frame even when the plan is available')
    .option('-s, --sessions <dir>', 'sessions directory', './sessions')
    .action(async (session: string, opts: ReplayCliOptions) => {
      process.exitCode = await replayCommand(session, opts, { io: { ...processIO, progress: process.stderr.isTTY } });
    });
}

export async function replayCommand(session: string, opts: ReplayCliOptions, deps: CommandDeps): Promise<number> {
  const { io } = deps;
  const { replaySession, parseSpeed } = await import('../engine/replay.js');
  const { SessionStore } = await import('../store/store.js');
  const { storeOptions } = await import('../store/config.js');
  const { version } = await import('../package.js');
  let report;
  try {
    const speed = parseSpeed(opts.speed);
    const { drivers, plans, pipelines } = await resolveDeps(deps);
    if (opts.pipeline !== undefined && !pipelines.has(opts.pipeline)) throw new RangeError(`--pipeline: unknown '${opts.pipeline}' (known: ${pipelines.list().map((p) => p.name).join(', ') || 'none'})`);
    const store = new SessionStore(opts.sessions, storeOptions());
    let stopBar: () => void = () => undefined;
    report = await replaySession({
      source: session,
      sourceStore: store,
      store,
      registry: drivers,
      plans,
      pipelines,
      speed,
      ...(opts.pipeline ? { pipeline: opts.pipeline } : {}),
      ...(opts.frames ? { framesOnly: true } : {}),
      softwareVersion: version,
      onEngine: (engine, id) => {
        io.err(`replaying ${session} as session ${id} at speed ${opts.speed}\n`);
        if (io.progress) void import('./run.js').then(async (m) => (stopBar = await m.progressBar(engine, id)));
      },
    });
    stopBar();
  } catch (err) {
    io.err(`qscope replay: ${message(err)}\n`);
    return isInputError(err) ? EXIT.badInput : EXIT.notCompleted;
  }
  const st = report.status;
  io.out(`${report.id} (replay of ${report.sourceId}, ${report.mode} mode) ${st.state}: ${st.reason ?? ''}; ${st.frames} frames, ${st.results} results\n`);
  for (const e of report.environment) io.out(`not bit-identity conditions: ${e}\n`);
  io.out(`decisions: ${report.mismatches.length === 0 ? 'all as recorded' : `${report.mismatches.length} differ from the recording`}\n`);
  for (const m of report.mismatches.slice(0, 10)) io.out(`  ${m.kind}(${JSON.stringify(m.arg)}): recorded ${JSON.stringify(m.recorded)}, fresh ${JSON.stringify(m.fresh)}\n`);
  io.out(`frames: ${report.frames.identical ? `identical (${report.frames.compared})` : report.frames.differences.join('; ')}\n`);
  io.out(`results: ${report.results.identical ? `bit-identical (${report.results.compared})` : report.results.differences.join('; ')}\n`);
  if (st.state !== 'completed') return EXIT.notCompleted;
  return report.mismatches.length === 0 && report.frames.identical && (report.results.identical || opts.pipeline !== undefined) ? EXIT.ok : EXIT.differs;
}
