/** `qscope pause|resume|abort [ID]`: act on the given session, or on the running one. */
import type { Command } from 'commander';
import { clientOptions, printJson, withClient, type ClientCliOptions } from './client-options.js';

const ACTIONS = {
  pause: 'pause the running (or given) session',
  resume: 'resume a paused session',
  abort: 'abort the running (or given) session; it is recorded as aborted',
} as const;

export function register(program: Command): void {
  for (const [name, description] of Object.entries(ACTIONS) as Array<[keyof typeof ACTIONS, string]>) {
    clientOptions(program.command(name).argument('[id]', 'session id (default: the running session)').description(description)).action(
      (id: string | undefined, opts: ClientCliOptions) =>
        withClient(opts, async (c) => {
          const s = await c[name](id);
          if (opts.json) return printJson(s);
          process.stdout.write(`session ${s.id}: ${s.state}\n`);
        }),
    );
  }
}
