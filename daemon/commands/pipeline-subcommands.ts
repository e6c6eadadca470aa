/** Adds one subcommand per pipeline that offers `which` (train or reconstruct). */
import type { Command } from 'commander';
import type { PipelineCommands } from '../../pipelines/commands.js';
import { EXIT, isInputError } from './io.js';

export function addPipelineSubcommands(parent: Command, pipelines: Record<string, PipelineCommands>, which: 'train' | 'reconstruct'): void {
  for (const [name, p] of Object.entries(pipelines)) {
    const spec = p[which];
    if (!spec) continue;
    const cmd = parent.command(name).description(spec.description);
    for (const o of spec.options) cmd.option(o.flags, o.description, o.default);
    cmd.action(async (opts: Record<string, string | boolean | undefined>) => {
      try {
        await spec.run(opts);
      } catch (err) {
        console.error(`qscope ${which} ${name}: ${(err as Error).message}`);
        // A bad dataset or option is exit 2 (nothing done), like every other command's bad input; an error may
        // also say how to exit itself (exitCode) or carry a BAD_DATASET / BAD_USAGE code.
        const exitCode = (err as { exitCode?: unknown }).exitCode;
        const code = (err as { code?: unknown }).code;
        process.exitCode = typeof exitCode === 'number' && Number.isInteger(exitCode) && exitCode > 0 ? exitCode
          : isInputError(err) || code === 'USAGE' || code === 'BAD_DATASET' || code === 'BAD_USAGE' || err instanceof RangeError ? EXIT.badInput : EXIT.notCompleted;
      }
    });
  }
}
