// Kernel family 'mrfm': the physics and the reconstruction of the MRFM
// multislice experiment (docs/decisions/1600-mrfm-kernels.md, 1601-admm-updates.md).
//
//   mrfmField(magnet, rho, z)                    -> {bz, brho}         field of a cylinder, T
//   mrfmPsf(job) / mrfmPsfAsync(job)             -> Float32Array (nf, nx, ny, nz), aN² per spin
//   mrfmForward(psf, dims, vv, o)                -> Float64Array (nx, ny, nf)
//   mrfmAdjoint(psf, dims, vv, i)                -> Float64Array (nx, ny, nz)
//   mrfmSolveNormal(psf, dims, vv, nu1, nu2, r)  -> (AᵀA + ν1 I + ν2 DᵀD)⁻¹ r
//   mrfmReconstructStart(psf, dims, vv, data, mask, truth, opts) -> {promise, cancel}
//   mrfmBpdnStart(data, dims, zeta, opts)        -> {promise, cancel}
//
// Layouts (C order): psf (nf, nx, ny, nz) float32, centred (the magnet axis at
// (nx/2, ny/2)); volumes o (nx, ny, nz); measurements (nx, ny, nf). Inside,
// volumes are handled as (nz, nx, ny) planes so that the 2D real FFTs run
// batched; G-hat is stored per frequency as an nf×nz block.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fft_plan.h"
#include "kernels.h"

