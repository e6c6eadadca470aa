/**
 * Pipelines that offer offline commands: `qscope train <name>` and
 * `qscope reconstruct <name>`. Each entry is light (option tables only); the
 * heavy modules (tfjs, estimators) load inside `run`. One line per pipeline.
 */
import { g2Commands } from './antibunching/commands.js';
import { cosyCommands } from './cosy/commands.js';
import { mrfmCommands } from './mrfm/commands.js';
import { domainsCommands } from './domains/commands.js';

export interface OptionSpec {
  /** Commander flags, e.g. `--epochs <n>`. */
  flags: string;
  description: string;
  default?: string | boolean;
}

export interface OfflineCommand {
  description: string;
  options: OptionSpec[];
  run(opts: Record<string, string | boolean | undefined>): Promise<void>;
}

export interface PipelineCommands {
  train?: OfflineCommand;
  reconstruct?: OfflineCommand;
}

export const PIPELINE_COMMANDS: Record<string, PipelineCommands> = {
  g2: g2Commands,
  cosy: cosyCommands,
  mrfm: mrfmCommands,
  domains: domainsCommands,
};
