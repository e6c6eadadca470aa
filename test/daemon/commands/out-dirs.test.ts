/** Offline commands never write over a folder by accident; train never replaces the committed model unless asked. */
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOutDir, newModelDir } from '../../../pipelines/core/out-dir.js';
import { removeTempDirs, root, runCli, tempDir } from '../helpers.js';

afterAll(removeTempDirs);

describe('output folders of reconstruct and train', () => {
  it('reconstruct g2 refuses a non-empty --out (exit 2) unless --force', () => {
    const out = tempDir('qscope-out-');
    writeFileSync(join(out, 'keep.txt'), 'mine');
    const r = runCli(['reconstruct', 'g2', '--input', tempDir('qscope-in-'), '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--out ${out}: directory is not empty (add --force to write into it)`);
    // With --force it gets past the check (and then fails on the empty input folder: exit 1, not 2).
    const forced = runCli(['reconstruct', 'g2', '--input', tempDir('qscope-in-'), '--out', out, '--force']);
    expect(forced.stderr).not.toContain('not empty');
  });

  it.each(['g2', 'cosy'])('train %s refuses to write into the committed model without --force, before training', (name) => {
    const committed = join(root, 'pipelines', name === 'g2' ? 'antibunching' : 'cosy', 'model');
    const r = runCli(['train', name, '--out', committed]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--out ${committed}: directory is not empty`);
  });

  it('a trained model goes to a new folder by default', () => {
    expect(newModelDir('g2', new Date('2026-12-07T05:40:01.123Z'))).toBe(join('models', 'g2-20261207T054001'));
    expect(() => checkOutDir(tempDir('qscope-empty-'), false)).not.toThrow();
  });
});
