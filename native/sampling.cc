// Kernel family 'sampling': which (row, col) points to measure next, given
// the current mask and reconstruction. Every strategy ranks the unsampled
// points by a priority, then takes them greedily in that order, skipping a
// point closer than minDistance (Euclidean, in grid steps) to one already
// chosen in this batch:
//  * uniform: random priorities (a seeded shuffle);
//  * leverage: weighted sampling without replacement (Efraimidis-Spirakis
//    keys u^(1/w)) with w_ij = mu_i / r + nu_j / r, mu and nu the row and
//    column leverage scores of the rank-r subspace of the centred
//    reconstruction (Chen, Bhojanapalli, Sanghavi & Ward, "Coherent matrix
//    completion", 2014: sampling by leverage makes coherent matrices
//    recoverable from fewer entries);
//  * uncertainty: the caller's per-entry uncertainty, largest first (ties
//    broken by the seeded random priority).
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "kernels.h"
#include "linalg.h"
#include "rng.h"

namespace qscope {
namespace {

enum class Strategy { kUniform = 0, kLeverage = 1, kUncertainty = 2 };

// Row and column leverage of the centred recon's leading rank-r subspace,
// combined per entry. rank 0 = estimate: singular values above 1 % of the
// largest, at most min(m, n) / 4.
std::vector<double> LeverageWeights(const double* recon, size_t m, size_t n, size_t rank) {
  const size_t mn = m * n, minmn = std::min(m, n);
  std::vector<double> c(recon, recon + mn);
  const double mean = std::accumulate(c.begin(), c.end(), 0.0) / static_cast<double>(mn);
  for (double& v : c) v -= mean;
  const size_t cap = std::max<size_t>(1, minmn / 4);
  Svd f = minmn <= 200 ? ThinSvd(c.data(), m, n, true)
                       : RandomizedSvd(c.data(), m, n, rank ? rank : std::min<size_t>(cap, 20), 10, 3, 0x1e7);
  size_t r = rank;
  if (r == 0) {
    while (r < std::min(cap, f.k) && f.s[r] > 0.01 * f.s[0]) ++r;
    r = std::max<size_t>(r, 1);
  }
  r = std::min(r, f.k);
  std::vector<double> mu(m, 0.0), nu(n, 0.0);
  for (size_t i = 0; i < m; ++i)
    for (size_t k = 0; k < r; ++k) mu[i] += f.u[i * f.k + k] * f.u[i * f.k + k];
  for (size_t k = 0; k < r; ++k)
    for (size_t j = 0; j < n; ++j) nu[j] += f.vt[k * n + j] * f.vt[k * n + j];
  std::vector<double> w(mn);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) w[i * n + j] = (mu[i] + nu[j]) / static_cast<double>(r);
  return w;
}

Napi::Value NextSamples(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // Args: (mask: Uint8Array, recon: Float64Array | null, m, n, k, strategy,
  //        uncertainty: Float64Array | null, minDistance, seed, rank)
  if (info.Length() < 10) throw Napi::TypeError::New(env, "nextSamples: expected 10 arguments");
  const size_t m = info[2].As<Napi::Number>().Int64Value(), n = info[3].As<Napi::Number>().Int64Value();
  const size_t k = info[4].As<Napi::Number>().Int64Value();
  const auto strategy = static_cast<Strategy>(info[5].As<Napi::Number>().Int32Value());
  const double minDistance = info[7].As<Napi::Number>().DoubleValue();
  const uint64_t seed = static_cast<uint64_t>(info[8].As<Napi::Number>().Int64Value());
  const size_t rank = info[9].As<Napi::Number>().Int64Value();
  const size_t mn = m * n;
  auto mask = info[0].As<Napi::Uint8Array>();
  if (mask.ElementLength() != mn) throw Napi::RangeError::New(env, "mask: length must be m*n");

  Rng rng(seed);
  std::vector<double> tieBreak(mn);
  for (double& t : tieBreak) t = rng.Uniform();
  std::vector<double> priority(mn);
  switch (strategy) {
    case Strategy::kUniform:
      priority = tieBreak;
      break;
    case Strategy::kLeverage: {
      if (!info[1].IsTypedArray()) throw Napi::TypeError::New(env, "recon: required for strategy 'leverage'");
      auto recon = info[1].As<Napi::Float64Array>();
      if (recon.ElementLength() != mn) throw Napi::RangeError::New(env, "recon: length must be m*n");
      std::vector<double> w = LeverageWeights(recon.Data(), m, n, rank);
      for (size_t i = 0; i < mn; ++i) {
        const double u = tieBreak[i] > 0 ? tieBreak[i] : 0x1.0p-60;
        priority[i] = w[i] > 0 ? std::log(u) / w[i] : -HUGE_VAL;  // log of u^(1/w)
      }
      break;
    }
    case Strategy::kUncertainty: {
      if (!info[6].IsTypedArray()) throw Napi::TypeError::New(env, "uncertainty: required for strategy 'uncertainty'");
      auto unc = info[6].As<Napi::Float64Array>();
      if (unc.ElementLength() != mn) throw Napi::RangeError::New(env, "uncertainty: length must be m*n");
      for (size_t i = 0; i < mn; ++i) priority[i] = unc.Data()[i];
      break;
    }
    default:
      throw Napi::RangeError::New(env, "strategy: unknown");
  }

  std::vector<uint32_t> order;
  order.reserve(mn);
  for (size_t i = 0; i < mn; ++i)
    if (!mask.Data()[i]) order.push_back(static_cast<uint32_t>(i));
  if (order.size() < k)
    throw Napi::RangeError::New(env, "k: " + std::to_string(k) + " requested but only " + std::to_string(order.size()) +
                                         " points are unsampled");
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (priority[a] != priority[b]) return priority[a] > priority[b];
    if (tieBreak[a] != tieBreak[b]) return tieBreak[a] > tieBreak[b];
    return a < b;
  });
  std::vector<uint32_t> chosen;
  chosen.reserve(k);
  const double d2 = minDistance * minDistance;
  for (uint32_t idx : order) {
    if (chosen.size() == k) break;
    const double r = idx / n, c = idx % n;
    bool ok = true;
    if (d2 > 0)
      for (uint32_t o : chosen) {
        const double dr = r - static_cast<double>(o / n), dc = c - static_cast<double>(o % n);
        if (dr * dr + dc * dc < d2) {
          ok = false;
          break;
        }
      }
    if (ok) chosen.push_back(idx);
  }
  if (chosen.size() < k)
    throw Napi::RangeError::New(env, "minDistance: only " + std::to_string(chosen.size()) + " of the " +
                                         std::to_string(k) + " requested points can be " +
                                         std::to_string(minDistance) + " apart");
  auto out = Napi::Uint32Array::New(env, k);
  std::copy(chosen.begin(), chosen.end(), out.Data());
  return out;
}

}  // namespace

void InitSampling(Napi::Env env, Napi::Object exports) {
  exports.Set("nextSamples", Napi::Function::New(env, NextSamples, "nextSamples"));
}

}  // namespace qscope
