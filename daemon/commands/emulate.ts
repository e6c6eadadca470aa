/**
 * `qscope emulate pi-gcs|scpi-rf|sr830 [--port N | --pty [PATH]]`: runs an
 * instrument emulator (drivers/core/io/emulator.ts with the instrument's
 * dialogue table) so an adapter can be tried without hardware. Prints the
 * address to put in the config, then serves until interrupted.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';

const KINDS = ['pi-gcs', 'scpi-rf', 'sr830'] as const;
type Kind = (typeof KINDS)[number];

interface EmulateOptions {
  port?: string;
  pty?: string | boolean;
  dialect: string;
  model: string;
  settlePolls?: string;
  servoOn?: boolean;
}

async function table(kind: Kind, o: EmulateOptions) {
  if (kind === 'pi-gcs') {
    const { gcsTable } = await import('../../drivers/piezo/pi-gcs/emulator.js');
    return gcsTable({ ...(o.settlePolls ? { settlePolls: Number(o.settlePolls) } : {}), servoOnAtPowerUp: o.servoOn ?? false });
  }
  if (kind === 'scpi-rf') {
    const { scpiTable } = await import('../../drivers/rf/scpi/emulator.js');
    if (!['rs', 'keysight', 'sg384'].includes(o.dialect)) throw new InvalidArgumentError(`--dialect: expected rs, keysight or sg384, got '${o.dialect}'`);
    return scpiTable(o.dialect as 'rs');
  }
  const { lockinTable } = await import('../../drivers/force/sr830/emulator.js');
  if (!['sr830', 'sr860'].includes(o.model)) throw new InvalidArgumentError(`--model: expected sr830 or sr860, got '${o.model}'`);
  return lockinTable(o.model as 'sr830');
}

export function register(program: Command): void {
  program
    .command('emulate')
    .argument('<instrument>', `what to emulate: ${KINDS.join(', ')}`, (v: string) => {
      if (!(KINDS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${KINDS.join(', ')}`);
      return v;
    })
    .option('--port <n>', 'serve TCP on this loopback port (0: any free one)', '0')
    .option('--pty [path]', 'also serve on a pseudo-terminal (needs socat), linked at PATH')
    .option('--dialect <name>', 'scpi-rf command set: rs, keysight, sg384', 'rs')
    .option('--model <name>', 'sr830 or sr860', 'sr830')
    .option('--settle-polls <n>', 'pi-gcs: ONT? polls a move takes')
    .option('--servo-on', 'pi-gcs: servo on at power-up')
    .description('run an instrument emulator (fake PI GCS controller, SCPI rf source or SR830 lock-in) for trying an adapter without hardware')
    .action(async (kind: Kind, o: EmulateOptions) => {
      const { Emulator } = await import('../../drivers/core/io/emulator.js');
      const port = Number(o.port ?? 0);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        process.stderr.write(`error: --port: expected 0..65535, got '${o.port}'\n`);
        process.exitCode = 2;
        return;
      }
      const emu = new Emulator(await table(kind, o));
      await emu.listen(port);
      process.stdout.write(`${kind} emulator: address ${emu.tcpAddress}\n`);
      if (o.pty) {
        const path = typeof o.pty === 'string' ? o.pty : join(mkdtempSync(join(tmpdir(), 'qscope-emulate-')), 'tty');
        await emu.pty(path);
        process.stdout.write(`${kind} emulator: address serial:${path}\n`);
      }
      emu.on('command', (c: { command: string; mutating: boolean }) => process.stdout.write(`< ${JSON.stringify(c.command)}${c.mutating ? ' (mutating)' : ''}\n`));
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await emu.close();
    });
}
