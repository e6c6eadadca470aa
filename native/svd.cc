// Kernel family 'svd': thin, values-only and truncated (randomized) SVD.
//
// Algorithm choice (decision record 0400): Householder bidiagonalisation
// followed by the implicit-shift QR iteration of Golub and Kahan on the
// bidiagonal (with the zero-diagonal deflations of Demmel and Kahan), not
// one-sided Jacobi, which needs ~6-10 sweeps of O(m n^2) rotations and is
// several times slower at 500^2, and not divide and conquer, which is faster
// for the singular vectors of large matrices but is several times more code
// (secular equation solver, deflation, Gu-Eisenstat vector recomputation).
// Both stages are backward stable, so U diag(s) V^T reproduces A to a few ulps
// of ||A|| whatever the condition number, and the values-only path costs one
// bidiagonalisation plus O(n^2).
//
// Cache behaviour, the reason this is fast in row-major storage:
//  * one fused pass per bidiagonalisation step: each trailing row is loaded
//    once, receives the left reflector's rank-1 update, the right reflector's
//    dot + update, and contributes to the next step's left product while it
//    is still in L1 (LAPACK's dgebd2 makes four passes);
//  * singular vectors are kept transposed (rows of U^T and V^T), so every
//    Givens rotation touches two contiguous rows; the rotations of one QR
//    sweep are stored and then applied column block by column block, so a
//    block of U^T stays in cache for the whole sweep.
#include <napi.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels.h"
#include "linalg.h"
#include "rng.h"

