/**
 * `qscope daemon [--config FILE] [--speed N] [--control ADDR] [--data ADDR] [--web ADDR|off]`: runs the daemon until SIGINT
 * or SIGTERM, then stops the services, disconnects the drivers and exits 0.
 * An invalid config is refused (exit 2) before anything starts.
 */
import type { Command } from 'commander';
import { defaultConfigFile } from '../package.js';
import { parsePositiveNumber } from './options.js';

interface DaemonCliOptions {
  config: string;
  speed?: number;
  virtual?: boolean;
  logLevel?: string;
  logFormat?: string;
  demo: boolean;
  control?: string;
  data?: string;
  web?: string;
}

export function register(program: Command): void {
  program
    .command('daemon')
    .description('run the daemon on a rig: connect the instruments, start the services, serve until SIGINT/SIGTERM')
    .option('-c, --config <file>', 'rig config (YAML)', defaultConfigFile)
    .option('--speed <n>', 'pace the virtual clock: at most N experiment seconds per wall second (fully simulated rigs; computation takes no experiment time)', parsePositiveNumber)
    .option('--virtual', 'run on the virtual clock: the simulated rig as fast as the computer allows')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent (default: the config\'s log.level)')
    .option('--log-format <format>', 'pretty | json (default: pretty on a terminal, JSON lines otherwise; env QSCOPE_LOG_FORMAT)')
    .option('--no-demo', 'do not run the configured demo acquisition')
    .option('--control <addr>', 'control socket endpoint, overrides api.control (e.g. tcp://127.0.0.1:5555; env QSCOPE_CONTROL)', process.env.QSCOPE_CONTROL)
    .option('--data <addr>', 'data socket endpoint, overrides api.data (e.g. tcp://127.0.0.1:5556; env QSCOPE_DATA)', process.env.QSCOPE_DATA)
    .option('--web <addr>', 'browser view HOST:PORT, overrides web.listen (e.g. 127.0.0.1:8090; a non-loopback address prints a token), or off (env QSCOPE_WEB)', process.env.QSCOPE_WEB)
    .action(runDaemon);
}

async function runDaemon(opts: DaemonCliOptions): Promise<void> {
  const { loadConfig, checkDaemonConfig, ConfigError } = await import('../config.js');
  const { createLogger, LOG_LEVELS, resolveLogFormat } = await import('../../drivers/core/log.js');
  const { Daemon } = await import('../daemon.js');

  let config;
  try {
    config = await loadConfig(opts.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`qscope daemon: refusing to start, invalid config ${opts.config}:\n`);
    for (const issue of err.issues) process.stderr.write(`  ${issue}\n`);
    process.exitCode = 2;
    return;
  }
  if (opts.logLevel !== undefined && !LOG_LEVELS.includes(opts.logLevel as never)) {
    process.stderr.write(`qscope daemon: --log-level must be one of ${LOG_LEVELS.join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  // ZeroMQ API: command-line endpoints win; a non-loopback bind without CURVE is refused before anything starts
  // (the same check `qscope config check` makes: config.ts checkDaemonConfig).
  if (opts.web !== undefined) {
    const web = { ...((config.web as Record<string, unknown> | undefined) ?? {}) };
    if (opts.web === 'off') web.enabled = false;
    else {
      try {
        const { parseListen } = await import('../web/config.js');
        parseListen(opts.web);
      } catch (err) {
        process.stderr.write(`qscope daemon: --web: ${(err as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      web.listen = opts.web;
      web.enabled = true;
    }
    config.web = web;
  }
  try {
    config.api = await checkDaemonConfig(config, { ...(opts.control !== undefined ? { control: opts.control } : {}), ...(opts.data !== undefined ? { data: opts.data } : {}) }, opts.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`qscope daemon: refusing to start: ${err.issues.join('; ')}\n`);
    process.exitCode = 2;
    return;
  }
  if (opts.virtual && opts.speed !== undefined) {
    process.stderr.write('qscope daemon: --virtual and --speed exclude each other (the virtual clock runs as fast as it can)\n');
    process.exitCode = 2;
    return;
  }
  let format;
  try {
    format = resolveLogFormat(opts.logFormat);
  } catch (err) {
    process.stderr.write(`qscope daemon: --log-format: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const log = createLogger({ level: (opts.logLevel as never) ?? config.log.level, format });
  const { createClock } = await import('../../drivers/core/clock.js');
  const daemon = new Daemon({
    config,
    configFile: opts.config,
    log,
    speed: opts.speed,
    runDemo: opts.demo ? undefined : false,
    ...(opts.virtual ? { clock: createClock({ kind: 'virtual' }) } : {}),
  });

  let starting: Promise<void> = Promise.resolve();
  let shuttingDown = false;
  const shutdown = async (reason: string, code: number) => {
    if (shuttingDown) {
      log.warn({ reason }, 'second signal during shutdown: exiting now');
      process.exit(1);
    }
    shuttingDown = true;
    await starting.catch(() => undefined);
    await daemon.stop(reason);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  // A stray rejection is logged, never fatal: the daemon owns hardware and keeps serving.
  process.on('unhandledRejection', (err) => log.error({ err: err instanceof Error ? err.stack : String(err) }, 'unhandled rejection'));
  process.on('uncaughtException', (err) => {
    log.fatal({ err: err.stack }, 'uncaught exception: shutting down');
    void shutdown('uncaught exception', 1);
  });

  // Nothing else may hold the event loop open (no drivers, no services): the daemon serves until told to stop.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  process.once('exit', () => clearInterval(keepAlive));

  starting = daemon.start();
  try {
    await starting;
  } catch (err) {
    // Nothing is left connected (Daemon.start undoes what it did); say why in one line, exit non-zero.
    log.fatal({ err: (err as Error).message }, 'start-up failed');
    process.stderr.write(`qscope daemon: ${(err as Error).message}\n`);
    await shutdown('start-up failed', 1);
  }
}
