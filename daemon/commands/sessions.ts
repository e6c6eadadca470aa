/** `qscope sessions [list|show ID] [--sessions DIR] [--json]`: lists and describes recorded sessions. */
import type { Command } from 'commander';
import { EXIT, isInputError, message, processIO, type CommandIO } from './io.js';

interface SessionsOptions {
  sessions: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('sessions')
    .description('list and describe recorded sessions')
    .option('-s, --sessions <dir>', 'sessions directory', './sessions')
    .option('--json', 'machine-readable output');
  cmd
    .command('list', { isDefault: true })
    .description('every session in the directory, oldest first')
    .action(async (_o: unknown, c: Command) => {
      process.exitCode = await listSessions(c.optsWithGlobals() as SessionsOptions, processIO);
    });
  cmd
    .command('show')
    .argument('<id>', 'session id, `latest` (the newest), or path to a .db file')
    .description('one session: metadata, streams, events, how it ended')
    .action(async (id: string, _o: unknown, c: Command) => {
      process.exitCode = await showSession(id, c.optsWithGlobals() as SessionsOptions, processIO);
    });
}

export async function listSessions(opts: SessionsOptions, io: CommandIO): Promise<number> {
  const { SessionStore } = await import('../store/store.js');
  let list;
  try {
    list = new SessionStore(opts.sessions).list();
  } catch (err) {
    // A missing or unreadable folder is an error, never "no sessions".
    io.err(`qscope sessions list: ${message(err)}\n`);
    return isInputError(err) ? EXIT.badInput : EXIT.notCompleted;
  }
  if (opts.json) {
    io.out(JSON.stringify(list, null, 2) + '\n');
    return EXIT.ok;
  }
  if (list.length === 0) {
    io.out(`no sessions in ${opts.sessions}\n`);
    return EXIT.ok;
  }
  for (const s of list) {
    const src = s.source?.replayOf ? ` replay of ${s.source.replayOf}` : s.source?.importedFrom ? ` imported` : '';
    io.out(`${s.id}  ${s.plan.padEnd(18)} ${s.status.padEnd(11)} ${String(s.frames ?? '-').padStart(8)} frames ${String(s.results ?? '-').padStart(8)} results${src}${s.reason ? `  (${s.reason})` : ''}\n`);
  }
  return EXIT.ok;
}

export async function showSession(id: string, opts: SessionsOptions, io: CommandIO): Promise<number> {
  const { SessionStore } = await import('../store/store.js');
  try {
    const r = new SessionStore(opts.sessions).open(id);
    try {
      const session = r.session();
      const streams = r.streams();
      const events: Record<string, number> = {};
      for (const e of r.events()) events[e.type] = (events[e.type] ?? 0) + 1;
      const info = { ...session, config: undefined, streams, events, file: r.path };
      if (opts.json) io.out(JSON.stringify({ ...info, config: session.config }, null, 2) + '\n');
      else {
        io.out(`session ${session.id}  (${r.path})\n`);
        io.out(`  plan        ${session.plan} v${session.planVersion ?? '?'}  params ${JSON.stringify(session.params)}\n`);
        io.out(`  status      ${session.status}${session.reason ? `: ${session.reason}` : ''}\n`);
        io.out(`  started     ${session.startedAt}  ended ${session.endedAt ?? '-'}  duration ${session.durationNs !== null ? (session.durationNs / 1e9).toFixed(3) + ' s' : '-'} (${session.clock} clock)\n`);
        io.out(`  instruments ${JSON.stringify(session.instruments)}  pipeline ${session.pipeline ?? '-'} ${session.pipelineVersion ?? ''}\n`);
        io.out(`  software    ${session.softwareVersion}${session.tfBackend ? `  tfjs ${session.tfBackend}` : ''}${session.modelHashes ? `  models ${JSON.stringify(session.modelHashes)}` : ''}\n`);
        if (Object.keys(session.metadata).length) io.out(`  metadata    ${JSON.stringify(session.metadata)}\n`);
        if (session.source) io.out(`  source      ${JSON.stringify(session.source)}\n`);
        for (const s of streams) io.out(`  stream      ${s.name.padEnd(24)} ${s.kind.padEnd(10)} ${s.dtype} [${s.shape.join(', ')}] × ${s.count}\n`);
        io.out(`  events      ${Object.entries(events).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
      }
    } finally {
      r.close();
    }
    return EXIT.ok;
  } catch (err) {
    io.err(`qscope sessions show: ${message(err)}\n`);
    return isInputError(err) ? EXIT.badInput : EXIT.notCompleted;
  }
}
