/**
 * `qscope keys generate [--out BASE]`: writes a CURVE key pair, `BASE.key`
 * (both keys, mode 0600: the daemon's `api.curve.secretKeyFile` or a
 * client's `--key`) and `BASE.pub` (the public key, for an allow-list or a
 * client's `--server-key`).
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  const keys = program.command('keys').description('CURVE keys for the ZeroMQ API');
  keys
    .command('generate')
    .description('write a new CURVE key pair: BASE.key (secret, mode 0600) and BASE.pub')
    .option('-o, --out <base>', 'file name without extension', 'qscope')
    .action(async (opts: { out: string }) => {
      const { writeKeyPair } = await import('../api/security.js');
      try {
        const { publicKey, keyFile, pubFile } = writeKeyPair(opts.out);
        process.stdout.write(`wrote ${keyFile} (secret, mode 0600) and ${pubFile}\npublic key: ${publicKey}\n`);
      } catch (err) {
        process.stderr.write(`qscope keys generate: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