namespace qscope {
namespace mrfm {
namespace {

constexpr double kPi = 3.14159265358979323846;

// ---------------------------------------------------------------- threads
// Two threads at most by default (the machines this runs on have few cores);
// QSCOPE_THREADS overrides. Work is split into disjoint ranges, so results do
// not depend on the thread count.
unsigned Threads() {
  static const unsigned n = [] {
    const char* e = std::getenv("QSCOPE_THREADS");
    if (e) {
      const int v = std::atoi(e);
      if (v >= 1 && v <= 64) return unsigned(v);
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw >= 2 ? 2u : 1u;
  }();
  return n;
}

template <class F>
void ParallelFor(size_t n, F&& f) {
  const unsigned t = Threads();
  if (t <= 1 || n < 2) {
    f(size_t(0), n);
    return;
  }
  const size_t chunk = (n + t - 1) / t;
  std::vector<std::thread> th;
  for (unsigned i = 1; i < t; i++) {
    const size_t b = i * chunk, e = std::min(n, b + chunk);
    if (b < e) th.emplace_back([&f, b, e] { f(b, e); });
  }
  f(size_t(0), std::min(n, chunk));
  for (auto& x : th) x.join();
}

// ---------------------------------------------------------------- magnet
struct Magnet {
  double radius = 50, height = 200, mu0M = 1.35;  // nm, nm, T
};

// Complete elliptic integrals K(m), E(m) (parameter m = k², 0 ≤ m < 1) by the
// arithmetic–geometric mean.
inline void EllipticKE(double m, double& K, double& E) {
  double a = 1, b = std::sqrt(1 - m), c = std::sqrt(m);
  double sum = 0.5 * c * c, p = 0.5;
  for (int n = 0; n < 40; n++) {
    const double an = 0.5 * (a + b), bn = std::sqrt(a * b), cn = 0.5 * (a - b);
    p *= 2;
    sum += p * cn * cn;
    a = an;
    b = bn;
    if (std::fabs(cn) <= 1e-15 * a) break;
  }
  K = kPi / (2 * a);
  E = K * (1 - sum);
}

// Gauss–Legendre nodes and weights on [-1, 1] (Newton on P_n).
void GaussLegendre(int n, std::vector<double>& x, std::vector<double>& w) {
  x.resize(n);
  w.resize(n);
  for (int i = 0; i < n; i++) {
    double z = std::cos(kPi * (i + 0.75) / (n + 0.5)), pp = 0;
    for (int it = 0; it < 100; it++) {
      double p1 = 1, p2 = 0;
      for (int j = 1; j <= n; j++) {
        const double p3 = p2;
        p2 = p1;
        p1 = ((2.0 * j - 1) * z * p2 - (j - 1.0) * p3) / j;
      }
      pp = n * (z * p1 - p2) / (z * z - 1);
      const double dz = p1 / pp;
      z -= dz;
      if (std::fabs(dz) < 1e-16) break;
    }
    x[i] = z;
    w[i] = 2 / ((1 - z * z) * pp * pp);
  }
}

// The disk quadrature: radii and weights for composite Gauss–Legendre panels.
struct DiskRule {
  std::vector<double> a, w;
};
DiskRule MakeDiskRule(double R, int panels, int order) {
  std::vector<double> gx, gw;
  GaussLegendre(order, gx, gw);
  DiskRule r;
  const double h = R / panels;
  for (int p = 0; p < panels; p++)
    for (int i = 0; i < order; i++) {
      r.a.push_back(h * p + 0.5 * h * (gx[i] + 1));
      r.w.push_back(0.5 * h * gw[i]);
    }
  return r;
}

// Field of the uniformly magnetised cylinder (axis z, magnetisation +z, top
// face at z = 0, bottom face at z = -height) from its surface magnetic
// charge: the two faces carry σ = ±M; each face is a sum of charged rings
// whose field is closed-form in K and E; the ring radii are integrated by
// Gauss–Legendre. B = μ0·H outside the magnet (T). Valid off the faces.
struct FieldModel {
  Magnet mag;
  DiskRule top, bottom;
  explicit FieldModel(const Magnet& m) : mag(m), top(MakeDiskRule(m.radius, 6, 12)), bottom(MakeDiskRule(m.radius, 2, 12)) {}

  static void Face(const DiskRule& rule, double rho, double dz, double sign, double& bz, double& br) {
    for (size_t q = 0; q < rule.a.size(); q++) {
      const double a = rule.a[q];
      const double sp = (rho + a) * (rho + a) + dz * dz;  // A + B
      const double sm = (rho - a) * (rho - a) + dz * dz;  // A - B
      const double m = 4 * a * rho / sp;
      double K, E;
      EllipticKE(m < 1 ? m : 1 - 1e-16, K, E);
      const double s = std::sqrt(sp);
      const double f = sign * rule.w[q] * a * 4 / s;
      bz += f * dz * E / sm;
      if (rho > 1e-9) br += f * (K + E * (rho * rho - a * a - dz * dz) / sm) / (2 * rho);
    }
  }
  void At(double rho, double z, double& bz, double& br) const {
    bz = 0;
    br = 0;
    Face(top, rho, z, +1, bz, br);
    Face(bottom, rho, z + mag.height, -1, bz, br);
    const double c = mag.mu0M / (4 * kPi);
    bz *= c;
    br *= c;
  }
};

// Tabulated field on a (ρ, z) grid: Bz, Bρ and the gradients ∂Bz/∂z and
// ∂Bz/∂ρ (= ∂Bρ/∂z, the field being curl-free outside the magnet), by
// central differences; read back by bilinear interpolation.
struct FieldTable {
  double r0 = 0, z0 = 0, h = 0.25;
  size_t nr = 0, nzt = 0;
  std::vector<double> bz, br, gz, gr;  // [ir * nzt + iz]

  void Build(const FieldModel& fm, double rhoMax, double zLo, double zHi, double step) {
    h = step;
    r0 = 0;
    z0 = zLo - 2 * h;
    nr = size_t(std::ceil(rhoMax / h)) + 3;
    nzt = size_t(std::ceil((zHi - zLo) / h)) + 5;
    bz.assign(nr * nzt, 0);
    br.assign(nr * nzt, 0);
    gz.assign(nr * nzt, 0);
    gr.assign(nr * nzt, 0);
    ParallelFor(nr, [&](size_t b, size_t e) {
      for (size_t ir = b; ir < e; ir++)
        for (size_t iz = 0; iz < nzt; iz++) fm.At(r0 + ir * h, z0 + iz * h, bz[ir * nzt + iz], br[ir * nzt + iz]);
    });
    for (size_t ir = 0; ir < nr; ir++)
      for (size_t iz = 0; iz < nzt; iz++) {
        const size_t lo = iz == 0 ? iz : iz - 1, hi = iz + 1 == nzt ? iz : iz + 1;
        const double d = (hi - lo) * h;
        gz[ir * nzt + iz] = (bz[ir * nzt + hi] - bz[ir * nzt + lo]) / d;
        gr[ir * nzt + iz] = (br[ir * nzt + hi] - br[ir * nzt + lo]) / d;
      }
  }
  // Returns Bz, Bρ, ∂Bz/∂z, ∂Bz/∂ρ at (ρ, z) (T and T/nm).
  inline void At(double rho, double z, double& obz, double& obr, double& ogz, double& ogr) const {
    double fr = (rho - r0) / h, fz = (z - z0) / h;
    fr = std::min(std::max(fr, 0.0), double(nr - 1) - 1e-9);
    fz = std::min(std::max(fz, 0.0), double(nzt - 1) - 1e-9);
    const size_t ir = size_t(fr), iz = size_t(fz);
    const double tr = fr - ir, tz = fz - iz;
    const size_t i00 = ir * nzt + iz, i01 = i00 + 1, i10 = i00 + nzt, i11 = i10 + 1;
    const double w00 = (1 - tr) * (1 - tz), w01 = (1 - tr) * tz, w10 = tr * (1 - tz), w11 = tr * tz;
    obz = w00 * bz[i00] + w01 * bz[i01] + w10 * bz[i10] + w11 * bz[i11];
    obr = w00 * br[i00] + w01 * br[i01] + w10 * br[i10] + w11 * br[i11];
    ogz = w00 * gz[i00] + w01 * gz[i01] + w10 * gz[i10] + w11 * gz[i11];
    ogr = w00 * gr[i00] + w01 * gr[i01] + w10 * gr[i10] + w11 * gr[i11];
  }
};

// ---------------------------------------------------------------- PSF
struct PsfJob {
  Magnet mag;
  double b0 = 3, gammaHzPerT = 42.577478e6, muJPerT = 1.41060679e-26;
  int geometry = 0;  // 0 cantilever (∂Bz/∂x), 1 membrane (∂Bz/∂z)
  double dx = 1, dy = 1, dz = 1;
  size_t nx = 0, ny = 0, sub = 3;
  std::vector<double> zHeights, f0;
  double fBW = 0, tableStepNm = 0.5;
  float* out = nullptr;  // (nf, nx, ny, nz)
};

void RunPsf(const PsfJob& j) {
  const size_t nz = j.zHeights.size(), nf = j.f0.size(), nx = j.nx, ny = j.ny, S = j.sub;
  const double hx = (nx / 2 + 1) * j.dx, hy = (ny / 2 + 1) * j.dy;
  double zLo = 1e300, zHi = -1e300;
  for (double z : j.zHeights) {
    zLo = std::min(zLo, z - j.dz);
    zHi = std::max(zHi, z + j.dz);
  }
  FieldModel fm(j.mag);
  FieldTable tab;
  tab.Build(fm, std::sqrt(hx * hx + hy * hy) + j.dx, zLo, zHi, j.tableStepNm);
  // pulses sorted by centre frequency, so a sample finds its pulses by bisection
  std::vector<size_t> order(nf);
  for (size_t l = 0; l < nf; l++) order[l] = l;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return j.f0[a] < j.f0[b]; });
  std::vector<double> fs(nf);
  for (size_t l = 0; l < nf; l++) fs[l] = j.f0[order[l]];
  std::vector<double> off(S);
  for (size_t s = 0; s < S; s++) off[s] = (double(s) + 0.5) / S - 0.5;  // symmetric about the voxel centre
  const double scale = 1e9 * j.muJPerT * 1e18;  // (T/nm → T/m) · μ (J/T) → N → aN
  const double norm = 1.0 / double(S * S * S);
  std::memset(j.out, 0, sizeof(float) * nf * nx * ny * nz);
  ParallelFor(nx, [&](size_t b, size_t e) {
    std::vector<double> acc(nf);
    for (size_t i = b; i < e; i++)
      for (size_t jy = 0; jy < ny; jy++)
        for (size_t k = 0; k < nz; k++) {
          {
            // skip a voxel whose centre frequency is far from every window
            const double x = (double(i) - double(nx / 2)) * j.dx, y = (double(jy) - double(ny / 2)) * j.dy;
            const double rho = std::sqrt(x * x + y * y);
            double bz, br, gz, gr;
            tab.At(rho, j.zHeights[k], bz, br, gz, gr);
            const double bt = j.b0 + bz;
            const double f = j.gammaHzPerT * std::sqrt(bt * bt + br * br);
            const double slope = j.gammaHzPerT * (std::fabs(gz) + std::fabs(gr) + 1e-12);
            const double reach = 2 * slope * 0.5 * (j.dx + j.dy + j.dz) + j.fBW;
            const size_t lo = std::lower_bound(fs.begin(), fs.end(), f - reach) - fs.begin();
            if (lo >= nf || fs[lo] > f + reach) continue;
          }
          std::fill(acc.begin(), acc.end(), 0.0);
          for (size_t sx = 0; sx < S; sx++)
            for (size_t sy = 0; sy < S; sy++) {
              const double x = (double(i) - double(nx / 2) + off[sx]) * j.dx;
              const double y = (double(jy) - double(ny / 2) + off[sy]) * j.dy;
              const double rho = std::sqrt(x * x + y * y);
              for (size_t sz = 0; sz < S; sz++) {
                const double z = j.zHeights[k] + off[sz] * j.dz;
                double bz, br, gz, gr;
                tab.At(rho, z, bz, br, gz, gr);
                const double bt = j.b0 + bz;
                const double f = j.gammaHzPerT * std::sqrt(bt * bt + br * br);
                // pulses with |f − f0| ≤ fBW
                size_t lo = std::lower_bound(fs.begin(), fs.end(), f - j.fBW) - fs.begin();
                if (lo >= nf || fs[lo] > f + j.fBW) continue;
                const double g = j.geometry == 0 ? (rho > 0 ? gr * x / rho : 0.0) : gz;
                const double force = g * scale;
                const double w = force * force * norm;
                for (size_t q = lo; q < nf && fs[q] <= f + j.fBW; q++) acc[q] += w;
              }
            }
          for (size_t q = 0; q < nf; q++)
            if (acc[q] != 0) j.out[((order[q] * nx + i) * ny + jy) * nz + k] = float(acc[q]);
        }
  });
}

// ---------------------------------------------------------------- operator
struct Dims {
  size_t nx = 0, ny = 0, nz = 0, nf = 0;
  size_t nyh() const { return ny / 2 + 1; }
  size_t nfreq() const { return nx * nyh(); }
  size_t vol() const { return nx * ny * nz; }
  size_t meas() const { return nx * ny * nf; }
};

// Weight of a half-plane frequency in Parseval sums (its conjugate twin is implicit).
inline double HalfWeight(const Dims& d, size_t f) {
  const size_t ky = f % d.nyh();
  return (ky == 0 || (d.ny % 2 == 0 && ky == d.ny / 2)) ? 1.0 : 2.0;
}

struct Operator {
  Dims d;
  std::vector<double> gr, gi;  // Ĝ: [f][l][k]

