/** `qscope config check FILE`: validates a rig config; exit 0 when valid, 1 with `path: message` lines when not. */
import type { Command } from 'commander';

export function register(program: Command): void {
  const config = program.command('config').description('work with rig config files');
  config
    .command('check')
    .description('validate a rig config file (YAML) against the schema and the drivers it names')
    .argument('<file>', 'config file')
    .action(async (file: string) => {
      const { loadConfig, checkDaemonConfig, ConfigError } = await import('../config.js');
      try {
        const cfg = await loadConfig(file);
        // The daemon's own start-up checks (endpoints, CURVE, key-file modes): "ok" means the daemon will accept it.
        await checkDaemonConfig(cfg, {}, file);
        const ids = Object.keys(cfg.instruments);
        process.stdout.write(`${file}: ok (${ids.length} instrument${ids.length === 1 ? '' : 's'}${ids.length ? `: ${ids.join(', ')}` : ''})\n`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        for (const issue of err.issues) process.stderr.write(`${file}: ${issue}\n`);
        process.exitCode = 1;
      }
    });
}
