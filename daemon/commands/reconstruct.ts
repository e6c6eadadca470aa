/** `qscope reconstruct <pipeline> --input DIR --out DIR`: offline reconstruction of a dataset folder. */
import type { Command } from 'commander';
import { PIPELINE_COMMANDS } from '../../pipelines/commands.js';
import { addPipelineSubcommands } from './pipeline-subcommands.js';

export function register(program: Command): void {
  const reconstruct = program.command('reconstruct').description('reconstruct a dataset folder offline');
  addPipelineSubcommands(reconstruct, PIPELINE_COMMANDS, 'reconstruct');
}