  // (n, nx, ny) planes ↔ C-ordered (nx, ny, n) arrays
  static void ToPlanes(const double* a, double* p, size_t nx, size_t ny, size_t n) {
    for (size_t x = 0; x < nx; x++)
      for (size_t y = 0; y < ny; y++)
        for (size_t k = 0; k < n; k++) p[(k * nx + x) * ny + y] = a[(x * ny + y) * n + k];
  }
  static void FromPlanes(const double* p, double* a, size_t nx, size_t ny, size_t n) {
    for (size_t x = 0; x < nx; x++)
      for (size_t y = 0; y < ny; y++)
        for (size_t k = 0; k < n; k++) a[(x * ny + y) * n + k] = p[(k * nx + x) * ny + y];
  }
  // Batched 2D real FFT of n planes, split over the threads.
  void Rfft(const double* planes, double* re, double* im, size_t n) const {
    const size_t P = d.nx * d.ny, H = d.nfreq();
    ParallelFor(n, [&](size_t b, size_t e) {
      if (b < e) fft::RealForward(planes + b * P, re + b * H, im + b * H, {e - b, d.nx, d.ny}, {1, 2});
    });
  }
  void Irfft(const double* re, const double* im, double* planes, size_t n) const {
    const size_t P = d.nx * d.ny, H = d.nfreq();
    ParallelFor(n, [&](size_t b, size_t e) {
      if (b < e) fft::RealInverse(re + b * H, im + b * H, planes + b * P, {e - b, d.nx, d.ny}, {1, 2});
    });
  }

  void Build(const float* psf, const Dims& dims, double vv) {
    d = dims;
    const size_t H = d.nfreq(), P = d.nx * d.ny, nz = d.nz, nf = d.nf, nx = d.nx, ny = d.ny;
    gr.assign(H * nf * nz, 0);
    gi.assign(H * nf * nz, 0);
    // one pulse at a time: nz shifted planes → rfft → scatter into the blocks
    std::vector<double> planes(nz * P), re(nz * H), im(nz * H);
    for (size_t l = 0; l < nf; l++) {
      for (size_t x = 0; x < nx; x++)
        for (size_t y = 0; y < ny; y++) {
          const size_t sx = (x + nx / 2) % nx, sy = (y + ny / 2) % ny;  // ifftshift
          const float* src = psf + ((l * nx + sx) * ny + sy) * nz;
          for (size_t k = 0; k < nz; k++) planes[(k * nx + x) * ny + y] = double(src[k]) * vv;
        }
      Rfft(planes.data(), re.data(), im.data(), nz);
      for (size_t k = 0; k < nz; k++)
        for (size_t f = 0; f < H; f++) {
          gr[(f * nf + l) * nz + k] = re[k * H + f];
          gi[(f * nf + l) * nz + k] = im[k * H + f];
        }
    }
  }

  // Spectra are stored [k][f] (planes); the per-frequency kernels gather a block
  // of kBlock consecutive frequencies at a time so the strided reads stay
  // cache-line friendly.
  static constexpr size_t kBlock = 8;

  // out[l][f] = Σ_k Ĝ[f][l][k] x[k][f]  (spectra of planes, [n][H] layout)
  void ApplyG(const double* xr, const double* xi, double* yr, double* yi) const {
    const size_t H = d.nfreq(), nz = d.nz, nf = d.nf;
    const size_t nb = (H + kBlock - 1) / kBlock;
    ParallelFor(nb, [&](size_t b, size_t e) {
      std::vector<double> vr(nz * kBlock), vi(nz * kBlock), ur(nf * kBlock), ui(nf * kBlock);
      for (size_t blk = b; blk < e; blk++) {
        const size_t f0 = blk * kBlock, B = std::min(kBlock, H - f0);
        for (size_t k = 0; k < nz; k++)
          for (size_t t = 0; t < B; t++) {
            vr[t * nz + k] = xr[k * H + f0 + t];
            vi[t * nz + k] = xi[k * H + f0 + t];
          }
        for (size_t t = 0; t < B; t++) {
          const double* Gr = &gr[(f0 + t) * nf * nz];
          const double* Gi = &gi[(f0 + t) * nf * nz];
          const double* pr = &vr[t * nz];
          const double* pi = &vi[t * nz];
          for (size_t l = 0; l < nf; l++) {
            double ar = 0, ai = 0;
            for (size_t k = 0; k < nz; k++) {
              ar += Gr[l * nz + k] * pr[k] - Gi[l * nz + k] * pi[k];
              ai += Gr[l * nz + k] * pi[k] + Gi[l * nz + k] * pr[k];
            }
            ur[l * kBlock + t] = ar;
            ui[l * kBlock + t] = ai;
          }
        }
        for (size_t l = 0; l < nf; l++)
          for (size_t t = 0; t < B; t++) {
            yr[l * H + f0 + t] = ur[l * kBlock + t];
            yi[l * H + f0 + t] = ui[l * kBlock + t];
          }
      }
    });
  }
  // out[k][f] = Σ_l conj(Ĝ[f][l][k]) y[l][f]
  void ApplyGH(const double* yr, const double* yi, double* xr, double* xi) const {
    const size_t H = d.nfreq(), nz = d.nz, nf = d.nf;
    const size_t nb = (H + kBlock - 1) / kBlock;
    ParallelFor(nb, [&](size_t b, size_t e) {
      std::vector<double> ar(nz * kBlock), ai(nz * kBlock), ur(nf * kBlock), ui(nf * kBlock);
      for (size_t blk = b; blk < e; blk++) {
        const size_t f0 = blk * kBlock, B = std::min(kBlock, H - f0);
        for (size_t l = 0; l < nf; l++)
          for (size_t t = 0; t < B; t++) {
            ur[t * nf + l] = yr[l * H + f0 + t];
            ui[t * nf + l] = yi[l * H + f0 + t];
          }
        for (size_t t = 0; t < B; t++) {
          const double* Gr = &gr[(f0 + t) * nf * nz];
          const double* Gi = &gi[(f0 + t) * nf * nz];
          double* pr = &ar[t * nz];
          double* pi = &ai[t * nz];
          std::fill(pr, pr + nz, 0.0);
          std::fill(pi, pi + nz, 0.0);
          for (size_t l = 0; l < nf; l++) {
            const double qr = ur[t * nf + l], qi = ui[t * nf + l];
            for (size_t k = 0; k < nz; k++) {
              pr[k] += Gr[l * nz + k] * qr + Gi[l * nz + k] * qi;
              pi[k] += Gr[l * nz + k] * qi - Gi[l * nz + k] * qr;
            }
          }
        }
        for (size_t k = 0; k < nz; k++)
          for (size_t t = 0; t < B; t++) {
            xr[k * H + f0 + t] = ar[t * nz + k];
            xi[k * H + f0 + t] = ai[t * nz + k];
          }
      }
    });
  }

  // A o for o as (nz, nx, ny) planes → measurement planes (nf, nx, ny)
  void ForwardPlanes(const double* o, double* out) const {
    const size_t H = d.nfreq();
    std::vector<double> xr(d.nz * H), xi(d.nz * H), yr(d.nf * H), yi(d.nf * H);
    Rfft(o, xr.data(), xi.data(), d.nz);
    ApplyG(xr.data(), xi.data(), yr.data(), yi.data());
    Irfft(yr.data(), yi.data(), out, d.nf);
  }
  void AdjointPlanes(const double* m, double* out) const {
    const size_t H = d.nfreq();
    std::vector<double> xr(d.nz * H), xi(d.nz * H), yr(d.nf * H), yi(d.nf * H);
    Rfft(m, yr.data(), yi.data(), d.nf);
    ApplyGH(yr.data(), yi.data(), xr.data(), xi.data());
    Irfft(xr.data(), xi.data(), out, d.nz);
  }

