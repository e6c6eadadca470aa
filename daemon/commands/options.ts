/** Option parsers shared by the command modules (commander). */
import { InvalidArgumentError } from 'commander';

/** A finite number > 0 (e.g. `--speed`). */
export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`must be a number > 0, got '${value}'`);
  return n;
}
