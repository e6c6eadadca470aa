/**
 * `qscope plans` and `qscope plans show NAME`: the plans this installation
 * can run, and every parameter of one (type, unit, default, range,
 * description) read from the plan's own schema. Offline: no daemon needed.
 */
import type { Command } from 'commander';
import { EXIT, message, processIO, type CommandIO } from './io.js';

export function register(program: Command): void {
  const cmd = program.command('plans').description('the plans qscope can run (`plans show NAME` for their parameters)').option('--json', 'machine-readable output');
  cmd
    .command('list', { isDefault: true })
    .description('one line per plan')
    .action(async (_o: unknown, c: Command) => {
      process.exitCode = await listPlans(c.optsWithGlobals() as { json?: boolean }, processIO);
    });
  cmd
    .command('show')
    .argument('<name>', 'plan name')
    .description('every parameter of a plan: type, unit, default, range, description')
    .action(async (name: string, _o: unknown, c: Command) => {
      process.exitCode = await showPlan(name, c.optsWithGlobals() as { json?: boolean }, processIO);
    });
}

export async function listPlans(opts: { json?: boolean }, io: CommandIO): Promise<number> {
  const { createDefaultPlanRegistry } = await import('../plans/index.js');
  const plans = (await createDefaultPlanRegistry()).list();
  if (opts.json) io.out(JSON.stringify(plans, null, 2) + '\n');
  else for (const p of plans) io.out(`${p.name.padEnd(20)} v${p.version.padEnd(6)} ${p.description.split('\n')[0]}\n`);
  return EXIT.ok;
}

/** `[2, 256]`, `> 0`, `≤ 100000`, or '' from a property schema. */
function range(p: Record<string, unknown>): string {
  const lo = p.minimum !== undefined ? `≥ ${String(p.minimum)}` : p.exclusiveMinimum !== undefined ? `> ${String(p.exclusiveMinimum)}` : '';
  const hi = p.maximum !== undefined ? `≤ ${String(p.maximum)}` : p.exclusiveMaximum !== undefined ? `< ${String(p.exclusiveMaximum)}` : '';
  if (Array.isArray(p.enum)) return `one of ${p.enum.join(' | ')}`;
  return [lo, hi].filter(Boolean).join(', ');
}

export async function showPlan(name: string, opts: { json?: boolean }, io: CommandIO): Promise<number> {
  const { createDefaultPlanRegistry } = await import('../plans/index.js');
  const registry = await createDefaultPlanRegistry();
  if (!registry.has(name)) {
    io.err(`qscope plans show: ${registry.unknown(name)}\n`);
    return EXIT.badInput;
  }
  try {
    const p = registry.describe(name);
    if (opts.json) {
      io.out(JSON.stringify(p, null, 2) + '\n');
      return EXIT.ok;
    }
    io.out(`${p.name} v${p.version}: ${p.description}\n`);
    io.out(`  instruments: ${Object.entries(p.roles).map(([role, r]) => `${role} (${r.kind})`).join(', ') || '-'}\n`);
    io.out(`  parameters (set with -p name=value):\n`);
    const rows = Object.entries(p.schema.properties).map(([k, s]) => {
      const q = s as Record<string, unknown>;
      const unit = typeof q.unit === 'string' && q.unit !== '1' ? q.unit : '';
      return [k, String(q.type ?? ''), unit, q.default !== undefined ? JSON.stringify(q.default) : '-', range(q), typeof q.description === 'string' ? q.description : ''];
    });
    const head = ['name', 'type', 'unit', 'default', 'range', 'description'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) io.out(`    ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`.replace(/\s+\n$/, '\n'));
    return EXIT.ok;
  } catch (err) {
    io.err(`qscope plans show: ${message(err)}\n`);
    return EXIT.notCompleted;
  }
}