  // ‖A‖₂² = largest eigenvalue of Ĝ₀ᵀĜ₀: for a non-negative PSF every block is
  // dominated entrywise by the DC block, whose spectral norm bounds them all.
  // Power iteration on the DC block (real).
  double NormSquared() const {
    const size_t nz = d.nz, nf = d.nf;
    const double* G = &gr[0];
    std::vector<double> v(nz, 1.0), w(nz), u(nf);
    double lam = 0;
    for (int it = 0; it < 500; it++) {
      for (size_t l = 0; l < nf; l++) {
        double s = 0;
        for (size_t k = 0; k < nz; k++) s += G[l * nz + k] * v[k];
        u[l] = s;
      }
      double nrm = 0;
      for (size_t k = 0; k < nz; k++) {
        double s = 0;
        for (size_t l = 0; l < nf; l++) s += G[l * nz + k] * u[l];
        w[k] = s;
        nrm += s * s;
      }
      nrm = std::sqrt(nrm);
      if (nrm == 0) return 0;
      const double prev = lam;
      double vv = 0;
      for (size_t k = 0; k < nz; k++) vv += v[k] * v[k];
      lam = nrm / std::sqrt(vv);
      for (size_t k = 0; k < nz; k++) v[k] = w[k] / nrm;
      if (it > 5 && std::fabs(lam - prev) <= 1e-12 * lam) break;
    }
    return lam;
  }
};

// ---------------------------------------------------------------- o-update
// Per frequency f the normal matrix M_f = Ĝ_fᴴĜ_f + (ν1 + ν2(|dx|²+|dy|²)) I + ν2 DzᵀDz
// (nz×nz, Hermitian positive definite), Cholesky-factorised once; packed lower
// triangle, complex.
struct NormalSolver {
  const Operator* op = nullptr;
  std::vector<double> lr, li;  // [f][a(a+1)/2 + b]
  size_t tri = 0;

  void Factor(const Operator& o, double nu1, double nu2) {
    op = &o;
    const Dims& d = o.d;
    const size_t H = d.nfreq(), nz = d.nz, nf = d.nf, nyh = d.nyh();
    tri = nz * (nz + 1) / 2;
    lr.assign(H * tri, 0);
    li.assign(H * tri, 0);
    ParallelFor(H, [&](size_t b, size_t e) {
      std::vector<double> mr(nz * nz), mi(nz * nz);
      for (size_t f = b; f < e; f++) {
        const double* Gr = &o.gr[f * nf * nz];
        const double* Gi = &o.gi[f * nf * nz];
        const size_t kx = f / nyh, ky = f % nyh;
        const double dxx = 2 - 2 * std::cos(2 * kPi * double(kx) / double(d.nx));
        const double dyy = 2 - 2 * std::cos(2 * kPi * double(ky) / double(d.ny));
        for (size_t a = 0; a < nz; a++)
          for (size_t c = 0; c <= a; c++) {
            double sr = 0, si = 0;  // Σ_l conj(G[l][a]) G[l][c]
            for (size_t l = 0; l < nf; l++) {
              const double ar = Gr[l * nz + a], ai = Gi[l * nz + a], cr = Gr[l * nz + c], ci = Gi[l * nz + c];
              sr += ar * cr + ai * ci;
              si += ar * ci - ai * cr;
            }
            mr[a * nz + c] = sr;
            mi[a * nz + c] = si;
          }
        for (size_t a = 0; a < nz; a++) {
          double t = nz == 1 ? 0.0 : ((a == 0 || a == nz - 1) ? 1.0 : 2.0);
          mr[a * nz + a] += nu1 + nu2 * (dxx + dyy) + nu2 * t;
          if (a > 0) mr[a * nz + a - 1] -= nu2;
        }
        // Cholesky (lower): M = L Lᴴ
        double* Lr = &lr[f * tri];
        double* Li = &li[f * tri];
        for (size_t a = 0; a < nz; a++) {
          for (size_t c = 0; c <= a; c++) {
            double sr = mr[a * nz + c], si = mi[a * nz + c];
            for (size_t q = 0; q < c; q++) {  // − L[a][q] conj(L[c][q])
              const double xr = Lr[a * (a + 1) / 2 + q], xi = Li[a * (a + 1) / 2 + q];
              const double yr = Lr[c * (c + 1) / 2 + q], yi = Li[c * (c + 1) / 2 + q];
              sr -= xr * yr + xi * yi;
              si -= xi * yr - xr * yi;
            }
            if (a == c) {
              const double v = std::sqrt(std::max(sr, 1e-300));
              Lr[a * (a + 1) / 2 + a] = v;
              Li[a * (a + 1) / 2 + a] = 0;
            } else {
              const double dv = Lr[c * (c + 1) / 2 + c];
              Lr[a * (a + 1) / 2 + c] = sr / dv;
              Li[a * (a + 1) / 2 + c] = si / dv;
            }
          }
        }
      }
    });
  }

  // Solves M_f x = r in place for every frequency; spectra in [k][f] layout,
  // gathered in blocks of consecutive frequencies.
  void Solve(double* xr, double* xi) const {
    const Dims& d = op->d;
    const size_t H = d.nfreq(), nz = d.nz, Bk = Operator::kBlock;
    const size_t nb = (H + Bk - 1) / Bk;
    ParallelFor(nb, [&](size_t b, size_t e) {
      std::vector<double> br(nz * Bk), bi(nz * Bk);
      for (size_t blk = b; blk < e; blk++) {
        const size_t f0 = blk * Bk, B = std::min(Bk, H - f0);
        for (size_t a = 0; a < nz; a++)
          for (size_t t = 0; t < B; t++) {
            br[t * nz + a] = xr[a * H + f0 + t];
            bi[t * nz + a] = xi[a * H + f0 + t];
          }
        for (size_t t = 0; t < B; t++) {
          const double* Lr = &lr[(f0 + t) * tri];
          const double* Li = &li[(f0 + t) * tri];
          double* vr = &br[t * nz];
          double* vi = &bi[t * nz];
          for (size_t a = 0; a < nz; a++) {  // L v = r
            double sr = vr[a], si = vi[a];
            const size_t row = a * (a + 1) / 2;
            for (size_t q = 0; q < a; q++) {
              sr -= Lr[row + q] * vr[q] - Li[row + q] * vi[q];
              si -= Lr[row + q] * vi[q] + Li[row + q] * vr[q];
            }
            vr[a] = sr / Lr[row + a];
            vi[a] = si / Lr[row + a];
          }
          for (size_t a = nz; a-- > 0;) {  // Lᴴ x = v
            double sr = vr[a], si = vi[a];
            for (size_t q = a + 1; q < nz; q++) {  // conj(L[q][a]) x[q]
              const size_t idx = q * (q + 1) / 2 + a;
              sr -= Lr[idx] * vr[q] + Li[idx] * vi[q];
              si -= Lr[idx] * vi[q] - Li[idx] * vr[q];
            }
            vr[a] = sr / Lr[a * (a + 1) / 2 + a];
            vi[a] = si / Lr[a * (a + 1) / 2 + a];
          }
        }
        for (size_t a = 0; a < nz; a++)
          for (size_t t = 0; t < B; t++) {
            xr[a * H + f0 + t] = br[t * nz + a];
            xi[a * H + f0 + t] = bi[t * nz + a];
          }
      }
    });
  }
};

// ---------------------------------------------------------------- TV pieces
// Forward differences on (nz, nx, ny) planes: periodic in x and y (like the
// circular convolution), Neumann in z (zero difference past the top plane).
void Grad(const Dims& d, const double* o, double* gx, double* gy, double* gz) {
  const size_t nx = d.nx, ny = d.ny, nz = d.nz;
  for (size_t k = 0; k < nz; k++)
    for (size_t x = 0; x < nx; x++)
      for (size_t y = 0; y < ny; y++) {
        const size_t i = (k * nx + x) * ny + y;
        gx[i] = o[(k * nx + (x + 1) % nx) * ny + y] - o[i];
        gy[i] = o[(k * nx + x) * ny + (y + 1) % ny] - o[i];
        gz[i] = k + 1 < nz ? o[i + nx * ny] - o[i] : 0.0;
      }
}
// out += Dᵀ w
void GradT(const Dims& d, const double* wx, const double* wy, const double* wz, double* out) {
  const size_t nx = d.nx, ny = d.ny, nz = d.nz, P = nx * ny;
  for (size_t k = 0; k < nz; k++)
    for (size_t x = 0; x < nx; x++)
      for (size_t y = 0; y < ny; y++) {
        const size_t i = (k * nx + x) * ny + y;
        double s = wx[(k * nx + (x + nx - 1) % nx) * ny + y] - wx[i];
        s += wy[(k * nx + x) * ny + (y + ny - 1) % ny] - wy[i];
        if (k > 0) s += wz[i - P];
        if (k + 1 < nz) s -= wz[i];
        out[i] += s;
      }
}

// ---------------------------------------------------------------- reconstruction
struct ReconOptions {
  int method = 0;  // 0 admm, 1 landweber
  size_t maxIter = 100, minIter = 1;
  double nu1 = 0, nu2 = 0, gamma = 0;   // ADMM (absolute)
  double stepMin = 0, stepMax = 0;      // Landweber BB clip (absolute; 0: derived)
  double noiseEnergy = 0;               // Σ SE² over the sampled points (aN⁴)
  double tau = 1.0;                     // discrepancy factor
  double stagnation = 1e-4;             // relative residual change that counts as stalled
  bool stopAtDiscrepancy = true;
  // ADMM: ν1, ν2 given relative to ‖A‖² and γ relative to max|Aᵀi| (scale-free defaults)
  bool relative = false;
  // stopping rule: 0 discrepancy principle (semi-convergent iterations: Landweber),
  // 1 convergence, ‖o_k − o_{k−1}‖ ≤ tol·‖o_k‖ (regularised iterations: ADMM)
  int rule = 0;
  double tol = 1e-3;
};

struct ReconResult {
  std::vector<double> o;  // (nx, ny, nz) C order
  std::vector<double> residual, rmse, seconds;
  size_t iterations = 0;
  long discrepancyIteration = -1;
  std::string reason;
  double setupSeconds = 0, normSquared = 0;
  double nu1 = 0, nu2 = 0, gamma = 0;  // ADMM parameters used (absolute)
};

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

class Recon {
 public:
  Recon(const Operator& op, const std::vector<double>& dataPlanes, const std::vector<uint8_t>& maskPlanes,
        const std::vector<double>& truthPlanes, const ReconOptions& opt, const std::atomic<bool>& cancel)
      : op_(op), d_(op.d), data_(dataPlanes), mask_(maskPlanes), truth_(truthPlanes), opt_(opt), cancel_(cancel) {}

