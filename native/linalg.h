// Dense SVD routines shared by the svd, svt and sampling kernels. Pure C++:
// no N-API types, so they run inside AsyncWorker::Execute. Every matrix is
// row-major Float64.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace qscope {

// Thin SVD of the m×n matrix a: a = u·diag(s)·vt with k = min(m, n),
// u m×k, s descending and non-negative, vt k×n. When computeUV is false only
// s is filled. Throws std::runtime_error if the QR iteration fails to
// converge (does not happen on finite input in practice).
struct Svd {
  std::vector<double> u, s, vt;
  size_t k = 0;
};
Svd ThinSvd(const double* a, size_t m, size_t n, bool computeUV);

// Truncated rank-k SVD by a randomized range finder (Halko–Martinsson–Tropp)
// with `power` subspace iterations and `oversample` extra columns. When start
// (rows of a previous vt, startRows×n) is given it seeds the range finder,
// which makes repeated calls on slowly changing matrices (SVT) converge fast.
Svd RandomizedSvd(const double* a, size_t m, size_t n, size_t k, size_t oversample, size_t power,
                  uint64_t seed, const double* start = nullptr, size_t startRows = 0);

// Largest singular value (spectral norm) of a.
double SpectralNorm(const double* a, size_t m, size_t n);

}  // namespace qscope
