/**
 * `qscope export SESSION --out DIR` and `qscope import DIR --out SESSION.db`:
 * NumPy-compatible dataset folders (manifest.json + .npy). Exit 0 done,
 * 2 bad input (nothing written).
 */
import type { Command } from 'commander';
import { EXIT, isInputError, message, processIO, type CommandIO } from './io.js';

export function register(program: Command): void {
  program
    .command('export')
    .description('write a session as a folder (images, dataset, manifest.json, raw/ streams as .npy) or one NeXus/HDF5 file')
    .argument('<session>', 'session id (in --sessions), `latest` (the newest), or path to a .db file')
    .requiredOption('-o, --out <path>', 'output directory (created; must be empty), or the .nxs file for --format nexus')
    .option('-f, --format <format>', 'npy (a folder NumPy reads) | nexus (one HDF5 file silx, h5web, NeXpy plot)', 'npy')
    .option('-s, --sessions <dir>', 'sessions directory', './sessions')
    .action(async (session: string, opts: { out: string; sessions: string; format?: string }) => {
      process.exitCode = await exportCommand(session, opts, processIO);
    });
  program
    .command('import')
    .description('read a dataset folder (manifest.json + .npy) into a session file that replays like a recorded one')
    .argument('<dir>', 'dataset folder')
    .requiredOption('-o, --out <file>', 'session file to create (.db)')
    .action(async (dir: string, opts: { out: string }) => {
      process.exitCode = await importCommand(dir, opts, processIO);
    });
}

export async function exportCommand(session: string, opts: { out: string; sessions: string; format?: string }, io: CommandIO): Promise<number> {
  const { SessionStore } = await import('../store/store.js');
  if (opts.format !== undefined && opts.format !== 'npy' && opts.format !== 'nexus') {
    io.err(`qscope export: --format must be npy or nexus, got '${opts.format}'\n`);
    return EXIT.badInput;
  }
  if (opts.format === 'nexus') {
    try {
      const { exportNexus } = await import('../datasets/nexus.js');
      const { version } = await import('../package.js');
      const path = new SessionStore(opts.sessions).resolve(session);
      const { existsSync } = await import('node:fs');
      if (!existsSync(path)) throw Object.assign(new Error(`session: no file ${path}`), { code: 'SESSION_FILE' });
      const r = await exportNexus(path, opts.out, version);
      io.out(`${opts.out}: NeXus, ${r.maps.length} maps (${r.maps.join(', ') || '-'}), ${r.streams.length} raw streams${Object.keys(r.skipped).length ? `; not written: ${Object.entries(r.skipped).map(([k, v]) => `${k} (${v})`).join(', ')}` : ''}\n`);
      return EXIT.ok;
    } catch (err) {
      io.err(`qscope export: ${message(err)}\n`);
      return isInputError(err) ? EXIT.badInput : EXIT.notCompleted;
    }
  }
  const { exportSession, createDefaultExporters } = await import('../datasets/export.js');
  try {
    const store = new SessionStore(opts.sessions);
    const reader = store.open(session, { verify: true });
    try {
      const res = exportSession(reader, opts.out, await createDefaultExporters());
      io.out(`${opts.out}: ${res.files.length} files (kind ${res.manifest.kind})\n`);
    } finally {
      reader.close();
    }
    return EXIT.ok;
  } catch (err) {
    io.err(`qscope export: ${message(err)}\n`);
    return isInputError(err) ? EXIT.badInput : EXIT.notCompleted;
  }
}

export async function importCommand(dir: string, opts: { out: string }, io: CommandIO): Promise<number> {
  const { importDataset } = await import('../datasets/import.js');
  try {
    const res = importDataset(dir, opts.out);
    io.out(`${res.path}: session ${res.id} (${res.kind}: ${res.frames} frames, ${res.results} results, ${res.events} events)\n`);
    return EXIT.ok;
  } catch (err) {
    io.err(`qscope import: ${message(err)}\n`);
    return isInputError(err) ? EXIT.badInput : EXIT.notCompleted;
  }
}