  // Masked residual ‖W(A o) − i‖² over the sampled points, and RMSE vs truth.
  void Record(const std::vector<double>& o, ReconResult& r, double t0) {
    std::vector<double> ao(d_.meas());
    op_.ForwardPlanes(o.data(), ao.data());
    double s = 0;
    for (size_t i = 0; i < ao.size(); i++)
      if (mask_.empty() || mask_[i]) s += (ao[i] - data_[i]) * (ao[i] - data_[i]);
    r.residual.push_back(s);
    if (!truth_.empty()) {
      double e = 0;
      for (size_t i = 0; i < o.size(); i++) e += (o[i] - truth_[i]) * (o[i] - truth_[i]);
      r.rmse.push_back(std::sqrt(e / double(o.size())));
    }
    r.seconds.push_back(Now() - t0);
  }

  // Returns true when the iteration should stop (sets the reason).
  bool Stop(ReconResult& r, size_t it, double change) {
    const size_t n = r.residual.size();
    const double res = r.residual.back();
    if (opt_.rule == 1 && opt_.stopAtDiscrepancy && it >= opt_.minIter && change <= opt_.tol) {
      if (r.discrepancyIteration < 0 && opt_.noiseEnergy > 0 && res <= opt_.tau * opt_.noiseEnergy) r.discrepancyIteration = long(it);
      r.reason = "converged";
      return true;
    }
    if (r.discrepancyIteration < 0 && opt_.noiseEnergy > 0 && res <= opt_.tau * opt_.noiseEnergy) {
      r.discrepancyIteration = long(it);
      if (opt_.rule == 0 && opt_.stopAtDiscrepancy && it >= opt_.minIter) {
        r.reason = "discrepancy";
        return true;
      }
    }
    if (cancel_.load()) {
      r.reason = "cancelled";
      return true;
    }
    if (opt_.rule == 0 && opt_.stopAtDiscrepancy && n >= 3 && it >= opt_.minIter) {
      const double prev = r.residual[n - 2];
      if (std::fabs(prev - res) <= opt_.stagnation * std::max(res, 1e-300)) {
        r.reason = "stagnated";
        return true;
      }
    }
    if (it >= opt_.maxIter) {
      r.reason = "max-iterations";
      return true;
    }
    return false;
  }

  void Admm(ReconResult& r) {
    const double t0 = Now();
    const size_t N = d_.vol(), H = d_.nfreq(), nz = d_.nz;
    // b̂ = Ĝᴴ î (Aᵀi in the frequency domain), once
    std::vector<double> br(nz * H), bi(nz * H);
    {
      std::vector<double> yr(d_.nf * H), yi(d_.nf * H);
      op_.Rfft(data_.data(), yr.data(), yi.data(), d_.nf);
      op_.ApplyGH(yr.data(), yi.data(), br.data(), bi.data());
    }
    double nu1 = opt_.nu1, nu2 = opt_.nu2, gamma = opt_.gamma;
    if (opt_.relative) {
      std::vector<double> atr(br), ati(bi), ati0(N);
      op_.Irfft(atr.data(), ati.data(), ati0.data(), nz);
      double mx = 0;
      for (double v : ati0) mx = std::max(mx, std::fabs(v));
      nu1 *= r.normSquared;
      nu2 *= r.normSquared;
      gamma *= mx;
    }
    r.nu1 = nu1;
    r.nu2 = nu2;
    r.gamma = gamma;
    std::vector<double> o(N, 0), op(N, 0), l1(N, 0), tx(N, 0), ty(N, 0), tz(N, 0), m2x(N, 0), m2y(N, 0), m2z(N, 0);
    std::vector<double> gx(N), gy(N), gz(N), q(N), qr(nz * H), qi(nz * H), wx(N), wy(N), wz(N);
    NormalSolver ns;
    ns.Factor(op_, nu1, nu2);
    r.setupSeconds = Now() - t0;
    const double thr = gamma / nu2;
    for (size_t it = 1;; it++) {
      // o-update: (AᵀA + ν1 I + ν2 DᵀD) o = Aᵀi + λ1 + ν1 o₊ + Dᵀ(λ2 + ν2 o_TV)
      for (size_t i = 0; i < N; i++) {
        q[i] = l1[i] + nu1 * op[i];
        wx[i] = m2x[i] + nu2 * tx[i];
        wy[i] = m2y[i] + nu2 * ty[i];
        wz[i] = m2z[i] + nu2 * tz[i];
      }
      GradT(d_, wx.data(), wy.data(), wz.data(), q.data());
      op_.Rfft(q.data(), qr.data(), qi.data(), nz);
      for (size_t i = 0; i < nz * H; i++) {
        qr[i] += br[i];
        qi[i] += bi[i];
      }
      ns.Solve(qr.data(), qi.data());
      op_.Irfft(qr.data(), qi.data(), o.data(), nz);
      // o₊ = max(0, o − λ1/ν1)
      double dch = 0, dn = 0;
      for (size_t i = 0; i < N; i++) {
        const double v = std::max(0.0, o[i] - l1[i] / nu1);
        dch += (v - op[i]) * (v - op[i]);
        dn += v * v;
        op[i] = v;
      }
      const double change = std::sqrt(dch / std::max(dn, 1e-300));
      // o_TV = shrink(Do − λ2/ν2, γ/ν2), group-wise per voxel
      Grad(d_, o.data(), gx.data(), gy.data(), gz.data());
      for (size_t i = 0; i < N; i++) {
        const double vx = gx[i] - m2x[i] / nu2, vy = gy[i] - m2y[i] / nu2, vz = gz[i] - m2z[i] / nu2;
        const double n = std::sqrt(vx * vx + vy * vy + vz * vz);
        const double s = n > thr ? 1 - thr / n : 0.0;
        tx[i] = s * vx;
        ty[i] = s * vy;
        tz[i] = s * vz;
      }
      // dual ascent
      for (size_t i = 0; i < N; i++) {
        l1[i] += nu1 * (op[i] - o[i]);
        m2x[i] += nu2 * (tx[i] - gx[i]);
        m2y[i] += nu2 * (ty[i] - gy[i]);
        m2z[i] += nu2 * (tz[i] - gz[i]);
      }
      Record(op, r, t0);
      r.iterations = it;
      if (Stop(r, it, change)) break;
    }
    r.o.swap(op);
  }

