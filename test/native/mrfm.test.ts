import { describe, expect, it } from 'vitest';
import { Matrix, solve } from 'ml-matrix';
import { mrfmAdjoint, mrfmField, mrfmForward, mrfmPsf, mrfmSolveNormal, type MrfmDims, type MrfmPsfJob } from '../../native/index.js';
import { Rng } from '../../drivers/core/rng.js';

const MAGNET = { radiusNm: 50, heightNm: 200, mu0MsT: 1.35 };

/** On-axis field of a uniformly magnetised cylinder (top face at z = 0), T. */
function onAxis(z: number, R: number, L: number, mu0M: number): number {
  return (mu0M / 2) * ((z + L) / Math.hypot(z + L, R) - z / Math.hypot(z, R));
}

function randomPsf(d: MrfmDims, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: d.nf * d.nx * d.ny * d.nz }, () => rng.uniform());
}
function randomVec(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => rng.normal());
}
const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

describe('mrfm kernels', () => {
  it('the cylinder field from surface charge matches the analytic on-axis formula', () => {
    for (const m of [MAGNET, { radiusNm: 30, heightNm: 60, mu0MsT: 1.0 }]) {
      const z = Float64Array.from([5, 15, 24, 50, 70, 200]);
      const f = mrfmField(m, new Float64Array(z.length), z);
      z.forEach((zz, i) => {
        expect(Math.abs(f.bz[i]! - onAxis(zz, m.radiusNm, m.heightNm, m.mu0MsT))).toBeLessThan(1e-9);
        expect(f.brho[i]).toBe(0);
      });
    }
    // far away the magnet is a dipole: Bz(0, z) → μ0 M V / (2π z³)
    const far = mrfmField(MAGNET, Float64Array.of(0), Float64Array.of(20000));
    const dipole = (1.35 * Math.PI * 50 * 50 * 200) / (2 * Math.PI * (20000 + 100) ** 3);
    expect(far.bz[0]! / dipole).toBeCloseTo(1, 2);
    expect(() => mrfmField({ ...MAGNET, radiusNm: -1 }, new Float64Array(1), new Float64Array(1))).toThrow(/magnet.radiusNm/);
  });

  it('the PSF of the axisymmetric magnet is point-symmetric about the axis, for both geometries', () => {
    const f = mrfmField(MAGNET, Float64Array.of(0), Float64Array.of(30));
    const fL = 42.577478e6 * (3 + f.bz[0]!);
    for (const geometry of ['cantilever', 'membrane'] as const) {
      const job: MrfmPsfJob = {
        magnet: MAGNET, b0T: 3, gammaHzPerT: 42.577478e6, muJPerT: 1.41060679e-26, geometry, voxelNm: [4, 4, 4], nx: 16, ny: 16,
        zHeightsNm: [22, 26, 30, 34], f0Hz: [fL - 1e6, fL, fL + 1e6], fBWHz: 500e3, subSamples: 2,
      };
      const psf = mrfmPsf(job);
      const { nx, ny } = job;
      const nz = 4;
      let nonzero = 0;
      for (let l = 0; l < 3; l++)
        for (let i = 1; i < nx; i++)
          for (let j = 1; j < ny; j++)
            for (let k = 0; k < nz; k++) {
              const a = psf[((l * nx + i) * ny + j) * nz + k]!;
              const b = psf[((l * nx + (nx - i)) * ny + (ny - j)) * nz + k]!;
              expect(a).toBe(b);
              if (a > 0) nonzero++;
            }
      expect(nonzero).toBeGreaterThan(20);
    }
  });

  it('the adjoint satisfies ⟨A x, y⟩ = ⟨x, Aᵀ y⟩ to 1e-10', () => {
    for (const d of [{ nx: 8, ny: 6, nz: 3, nf: 4 }, { nx: 5, ny: 7, nz: 2, nf: 3 }]) {
      const psf = randomPsf(d, 1);
      const x = randomVec(d.nx * d.ny * d.nz, 2);
      const y = randomVec(d.nx * d.ny * d.nf, 3);
      const ax = mrfmForward(psf, d, 0.7, x);
      const aty = mrfmAdjoint(psf, d, 0.7, y);
      const l = dot(ax, y), r = dot(x, aty);
      expect(Math.abs(l - r) / Math.abs(l)).toBeLessThan(1e-10);
    }
  });

  it('the forward model is the circular convolution of the issue (a voxel at the origin gives the centred PSF back)', () => {
    const d = { nx: 6, ny: 4, nz: 2, nf: 2 };
    const psf = randomPsf(d, 5);
    const o = new Float64Array(d.nx * d.ny * d.nz);
    o[(0 * d.ny + 0) * d.nz + 1] = 1; // voxel (0, 0, z=1)
    const i = mrfmForward(psf, d, 2, o);
    for (let l = 0; l < d.nf; l++)
      for (let x = 0; x < d.nx; x++)
        for (let y = 0; y < d.ny; y++) {
          // i(x, y) = H(x − 0, y − 0) with H centred at (nx/2, ny/2)
          const h = psf[((l * d.nx + ((x + d.nx / 2) % d.nx)) * d.ny + ((y + d.ny / 2) % d.ny)) * d.nz + 1]!;
          expect(i[(x * d.ny + y) * d.nf + l]).toBeCloseTo(2 * h, 10);
        }
  });

  it('the ADMM o-update equals a dense solve of the same normal equations', () => {
    const d = { nx: 4, ny: 6, nz: 3, nf: 4 };
    const N = d.nx * d.ny * d.nz, M = d.nx * d.ny * d.nf;
    const psf = randomPsf(d, 7);
    const A = new Matrix(M, N);
    for (let c = 0; c < N; c++) {
      const e = new Float64Array(N);
      e[c] = 1;
      const col = mrfmForward(psf, d, 1.3, e);
      for (let r = 0; r < M; r++) A.set(r, c, col[r]!);
    }
    // D: forward differences, periodic in x, y, zero past the top height
    const idx = (x: number, y: number, z: number) => (x * d.ny + y) * d.nz + z;
    const D = new Matrix(3 * N, N);
    for (let x = 0; x < d.nx; x++)
      for (let y = 0; y < d.ny; y++)
        for (let z = 0; z < d.nz; z++) {
          const i = idx(x, y, z);
          D.set(i, idx((x + 1) % d.nx, y, z), D.get(i, idx((x + 1) % d.nx, y, z)) + 1);
          D.set(i, i, D.get(i, i) - 1);
          D.set(N + i, idx(x, (y + 1) % d.ny, z), D.get(N + i, idx(x, (y + 1) % d.ny, z)) + 1);
          D.set(N + i, i, D.get(N + i, i) - 1);
          if (z + 1 < d.nz) {
            D.set(2 * N + i, idx(x, y, z + 1), 1);
            D.set(2 * N + i, i, -1);
          }
        }
    const nu1 = 0.3, nu2 = 0.8;
    const normal = A.transpose().mmul(A).add(Matrix.eye(N).mul(nu1)).add(D.transpose().mmul(D).mul(nu2));
    const rhs = randomVec(N, 9);
    const dense = solve(normal, Matrix.columnVector(Array.from(rhs))).getColumn(0);
    const fast = mrfmSolveNormal(psf, d, 1.3, nu1, nu2, rhs);
    const scale = Math.max(...dense.map(Math.abs));
    dense.forEach((v, i) => expect(Math.abs(fast[i]! - v) / scale).toBeLessThan(1e-9));
  });

  it('checks arguments in TS with messages naming them', () => {
    const d = { nx: 4, ny: 4, nz: 2, nf: 2 };
    expect(() => mrfmForward(new Float32Array(3), d, 1, new Float64Array(32))).toThrow(/psf: length 3/);
    expect(() => mrfmForward(new Float32Array(64), { ...d, nz: 0 }, 1, new Float64Array(32))).toThrow(/dims.nz/);
    expect(() => mrfmAdjoint(new Float32Array(64), d, -1, new Float64Array(32))).toThrow(/voxelVolume/);
  });
});