namespace qscope {
namespace {

constexpr double kEps = DBL_EPSILON;

// Hot loops are compiled twice on x86-64 Linux/GCC (AVX2 and baseline, chosen by CPU feature)
// and picked at load time, so one binary is fast on new CPUs and still runs
// on old ones; elsewhere they are plain portable C++.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define QSCOPE_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define QSCOPE_SIMD_CLONES
#endif

inline double Dot(const double* a, const double* b, size_t n) {
  // Eight independent accumulators: breaks the add latency chain and lets
  // the compiler vectorise without -ffast-math.
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int t = 0; t < 8; ++t) s[t] += a[i + t] * b[i + t];
  for (; i < n; ++i) s[0] += a[i] * b[i];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

inline void Axpy(double alpha, const double* x, double* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// x <- c x + s y ; y <- c y - s x
inline void Rot(double* x, double* y, size_t n, double c, double s) {
  for (size_t i = 0; i < n; ++i) {
    const double xi = x[i], yi = y[i];
    x[i] = c * xi + s * yi;
    y[i] = c * yi - s * xi;
  }
}

// sqrt(x^2 + y^2) without std::hypot's cost (it was ~17 % of a 64x64 SVD);
// falls back to it only where the squares could overflow or underflow.
inline double Hypot(double x, double y) {
  const double ax = std::fabs(x), ay = std::fabs(y);
  const double big = ax > ay ? ax : ay;
  if (big < 1e150 && big > 1e-150) return std::sqrt(x * x + y * y);
  return std::hypot(x, y);
}

// Householder reflector H = I - tau v v^T with v[0] = 1 that maps x (length
// len, stride inc) to alpha e1. Writes v[1:] over x[1:]; returns alpha.
double MakeHouseholder(double* x, size_t len, size_t inc, double& tau) {
  const double x0 = x[0];
  double tail = 0;
  for (size_t i = 1; i < len; ++i) tail += x[i * inc] * x[i * inc];
  if (tail == 0) {
    tau = 0;
    return x0;
  }
  const double norm = std::sqrt(x0 * x0 + tail);
  const double alpha = x0 >= 0 ? -norm : norm;
  tau = (alpha - x0) / alpha;
  const double scale = 1.0 / (x0 - alpha);
  for (size_t i = 1; i < len; ++i) x[i * inc] *= scale;
  return alpha;
}

// A sequence of Givens rotations on consecutive row pairs (k, k+1) or on
// arbitrary pairs, recorded during a sweep and applied afterwards in column
// blocks so that the rows touched stay in cache.
struct RotationLog {
  std::vector<size_t> a, b;
  std::vector<double> c, s;
  void Clear() { a.clear(), b.clear(), c.clear(), s.clear(); }
  void Add(size_t i, size_t j, double ci, double si) {
    a.push_back(i), b.push_back(j), c.push_back(ci), s.push_back(si);
  }
};

// K rotations chained through consecutive rows (r0,r1), (r1,r2), ...: one
// pass loads and stores each of the K+1 rows once, instead of twice per
// rotation (the rotation phase is bound by loads and stores, not flops).
template <int K>
inline void RotChain(double* const* rows, const double* c, const double* s, size_t w) {
  // Blocks of 8 through local buffers: the rows may not alias, but the
  // compiler cannot know; local arrays let it vectorise without checks.
  constexpr size_t B = 8;
  size_t i0 = 0;
  for (; i0 + B <= w; i0 += B) {
    double carry[B], next[B], out[B];
    for (size_t i = 0; i < B; ++i) carry[i] = rows[0][i0 + i];
    for (int t = 0; t < K; ++t) {
      for (size_t i = 0; i < B; ++i) next[i] = rows[t + 1][i0 + i];
      for (size_t i = 0; i < B; ++i) {
        out[i] = c[t] * carry[i] + s[t] * next[i];
        carry[i] = c[t] * next[i] - s[t] * carry[i];
      }
      for (size_t i = 0; i < B; ++i) rows[t][i0 + i] = out[i];
    }
    for (size_t i = 0; i < B; ++i) rows[K][i0 + i] = carry[i];
  }
  for (; i0 < w; ++i0) {
    double carry = rows[0][i0];
    for (int t = 0; t < K; ++t) {
      const double next = rows[t + 1][i0];
      rows[t][i0] = c[t] * carry + s[t] * next;
      carry = c[t] * next - s[t] * carry;
    }
    rows[K][i0] = carry;
  }
}

// Applies the logged rotations in order, one strip of columns at a time: a
// 64-column strip of every row (n x 512 B) stays in L2 while all the
// rotations of several sweeps run over it, instead of streaming the whole
// matrix from memory once per sweep.
QSCOPE_SIMD_CLONES void ApplyRotations(const RotationLog& log, double* rows, size_t cols) {
  if (rows == nullptr || log.a.empty()) return;
  constexpr size_t kStrip = 64;
  constexpr int kMaxChain = 4;
  const size_t nr = log.a.size();
  for (size_t c0 = 0; c0 < cols; c0 += kStrip) {
    const size_t w = std::min(kStrip, cols - c0);
    for (size_t r = 0; r < nr;) {
      // Longest chain (a0,a1), (a1,a2), ... of distinct rows starting at r.
      double* chain[kMaxChain + 1];
      chain[0] = rows + log.a[r] * cols + c0;
      int k = 0;
      while (k < kMaxChain && r + k < nr && (k == 0 || log.a[r + k] == log.b[r + k - 1])) {
        const size_t next = log.b[r + k];
        bool fresh = true;
        for (int t = 0; t <= k; ++t)
          if (chain[t] == rows + next * cols + c0) fresh = false;
        if (!fresh) break;
        chain[++k] = rows + next * cols + c0;
      }
      const double* cr = log.c.data() + r;
      const double* sr = log.s.data() + r;
      switch (k) {
        case 4: RotChain<4>(chain, cr, sr, w); break;
        case 3: RotChain<3>(chain, cr, sr, w); break;
        case 2: RotChain<2>(chain, cr, sr, w); break;
        default: RotChain<1>(chain, cr, sr, w); k = 1; break;
      }
      r += static_cast<size_t>(k);
    }
  }
}

// Upper-bidiagonal B (diagonal d[0..n-1], superdiagonal e[0..n-2]) -> its
// singular values in d (unsorted, any sign), with the left rotations applied
// to the rows of ut (n x mu) and the right ones to the rows of vt (n x nv),
// either of which may be null.
void BidiagonalQr(std::vector<double>& d, std::vector<double>& e, size_t n, double* ut, size_t mu, double* vt,
                  size_t nv) {
  if (n <= 1) return;
  e.resize(n, 0.0);
  RotationLog leftLog, rightLog;
  const size_t maxSweeps = 40 * n + 100;
  size_t sweeps = 0;
  long hi = static_cast<long>(n) - 1;
  while (hi > 0) {
    // Split: find the unreduced block l..hi (e[l..hi-1] all non-negligible).
    long l = hi;
    while (l > 0) {
      const double f = std::fabs(e[l - 1]);
      if (f <= kEps * (std::fabs(d[l - 1]) + std::fabs(d[l])) || f < DBL_MIN) {
        e[l - 1] = 0;
        break;
      }
      --l;
    }
    if (l == hi) {
      --hi;
      continue;
    }
    if (++sweeps > maxSweeps) throw std::runtime_error("svd: bidiagonal QR iteration did not converge");

    double bmax = 0;
    for (long i = l; i <= hi; ++i) bmax = std::max(bmax, std::fabs(d[i]));
    for (long i = l; i < hi; ++i) bmax = std::max(bmax, std::fabs(e[i]));
    // A diagonal entry below eps*||B|| is set to zero (a backward-stable
    // perturbation) and deflated by chasing its row or column out.
    long zero = -1;
    for (long i = l; i <= hi; ++i) {
      if (std::fabs(d[i]) <= kEps * bmax) {
        d[i] = 0;
        zero = i;
        break;
      }
    }
    if (zero >= 0 && zero < hi) {
      // Row `zero` holds only e[zero]: push it right with left rotations.
      const long i = zero;
      double f = e[i];
      e[i] = 0;
      for (long k = i + 1; k <= hi; ++k) {
        const double r = Hypot(d[k], f);
        const double c = d[k] / r, s = f / r;
        d[k] = r;
        if (k < hi) {
          f = -s * e[k];
          e[k] = c * e[k];
        }
        leftLog.Add(k, i, c, s);
      }
    } else if (zero == hi) {
      // Column hi holds only e[hi-1]: push it up with right rotations.
      double f = e[hi - 1];
      e[hi - 1] = 0;
      for (long j = hi - 1; j >= l; --j) {
        const double r = Hypot(d[j], f);
        const double c = d[j] / r, s = f / r;
        d[j] = r;
        if (j > l) {
          f = -s * e[j - 1];
          e[j - 1] = c * e[j - 1];
        }
        rightLog.Add(j, hi, c, s);
      }
    } else {
      // Golub-Kahan step with the Wilkinson shift of the trailing 2x2 of B^T B
      // (computed on B / bmax so the squares cannot overflow).
      const double inv = 1.0 / bmax;
      const double dm = d[hi - 1] * inv, dn = d[hi] * inv, en = e[hi - 1] * inv;
      const double em = hi - 1 > l ? e[hi - 2] * inv : 0.0;
      const double ta = dm * dm + em * em, tb = dm * en, tc = dn * dn + en * en;
      const double half = 0.5 * (ta - tc);
      const double root = Hypot(half, tb);
      const double mu = half == 0 && tb == 0 ? tc : tc - tb * tb / (half + (half >= 0 ? root : -root));
      double y = (d[l] * inv) * (d[l] * inv) - mu;
      double z = (d[l] * inv) * (e[l] * inv);
      for (long k = l; k < hi; ++k) {
        // Right rotation on columns k, k+1 zeroing z against y.
        double r = Hypot(y, z);
        double c = r == 0 ? 1.0 : y / r, s = r == 0 ? 0.0 : z / r;
        if (k > l) e[k - 1] = r * bmax;
        y = c * d[k] + s * e[k];
        e[k] = c * e[k] - s * d[k];
        z = s * d[k + 1];
        d[k + 1] = c * d[k + 1];
        rightLog.Add(k, k + 1, c, s);
        // Left rotation on rows k, k+1 removing the bulge z at (k+1, k).
        r = Hypot(y, z);
        c = r == 0 ? 1.0 : y / r;
        s = r == 0 ? 0.0 : z / r;
        d[k] = r;
        const double ek = e[k];
        e[k] = c * ek + s * d[k + 1];
        d[k + 1] = c * d[k + 1] - s * ek;
        if (k + 1 < hi) {
          z = s * e[k + 1];
          e[k + 1] = c * e[k + 1];
        }
        y = e[k];
        leftLog.Add(k, k + 1, c, s);
        // Rescale the carried pair back to the units of the next rotation.
        y *= inv;
        z *= inv;
      }
    }
    // Flush the delayed rotations once they cover several sweeps.
    if (leftLog.a.size() + rightLog.a.size() >= 8 * n) {
      ApplyRotations(leftLog, ut, mu);
      ApplyRotations(rightLog, vt, nv);
      leftLog.Clear();
      rightLog.Clear();
    }
  }
  ApplyRotations(leftLog, ut, mu);
  ApplyRotations(rightLog, vt, nv);
}

// Make s non-negative (flipping the matching row of vt) and sort it
// descending, permuting the rows of ut and vt alike.
void SortSingular(std::vector<double>& s, size_t k, double* ut, size_t mu, double* vt, size_t nv) {
  for (size_t i = 0; i < k; ++i) {
    if (s[i] < 0) {
      s[i] = -s[i];
      if (vt)
        for (size_t j = 0; j < nv; ++j) vt[i * nv + j] = -vt[i * nv + j];
    }
  }
  for (size_t i = 0; i + 1 < k; ++i) {
    size_t best = i;
    for (size_t j = i + 1; j < k; ++j)
      if (s[j] > s[best]) best = j;
    if (best == i) continue;
    std::swap(s[i], s[best]);
    if (ut) std::swap_ranges(ut + i * mu, ut + (i + 1) * mu, ut + best * mu);
    if (vt) std::swap_ranges(vt + i * nv, vt + (i + 1) * nv, vt + best * nv);
  }
}

// One pass over the trailing rows i > j of step j: left reflector update,
// right reflector update, and the next step's x^T W product.
QSCOPE_SIMD_CLONES void FusedPass(double* W, size_t m, size_t n, size_t j, double tl, const double* lw, double tr,
                                  const double* vr, double* znext) {
  const size_t len = n - j - 1;
  for (size_t i = j + 1; i < m; ++i) {
    double* row = W + i * n + j + 1;
    if (tl != 0) Axpy(-tl * W[i * n + j], lw, row, len);
    if (tr != 0) Axpy(-tr * Dot(row, vr, len), vr, row, len);
    if (len >= 2) Axpy(row[0], row + 1, znext, len - 1);
  }
}

// Backward accumulation of a block of reflectors: for every row r >= first,
// row <- row H_last ... H_first, where reflector b (index first+b) acts on
// columns [offset(b), cols) with vector vs[b] (implicit leading 1 stored).
// Each row stays in L1 while the whole block is applied to it.
QSCOPE_SIMD_CLONES void ReflectRowsBlocked(double* rows, size_t cols, size_t r0, size_t r1, const double* vs,
                                           const size_t* offs, const double* taus, size_t nb, size_t vstride) {
  for (size_t r = r0; r < r1; ++r) {
    double* row = rows + r * cols;
    for (size_t b = nb; b-- > 0;) {
      if (taus[b] == 0) continue;
      const size_t off = offs[b], len = cols - off;
      const double* v = vs + b * vstride;
      Axpy(-taus[b] * Dot(row + off, v, len), v, row + off, len);
    }
  }
}

// Accumulate rows = [I 0] H_{count-1} ... H_0 (backwards, in blocks of 32),
// where reflector j acts on columns [j + shift, cols) and getV(j, i) returns
// element i >= 1 of its vector.
template <class GetV>
void AccumulateReflectors(double* rows, size_t nrows, size_t cols, size_t count, size_t shift,
                          const double* taus, GetV getV) {
  constexpr size_t kNb = 32;
  std::vector<double> vs(kNb * cols);
  std::vector<size_t> offs(kNb);
  std::vector<double> tb(kNb);
  for (size_t end = count; end > 0;) {
    const size_t begin = end >= kNb ? end - kNb : 0, nb = end - begin;
    for (size_t b = 0; b < nb; ++b) {
      const size_t j = begin + b, off = j + shift, len = cols - off;
      offs[b] = off;
      tb[b] = taus[j];
      double* v = vs.data() + b * cols;
      v[0] = 1.0;
      for (size_t i = 1; i < len; ++i) v[i] = getV(j, i);
    }
    ReflectRowsBlocked(rows, cols, begin + shift, nrows, vs.data(), offs.data(), tb.data(), nb, cols);
    end = begin;
  }
}

// SVD of w (m x n, m >= n, overwritten). Fills s (n), and when wanted
// ut (n x m, rows = left singular vectors) and vt (n x n).
void TallSvd(std::vector<double>& w, size_t m, size_t n, bool computeUV, std::vector<double>& s,
             std::vector<double>& ut, std::vector<double>& vt) {
  std::vector<double> d(n), e(n, 0.0), tauL(n, 0.0), tauR(n, 0.0);
  std::vector<double> lw(n), vr(n), znext(n);
  double* W = w.data();

  // Left product of step 0: z = x^T W[0:, 1:] with x = column 0.
  std::vector<double> z(n, 0.0);
  for (size_t i = 0; i < m; ++i) Axpy(W[i * n], W + i * n + 1, z.data(), n - 1);

  for (size_t j = 0; j < n; ++j) {
    const size_t len = n - j - 1;  // trailing columns
    const double x0 = W[j * n + j];
    double tl;
    const double alpha = MakeHouseholder(W + j * n + j, m - j, n, tl);
    tauL[j] = tl;
    d[j] = alpha;
    if (len == 0) break;
    // w = v^T W[j:, j+1:] from the accumulated x^T W (see header comment).
    if (tl != 0) {
      const double scale = 1.0 / (x0 - alpha);
      for (size_t c = 0; c < len; ++c) lw[c] = (z[c] - alpha * W[j * n + j + 1 + c]) * scale;
    }
    double* rowj = W + j * n + j + 1;
    if (tl != 0) Axpy(-tl, lw.data(), rowj, len);
    double tr = 0;
    if (len >= 2) {
      e[j] = MakeHouseholder(rowj, len, 1, tr);
      vr[0] = 1.0;
      std::memcpy(vr.data() + 1, rowj + 1, (len - 1) * sizeof(double));
    } else {
      e[j] = rowj[0];
    }
    tauR[j] = tr;
    // Fused pass over the trailing rows.
    std::fill(znext.begin(), znext.begin() + (len > 0 ? len - 1 : 0), 0.0);
    FusedPass(W, m, n, j, tl, lw.data(), tr, vr.data(), znext.data());
    std::swap(z, znext);
  }
  s.assign(d.begin(), d.end());
  if (!computeUV) {
    BidiagonalQr(s, e, n, nullptr, 0, nullptr, 0);
    SortSingular(s, n, nullptr, 0, nullptr, 0);
    return;
  }

  // U^T = first n rows of H_{n-1}...H_0, accumulated backwards (rows r >= j).
  ut.assign(n * m, 0.0);
  for (size_t r = 0; r < n; ++r) ut[r * m + r] = 1.0;
  AccumulateReflectors(ut.data(), n, m, n, 0, tauL.data(), [&](size_t j, size_t i) { return W[(j + i) * n + j]; });
  // V^T = G_{n-3}...G_0, accumulated backwards (rows, cols >= j+1).
  vt.assign(n * n, 0.0);
  for (size_t r = 0; r < n; ++r) vt[r * n + r] = 1.0;
  if (n >= 3)
    AccumulateReflectors(vt.data(), n, n, n - 2, 1, tauR.data(), [&](size_t j, size_t i) { return W[j * n + j + 1 + i]; });
  BidiagonalQr(s, e, n, ut.data(), m, vt.data(), n);
  SortSingular(s, n, ut.data(), m, vt.data(), n);
}

void Transpose(const double* a, size_t rows, size_t cols, double* out) {
  constexpr size_t kB = 32;
  for (size_t i0 = 0; i0 < rows; i0 += kB)
    for (size_t j0 = 0; j0 < cols; j0 += kB)
      for (size_t i = i0; i < std::min(rows, i0 + kB); ++i)
        for (size_t j = j0; j < std::min(cols, j0 + kB); ++j) out[j * rows + i] = a[i * cols + j];
}

// Orthonormalise the rows of q (l x len) in place (classical Gram-Schmidt,
// twice). A row that becomes numerically dependent is replaced by a random
// one, so q always has orthonormal rows.
void OrthonormaliseRows(double* q, size_t l, size_t len, Rng& rng) {
  for (size_t c = 0; c < l; ++c) {
    double* row = q + c * len;
    for (int attempt = 0; attempt < 4; ++attempt) {
      const double before = std::sqrt(Dot(row, row, len));
      for (int pass = 0; pass < 2; ++pass)
        for (size_t p = 0; p < c; ++p) Axpy(-Dot(row, q + p * len, len), q + p * len, row, len);
      const double after = std::sqrt(Dot(row, row, len));
      if (after > 1e-10 * before && after > 0) {
        for (size_t i = 0; i < len; ++i) row[i] /= after;
        break;
      }
      for (size_t i = 0; i < len; ++i) row[i] = rng.Normal();
    }
  }
}

}  // namespace

Svd ThinSvd(const double* a, size_t m, size_t n, bool computeUV) {
  Svd out;
  const size_t k = std::min(m, n);
  out.k = k;
  if (m >= n) {
    std::vector<double> w(a, a + m * n);
    std::vector<double> ut;
    TallSvd(w, m, n, computeUV, out.s, ut, out.vt);
    if (computeUV) {
      out.u.resize(m * k);
      Transpose(ut.data(), k, m, out.u.data());
    }
  } else {
    // A^T = U' S V'^T  =>  A = V' S U'^T: u = V', vt = U'^T.
    std::vector<double> w(m * n);
    Transpose(a, m, n, w.data());
    std::vector<double> vtp;
    TallSvd(w, n, m, computeUV, out.s, out.vt, vtp);
    if (computeUV) {
      out.u.resize(m * k);
      Transpose(vtp.data(), k, m, out.u.data());
    }
  }
  return out;
}

Svd RandomizedSvd(const double* a, size_t m, size_t n, size_t k, size_t oversample, size_t power, uint64_t seed,
                  const double* start, size_t startRows) {
  const size_t minmn = std::min(m, n);
  const size_t l = std::min(minmn, k + oversample);
  if (l >= minmn || 2 * l >= minmn) {
    // No saving from the range finder: exact SVD, truncated.
    Svd full = ThinSvd(a, m, n, true);
    Svd out;
    out.k = std::min(k, minmn);
    out.s.assign(full.s.begin(), full.s.begin() + out.k);
    out.u.resize(m * out.k);
    for (size_t i = 0; i < m; ++i)
      std::memcpy(out.u.data() + i * out.k, full.u.data() + i * full.k, out.k * sizeof(double));
    out.vt.assign(full.vt.begin(), full.vt.begin() + out.k * n);
    return out;
  }
  Rng rng(seed);
  // Z (l x n): rows span the test space; Yt (l x m) = (A Z^T)^T.
  std::vector<double> zt(l * n), yt(l * m);
  size_t fromStart = std::min(startRows, l);
  if (start) std::memcpy(zt.data(), start, fromStart * n * sizeof(double));
  else fromStart = 0;
  for (size_t i = fromStart * n; i < l * n; ++i) zt[i] = rng.Normal();
  auto applyA = [&]() {  // yt[c, i] = A[i,:] . zt[c,:]
    for (size_t i = 0; i < m; ++i)
      for (size_t c = 0; c < l; ++c) yt[c * m + i] = Dot(a + i * n, zt.data() + c * n, n);
  };
  auto applyAt = [&]() {  // zt[c,:] = sum_i yt[c,i] A[i,:]
    std::fill(zt.begin(), zt.end(), 0.0);
    for (size_t i = 0; i < m; ++i)
      for (size_t c = 0; c < l; ++c) Axpy(yt[c * m + i], a + i * n, zt.data() + c * n, n);
  };
  applyA();
  OrthonormaliseRows(yt.data(), l, m, rng);
  for (size_t q = 0; q < power; ++q) {
    applyAt();
    OrthonormaliseRows(zt.data(), l, n, rng);
    applyA();
    OrthonormaliseRows(yt.data(), l, m, rng);
  }
  applyAt();  // zt = Q^T A  (l x n)
  Svd small = ThinSvd(zt.data(), l, n, true);  // u: l x l
  Svd out;
  out.k = std::min(k, l);
  out.s.assign(small.s.begin(), small.s.begin() + out.k);
  out.vt.assign(small.vt.begin(), small.vt.begin() + out.k * n);
  out.u.assign(m * out.k, 0.0);
  for (size_t c = 0; c < l; ++c)
    for (size_t i = 0; i < m; ++i) Axpy(yt[c * m + i], small.u.data() + c * small.k, out.u.data() + i * out.k, out.k);
  return out;
}

double SpectralNorm(const double* a, size_t m, size_t n) {
  if (std::min(m, n) <= 200) {
    Svd v = ThinSvd(a, m, n, false);
    return v.k ? v.s[0] : 0.0;
  }
  Svd r = RandomizedSvd(a, m, n, 1, 8, 6, 0x5eed);
  return r.s[0];
}

// ----------------------------------------------------------------- binding

namespace {

size_t ArgSize(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + ": must be a positive integer");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 1) || v != std::floor(v) || v > 1e9)
    throw Napi::RangeError::New(info.Env(), std::string(name) + ": must be a positive integer");
  return static_cast<size_t>(v);
}

