/**
 * `qscope watch [STREAM]`: prints live frames (one line each: stream, seq,
 * t, shape, and min/mean/max of the finite values — per column by name when
 * the header names its columns) and session status changes; on exit, the
 * per-stream counts of frames received, missed (seq gaps) and backfilled.
 */
import type { Command } from 'commander';
import { clientOptions, withClient, type ClientCliOptions } from './client-options.js';

interface WatchOptions extends ClientCliOptions {
  session?: string;
  backfill?: boolean;
  count?: number;
}

export function register(program: Command): void {
  clientOptions(
    program
      .command('watch')
      .argument('[stream]', 'only this stream (e.g. hbt0.histogram)')
      .description('print live frames from the data socket; Ctrl-C prints what was missed')
      .option('--session <id>', 'only this session')
      .option('--backfill', 'fetch missed frames from the recording')
      .option('-n, --count <n>', 'exit after n frames', (v: string) => Number.parseInt(v, 10)),
  ).action((stream: string | undefined, opts: WatchOptions) =>
    withClient(opts, async (c) => {
      // Topics filter by prefix: without a session id, the stream is filtered on this side.
      const live = c.live({ ...(opts.session ? { session: opts.session } : {}), ...(stream ? { stream } : {}), backfill: !!opts.backfill });
      let n = 0;
      await new Promise<void>((resolve) => {
        const sub = live.messages$.subscribe({
          next: (m) => {
            if (m.kind === 'status') {
              if (!opts.json) process.stdout.write(`# session ${m.session}: ${m.status.state}${m.status.progress ? ` ${m.status.progress.done}/${m.status.progress.total ?? '?'}` : ''}\n`);
              return;
            }
            if (stream && m.stream !== stream) return;
            if (opts.json) process.stdout.write(JSON.stringify({ session: m.session, header: m.header, backfilled: m.backfilled }) + '\n');
            else process.stdout.write(`${m.session} ${m.stream} seq=${m.header.seq} t=${(m.header.t / 1e6).toFixed(3)}ms ${m.header.dtype}[${m.header.shape.join('x')}] ${summarize(m.payload, m.header.shape, (m.header as { columns?: unknown }).columns)}${m.backfilled ? ' (backfilled)' : ''}\n`);
            if (opts.count !== undefined && ++n >= opts.count) end();
          },
          complete: () => end(),
        });
        const end = () => {
          sub.unsubscribe();
          process.off('SIGINT', end);
          resolve();
        };
        process.once('SIGINT', end);
      });
      await live.settled();
      for (const [key, s] of live.stats()) {
        process.stderr.write(`${key}: received ${s.received}, missed ${s.missed}${opts.backfill ? `, backfilled ${s.backfilled}` : ''}\n`);
      }
      live.close();
    }),
  );
}

/** min/mean/max of the finite values; non-finite ones are counted, never averaged in. */
function stats(values: number[]): string {
  const finite = values.filter(Number.isFinite);
  const bad = values.length - finite.length;
  if (finite.length === 0) return bad ? `all ${bad} non-finite` : '';
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of finite) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const p = (v: number) => Number(v.toPrecision(4));
  const core = finite.length === 1 ? `${p(min)}` : `min=${p(min)} mean=${p(sum / finite.length)} max=${p(max)}`;
  return bad ? `${core} (${bad} non-finite)` : core;
}

/**
 * One frame's summary. With `columns` (header field naming the last dimension), one statistic per
 * column by name (`g2=0.31 rateCps=4.1e+4 …`); else the statistics of the finite values.
 */
export function summarize(p: ArrayLike<number | bigint>, shape: readonly number[], columns?: unknown): string {
  if (p.length === 0) return '';
  const values = Array.from(p, Number);
  const k = shape.at(-1) ?? values.length;
  if (Array.isArray(columns) && columns.length === k && k > 0 && values.length % k === 0) {
    return columns
      .map((name, c) => {
        const col: number[] = [];
        for (let i = c; i < values.length; i += k) col.push(values[i]!);
        return col.length === 1 ? `${String(name)}=${stats(col)}` : `${String(name)}: ${stats(col)}`;
      })
      .join(' ');
  }
  return stats(values);
}
