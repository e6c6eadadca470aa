/**
 * Structured logging for the whole daemon (pino). One JSON object per line on
 * stdout; services and drivers log through `child({ owner })` so every line
 * says who wrote it.
 */
import { pino, destination, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface LoggerOptions {
  /** Minimum level written; default `info` (or `$QSCOPE_LOG_LEVEL`). */
  level?: LevelWithSilent;
  /** Where lines go; default stdout, written synchronously so nothing is lost at exit. */
  destination?: DestinationStream;
  /** Fields on every line (e.g. `{ pid }`). */
  base?: Record<string, unknown>;
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
    opts.destination ?? destination({ dest: 1, sync: true }),
  );
}

/** A logger that writes nothing (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
