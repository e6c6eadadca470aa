import { describe, expect, it } from 'vitest';
import { annealSpins, fft, spinEnergy, spinField, type SpinModel } from '../../native/index.js';

/** Random unit spins from a small LCG (independent of the native RNG). */
function randomSpins(n: number, seed: number): Float64Array {
  let x = seed >>> 0;
  const u = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const s = new Float64Array(n * n * 3);
  for (let i = 0; i < n * n; i++) {
    const z = 2 * u() - 1, ph = 2 * Math.PI * u(), r = Math.sqrt(1 - z * z);
    s.set([r * Math.cos(ph), r * Math.sin(ph), z], i * 3);
  }
  return s;
}

/**
 * The paper's Hamiltonians written bond by bond, independently of the kernel:
 * nearest-neighbour bonds counted once; DMI vector D ẑ×r̂ for the bond i→j;
 * dipolar pairs over the cell and its periodic images, ½ Σ_i Σ_(j,R) ≠ (i,0).
 */
function bondEnergy(m: Required<Pick<SpinModel, 'type' | 'n' | 'J' | 'D' | 'K'>> & { images: number; a: number }, s: Float64Array): number {
  const { n, J, D, K } = m;
  const S = (r: number, c: number) => {
    const o = ((((r % n) + n) % n) * n + (((c % n) + n) % n)) * 3;
    return [s[o]!, s[o + 1]!, s[o + 2]!];
  };
  const dot = (p: number[], q: number[]) => p[0]! * q[0]! + p[1]! * q[1]! + p[2]! * q[2]!;
  const cross = (p: number[], q: number[]) => [p[1]! * q[2]! - p[2]! * q[1]!, p[2]! * q[0]! - p[0]! * q[2]!, p[0]! * q[1]! - p[1]! * q[0]!];
  let e = 0;
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) {
      const si = S(r, c);
      for (const [dr, dc] of [[0, 1], [1, 0]] as const) {
        const sj = S(r + dr, c + dc);
        e -= J * dot(si, sj);
        if (m.type === 1) {
          const rhat = [dc, dr, 0]; // x = col, y = row
          const dvec = cross([0, 0, 1], rhat).map((v) => D * v);
          e += dot(dvec, cross(si, sj));
        }
      }
      if (m.type === 2) e -= K * si[2]! * si[2]!;
    }
  if (m.type === 2) {
    const M = m.images;
    for (let ri = 0; ri < n; ri++)
      for (let ci = 0; ci < n; ci++)
        for (let rj = 0; rj < n; rj++)
          for (let cj = 0; cj < n; cj++) {
            const si = S(ri, ci), sj = S(rj, cj);
            const dr0 = (((rj - ri) % n) + n) % n, dc0 = (((cj - ci) % n) + n) % n;
            for (let a = -M; a <= M; a++)
              for (let b = -M; b <= M; b++) {
                const y = dr0 + a * n, x = dc0 + b * n;
                const r2 = x * x + y * y;
                if (r2 === 0) continue;
                const rr = Math.sqrt(r2);
                const u = [x / rr, y / rr, 0];
                e += (0.5 * D * (dot(si, sj) - m.a * dot(si, u) * dot(sj, u))) / (r2 * rr);
              }
          }
  }
  return e;
}

