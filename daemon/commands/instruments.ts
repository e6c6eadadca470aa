/**
 * `qscope instruments [ID]`: every instrument, or one with its channels and commands;
 * `qscope instruments call ID COMMAND key=value…`: one command (a quick move or read).
 */
import type { Command } from 'commander';
import { clientOptions, printJson, withClient, type ClientCliOptions } from './client-options.js';

export function register(program: Command): void {
  const instruments = program.command('instruments');
  clientOptions(
    instruments
      .command('call')
      .argument('<id>', 'instrument id (see `qscope instruments`)')
      .argument('<command>', 'command name (see `qscope instruments ID`)')
      .argument('[params...]', 'key=value parameters; values are JSON when they parse (50000, true, [1,2]), else strings')
      .description('send one command to an instrument of the running daemon and print its reply'),
  ).action((id: string, command: string, params: string[], opts: ClientCliOptions) =>
    withClient(opts, async (c) => {
      const args: Record<string, unknown> = {};
      for (const pair of params) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new Error(`'${pair}': parameters are key=value`);
        const raw = pair.slice(eq + 1);
        try {
          args[pair.slice(0, eq)] = JSON.parse(raw);
        } catch {
          args[pair.slice(0, eq)] = raw;
        }
      }
      const reply = await c.callInstrument(id, command, args);
      process.stdout.write(opts.json ? JSON.stringify(reply, null, 2) + '\n' : `${id}.${command}: ${JSON.stringify(reply)}\n`);
    }),
  );
  clientOptions(instruments.argument('[id]', 'describe this instrument').description("list the daemon's instruments (or describe one)")).action(
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
