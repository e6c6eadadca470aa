/**
 * Structured logging for the whole daemon (pino). On a terminal, readable
 * lines (pino-pretty: time, level, owner, message, then the fields); else,
 * or with `--log-format json` / `QSCOPE_LOG_FORMAT=json`, one JSON object per
 * line on stdout. Services and drivers log through `child({ owner })` so every
 * line says who wrote it.
 */
import { pino, destination, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type { Logger } from 'pino';

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** `--log-format` wins, then `$QSCOPE_LOG_FORMAT`, else pretty when stdout is a terminal, JSON otherwise. */
export function resolveLogFormat(requested?: string, isTTY: boolean = !!process.stdout.isTTY): LogFormat {
  const env = process.env.QSCOPE_LOG_FORMAT;
  const pick = requested ?? (env && (LOG_FORMATS as readonly string[]).includes(env) ? env : undefined);
  if (pick !== undefined) {
    if (!(LOG_FORMATS as readonly string[]).includes(pick)) throw new RangeError(`log format: must be one of ${LOG_FORMATS.join(', ')}, got '${pick}'`);
    return pick as LogFormat;
  }
  return isTTY ? 'pretty' : 'json';
}

/** A pino-pretty stream writing readable lines to `fd` synchronously (nothing lost at exit). */
export function prettyDestination(fd = 1, colorize: boolean = fd === 1 ? !!process.stdout.isTTY : !!process.stderr.isTTY): DestinationStream {
  return PinoPretty({
    destination: fd,
    sync: true,
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name,owner',
    messageFormat: '{if owner}[{owner}] {end}{msg}',
    singleLine: true,
  });
}

export interface LoggerOptions {
  /** Minimum level written; default `info` (or `$QSCOPE_LOG_LEVEL`). */
  level?: LevelWithSilent;
  /** Where lines go; default stdout, written synchronously so nothing is lost at exit. */
  destination?: DestinationStream;
  /** Fields on every line (e.g. `{ pid }`). */
  base?: Record<string, unknown>;
  /** `pretty` or `json` on stdout when no destination is given (default: resolveLogFormat()). */
  format?: LogFormat;
}

/** Creates the root logger; everything else uses `logger.child({ owner: ... })`. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const envLevel = process.env.QSCOPE_LOG_LEVEL as LevelWithSilent | undefined;
  const level = opts.level ?? (envLevel && LOG_LEVELS.includes(envLevel) ? envLevel : 'info');
  return pino(
    {
      name: 'qscope',
      level,
      base: opts.base ?? { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ?? ((opts.format ?? resolveLogFormat()) === 'pretty' ? prettyDestination(1) : destination({ dest: 1, sync: true })),
  );
}

/** A logger that writes nothing (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