struct SvdRequest {
  size_t m = 0, n = 0, k = 0, oversample = 10, power = 3;
  bool computeUV = true, truncated = false;
  uint64_t seed = 0;
};

// Args: (a: Float64Array, m, n, k (0 = thin), computeUV, oversample, power, seed)
SvdRequest ParseSvd(const Napi::CallbackInfo& info, const double*& data) {
  Napi::Env env = info.Env();
  if (info.Length() < 8) throw Napi::TypeError::New(env, "svd: expected 8 arguments");
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, "a: must be a Float64Array");
  auto arr = info[0].As<Napi::Float64Array>();
  SvdRequest r;
  r.m = ArgSize(info, 1, "m");
  r.n = ArgSize(info, 2, "n");
  if (arr.ElementLength() != r.m * r.n)
    throw Napi::RangeError::New(env, "a: length " + std::to_string(arr.ElementLength()) + " != m*n = " +
                                         std::to_string(r.m * r.n));
  const double kv = info[3].As<Napi::Number>().DoubleValue();
  r.truncated = kv > 0;
  r.k = r.truncated ? static_cast<size_t>(kv) : std::min(r.m, r.n);
  if (r.k > std::min(r.m, r.n)) throw Napi::RangeError::New(env, "k: must be <= min(m, n)");
  r.computeUV = info[4].ToBoolean().Value();
  r.oversample = static_cast<size_t>(info[5].As<Napi::Number>().Int64Value());
  r.power = static_cast<size_t>(info[6].As<Napi::Number>().Int64Value());
  r.seed = static_cast<uint64_t>(info[7].As<Napi::Number>().Int64Value());
  data = arr.Data();
  return r;
}

