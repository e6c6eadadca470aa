// FFT plans: factorisations, twiddles and sub-plans, built once per length and
// precision and shared through a thread-safe cache (see fft.cc). Plans are
// immutable once built, so worker threads read them without locks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace qscope {
namespace fft {

// Largest prime handled by the generic-radix butterfly (O(r) work per point);
// a length with a bigger prime factor goes to Bluestein, so no O(n^2) path.
constexpr std::size_t kMaxGenericRadix = 64;
// Single (unbatched) transforms at least this long use the four-step split
// n = n1*n2 so that every butterfly loop runs over >= n1 contiguous points.
constexpr std::size_t kFourStepMin = 256;
// Above this many bytes of data + scratch, the four-step columns are done in
// blocks of at most kFourStepBlock columns so each block stays in L2.
constexpr std::size_t kFourStepBlockedBytes = std::size_t(1) << 18;
constexpr std::size_t kFourStepBlock = 32;
// Offset (in elements) between the re and im halves of every scratch buffer.
// Buffers of power-of-two size put re[j] and im[j] in the same L1 cache set,
// and a radix-8 pass reads 8 streams from each: 16 streams in an 8-way set
// evict each other on every access. Shifting im by a few cache lines halves
// the streams per set (measured 1.4-1.7x on 256^2 and 1024^2, decision 1860).
constexpr std::size_t kSplitPad = 40;

template <typename T>
struct Stage {
  int radix = 0;
  std::size_t m = 0;        // sub-length after this stage (current length / radix)
  std::vector<T> twr, twi;  // W_{radix*m}^{p*k} for p < m, k = 1..radix-1, at [p*(radix-1) + k-1]
  std::vector<T> cr, ci;    // generic radix only: cos/sin(2*pi*t*k/radix), t,k = 1..h, at [(k-1)*h + t-1]
};

// Complex transform of length n (forward, unnormalised; inverse by re/im swap).
template <typename T>
struct Plan {
  std::size_t n = 0;
  bool bluestein = false;
  std::vector<Stage<T>> stages;  // mixed-radix Stockham (empty for n == 1 or Bluestein)
  // four-step split for single transforms: n = n1 * n2
  std::size_t n1 = 0, n2 = 0;
  std::shared_ptr<const Plan<T>> p1, p2;
  std::vector<T> ftr, fti;  // W_n^{j1*k2} at [k2*n1 + j1]
  // Bluestein: chirp convolution through a length-m transform
  std::size_t m = 0;
  std::shared_ptr<const Plan<T>> pm;
  std::vector<T> chr, chi;  // exp(-i*pi*k^2/n), k < n
  std::vector<T> kr, ki;    // DFT_m of the conjugate chirp, divided by m
};

// Real transform of length n: even n through a complex transform of n/2,
// odd n through a complex transform of n.
template <typename T>
struct RealPlan {
  std::size_t n = 0;
  std::shared_ptr<const Plan<T>> half;  // even n
  std::shared_ptr<const Plan<T>> full;  // odd n
  std::vector<T> wr, wi;                // W_n^k, k <= n/2 (even n)
};

template <typename T>
std::shared_ptr<const Plan<T>> GetPlan(std::size_t n);
template <typename T>
std::shared_ptr<const RealPlan<T>> GetRealPlan(std::size_t n);

// Scratch (in elements of T) that the kernels need.
template <typename T>
std::size_t ScratchBatched(const Plan<T>& p, std::size_t V) {
  if (p.bluestein) return 2 * p.m * V + kSplitPad + ScratchBatched(*p.pm, V);
  return 2 * p.n * V + kSplitPad;
}
template <typename T>
std::size_t ScratchSingle(const Plan<T>& p) {
  if (p.bluestein) return 2 * p.m + kSplitPad + ScratchSingle(*p.pm);
  if (p.n1) {  // covers both the whole-matrix and the column-blocked four-step
    std::size_t a = ScratchBatched(*p.p2, p.n1), b = ScratchBatched(*p.p1, p.n2);
    const std::size_t nmax = p.n1 > p.n2 ? p.n1 : p.n2;
    const std::size_t c = ScratchBatched(*p.p1, kFourStepBlock), d = ScratchBatched(*p.p2, kFourStepBlock);
    const std::size_t blocked = 2 * nmax * kFourStepBlock + 2 * kSplitPad + (c > d ? c : d);
    std::size_t m = a > b ? a : b;
    return 2 * p.n + 2 * kSplitPad + (m > blocked ? m : blocked);
  }
  return 2 * p.n + kSplitPad;
}

// Transforms on raw float64 arrays for other kernel families (C++ callers),
// with the JS exports' conventions: C order, `axes` sorted and unique, forward
// unnormalised, inverse scaled by 1/n; R2C halves the last axis to n/2+1 and
// C2R takes the real (output) shape. Thread-safe; the input is not modified
// (C2C may run in place).
void RealForward(const double* x, double* re, double* im, const std::vector<std::size_t>& shape, const std::vector<std::size_t>& axes);
void RealInverse(const double* re, const double* im, double* out, const std::vector<std::size_t>& shape, const std::vector<std::size_t>& axes);
void Complex(const double* re, const double* im, double* ore, double* oim, const std::vector<std::size_t>& shape, const std::vector<std::size_t>& axes, bool inverse);

struct CacheStats {
  std::size_t plans, hits, misses;
};
CacheStats GetCacheStats();

}  // namespace fft
}  // namespace qscope
