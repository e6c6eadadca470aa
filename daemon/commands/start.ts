/**
 * `qscope start PLAN [--param k=v …]`: starts a session on the running
 * daemon and shows its progress from the data socket (`@status` snapshots),
 * until it ends. Ctrl-C detaches; the session goes on (`qscope abort` stops it).
 */
import type { Command } from 'commander';
import { clientOptions, fail, printJson, withClient, type ClientCliOptions } from './client-options.js';

interface StartOptions extends ClientCliOptions {
  param: string[];
  sample?: string;
  operator?: string;
  notes?: string;
  wait: boolean;
}

const FINAL = new Set(['completed', 'aborted', 'failed', 'interrupted']);
/** Status polls that may fail in a row before `start` gives up following (the daemon is gone or unreachable). */
const LOST_AFTER_POLLS = 3;

export function register(program: Command): void {
  clientOptions(
    program
      .command('start')
      .argument('<plan>', 'plan name (see the daemon: plans.list)')
      .description('start a session of a plan on the running daemon and follow its progress')
      .option('-p, --param <key=value>', "plan parameter (repeatable), validated by the plan's schema", (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option('--sample <text>', 'sample name recorded with the session')
      .option('--operator <name>', 'operator recorded with the session')
      .option('--notes <text>', 'notes recorded with the session')
      .option('--no-wait', 'return once the session has started'),
  ).action((plan: string, opts: StartOptions) => runStart(plan, opts));
}

async function runStart(plan: string, opts: StartOptions): Promise<void> {
  const { parseParamArgs } = await import('../../pipelines/core/params.js');
  let params: Record<string, unknown>;
  try {
    params = parseParamArgs(opts.param);
  } catch (err) {
    return fail((err as Error).message);
  }
  const meta = { ...(opts.sample ? { sample: opts.sample } : {}), ...(opts.operator ? { operator: opts.operator } : {}), ...(opts.notes ? { notes: opts.notes } : {}) };
  await withClient(opts, async (c) => {
    // Subscribe before starting so the first status snapshots are not missed.
    const live = c.live();
    try {
      const started = await c.start(plan, params, Object.keys(meta).length ? meta : undefined);
      if (!opts.wait) return opts.json ? printJson(started) : void process.stdout.write(`session ${started.id} started (plan ${plan})\n`);
      const final = await follow(c, live, started.id, started, !opts.json && process.stderr.isTTY === true);
      if (opts.json) printJson(final);
      else process.stdout.write(`session ${final.id}: ${final.state}${final.reason ? ` (${String(final.reason)})` : ''}\n`);
      if (final.state === 'failed') process.exitCode = 1;
    } finally {
      live.close();
    }
  });
}

type Status = Awaited<ReturnType<import('../api/client.js').QscopeClient['session']>>;

async function follow(
  c: import('../api/client.js').QscopeClient,
  live: import('../api/client.js').LiveData,
  id: string,
  first: Status,
  showBar: boolean,
): Promise<Status> {
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = showBar
    ? new SingleBar({ format: `${id} |{bar}| {value}/{total} {state} {label}`, hideCursor: true, clearOnComplete: false, stream: process.stderr }, Presets.shades_classic)
    : undefined;
  let started = false;
  const show = (s: Status) => {
    const total = s.progress?.total ?? 0;
    const payload = { state: s.state, label: s.progress?.label ?? '' };
    if (!bar) return;
    if (!started) {
      bar.start(total, s.progress?.done ?? 0, payload);
      started = true;
    } else {
      if (total) bar.setTotal(total);
      bar.update(s.progress?.done ?? 0, payload);
    }
  };
  show(first);
  return new Promise<Status>((resolve, reject) => {
    let done = false;
    const finish = (s: Status) => {
      if (done) return;
      done = true;
      show(s);
      bar?.stop();
      clearInterval(poll);
      process.off('SIGINT', detach);
      sub.unsubscribe();
      resolve(s);
    };
    const sub = live.messages$.subscribe((m) => {
      if (m.kind !== 'status' || m.session !== id) return;
      show(m.status);
      if (FINAL.has(m.status.state)) finish(m.status);
    });
    // PUB may drop a snapshot; a slow poll of the control socket makes sure the end is seen.
    let failedPolls = 0;
    const poll = setInterval(() => {
      c.session(id).then(
        (s) => {
          failedPolls = 0;
          if (FINAL.has(s.state)) finish(s);
        },
        // One lost reply is no verdict; several in a row mean the daemon is gone: say so instead of waiting forever.
        (err: Error) => {
          if (++failedPolls >= LOST_AFTER_POLLS) stopFollowing(`lost contact with the daemon (${failedPolls} status requests failed, last: ${err.message}); session ${id} may still be running`);
        },
      );
    }, 2000);
    const stopFollowing = (why: string) => {
      if (done) return;
      bar?.stop();
      done = true;
      clearInterval(poll);
      process.off('SIGINT', detach);
      sub.unsubscribe();
      reject(new Error(why));
    };
    const detach = () => {
      process.stderr.write(`\ndetached; session ${id} goes on (qscope abort ${id} stops it)\n`);
      stopFollowing('detached');
    };
    process.once('SIGINT', detach);
  });
}
