// Kernel family 'svt': matrix completion, the whole iteration native, on the
// thread pool (one AsyncWorker per call), cancellable between iterations.
//
// Methods:
//  * svt (default): Cai-Candes-Shen singular value thresholding,
//      X_k = D_tau(Y_{k-1}),  Y_k = Y_{k-1} + delta P_Omega(M - X_k),
//    stopped when ||P_Omega(M - X_k)||_F / ||P_Omega(M)||_F <= tol. Without
//    `init` the dual starts at the paper's "kicking" value
//    Y_0 = k0 delta P_Omega(M), k0 = ceil(tau / (delta ||P_Omega(M)||_2)),
//    which skips the first k0-1 iterations whose X is exactly 0. With `init`
//    (the DLNet output in DLMC) Y_0 = U (S + tau) V^T from the SVD of init,
//    restricted to the singular values above initFloor * tau, so that the
//    first iterate X_1 = D_tau(Y_0) is init's significant low-rank part (or,
//    with initFloor = 0, init itself).
//  * softImpute (Mazumder-Hastie-Tibshirani): X <- D_tau(P_Omega(M) + P_Omega^perp(X)).
//  * hardImpute: X <- best rank-r approximation of P_Omega(M) + P_Omega^perp(X).
// M is centred by the mean of its observed entries first (unless center is
// false); the residual is measured on the centred data, which makes tol mean
// the same thing whatever the map's offset.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

#include "kernels.h"
#include "linalg.h"

namespace qscope {
namespace {

enum class Method { kSvt = 0, kSoftImpute = 1, kHardImpute = 2, kApg = 3 };

struct SvtInput {
  size_t m = 0, n = 0;
  std::vector<double> observed;
  std::vector<uint8_t> mask;
  std::vector<double> init;  // empty: none
  Method method = Method::kSvt;
  double tau = 0, delta = 0, tol = 0, initFloor = 0;
  size_t maxIter = 0, rank = 0;
  bool center = true;
};

struct SvtOutput {
  std::vector<double> x;
  size_t iterations = 0, rank = 0;
  double residual = 0;
  bool aborted = false;
};

// Singular value shrinkage with a reusable state: exact thin SVD for small
// matrices, a warm-started randomized partial SVD (rank grown until the
// smallest computed value falls below tau) for large ones. (A partial SVD by
// warm-started subspace iteration was tried for small ones and does not pay:
// SVT's dual variable has a dense spectrum just below tau, so the block does
// not converge in a few sweeps; decision 1850.)
class Shrinker {
 public:
  Shrinker(size_t m, size_t n) : m_(m), n_(n) {}

  // out = sum over s_i > tau (or the first `cap` values when tau < 0) of
  // (s_i - max(tau,0)) u_i v_i^T. Returns the number of terms kept.
  size_t Apply(const double* y, double tau, size_t cap, double* out) {
    const size_t minmn = std::min(m_, n_);
    Svd f;
    if (minmn <= kExactLimit) {
      f = ThinSvd(y, m_, n_, true);
    } else {
      size_t want = std::min(minmn, std::max<size_t>(cap ? cap : predicted_ + 5, 1));
      for (;;) {
        f = RandomizedSvd(y, m_, n_, want, 8, 2, 0x5107 + calls_++, prevVt_.empty() ? nullptr : prevVt_.data(),
                          prevK_);
        const bool enough = cap ? true : (f.s.back() <= tau || want >= minmn);
        if (enough) break;
        want = std::min(minmn, want + std::max<size_t>(5, want / 2));
      }
      prevVt_ = f.vt;
      prevK_ = f.k;
    }
    size_t r = 0;
    while (r < f.k && (cap ? r < cap : f.s[r] > tau)) ++r;
    if (cap) {
      while (r > 0 && f.s[r - 1] <= 0) --r;
    }
    predicted_ = r;
    const double shift = cap ? 0.0 : tau;
    std::fill(out, out + m_ * n_, 0.0);
    std::vector<double> w(r);
    for (size_t i = 0; i < m_; ++i) {
      for (size_t c = 0; c < r; ++c) w[c] = f.u[i * f.k + c] * (f.s[c] - shift);
      double* row = out + i * n_;
      for (size_t c = 0; c < r; ++c) {
        const double wc = w[c];
        const double* v = f.vt.data() + c * n_;
        for (size_t j = 0; j < n_; ++j) row[j] += wc * v[j];
      }
    }
    return r;
  }