  void Landweber(ReconResult& r) {
    const double t0 = Now();
    const size_t N = d_.vol(), M = d_.meas();
    const double L = r.normSquared;
    const double gmin = opt_.stepMin > 0 ? opt_.stepMin : 1e-3 / L;
    const double gmax = opt_.stepMax > 0 ? opt_.stepMax : 1e3 / L;
    r.setupSeconds = Now() - t0;
    std::vector<double> o(N, 0), g(N), o1(N), g1(N), ao(M);
    auto gradient = [&](const std::vector<double>& x, std::vector<double>& out) {
      op_.ForwardPlanes(x.data(), ao.data());
      for (size_t i = 0; i < M; i++) ao[i] -= data_[i];
      op_.AdjointPlanes(ao.data(), out.data());
    };
    gradient(o, g);
    double step = 1 / L;
    for (size_t it = 1;; it++) {
      for (size_t i = 0; i < N; i++) o1[i] = std::max(o[i] - step * g[i], 0.0);
      gradient(o1, g1);
      // Barzilai–Borwein: s = Δo, y = Δ(gradient)
      double ss = 0, sy = 0;
      for (size_t i = 0; i < N; i++) {
        const double s = o1[i] - o[i], y = g1[i] - g[i];
        ss += s * s;
        sy += s * y;
      }
      double on = 0;
      for (size_t i = 0; i < N; i++) on += o1[i] * o1[i];
      const double change = std::sqrt(ss / std::max(on, 1e-300));
      step = sy > 0 ? ss / sy : gmax;
      step = std::min(std::max(step, gmin), gmax);
      o.swap(o1);
      g.swap(g1);
      Record(o, r, t0);
      r.iterations = it;
      if (Stop(r, it, change)) break;
    }
    r.o.swap(o);
  }

 private:
  const Operator& op_;
  const Dims d_;
  const std::vector<double>& data_;
  const std::vector<uint8_t>& mask_;
  const std::vector<double>& truth_;
  ReconOptions opt_;
  const std::atomic<bool>& cancel_;
};

// ---------------------------------------------------------------- BPDN
// min ‖Ψ I‖₁ s.t. ‖W I − b‖₂² ≤ ζ, Ψ unitary (3D DFT, or 2D DFT in x, y ⊗
// orthonormal DCT-II along the pulse axis), solved by Douglas–Rachford
// splitting of the ℓ1 term (prox: soft threshold in the Ψ domain) and the
// data ball (exact projection on the sampled entries).
struct BpdnOptions {
  int transform = 1;  // 0 dft3, 1 dft2 ⊗ dct (pulse axis)
  size_t maxIter = 300;
  double tol = 1e-5, threshold = 0, zeta = 0;
};
struct BpdnResult {
  std::vector<double> x;
  size_t iterations = 0;
  double constraint = 0;  // ‖W x − b‖²
  double seconds = 0;
};

class Bpdn {
 public:
  Bpdn(const Dims& d, const BpdnOptions& o) : d_(d), o_(o), n_(d.meas()) {
    if (o.transform == 1) {
      const size_t nf = d.nf;
      dct_.resize(nf * nf);
      for (size_t k = 0; k < nf; k++)
        for (size_t n = 0; n < nf; n++)
          dct_[k * nf + n] = (k == 0 ? std::sqrt(1.0 / nf) : std::sqrt(2.0 / nf)) * std::cos(kPi * (n + 0.5) * k / nf);
    }
  }
  // prox of t‖Ψ·‖₁ at z (real), into x
  void Prox(const std::vector<double>& z, std::vector<double>& x, double t) {
    const size_t N = n_, nf = d_.nf;
    re_.assign(z.begin(), z.end());
    im_.assign(N, 0.0);
    const double s = 1.0 / std::sqrt(double(o_.transform == 0 ? N : d_.nx * d_.ny));
    if (o_.transform == 0) {
      fft::Complex(re_.data(), im_.data(), re_.data(), im_.data(), {d_.nx, d_.ny, nf}, {0, 1, 2}, false);
    } else {
      fft::Complex(re_.data(), im_.data(), re_.data(), im_.data(), {d_.nx, d_.ny, nf}, {0, 1}, false);
      Dct(false);
    }
    for (size_t i = 0; i < N; i++) {
      const double a = re_[i] * s, b = im_[i] * s, m = std::sqrt(a * a + b * b);
      const double k = m > t ? (1 - t / m) : 0.0;
      re_[i] = a * k / s;
      im_[i] = b * k / s;
    }
    if (o_.transform == 0) {
      fft::Complex(re_.data(), im_.data(), re_.data(), im_.data(), {d_.nx, d_.ny, nf}, {0, 1, 2}, true);
    } else {
      Dct(true);
      fft::Complex(re_.data(), im_.data(), re_.data(), im_.data(), {d_.nx, d_.ny, nf}, {0, 1}, true);
    }
    x.assign(re_.begin(), re_.end());
  }
  void Dct(bool inverse) {
    const size_t nf = d_.nf, cols = d_.nx * d_.ny;
    ParallelFor(cols, [&](size_t b, size_t e) {
      std::vector<double> tr(nf), ti(nf);
      for (size_t c = b; c < e; c++) {
        double* pr = &re_[c * nf];
        double* pi = &im_[c * nf];
        for (size_t k = 0; k < nf; k++) {
          double ar = 0, ai = 0;
          for (size_t n = 0; n < nf; n++) {
            const double w = inverse ? dct_[n * nf + k] : dct_[k * nf + n];
            ar += w * pr[n];
            ai += w * pi[n];
          }
          tr[k] = ar;
          ti[k] = ai;
        }
        std::copy(tr.begin(), tr.end(), pr);
        std::copy(ti.begin(), ti.end(), pi);
      }
    });
  }

  void Run(const std::vector<double>& data, const std::vector<uint8_t>& mask, BpdnResult& r, const std::atomic<bool>& cancel) {
    const double t0 = Now();
    const size_t N = n_;
    const double radius = std::sqrt(std::max(o_.zeta, 0.0));
    std::vector<double> z(N), x(N), y(N);
    for (size_t i = 0; i < N; i++) z[i] = mask[i] ? data[i] : 0.0;
    const double t = o_.threshold;
    for (size_t it = 1; it <= o_.maxIter; it++) {
      Prox(z, x, t);
      // y = proj_C(2x − z)
      double dn = 0;
      for (size_t i = 0; i < N; i++) {
        y[i] = 2 * x[i] - z[i];
        if (mask[i]) dn += (y[i] - data[i]) * (y[i] - data[i]);
      }
      dn = std::sqrt(dn);
      if (dn > radius) {
        const double k = radius / dn;
        for (size_t i = 0; i < N; i++)
          if (mask[i]) y[i] = data[i] + (y[i] - data[i]) * k;
      }
      // fixed-point residual ‖y − x‖ (zero at a solution: x feasible and a prox point)
      double ch = 0, nx = 0;
      for (size_t i = 0; i < N; i++) {
        z[i] += y[i] - x[i];
        ch += (y[i] - x[i]) * (y[i] - x[i]);
        nx += x[i] * x[i];
      }
      r.iterations = it;
      if (it > 5 && ch <= o_.tol * o_.tol * std::max(nx, 1e-300)) break;
      if (cancel.load()) break;
    }
    // the estimate: the prox point, pulled onto the data ball (feasible)
    Prox(z, x, t);
    double dn = 0;
    for (size_t i = 0; i < N; i++)
      if (mask[i]) dn += (x[i] - data[i]) * (x[i] - data[i]);
    r.constraint = dn;
    r.x.swap(x);
    r.seconds = Now() - t0;
  }

