import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Imports point down: daemon → pipelines → drivers, native (decision 0960).
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RANK: Record<string, number> = { native: 0, drivers: 1, pipelines: 2, config: 3, daemon: 3 };

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) yield p;
  }
}

function upwardImports(): string[] {
  const bad: string[] = [];
  for (const top of Object.keys(RANK)) {
    for (const file of sources(join(root, top))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = relative(root, resolve(dirname(file), m[1]!)).split('/')[0]!;
        if (target in RANK && RANK[target]! > RANK[top]!) bad.push(`${relative(root, file)} → ${m[1]}`);
      }
    }
  }
  return bad;
}

describe('layering', () => {
  it('no module imports from a layer above its own', () => {
    expect(upwardImports()).toEqual([]);
  });
});
