/** Helpers for adapter tests: emulators on real sockets and socat ptys, and waiting on events (never on time). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom, type Observable } from 'rxjs';
import type { Driver, DriverState } from '../../../drivers/core/driver.js';
import { Emulator, type DialogueTable, type LoggedCommand } from '../../../drivers/core/io/emulator.js';

export type Wire = 'tcp' | 'pty';

/** Starts an emulator of `table` on a loopback port, or on a socat pty; `address` is what an adapter config takes. */
export async function startEmulator(table: DialogueTable, wire: Wire): Promise<{ emu: Emulator; address: string; cleanup: () => Promise<void> }> {
  const emu = new Emulator(table);
  await emu.listen(0);
  if (wire === 'tcp') return { emu, address: emu.tcpAddress, cleanup: () => emu.close() };
  const dir = mkdtempSync(join(tmpdir(), 'qscope-pty-'));
  const path = await emu.pty(join(dir, 'tty'));
  return {
    emu,
    address: `serial:${path}`,
    cleanup: async () => {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function waitState(d: Driver, s: DriverState): Promise<DriverState> {
  return firstValueFrom(d.state$.pipe(filter((x) => x === s)));
}

export function waitFor<T>(obs: Observable<T>, pred: (x: T) => boolean): Promise<T> {
  return firstValueFrom(obs.pipe(filter(pred)));
}

/** Resolves when the emulator has received a command matching `re`. */
export function whenReceived(emu: Emulator, re: RegExp): Promise<LoggedCommand> {
  return new Promise((resolve) => {
    const on = (c: LoggedCommand) => {
      if (re.test(c.command)) {
        emu.off('command', on);
        resolve(c);
      }
    };
    emu.on('command', on);
  });
}

/** A toy instrument for the link tests: `*IDN?` → TOY; `Q? n` → `A n`; `SET n` (mutating) stores n; `GET?` → n. */
export const toy: DialogueTable = {
  name: 'toy',
  eol: '\n',
  unknownCommandError: 1,
  init: () => ({ errors: [], n: 0 }),
  entries: [
    { match: /^\*IDN\?$/, reply: () => 'TOY,1' },
    { match: /^Q\? (\S+)$/, reply: (m) => `A ${m[1]}` },
    { match: /^SET (\S+)$/, mutating: true, reply: (m, d) => ((d.n = Number(m[1])), undefined) },
    { match: /^GET\?$/, reply: (_m, d) => String(d.n) },
  ],
};
