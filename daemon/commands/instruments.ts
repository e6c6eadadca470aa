/**
 * `qscope instruments [ID]`: every instrument, or one with its channels and commands;
 * `qscope instruments call ID COMMAND key=value…`: one command (a quick move or read);
 * `qscope instruments probe [ADDRESS]`: serial ports on this machine, and what answers `*IDN?` at an address.
 */
import type { Command } from 'commander';
import { clientOptions, printJson, withClient, type ClientCliOptions } from './client-options.js';

export function register(program: Command): void {
  const instruments = program.command('instruments');
  registerProbe(instruments);
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

interface ProbeOptions {
  baud?: string;
  timeout: string;
  eol: string;
  json?: boolean;
}

function registerProbe(instruments: Command): void {
  instruments
    .command('probe')
    .argument('[address]', 'tcp://HOST:PORT or serial:/dev/PATH to identify (*IDN?)')
    .option('--baud <n>', 'serial baud rate', '115200')
    .option('--timeout <ms>', 'reply timeout', '1000')
    .option('--eol <lf|cr>', 'reply terminator of the instrument (SR830 over RS-232: cr)', 'lf')
    .option('--json', 'print JSON')
    .description('list serial ports (by-id names first) and identify the instrument at an address')
    .action(async (address: string | undefined, o: ProbeOptions) => {
      const { listSerialPorts } = await import('../../drivers/core/io/ports.js');
      const { ports, note } = await listSerialPorts();
      let identity: string | undefined;
      if (address !== undefined) {
        const { parseAddress } = await import('../../drivers/core/io/address.js');
        const { Link } = await import('../../drivers/core/io/link.js');
        const { lineFraming } = await import('../../drivers/core/io/framing.js');
        try {
          parseAddress(address);
        } catch (err) {
          process.stderr.write(`error: ${(err as Error).message}\n`);
          process.exitCode = 2;
          return;
        }
        const link = new Link({
          id: 'probe',
          address,
          baudRate: Number(o.baud),
          framing: lineFraming(o.eol === 'cr' ? 0x0d : 0x0a),
          replyTimeoutMs: Number(o.timeout),
          sync: { command: '*IDN?\n', matches: (r) => r.trim() !== '' },
          reconnect: false,
        });
        try {
          await link.open();
          identity = (await link.query('*IDN?\n')).trim();
        } catch (err) {
          process.stderr.write(`error: ${address}: ${(err as Error).message}\n`);
          process.exitCode = 1;
        } finally {
          await link.close();
        }
      }
      // `--json` is also an option of `instruments` itself, which commander gives it first.
      if (o.json || instruments.opts().json) return printJson({ ports, ...(note ? { note } : {}), ...(address ? { address, identity: identity ?? null } : {}) });
      if (note) process.stdout.write(`# ${note}\n`);
      if (ports.length === 0) process.stdout.write('no serial ports found\n');
      for (const p of ports) process.stdout.write(`serial:${p.path}${p.device !== p.path ? ` -> ${p.device}` : ''}${p.manufacturer ? ` (${p.manufacturer})` : ''}\n`);
      if (identity !== undefined) process.stdout.write(`${address}: ${identity}\n`);
    });
}