 private:
  Dims d_;
  BpdnOptions o_;
  size_t n_;
  std::vector<double> dct_, re_, im_;
};

// ---------------------------------------------------------------- N-API glue
double Num(const Napi::Object& o, const char* key, double def) {
  if (!o.Has(key)) return def;
  const Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return def;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}
std::vector<double> NumList(const Napi::Object& o, const char* key) {
  const Napi::Value v = o.Get(key);
  std::vector<double> out;
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float64_array) {
    Napi::Float64Array a = v.As<Napi::Float64Array>();
    out.assign(a.Data(), a.Data() + a.ElementLength());
    return out;
  }
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be an array of numbers");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a[i];
    if (!e.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be an array of numbers");
    out.push_back(e.As<Napi::Number>().DoubleValue());
  }
  return out;
}
Magnet ReadMagnet(const Napi::Object& o) {
  Magnet m;
  m.radius = Num(o, "radiusNm", m.radius);
  m.height = Num(o, "heightNm", m.height);
  m.mu0M = Num(o, "mu0MsT", m.mu0M);
  return m;
}
Dims ReadDims(const Napi::Value& v) {
  const Napi::Object o = v.As<Napi::Object>();
  Dims d;
  d.nx = size_t(Num(o, "nx", 0));
  d.ny = size_t(Num(o, "ny", 0));
  d.nz = size_t(Num(o, "nz", 0));
  d.nf = size_t(Num(o, "nf", 0));
  if (!d.nx || !d.ny || !d.nz || !d.nf) throw Napi::RangeError::New(v.Env(), "dims: nx, ny, nz, nf must be positive integers");
  return d;
}
template <class T>
const T* Typed(const Napi::Value& v, size_t len, const char* what) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a typed array");
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  if (a.ElementLength() != len) throw Napi::RangeError::New(v.Env(), std::string(what) + ": length " + std::to_string(a.ElementLength()) + ", expected " + std::to_string(len));
  return reinterpret_cast<const T*>(static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

Napi::Value Field(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Magnet m = ReadMagnet(info[0].As<Napi::Object>());
  const Napi::Float64Array rho = info[1].As<Napi::Float64Array>(), z = info[2].As<Napi::Float64Array>();
  const size_t n = rho.ElementLength();
  if (z.ElementLength() != n) throw Napi::RangeError::New(env, "mrfmField: rho and z lengths differ");
  FieldModel fm(m);
  Napi::Float64Array bz = Napi::Float64Array::New(env, n), br = Napi::Float64Array::New(env, n);
  for (size_t i = 0; i < n; i++) fm.At(rho[i], z[i], bz[i], br[i]);
  Napi::Object out = Napi::Object::New(env);
  out.Set("bz", bz);
  out.Set("brho", br);
  return out;
}

PsfJob ReadPsfJob(const Napi::CallbackInfo& info) {
  const Napi::Object o = info[0].As<Napi::Object>();
  PsfJob j;
  j.mag = ReadMagnet(o.Get("magnet").As<Napi::Object>());
  j.b0 = Num(o, "b0T", j.b0);
  j.gammaHzPerT = Num(o, "gammaHzPerT", j.gammaHzPerT);
  j.muJPerT = Num(o, "muJPerT", j.muJPerT);
  j.geometry = int(Num(o, "geometry", 0));
  j.dx = Num(o, "dxNm", 1);
  j.dy = Num(o, "dyNm", 1);
  j.dz = Num(o, "dzNm", 1);
  j.nx = size_t(Num(o, "nx", 0));
  j.ny = size_t(Num(o, "ny", 0));
  j.sub = size_t(Num(o, "subSamples", 3));
  j.zHeights = NumList(o, "zHeightsNm");
  j.f0 = NumList(o, "f0Hz");
  j.fBW = Num(o, "fBWHz", 0);
  j.tableStepNm = Num(o, "tableStepNm", 0.25);
  return j;
}

class PsfWorker : public Napi::AsyncWorker {
 public:
  PsfWorker(Napi::Env env, PsfJob job, Napi::Float32Array out)
      : Napi::AsyncWorker(env, "qscope.mrfmPsf"), job_(std::move(job)), ref_(Napi::Persistent(out)), deferred_(Napi::Promise::Deferred::New(env)) {
    job_.out = out.Data();
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override {
    try {
      RunPsf(job_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(ref_.Value()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  PsfJob job_;
  Napi::Reference<Napi::Float32Array> ref_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value Psf(const Napi::CallbackInfo& info) {
  PsfJob j = ReadPsfJob(info);
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), j.f0.size() * j.nx * j.ny * j.zHeights.size());
  j.out = out.Data();
  RunPsf(j);
  return out;
}
Napi::Value PsfAsync(const Napi::CallbackInfo& info) {
  PsfJob j = ReadPsfJob(info);
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), j.f0.size() * j.nx * j.ny * j.zHeights.size());
  auto* w = new PsfWorker(info.Env(), std::move(j), out);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// forward / adjoint / normal solve (synchronous; for tests and small grids)
Napi::Value Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Dims d = ReadDims(info[1]);
  const float* psf = Typed<float>(info[0], d.nf * d.nx * d.ny * d.nz, "psf");
  const double vv = info[2].As<Napi::Number>().DoubleValue();
  const double* o = Typed<double>(info[3], d.vol(), "o");
  Operator op;
  op.Build(psf, d, vv);
  std::vector<double> p(d.vol()), m(d.meas());
  Operator::ToPlanes(o, p.data(), d.nx, d.ny, d.nz);
  op.ForwardPlanes(p.data(), m.data());
  Napi::Float64Array out = Napi::Float64Array::New(env, d.meas());
  Operator::FromPlanes(m.data(), out.Data(), d.nx, d.ny, d.nf);
  return out;
}
Napi::Value Adjoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Dims d = ReadDims(info[1]);
  const float* psf = Typed<float>(info[0], d.nf * d.nx * d.ny * d.nz, "psf");
  const double vv = info[2].As<Napi::Number>().DoubleValue();
  const double* m = Typed<double>(info[3], d.meas(), "i");
  Operator op;
  op.Build(psf, d, vv);
  std::vector<double> p(d.meas()), o(d.vol());
  Operator::ToPlanes(m, p.data(), d.nx, d.ny, d.nf);
  op.AdjointPlanes(p.data(), o.data());
  Napi::Float64Array out = Napi::Float64Array::New(env, d.vol());
  Operator::FromPlanes(o.data(), out.Data(), d.nx, d.ny, d.nz);
  return out;
}
Napi::Value SolveNormal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Dims d = ReadDims(info[1]);
  const float* psf = Typed<float>(info[0], d.nf * d.nx * d.ny * d.nz, "psf");
  const double vv = info[2].As<Napi::Number>().DoubleValue();
  const double nu1 = info[3].As<Napi::Number>().DoubleValue(), nu2 = info[4].As<Napi::Number>().DoubleValue();
  const double* rhs = Typed<double>(info[5], d.vol(), "rhs");
  Operator op;
  op.Build(psf, d, vv);
  NormalSolver ns;
  ns.Factor(op, nu1, nu2);
  const size_t H = d.nfreq();
  std::vector<double> p(d.vol()), xr(d.nz * H), xi(d.nz * H);
  Operator::ToPlanes(rhs, p.data(), d.nx, d.ny, d.nz);
  op.Rfft(p.data(), xr.data(), xi.data(), d.nz);
  ns.Solve(xr.data(), xi.data());
  op.Irfft(xr.data(), xi.data(), p.data(), d.nz);
  Napi::Float64Array out = Napi::Float64Array::New(env, d.vol());
  Operator::FromPlanes(p.data(), out.Data(), d.nx, d.ny, d.nz);
  return out;
}

Napi::Float64Array ToJs(Napi::Env env, const std::vector<double>& v) {
  Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

class ReconWorker : public Napi::AsyncWorker {
 public:
  ReconWorker(Napi::Env env, std::vector<float> psf, Dims d, double vv, std::vector<double> data, std::vector<uint8_t> mask,
              std::vector<double> truth, ReconOptions opt, std::shared_ptr<std::atomic<bool>> cancel)
      : Napi::AsyncWorker(env, "qscope.mrfmReconstruct"), psf_(std::move(psf)), d_(d), vv_(vv), data_(std::move(data)),
        mask_(std::move(mask)), truth_(std::move(truth)), opt_(opt), cancel_(std::move(cancel)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override {
    try {
      const double t0 = Now();
      Operator op;
      op.Build(psf_.data(), d_, vv_);
      std::vector<float>().swap(psf_);
      res_.normSquared = op.NormSquared();
      const double tb = Now() - t0;
      Recon rc(op, data_, mask_, truth_, opt_, *cancel_);
      if (opt_.method == 0) rc.Admm(res_); else rc.Landweber(res_);
      res_.setupSeconds += tb;
      std::vector<double> o(d_.vol());
      Operator::FromPlanes(res_.o.data(), o.data(), d_.nx, d_.ny, d_.nz);
      res_.o.swap(o);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object r = Napi::Object::New(env);
    r.Set("o", ToJs(env, res_.o));
    r.Set("residual", ToJs(env, res_.residual));
    r.Set("rmse", ToJs(env, res_.rmse));
    r.Set("seconds", ToJs(env, res_.seconds));
    r.Set("iterations", double(res_.iterations));
    r.Set("discrepancyIteration", double(res_.discrepancyIteration));
    r.Set("reason", res_.reason);
    r.Set("setupSeconds", res_.setupSeconds);
    r.Set("normSquared", res_.normSquared);
    r.Set("nu1", res_.nu1);
    r.Set("nu2", res_.nu2);
    r.Set("gamma", res_.gamma);
    deferred_.Resolve(r);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::vector<float> psf_;
  Dims d_;
  double vv_;
  std::vector<double> data_;
  std::vector<uint8_t> mask_;
  std::vector<double> truth_;
  ReconOptions opt_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  ReconResult res_;
  Napi::Promise::Deferred deferred_;
};

Napi::Object Handle(Napi::Env env, Napi::Promise p, std::shared_ptr<std::atomic<bool>> cancel) {
  Napi::Object h = Napi::Object::New(env);
  h.Set("promise", p);
  h.Set("cancel", Napi::Function::New(env, [cancel](const Napi::CallbackInfo&) { cancel->store(true); }));
  return h;
}

// mrfmReconstructStart(psf, dims, vv, data (nx,ny,nf), mask u8|null, truth f64|null, opts)
Napi::Value ReconstructStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Dims d = ReadDims(info[1]);
  const float* psf = Typed<float>(info[0], d.nf * d.nx * d.ny * d.nz, "psf");
  const double vv = info[2].As<Napi::Number>().DoubleValue();
  const double* data = Typed<double>(info[3], d.meas(), "data");
  std::vector<double> dp(d.meas());
  Operator::ToPlanes(data, dp.data(), d.nx, d.ny, d.nf);
  std::vector<uint8_t> mask;
  if (!info[4].IsNull() && !info[4].IsUndefined()) {
    const uint8_t* m = Typed<uint8_t>(info[4], d.meas(), "mask");
    mask.resize(d.meas());
    for (size_t x = 0; x < d.nx; x++)
      for (size_t y = 0; y < d.ny; y++)
        for (size_t l = 0; l < d.nf; l++) mask[(l * d.nx + x) * d.ny + y] = m[(x * d.ny + y) * d.nf + l];
  }
  std::vector<double> truth;
  if (!info[5].IsNull() && !info[5].IsUndefined()) {
    const double* t = Typed<double>(info[5], d.vol(), "truth");
    truth.resize(d.vol());
    Operator::ToPlanes(t, truth.data(), d.nx, d.ny, d.nz);
  }
  const Napi::Object o = info[6].As<Napi::Object>();
  ReconOptions opt;
  opt.method = int(Num(o, "method", 0));
  opt.maxIter = size_t(Num(o, "maxIter", 100));
  opt.minIter = size_t(Num(o, "minIter", 1));
  opt.nu1 = Num(o, "nu1", 0);
  opt.nu2 = Num(o, "nu2", 0);
  opt.gamma = Num(o, "gamma", 0);
  opt.stepMin = Num(o, "stepMin", 0);
  opt.stepMax = Num(o, "stepMax", 0);
  opt.noiseEnergy = Num(o, "noiseEnergy", 0);
  opt.tau = Num(o, "tau", 1);
  opt.stagnation = Num(o, "stagnation", 1e-4);
  opt.stopAtDiscrepancy = Num(o, "stopAtDiscrepancy", 1) != 0;
  opt.relative = Num(o, "relative", 0) != 0;
  opt.rule = int(Num(o, "rule", 0));
  opt.tol = Num(o, "tol", 1e-3);
  std::vector<float> ps(psf, psf + d.nf * d.nx * d.ny * d.nz);
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto* w = new ReconWorker(env, std::move(ps), d, vv, std::move(dp), std::move(mask), std::move(truth), opt, cancel);
  Napi::Promise p = w->Promise();
  w->Queue();
  return Handle(env, p, cancel);
}

class BpdnWorker : public Napi::AsyncWorker {
 public:
  BpdnWorker(Napi::Env env, Dims d, std::vector<double> data, std::vector<uint8_t> mask, BpdnOptions o, std::shared_ptr<std::atomic<bool>> cancel)
      : Napi::AsyncWorker(env, "qscope.mrfmBpdn"), d_(d), data_(std::move(data)), mask_(std::move(mask)), o_(o), cancel_(std::move(cancel)),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override {
    try {
      Bpdn b(d_, o_);
      b.Run(data_, mask_, res_, *cancel_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object r = Napi::Object::New(env);
    r.Set("x", ToJs(env, res_.x));
    r.Set("iterations", double(res_.iterations));
    r.Set("constraint", res_.constraint);
    r.Set("seconds", res_.seconds);
    deferred_.Resolve(r);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Dims d_;
  std::vector<double> data_;
  std::vector<uint8_t> mask_;
  BpdnOptions o_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  BpdnResult res_;
  Napi::Promise::Deferred deferred_;
};

// mrfmBpdnStart(data (nx,ny,nf) with NaN where unsampled, dims, opts)
Napi::Value BpdnStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Dims d = ReadDims(info[1]);
  const double* data = Typed<double>(info[0], d.meas(), "data");
  std::vector<double> v(data, data + d.meas());
  std::vector<uint8_t> mask(d.meas());
  for (size_t i = 0; i < v.size(); i++) {
    mask[i] = std::isnan(v[i]) ? 0 : 1;
    if (!mask[i]) v[i] = 0;
  }
  const Napi::Object o = info[2].As<Napi::Object>();
  BpdnOptions opt;
  opt.transform = int(Num(o, "transform", 1));
  opt.maxIter = size_t(Num(o, "maxIter", 300));
  opt.tol = Num(o, "tol", 1e-5);
  opt.threshold = Num(o, "threshold", 0);
  opt.zeta = Num(o, "zeta", 0);
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto* w = new BpdnWorker(env, d, std::move(v), std::move(mask), opt, cancel);
  Napi::Promise p = w->Promise();
  w->Queue();
  return Handle(env, p, cancel);
}

}  // namespace
}  // namespace mrfm

void InitMrfm(Napi::Env env, Napi::Object exports) {
  exports.Set("mrfmField", Napi::Function::New(env, mrfm::Field));
  exports.Set("mrfmPsf", Napi::Function::New(env, mrfm::Psf));
  exports.Set("mrfmPsfAsync", Napi::Function::New(env, mrfm::PsfAsync));
  exports.Set("mrfmForward", Napi::Function::New(env, mrfm::Forward));
  exports.Set("mrfmAdjoint", Napi::Function::New(env, mrfm::Adjoint));
  exports.Set("mrfmSolveNormal", Napi::Function::New(env, mrfm::SolveNormal));
  exports.Set("mrfmReconstructStart", Napi::Function::New(env, mrfm::ReconstructStart));
  exports.Set("mrfmBpdnStart", Napi::Function::New(env, mrfm::BpdnStart));
}

}  // namespace qscope
