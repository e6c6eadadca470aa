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
  logLevel?: string;
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
    .option('--speed <n>', 'run on a scaled clock: experiment seconds per wall second', parsePositiveNumber)
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent (default: the config\'s log.level)')
    .option('--no-demo', 'do not run the configured demo acquisition')
    .option('--control <addr>', 'control socket endpoint, overrides api.control (e.g. tcp://127.0.0.1:5555)')
    .option('--data <addr>', 'data socket endpoint, overrides api.data (e.g. tcp://127.0.0.1:5556)')
    .option('--web <addr>', 'browser view HOST:PORT, overrides web.listen (e.g. 127.0.0.1:8090; a non-loopback address prints a token), or off')
    .action(runDaemon);
}

async function runDaemon(opts: DaemonCliOptions): Promise<void> {
  const { loadConfig, ConfigError } = await import('../config.js');
  const { createLogger, LOG_LEVELS } = await import('../../drivers/core/log.js');
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
  // ZeroMQ API: command-line endpoints win; a non-loopback bind without CURVE is refused before anything starts.
  const api = { ...((config.api as Record<string, unknown> | undefined) ?? {}) };
  if (opts.control !== undefined) api.control = opts.control;
  if (opts.data !== undefined) api.data = opts.data;
  config.api = api;
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
    const { checkApiSecurity } = await import('../api/security.js');
    checkApiSecurity(api);
  } catch (err) {
    process.stderr.write(`qscope daemon: refusing to start: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const log = createLogger({ level: (opts.logLevel as never) ?? config.log.level });
  const daemon = new Daemon({ config, configFile: opts.config, log, speed: opts.speed, runDemo: opts.demo ? undefined : false });

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
    log.fatal({ err: (err as Error).message }, 'start-up failed');
    await shutdown('start-up failed', 1);
  }
}
