import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeNpy, readNpy } from '../../../drivers/core/npy.js';
import { runCli } from '../../daemon/helpers.js';
import { spinFramesManifest, writeSpinFrames, readSpinFrames } from '../../../pipelines/domains/dataset.js';
import { reconstructDomains, cutPatches, stitchPatches } from '../../../pipelines/domains/reconstruct.js';
import { lrFrame, hrTruth } from '../../../pipelines/domains/data.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'qscope-domains-rec-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A cycloid texture [n, n, 3] (period p along x). */
function cycloid(n: number, p: number): Float32Array {
  const t = new Float32Array(n * n * 3);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) t.set([Math.sin((2 * Math.PI * c) / p), 0, Math.cos((2 * Math.PI * c) / p)], (r * n + c) * 3);
  return t;
}

function goodDataset(name: string, C: 1 | 3 = 1): string {
  const d = join(dir, name);
  mkdirSync(d);
  const n = 32, f = 4;
  const tex = cycloid(n, 16);
  writeSpinFrames(d, { factor: f, a: n / f, components: C, frames: [lrFrame(tex, n, f, C), lrFrame(tex, n, f, C, [0, 5])], truth: [hrTruth(tex, n, C), hrTruth(tex, n, C, [0, 5])] });
  return d;
}

describe('reconstruct domains: bad datasets', () => {
  const cases: [string, (d: string) => void, RegExp][] = [
    ['wrong shape', (d) => writeFileSync(join(d, 'manifest.json'), JSON.stringify({ ...spinFramesManifest(2, 8, 4, 1), shape: [2, 8, 8, 2] })), /C must be 1 \(Kerr\) or 3 \(SPLEEM\)/],
    ['frames.npy not matching the manifest', (d) => writeFileSync(join(d, 'frames.npy'), encodeNpy(new Float32Array(2 * 7 * 7), [2, 7, 7, 1])), /frames.npy has shape \[2,7,7,1\], the manifest says \[2,8,8,1\]/],
    ['factor not a power of two', (d) => writeFileSync(join(d, 'manifest.json'), JSON.stringify({ ...spinFramesManifest(2, 8, 4, 1), factor: 6 })), /manifest.factor must be a power of two/],
    ['NaN frames', (d) => {
      const a = new Float32Array(2 * 8 * 8);
      a[70] = Number.NaN;
      writeFileSync(join(d, 'frames.npy'), encodeNpy(a, [2, 8, 8, 1]));
    }, /frames.npy: frame 1 holds a non-finite value \(NaN\) at index 6/],
    ['missing frames.npy', (d) => rmSync(join(d, 'frames.npy')), /frames.npy missing/],
    ['missing manifest', (d) => rmSync(join(d, 'manifest.json')), /manifest.json missing/],
    ['wrong blur', (d) => writeFileSync(join(d, 'manifest.json'), JSON.stringify({ ...spinFramesManifest(2, 8, 4, 1), gaussianSigma: 2 })), /gaussianSigma must be 1/],
  ];
  for (const [what, spoil, message] of cases) {
    it(`${what}: a clear error, exit code 2, nothing written`, () => {
      const d = goodDataset('in');
      spoil(d);
      expect(() => readSpinFrames(d)).toThrow(message);
      const out = join(dir, 'out');
      const r = runCli(['reconstruct', 'domains', '--input', d, '--out', out, '--model', 'none', '--finetune-steps', '1']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir).filter((x) => x.startsWith('out'))).toEqual([]);
    });
  }
});

describe('reconstruct domains', () => {
  it('writes sr.npy, the baselines, PNGs and metrics.json (LR consistency of every method, fine-tuning, Nyquist flag)', async () => {
    const d = goodDataset('in', 3);
    const out = join(dir, 'out');
    const { metrics, files } = await reconstructDomains({ input: d, out, model: 'none', finetuneSteps: 3 });
    for (const f of ['sr.npy', 'bilinear.npy', 'bicubic.npy', 'gaussian.npy', 'metrics.json', 'sr_0.png', 'lr_0.png']) expect(files).toContain(f);
    expect(readNpy(join(out, 'sr.npy')).shape).toEqual([2, 32, 32, 3]);
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(m).toMatchObject({ frames: 2, factor: 4, components: 3, model: 'fresh', finetune: { steps: 3 } });
    for (const k of ['sr', 'bilinear', 'bicubic', 'gaussian']) expect(m.methods[k].lrConsistency).toBeGreaterThanOrEqual(0);
    // The 16-site cycloid is resolvable at ×4 (Nyquist: 8 sites); truth.npy gives HR metrics.
    expect(metrics.nyquist.unresolved).toBe(false);
    expect(metrics.methods.bicubic.psnr).toBeGreaterThan(10);
    // Bicubic with the forward geometry: its own LR consistency is small on a smooth texture.
    expect(metrics.methods.bicubic.lrConsistency).toBeLessThan(0.05);
    await expect(reconstructDomains({ input: d, out, model: 'none', finetuneSteps: 0 })).rejects.toThrow(/not empty/);
  }, 60_000);

  it('flags a texture whose period is below two LR pixels as unresolved', async () => {
    const d = join(dir, 'fine');
    mkdirSync(d);
    const tex = cycloid(64, 21.5);
    writeSpinFrames(d, { factor: 16, a: 4, components: 1, frames: [lrFrame(tex, 64, 16, 1)] });
    const { metrics } = await reconstructDomains({ input: d, out: join(dir, 'o'), model: 'none', finetuneSteps: 0, type: 1 });
    expect(metrics.nyquist).toMatchObject({ limitHr: 32, unresolved: true });
    // At ×8 the same texture is resolved (limit 16 sites < 21.5).
    const d8 = join(dir, 'fine8');
    mkdirSync(d8);
    writeSpinFrames(d8, { factor: 8, a: 8, components: 1, frames: [lrFrame(tex, 64, 8, 1)] });
    const r8 = await reconstructDomains({ input: d8, out: join(dir, 'o8'), model: 'none', finetuneSteps: 0, type: 1 });
    expect(r8.metrics.nyquist).toMatchObject({ limitHr: 16, unresolved: false });
  }, 60_000);

  it('--image: cuts one large LR image into overlapping periodic-padded patches and stitches them back', () => {
    const H = 12, W = 20, C = 1;
    const img = Float32Array.from({ length: H * W }, (_, i) => i);
    const { patches, origins } = cutPatches(img, H, W, C, 8, 2);
    // Identity "SR" at f = 1 must give the image back.
    expect(Array.from(stitchPatches(patches, origins, H, W, C, 8, 2, 1))).toEqual(Array.from(img));
    // Periodic padding: the first patch starts 2 pixels before the wrap-around.
    expect(patches[0]![0]).toBe(img[(H - 2) * W + (W - 2)]);
  });
});
