/** `qscope train <pipeline>`: trains a pipeline's model (each pipeline declares its options). */
import type { Command } from 'commander';
import { PIPELINE_COMMANDS } from '../../pipelines/commands.js';
import { addPipelineSubcommands } from './pipeline-subcommands.js';

export function register(program: Command): void {
  const train = program.command('train').description('train a pipeline model from the simulator');
  addPipelineSubcommands(train, PIPELINE_COMMANDS, 'train');
}
