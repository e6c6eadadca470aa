/**
 * Model identity without loading tfjs: the hash recorded in a session's
 * metadata for every model its plan may use (replays compare it).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * SHA-256 (hex) of a saved tfjs model in directory `dir`: `model.json` and
 * the weight files its manifest lists, hashed in sorted file-name order
 * (notes such as MODEL.md are not part of the model). Throws naming the
 * directory and the file it cannot read.
 */
export function modelHash(dir: string): string {
  const read = (name: string): Buffer => {
    try {
      return readFileSync(join(dir, name));
    } catch (err) {
      throw new Error(`${dir}: cannot read model file ${name} (${(err as Error).message})`);
    }
  };
  const json = read('model.json');
  let manifest: Array<{ paths?: unknown }>;
  try {
    manifest = (JSON.parse(json.toString('utf8')) as { weightsManifest?: Array<{ paths?: unknown }> }).weightsManifest ?? [];
  } catch (err) {
    throw new Error(`${dir}: model.json is not JSON (${(err as Error).message})`);
  }
  const names = new Set<string>(['model.json']);
  for (const group of manifest) {
    if (!Array.isArray(group.paths)) throw new Error(`${dir}: model.json weightsManifest entry without a paths array`);
    for (const p of group.paths) names.add(String(p));
  }
  const h = createHash('sha256');
  for (const name of [...names].sort()) h.update(name === 'model.json' ? json : read(name));
  return h.digest('hex');
}
