/** `qscope status`: the daemon's state, its running session and instruments. */
import type { Command } from 'commander';
import { clientOptions, printJson, withClient, type ClientCliOptions } from './client-options.js';

export function register(program: Command): void {
  clientOptions(program.command('status').description('show the running daemon: version, session, instruments')).action((opts: ClientCliOptions) =>
    withClient(opts, async (c) => {
      const s = await c.status();
      if (opts.json) return printJson(s);
      const session = s.session as { id: string; plan: string; state: string; progress?: { done: number; total?: number } } | undefined;
      // A daemon that does not say its clock (an older one, or a test target) gets no clock clause.
      const speed = typeof s.clock !== 'string' ? '' : typeof s.clockSpeed === 'number' ? `; ${s.clock} clock, ×${s.clockSpeed} (experiment seconds per wall second)` : `; ${s.clock} clock${s.clock === 'virtual' ? ', as fast as the computer allows' : ''}`;
      const lines = [`qscope ${s.version} at ${opts.control}: ${s.running ? `running session ${s.running}` : 'idle'}${speed}`];
      if (session) lines.push(`  session ${session.id}: plan ${session.plan}, ${session.state}${session.progress ? `, ${session.progress.done}/${session.progress.total ?? '?'}` : ''}`);
      const phase = (s.session as { phase?: { name: string; index: number; count?: number; done: number; total?: number; unit?: string; remainingMs?: number } } | undefined)?.phase;
      if (phase) {
        const left = phase.remainingMs !== undefined ? `, ~${(phase.remainingMs / 1000).toFixed(phase.remainingMs < 10_000 ? 1 : 0)} s of experiment time left` : '';
        lines.push(`  phase ${phase.count ? `${phase.index + 1}/${phase.count}` : phase.index + 1} ${phase.name}${phase.total !== undefined ? `: ${phase.done}/${phase.total}${phase.unit ? ` ${phase.unit}` : ''}` : ''}${left}`);
      }
      for (const i of (s.instruments as Array<{ id: string; kind: string; state: string; owner?: string }> | undefined) ?? []) {
        lines.push(`  ${i.id.padEnd(12)} ${String(i.kind).padEnd(12)} ${i.state}${i.owner ? ` (owned by ${i.owner})` : ''}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    }),
  );
}