Svd RunSvd(const SvdRequest& r, const double* a) {
  if (r.truncated && r.k < std::min(r.m, r.n)) {
    Svd t = RandomizedSvd(a, r.m, r.n, r.k, r.oversample, r.power, r.seed);
    if (!r.computeUV) t.u.clear(), t.vt.clear();
    return t;
  }
  return ThinSvd(a, r.m, r.n, r.computeUV);
}

Napi::Float64Array ToArray(Napi::Env env, const std::vector<double>& v) {
  auto out = Napi::Float64Array::New(env, v.size());
  if (!v.empty()) std::memcpy(out.Data(), v.data(), v.size() * sizeof(double));
  return out;
}

Napi::Object ToResult(Napi::Env env, const Svd& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("s", ToArray(env, r.s));
  if (!r.u.empty() || !r.vt.empty()) {
    o.Set("u", ToArray(env, r.u));
    o.Set("vt", ToArray(env, r.vt));
  }
  return o;
}

Napi::Value SvdSync(const Napi::CallbackInfo& info) {
  const double* a = nullptr;
  SvdRequest r = ParseSvd(info, a);
  for (size_t i = 0; i < r.m * r.n; ++i)
    if (!std::isfinite(a[i])) throw Napi::RangeError::New(info.Env(), "a: entry " + std::to_string(i) + " is not finite");
  try {
    return ToResult(info.Env(), RunSvd(r, a));
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

class SvdWorker : public Napi::AsyncWorker {
 public:
  SvdWorker(Napi::Env env, SvdRequest r, const double* a)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), r_(r), a_(a, a + r.m * r.n) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      result_ = RunSvd(r_, a_.data());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(ToResult(Env(), result_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  SvdRequest r_;
  std::vector<double> a_;  // copied: the caller may reuse its buffer meanwhile
  Svd result_;
};

Napi::Value SvdAsync(const Napi::CallbackInfo& info) {
  const double* a = nullptr;
  SvdRequest r = ParseSvd(info, a);
  for (size_t i = 0; i < r.m * r.n; ++i)
    if (!std::isfinite(a[i])) throw Napi::RangeError::New(info.Env(), "a: entry " + std::to_string(i) + " is not finite");
  auto* w = new SvdWorker(info.Env(), r, a);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

void InitSvd(Napi::Env env, Napi::Object exports) {
  exports.Set("svd", Napi::Function::New(env, SvdSync, "svd"));
  exports.Set("svdAsync", Napi::Function::New(env, SvdAsync, "svdAsync"));
}

}  // namespace qscope
