#!/usr/bin/env node
/**
 * The `qscope` command. This file only composes the subcommand modules in
 * daemon/commands/ (each exports `register(program)`); add one line per
 * module. Command modules import their heavy dependencies inside the action,
 * so `qscope --help` stays fast.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { version } from './package.js';
import { register as registerDaemon } from './commands/daemon.js';
import { register as registerConfig } from './commands/config.js';
import { register as registerTrain } from './commands/train.js';
import { register as registerReconstruct } from './commands/reconstruct.js';
import { register as registerRun } from './commands/run.js';
import { register as registerReplay } from './commands/replay.js';
import { register as registerDatasets } from './commands/datasets.js';
import { register as registerSessions } from './commands/sessions.js';
import { register as registerStatus } from './commands/status.js';
import { register as registerInstruments } from './commands/instruments.js';
import { register as registerStart } from './commands/start.js';
import { register as registerSessionControl } from './commands/session-control.js';
import { register as registerWatch } from './commands/watch.js';
import { register as registerKeys } from './commands/keys.js';
import { register as registerEmulate } from './commands/emulate.js';
import { register as registerPlans } from './commands/plans.js';
import { register as registerConvert } from './commands/convert.js';

export function createProgram(): Command {
  const program = new Command('qscope')
    .description('Instrument-control and acquisition daemon for quantum-sensing and magnetic-imaging microscopes')
    .version(version, '-V, --version', 'print the version')
    .showHelpAfterError()
    .showSuggestionAfterError();
  // ---- one line per command module ----
  registerDaemon(program);
  registerConfig(program);
  registerTrain(program);
  registerReconstruct(program);
  registerRun(program);
  registerReplay(program);
  registerDatasets(program);
  registerSessions(program);
  registerStatus(program);
  registerInstruments(program);
  registerStart(program);
  registerSessionControl(program);
  registerWatch(program);
  registerKeys(program);
  registerEmulate(program);
  registerPlans(program);
  registerConvert(program);
  return program;
}

function isMain(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) await createProgram().parseAsync(process.argv);