 private:
  static constexpr size_t kExactLimit = 100;
  size_t m_, n_;
  size_t predicted_ = 0, prevK_ = 0, calls_ = 0;
  std::vector<double> prevVt_;
};

SvtOutput Complete(const SvtInput& in, const std::atomic<bool>& cancel) {
  const size_t m = in.m, n = in.n, mn = m * n;
  SvtOutput out;
  double mean = 0;
  size_t count = 0;
  for (size_t i = 0; i < mn; ++i)
    if (in.mask[i]) mean += in.observed[i], ++count;
  mean = in.center ? mean / static_cast<double>(count) : 0.0;
  std::vector<double> pm(mn, 0.0);  // P_Omega(M - mean)
  double normPm = 0;
  for (size_t i = 0; i < mn; ++i)
    if (in.mask[i]) pm[i] = in.observed[i] - mean, normPm += pm[i] * pm[i];
  normPm = std::sqrt(normPm);
  out.x.assign(mn, mean);
  if (normPm == 0) return out;  // constant observations: the mean is exact

  std::vector<double> x(mn, 0.0), y(mn, 0.0), prev;
  Shrinker shrink(m, n);
  const bool hasInit = !in.init.empty();
  if (hasInit)
    for (size_t i = 0; i < mn; ++i) x[i] = in.init[i] - mean;

  if (in.method == Method::kHardImpute && !hasInit) {
    // Spectral start: the rank-r truncation of P_Omega(M) / p, an unbiased
    // estimate of M (a zero start often stalls in a poor fixed point).
    const double p = static_cast<double>(count) / static_cast<double>(mn);
    for (size_t i = 0; i < mn; ++i) y[i] = pm[i] / p;
    shrink.Apply(y.data(), 0.0, in.rank, x.data());
  }
  if (in.method == Method::kSvt) {
    if (hasInit) {
      // Lift init so that D_tau(Y_0) = its components above the floor:
      // Y_0 = U (S + tau) V^T on s > floor. initFloor = 0 keeps all of init
      // (X_1 = init); a floor drops init's weak, noise-like components.
      Svd f = ThinSvd(x.data(), m, n, true);
      const double floor = std::max(f.k ? f.s[0] * 1e-13 : 0.0, in.initFloor * in.tau);
      for (size_t i = 0; i < m; ++i)
        for (size_t c = 0; c < f.k && f.s[c] > floor; ++c) {
          const double w = f.u[i * f.k + c] * (f.s[c] + in.tau);
          for (size_t j = 0; j < n; ++j) y[i * n + j] += w * f.vt[c * n + j];
        }
    } else {
      const double k0 = std::ceil(in.tau / (in.delta * SpectralNorm(pm.data(), m, n)));
      for (size_t i = 0; i < mn; ++i) y[i] = k0 * in.delta * pm[i];
    }
  }

  if (in.method == Method::kApg) {
    // Toh & Yun (2010): accelerated proximal gradient for
    //   min_X 1/2 ||P_Omega(X - M)||^2 + mu ||X||_*
    // (step 1: the gradient's Lipschitz constant is 1), Nesterov momentum,
    // and continuation mu_k = max(0.7 mu_{k-1}, tau) from ||P_Omega(M)||_2,
    // so the early iterates are low rank and cheap. The gradient step at the
    // extrapolated point Y is P_Omega(M) + P_Omega^perp(Y), i.e. accelerated
    // soft-impute with a decreasing threshold.
    std::vector<double> xPrev = x;
    double mu = SpectralNorm(pm.data(), m, n), t = 1, tPrev = 1, residual = 1.0;
    for (size_t it = 1; it <= in.maxIter; ++it) {
      if (cancel.load(std::memory_order_relaxed)) {
        out.aborted = true;
        break;
      }
      mu = std::max(0.7 * mu, in.tau);
      const double beta = (tPrev - 1) / t;
      for (size_t i = 0; i < mn; ++i) y[i] = in.mask[i] ? pm[i] : x[i] + beta * (x[i] - xPrev[i]);
      xPrev.swap(x);
      out.rank = shrink.Apply(y.data(), mu, 0, x.data());
      tPrev = t;
      t = (1 + std::sqrt(1 + 4 * t * t)) / 2;
      double r2 = 0, dx = 0, nx = 0;
      for (size_t i = 0; i < mn; ++i) {
        if (in.mask[i]) r2 += (pm[i] - x[i]) * (pm[i] - x[i]);
        dx += (x[i] - xPrev[i]) * (x[i] - xPrev[i]);
        nx += x[i] * x[i];
      }
      residual = std::sqrt(r2) / normPm;
      out.iterations = it;
      if (!std::isfinite(residual)) throw std::runtime_error("apg: the iteration diverged (residual is not finite)");
      if (mu <= in.tau && (residual <= in.tol || std::sqrt(dx) <= in.tol * std::sqrt(nx))) break;
    }
    out.residual = residual;
    for (size_t i = 0; i < mn; ++i) out.x[i] = x[i] + mean;
    return out;
  }

  double residual = 1.0;
  for (size_t it = 1; it <= in.maxIter; ++it) {
    if (cancel.load(std::memory_order_relaxed)) {
      out.aborted = true;
      break;
    }
    size_t rank = 0;
    if (in.method == Method::kSvt) {
      rank = shrink.Apply(y.data(), in.tau, 0, x.data());
    } else {
      // Fill the unobserved entries with the current estimate, then shrink.
      prev = x;
      for (size_t i = 0; i < mn; ++i) y[i] = in.mask[i] ? pm[i] : x[i];
      rank = in.method == Method::kSoftImpute ? shrink.Apply(y.data(), in.tau, 0, x.data())
                                              : shrink.Apply(y.data(), 0.0, in.rank, x.data());
    }
    double r2 = 0;
    for (size_t i = 0; i < mn; ++i)
      if (in.mask[i]) {
        const double d = pm[i] - x[i];
        r2 += d * d;
        if (in.method == Method::kSvt) y[i] += in.delta * d;
      }
    residual = std::sqrt(r2) / normPm;
    out.iterations = it;
    out.rank = rank;
    if (!std::isfinite(residual)) throw std::runtime_error("svt: the iteration diverged (residual is not finite); reduce delta");
    if (in.method == Method::kSvt) {
      if (residual <= in.tol) break;
    } else {
      double dx = 0, nx = 0;
      for (size_t i = 0; i < mn; ++i) dx += (x[i] - prev[i]) * (x[i] - prev[i]), nx += x[i] * x[i];
      if (residual <= in.tol || std::sqrt(dx) <= in.tol * std::sqrt(nx)) break;
    }
  }
  out.residual = residual;
  for (size_t i = 0; i < mn; ++i) out.x[i] = x[i] + mean;
  return out;
}

class SvtWorker : public Napi::AsyncWorker {
 public:
  SvtWorker(Napi::Env env, SvtInput in, std::shared_ptr<std::atomic<bool>> cancel)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), in_(std::move(in)), cancel_(cancel) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      out_ = Complete(in_, *cancel_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    auto x = Napi::Float64Array::New(env, out_.x.size());
    std::memcpy(x.Data(), out_.x.data(), out_.x.size() * sizeof(double));
    o.Set("x", x);
    o.Set("iterations", Napi::Number::New(env, static_cast<double>(out_.iterations)));
    o.Set("residual", Napi::Number::New(env, out_.residual));
    o.Set("rank", Napi::Number::New(env, static_cast<double>(out_.rank)));
    o.Set("aborted", Napi::Boolean::New(env, out_.aborted));
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  SvtInput in_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  SvtOutput out_;
};

double NumberArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + ": must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

// Args: (observed: Float64Array, mask: Uint8Array, m, n, method, tau, delta,
//        tol, maxIter, rank, center, init: Float64Array | null, initFloor)
// Returns { promise, cancel }: cancel() sets the flag the worker polls
// between iterations; the promise then resolves with aborted = true.
Napi::Value SvtStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 13) throw Napi::TypeError::New(env, "svt: expected 13 arguments");
  SvtInput in;
  in.m = static_cast<size_t>(NumberArg(info, 2, "m"));
  in.n = static_cast<size_t>(NumberArg(info, 3, "n"));
  const size_t mn = in.m * in.n;
  if (mn == 0) throw Napi::RangeError::New(env, "m, n: must be positive integers");
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, "observed: must be a Float64Array");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "mask: must be a Uint8Array");
  auto obs = info[0].As<Napi::Float64Array>();
  auto mask = info[1].As<Napi::Uint8Array>();
  if (obs.ElementLength() != mn) throw Napi::RangeError::New(env, "observed: length must be m*n");
  if (mask.ElementLength() != mn) throw Napi::RangeError::New(env, "mask: length must be m*n");
  in.observed.assign(obs.Data(), obs.Data() + mn);
  in.mask.assign(mask.Data(), mask.Data() + mn);
  size_t count = 0;
  for (size_t i = 0; i < mn; ++i) {
    if (!in.mask[i]) continue;
    ++count;
    if (!std::isfinite(in.observed[i]))
      throw Napi::RangeError::New(env, "observed: entry " + std::to_string(i) + " is sampled but not finite");
  }
  if (count == 0) throw Napi::RangeError::New(env, "mask: no entry is sampled");
  const double method = NumberArg(info, 4, "method");
  if (method != 0 && method != 1 && method != 2 && method != 3) throw Napi::RangeError::New(env, "method: unknown");
  in.method = static_cast<Method>(static_cast<int>(method));
  in.tau = NumberArg(info, 5, "tau");
  in.delta = NumberArg(info, 6, "delta");
  in.tol = NumberArg(info, 7, "tol");
  in.maxIter = static_cast<size_t>(NumberArg(info, 8, "maxIter"));
  in.rank = static_cast<size_t>(NumberArg(info, 9, "rank"));
  in.center = info[10].ToBoolean().Value();
  if (!(in.tau > 0) && in.method != Method::kHardImpute) throw Napi::RangeError::New(env, "tau: must be > 0");
  if (in.method == Method::kSvt && !(in.delta > 0)) throw Napi::RangeError::New(env, "delta: must be > 0");
  if (in.method == Method::kHardImpute && in.rank == 0) throw Napi::RangeError::New(env, "rank: must be >= 1");
  if (!(in.tol >= 0)) throw Napi::RangeError::New(env, "tol: must be >= 0");
  if (!info[11].IsNull() && !info[11].IsUndefined()) {
    if (!info[11].IsTypedArray() || info[11].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
      throw Napi::TypeError::New(env, "init: must be a Float64Array");
    auto init = info[11].As<Napi::Float64Array>();
    if (init.ElementLength() != mn) throw Napi::RangeError::New(env, "init: length must be m*n");
    in.init.assign(init.Data(), init.Data() + mn);
    for (size_t i = 0; i < mn; ++i)
      if (!std::isfinite(in.init[i]))
        throw Napi::RangeError::New(env, "init: entry " + std::to_string(i) + " is not finite");
  }
  in.initFloor = NumberArg(info, 12, "initFloor");
  if (!(in.initFloor >= 0)) throw Napi::RangeError::New(env, "initFloor: must be >= 0");
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto* worker = new SvtWorker(env, std::move(in), cancel);
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", worker->Promise());
  handle.Set("cancel", Napi::Function::New(env, [cancel](const Napi::CallbackInfo&) { cancel->store(true); }, "cancel"));
  worker->Queue();
  return handle;
}

}  // namespace

void InitSvt(Napi::Env env, Napi::Object exports) { exports.Set("svtStart", Napi::Function::New(env, SvtStart, "svtStart")); }

}  // namespace qscope
