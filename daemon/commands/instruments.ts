/** `qscope instruments [ID]`: every instrument, or one with its channels and commands. */
import type { Command } from 'commander';
import { clientOptions, printJson, withClient, type ClientCliOptions } from './client-options.js';

export function register(program: Command): void {
  clientOptions(program.command('instruments').argument('[id]', 'describe this instrument').description("list the daemon's instruments (or describe one)")).action(
    (id: string | undefined, opts: ClientCliOptions) =>
      withClient(opts, async (c) => {
        if (id === undefined) {
          const list = await c.instruments();
          if (opts.json) return printJson(list);
          for (const i of list) {
            const owner = (i as { owner?: string }).owner;
            process.stdout.write(`${i.id.padEnd(12)} ${i.kind.padEnd(12)} ${i.impl.padEnd(8)} ${i.state}${owner ? ` (owned by ${owner})` : ''}  commands: ${Object.keys(i.commands).join(', ') || '-'}\n`);
          }
          return;
        }
        const d = await c.describeInstrument(id);
        if (opts.json) return printJson(d);
        process.stdout.write(`${d.id}: ${d.kind} (${d.impl}), ${d.state}${d.fault ? `, fault ${d.fault.code}: ${d.fault.message}` : ''}\n`);
        for (const ch of d.channels) process.stdout.write(`  channel ${ch.name} [${ch.dtype}, ${ch.unit}, ${ch.access}]${ch.description ? ` ${ch.description}` : ''}\n`);
        for (const [name, cmd] of Object.entries(d.commands)) {
          process.stdout.write(`  command ${name}${cmd.mutating ? ' (mutating)' : ''}: ${cmd.description}\n    params ${JSON.stringify(cmd.params)}\n`);
        }
      }),
  );
}
