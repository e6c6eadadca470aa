/**
 * Which SR model a session or reconstruction starts from: `auto` → the
 * committed model matching (factor, components) (the given texture type
 * preferred), `none` → a fresh seeded network, anything else → a model
 * folder. The hash is what the session metadata records.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { modelHash } from '../core/model-files.js';
import { bestModel, modelRoot } from './model-io.js';

export function resolveModel(model: string, factor: number, components: 1 | 3, type?: 1 | 2): { dir?: string; name: string; hash?: string } {
  if (model === 'none') return { name: 'fresh' };
  if (model === 'auto') {
    const m = bestModel(factor, components, type);
    return m ? { ...m, hash: modelHash(m.dir) } : { name: 'fresh' };
  }
  const dir = existsSync(join(model, 'model.json')) ? model : join(modelRoot(), model);
  if (!existsSync(join(dir, 'model.json'))) throw new Error(`model ${model}: no model.json there (nor a committed model of that name in ${modelRoot()})`);
  return { dir, name: basename(dir), hash: modelHash(dir) };
}