describe('spin Hamiltonians (native/spins.cc)', () => {
  const cases = [
    { name: 'Type I (exchange + interfacial DMI)', model: { type: 1 as const, n: 8 }, full: { type: 1 as const, n: 8, J: 1, D: 0.3, K: 0, images: 0, a: 0 } },
    { name: 'Type II (exchange + dipolar + anisotropy)', model: { type: 2 as const, n: 6, images: 2 }, full: { type: 2 as const, n: 6, J: 1, D: 0.03, K: 0.215, images: 2, a: 1 } },
    { name: 'Type II, textbook dipole (a = 3)', model: { type: 2 as const, n: 6, images: 2, dipoleFactor: 3 }, full: { type: 2 as const, n: 6, J: 1, D: 0.03, K: 0.215, images: 2, a: 3 } },
  ];
  for (const { name, model, full } of cases) {
    it(`${name}: the local field is −∇ of the bond-by-bond energy (1e-10), and the energies agree`, () => {
      const s = randomSpins(model.n, 11);
      expect(Math.abs(spinEnergy(model, s) - bondEnergy(full, s))).toBeLessThan(1e-10);
      const h = spinField(model, s);
      // E is quadratic in each component: a central difference with any step is exact up to rounding.
      const step = 0.5;
      let worst = 0;
      for (let i = 0; i < s.length; i++) {
        const p = s.slice(), q = s.slice();
        p[i]! += step;
        q[i]! -= step;
        const grad = (bondEnergy(full, p) - bondEnergy(full, q)) / (2 * step);
        worst = Math.max(worst, Math.abs(h[i]! + grad));
      }
      expect(worst).toBeLessThan(1e-10);
    });
  }

  it('Type I anneals into cycloids of period 2π/atan(D/J) sites (within 10 %)', async () => {
    const n = 128; // a labyrinth needs room: on 64² the ring locks to 4 periods
    const r = await annealSpins({ type: 1, n }, { sweeps: 300, alignSweeps: 50, seed: 3 });
    const sz = new Float64Array(n * n);
    for (let i = 0; i < n * n; i++) sz[i] = r.spins[i * 3 + 2]!;
    const { re, im } = fft(sz, new Float64Array(n * n), [n, n]);
    // Radially binned S_z power: its peak ring, then the power-weighted |k| over 0.5–1.5× the peak.
    const ring = new Float64Array(n);
    const pts: [number, number][] = [];
    for (let a = 0; a < n; a++)
      for (let b = 0; b < n; b++) {
        const ka = a <= n / 2 ? a : a - n, kb = b <= n / 2 ? b : b - n;
        const k = Math.hypot(ka, kb);
        if (k === 0) continue;
        const p = re[a * n + b]! ** 2 + im[a * n + b]! ** 2;
        ring[Math.round(k)]! += p;
        pts.push([k, p]);
      }
    let kp = 1;
    for (let k = 1; k < n / 2; k++) if (ring[k]! > ring[kp]!) kp = k;
    let wk = 0, w = 0;
    for (const [k, p] of pts) if (k > 0.5 * kp && k < 1.5 * kp) (wk += k * p), (w += p);
    const period = n / (wk / w);
    const expected = (2 * Math.PI) / Math.atan(0.3);
    expect(Math.abs(period / expected - 1)).toBeLessThan(0.1);
    for (let i = 0; i < n * n; i++) expect(Math.hypot(r.spins[i * 3]!, r.spins[i * 3 + 1]!, r.spins[i * 3 + 2]!)).toBeCloseTo(1, 12);
  });

  it('Type II anneals into up/down domains (mostly |S_z| ≈ 1) separated by walls', async () => {
    const n = 64;
    const r = await annealSpins({ type: 2, n }, { sweeps: 300, alignSweeps: 50, seed: 5 });
    let up = 0, down = 0, wall = 0;
    for (let i = 0; i < n * n; i++) {
      const z = r.spins[i * 3 + 2]!;
      if (z > 0.9) up++;
      else if (z < -0.9) down++;
      if (Math.abs(z) < 0.5) wall++;
    }
    expect((up + down) / (n * n)).toBeGreaterThan(0.6);
    expect(Math.min(up, down) / (n * n)).toBeGreaterThan(0.05);
    expect(wall).toBeGreaterThan(0);
  });

  it('is seeded and bit-reproducible, continues from init, cancels on abort, and checks its arguments', async () => {
    const a = await annealSpins({ type: 2, n: 16 }, { sweeps: 20, alignSweeps: 2, seed: 9 });
    const b = await annealSpins({ type: 2, n: 16 }, { sweeps: 20, alignSweeps: 2, seed: 9 });
    const c = await annealSpins({ type: 2, n: 16 }, { sweeps: 20, alignSweeps: 2, seed: 10 });
    expect(Buffer.from(a.spins.buffer).equals(Buffer.from(b.spins.buffer))).toBe(true);
    expect(Buffer.from(a.spins.buffer).equals(Buffer.from(c.spins.buffer))).toBe(false);
    // Alignment sweeps only lower the energy.
    const d = await annealSpins({ type: 2, n: 16 }, { sweeps: 0, alignSweeps: 5, seed: 1 }, a.spins);
    expect(d.energy).toBeLessThanOrEqual(a.energy + 1e-12);
    const ctl = new AbortController();
    const p = annealSpins({ type: 1, n: 256 }, { sweeps: 100_000, seed: 1, signal: ctl.signal });
    ctl.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(() => spinField({ type: 1, n: 7 }, new Float64Array(147))).toThrow(/model.n: must be even/);
    expect(() => spinField({ type: 1, n: 8 }, new Float64Array(10))).toThrow(/spins: length 10/);
    expect(() => spinEnergy({ type: 3 as 1, n: 8 }, new Float64Array(192))).toThrow(/model.type/);
    await expect(annealSpins({ type: 1, n: 8 }, { sweeps: -1 })).rejects.toThrow(/schedule.sweeps/);
    await expect(annealSpins({ type: 1, n: 8 }, { sweps: 3 } as never)).rejects.toThrow(/sweps: unknown option/);
  });
});
