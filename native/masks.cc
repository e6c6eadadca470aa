// Kernel family 'masks': seeded sampling masks over an n-D grid, C order,
// 1 = sample. Deterministic for a seed on every platform: the only random
// source is qscope::Rng (integer xoshiro256**), draws are integers
// (Rng::Below), and the one floating-point function (the variable-density
// falloff) is computed with +, -, *, / only (no libm, no fused multiply-add:
// binding.gyp sets -ffp-contract=off), so every IEEE-754 machine agrees.
//
// Exports (typed and documented in native/index.ts), each also as an
// `...Async` variant that runs on the thread pool and returns a Promise:
//   randomMask(shape, fraction, seed)
//   poissonDiscMask(shape, minDistance, seed)
//   variableDensityMask(shape, fraction, centre, decay, seed)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "kernels.h"
#include "rng.h"

namespace qscope {
namespace {

// Masks are Uint8Arrays indexed by int32-safe offsets; 2^31 - 1 points is far
// beyond any grid the experiments use.
constexpr double kMaxPoints = 2147483647.0;
constexpr size_t kMaxDims = 32;
// Poisson disc: the neighbourhood table must stay a reasonable size.
constexpr double kMaxOffsets = 67108864.0;  // 2^26

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

std::string Num(double v) {
  std::string s = std::to_string(v);
  // to_string gives 6 decimals; trim trailing zeros for readable messages.
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s;
}

struct Grid {
  std::vector<int64_t> shape;
  std::vector<int64_t> stride;  // C order: last axis fastest
  int64_t n = 1;
};

Grid ReadShape(Napi::Env env, const Napi::Value& v) {
  if (!v.IsArray()) ThrowRange(env, "shape: must be a non-empty array of positive integers");
  Napi::Array a = v.As<Napi::Array>();
  const uint32_t nd = a.Length();
  if (nd == 0) ThrowRange(env, "shape: must be a non-empty array of positive integers");
  if (nd > kMaxDims) ThrowRange(env, "shape: at most " + std::to_string(kMaxDims) + " dimensions");
  Grid g;
  double n = 1;
  for (uint32_t i = 0; i < nd; i++) {
    Napi::Value e = a.Get(i);
    const std::string at = "shape[" + std::to_string(i) + "]";
    if (!e.IsNumber()) ThrowRange(env, at + ": must be a positive integer");
    const double d = e.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d) || d <= 0) ThrowRange(env, at + ": must be a positive integer, got " + Num(d));
    n *= d;
    if (n > kMaxPoints) ThrowRange(env, "shape: more than 2^31-1 points");
    g.shape.push_back(static_cast<int64_t>(d));
  }
  g.n = static_cast<int64_t>(n);
  g.stride.assign(nd, 1);
  for (int i = static_cast<int>(nd) - 2; i >= 0; i--) g.stride[i] = g.stride[i + 1] * g.shape[i + 1];
  return g;
}

double ReadNumber(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) ThrowRange(env, std::string(name) + ": must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) ThrowRange(env, std::string(name) + ": must be finite");
  return d;
}

uint64_t ReadSeed(Napi::Env env, const Napi::Value& v) {
  if (!v.IsNumber()) ThrowRange(env, "seed: must be a non-negative safe integer");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < 0 || d > 9007199254740991.0) {
    ThrowRange(env, "seed: must be a non-negative safe integer, got " + Num(d));
  }
  return static_cast<uint64_t>(d);
}

// Number of samples: round(fraction * n), at least one.
int64_t SampleCount(Napi::Env env, double fraction, int64_t n) {
  if (!(fraction > 0) || fraction > 1) ThrowRange(env, "fraction: must be in (0, 1], got " + Num(fraction));
  const double k = std::floor(fraction * static_cast<double>(n) + 0.5);
  if (k < 1) ThrowRange(env, "fraction: " + Num(fraction) + " of " + std::to_string(n) + " points rounds to 0 samples");
  return static_cast<int64_t>(k);
}

// exp(x) for x <= 0 from +, -, *, / and an exact power-of-two scaling, so the
// result is bit-identical on every IEEE-754 platform (libm's exp is not).
// Relative error ~1e-16, far below the 2^-32 weight quantisation.
double PortableExpNonPositive(double x) {
  if (x < -700) return 0.0;
  const double kInvLn2 = 1.4426950408889634;
  const double kLn2Hi = 6.93147180369123816490e-01;  // high bits of ln 2 (exact times small k)
  const double kLn2Lo = 1.90821492927058770002e-10;
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= ~0.347
  // Taylor series to r^14 / 14! (Horner form).
  double p = 1.0;
  for (int i = 14; i >= 1; i--) p = 1.0 + p * r / static_cast<double>(i);
  return std::ldexp(p, static_cast<int>(k));
}

// ---- the kernels: pure functions of a validated job, no JS values (they run on worker threads too) ----

struct MaskJob {
  enum class Kind { Random, PoissonDisc, VariableDensity };
  MaskJob(Kind k, Grid grid) : kind(k), g(std::move(grid)) {}
  Kind kind;
  Grid g;
  int64_t k = 0;                 // samples (random, variable density)
  double minDistance = 0;        // poisson disc
  std::vector<int64_t> offsets;  // poisson disc neighbourhood, nd coordinates each
  std::vector<int64_t> delta;    // its linear index changes
  std::vector<double> centre;    // variable density
  double decay = 0;
  uint64_t seed = 0;
};

void ComputeRandom(const MaskJob& job, uint8_t* out) {
  const int64_t n = job.g.n;
  Rng rng(job.seed);
  std::fill(out, out + n, 0);
  // Partial Fisher-Yates: the first k entries of a uniformly shuffled index list.
  std::vector<uint32_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) idx[i] = static_cast<uint32_t>(i);
  for (int64_t i = 0; i < job.k; i++) {
    const int64_t j = i + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(n - i)));
    std::swap(idx[i], idx[j]);
    out[idx[i]] = 1;
  }
}

// Random sequential addition to saturation on the lattice: visit every cell
// once in a seeded random order and keep it unless a kept cell lies closer
// than minDistance. The result is a maximal Poisson-disc set: every pair of
// samples is >= minDistance apart and every other cell is < minDistance from
// a sample. Each kept cell blocks its neighbourhood once, so the cost is
// O(N + samples * neighbourhood).
void ComputePoissonDisc(const MaskJob& job, uint8_t* out) {
  const Grid& g = job.g;
  const size_t nd = g.shape.size();
  Rng rng(job.seed);
  std::vector<uint32_t> order(static_cast<size_t>(g.n));
  for (int64_t i = 0; i < g.n; i++) order[i] = static_cast<uint32_t>(i);
  for (int64_t i = g.n - 1; i > 0; i--) std::swap(order[i], order[static_cast<size_t>(rng.Below(static_cast<uint64_t>(i + 1)))]);

  std::fill(out, out + g.n, 0);
  std::vector<uint8_t> blocked(static_cast<size_t>(g.n), 0);
  std::vector<int64_t> c(nd);
  const size_t count = job.delta.size();
  for (int64_t step = 0; step < g.n; step++) {
    const int64_t cell = order[step];
    if (blocked[cell]) continue;
    out[cell] = 1;
    blocked[cell] = 1;
    int64_t rest = cell;
    for (size_t d = 0; d < nd; d++) {
      c[d] = rest / g.stride[d];
      rest %= g.stride[d];
    }
    for (size_t m = 0; m < count; m++) {
      const int64_t* om = &job.offsets[m * nd];
      bool inside = true;
      for (size_t d = 0; d < nd && inside; d++) {
        const int64_t x = c[d] + om[d];
        inside = x >= 0 && x < g.shape[d];
      }
      if (inside) blocked[cell + job.delta[m]] = 1;
    }
  }
}

// Weighted sampling without replacement: k successive draws, each picking a
// not-yet-chosen cell with probability proportional to its weight
// w = exp(-r / decay), r = distance from the centre in grid cells. Weights are
// quantised to integers (w * 2^32, plus 1 so every cell stays reachable) and
// kept in a Fenwick tree, so every draw is an exact integer operation.
void ComputeVariableDensity(const MaskJob& job, uint8_t* out) {
  const Grid& g = job.g;
  const size_t nd = g.shape.size();
  const size_t n = static_cast<size_t>(g.n);
  Rng rng(job.seed);
  std::vector<uint64_t> weight(n);
  std::vector<uint64_t> tree(n + 1, 0);  // Fenwick tree, 1-based
  std::vector<int64_t> c(nd, 0);
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) {
    double s2 = 0;
    for (size_t d = 0; d < nd; d++) {
      const double dx = static_cast<double>(c[d]) - job.centre[d];
      s2 += dx * dx;
    }
    const double w = PortableExpNonPositive(-std::sqrt(s2) / job.decay);
    weight[i] = static_cast<uint64_t>(std::floor(w * 4294967296.0)) + 1;
    total += weight[i];
    tree[i + 1] += weight[i];
    const size_t parent = (i + 1) + ((i + 1) & (~(i + 1) + 1));
    if (parent <= n) tree[parent] += tree[i + 1];
    for (size_t d = nd; d-- > 0;) {  // advance the C-order coordinate
      if (++c[d] < g.shape[d]) break;
      c[d] = 0;
    }
  }
  size_t top = 1;
  while (top * 2 <= n) top *= 2;

  std::fill(out, out + n, 0);
  for (int64_t s = 0; s < job.k; s++) {
    uint64_t u = rng.Below(total);
    // Descend to the cell whose cumulative weight range holds u.
    size_t pos = 0;
    for (size_t step = top; step > 0; step >>= 1) {
      if (pos + step <= n && tree[pos + step] <= u) {
        pos += step;
        u -= tree[pos];
      }
    }
    const size_t cell = pos;  // 0-based
    out[cell] = 1;
    const uint64_t w = weight[cell];
    total -= w;
    for (size_t i = cell + 1; i <= n; i += i & (~i + 1)) tree[i] -= w;
  }
}

void Compute(const MaskJob& job, uint8_t* out) {
  switch (job.kind) {
    case MaskJob::Kind::Random: return ComputeRandom(job, out);
    case MaskJob::Kind::PoissonDisc: return ComputePoissonDisc(job, out);
    case MaskJob::Kind::VariableDensity: return ComputeVariableDensity(job, out);
  }
}

// ---- argument checks (main thread): every bad argument is a RangeError naming it ----

MaskJob ReadRandomJob(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MaskJob job(MaskJob::Kind::Random, ReadShape(env, info[0]));
  job.k = SampleCount(env, ReadNumber(env, info[1], "fraction"), job.g.n);
  job.seed = ReadSeed(env, info[2]);
  return job;
}

MaskJob ReadPoissonDiscJob(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MaskJob job(MaskJob::Kind::PoissonDisc, ReadShape(env, info[0]));
  const double r = ReadNumber(env, info[1], "minDistance");
  if (!(r > 0)) ThrowRange(env, "minDistance: must be > 0, got " + Num(r));
  job.minDistance = r;
  job.seed = ReadSeed(env, info[2]);
  const Grid& g = job.g;
  const size_t nd = g.shape.size();
  const double r2 = r * r;
  // Neighbourhood: integer offsets o != 0 with |o|^2 < r^2, clipped to the grid.
  std::vector<int64_t> reach(nd);
  double cube = 1;
  for (size_t d = 0; d < nd; d++) {
    reach[d] = std::min<int64_t>(static_cast<int64_t>(std::ceil(r)) - 1, g.shape[d] - 1);
    cube *= static_cast<double>(2 * reach[d] + 1);
  }
  if (cube > kMaxOffsets) ThrowRange(env, "minDistance: " + Num(r) + " is too large for a " + std::to_string(nd) + "-D grid this size");
  std::vector<int64_t> o(nd);
  for (size_t d = 0; d < nd; d++) o[d] = -reach[d];
  for (bool more = true; more;) {
    int64_t s2 = 0;
    bool zero = true;
    for (size_t d = 0; d < nd; d++) {
      s2 += o[d] * o[d];
      zero = zero && o[d] == 0;
    }
    if (!zero && static_cast<double>(s2) < r2) {
      int64_t lin = 0;
      for (size_t d = 0; d < nd; d++) {
        job.offsets.push_back(o[d]);
        lin += o[d] * g.stride[d];
      }
      job.delta.push_back(lin);
    }
    // Odometer step over the cube; done when the first axis wraps.
    more = false;
    for (size_t d = nd; d-- > 0;) {
      if (++o[d] <= reach[d]) {
        more = true;
        break;
      }
      o[d] = -reach[d];
    }
  }
  return job;
}

MaskJob ReadVariableDensityJob(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MaskJob job(MaskJob::Kind::VariableDensity, ReadShape(env, info[0]));
  job.k = SampleCount(env, ReadNumber(env, info[1], "fraction"), job.g.n);
  const size_t nd = job.g.shape.size();
  if (!info[2].IsArray()) ThrowRange(env, "centre: must be an array of " + std::to_string(nd) + " finite numbers");
  Napi::Array ca = info[2].As<Napi::Array>();
  if (ca.Length() != nd) ThrowRange(env, "centre: must have " + std::to_string(nd) + " coordinates (one per axis), got " + std::to_string(ca.Length()));
  job.centre.resize(nd);
  for (size_t d = 0; d < nd; d++) {
    const std::string at = "centre[" + std::to_string(d) + "]";
    job.centre[d] = ReadNumber(env, ca.Get(static_cast<uint32_t>(d)), at.c_str());
  }
  job.decay = ReadNumber(env, info[3], "decay");
  if (!(job.decay > 0)) ThrowRange(env, "decay: must be > 0, got " + Num(job.decay));
  job.seed = ReadSeed(env, info[4]);
  return job;
}

// ---- bindings: synchronous (fills a new Uint8Array in place) and async (AsyncWorker, promise) ----

Napi::Value RunSync(Napi::Env env, const MaskJob& job) {
  Napi::Uint8Array mask = Napi::Uint8Array::New(env, static_cast<size_t>(job.g.n));
  Compute(job, mask.Data());
  return mask;
}

// Runs a mask on the libuv thread pool. Execute() touches no JS value; the
// result is copied once into a new ArrayBuffer on the main thread (N bytes,
// small next to the work that made it).
class MaskWorker : public Napi::AsyncWorker {
 public:
  MaskWorker(Napi::Env env, MaskJob job) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), job_(std::move(job)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      out_.resize(static_cast<size_t>(job_.g.n));
      Compute(job_, out_.data());
    } catch (const std::bad_alloc&) {
      SetError("mask: out of memory for " + std::to_string(job_.g.n) + " points");
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Uint8Array mask = Napi::Uint8Array::New(env, out_.size());
    std::copy(out_.begin(), out_.end(), mask.Data());
    deferred_.Resolve(mask);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  MaskJob job_;
  std::vector<uint8_t> out_;
};

Napi::Value RunAsync(Napi::Env env, MaskJob job) {
  auto* worker = new MaskWorker(env, std::move(job));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value RandomMask(const Napi::CallbackInfo& info) { return RunSync(info.Env(), ReadRandomJob(info)); }
Napi::Value PoissonDiscMask(const Napi::CallbackInfo& info) { return RunSync(info.Env(), ReadPoissonDiscJob(info)); }
Napi::Value VariableDensityMask(const Napi::CallbackInfo& info) { return RunSync(info.Env(), ReadVariableDensityJob(info)); }
Napi::Value RandomMaskAsync(const Napi::CallbackInfo& info) { return RunAsync(info.Env(), ReadRandomJob(info)); }
Napi::Value PoissonDiscMaskAsync(const Napi::CallbackInfo& info) { return RunAsync(info.Env(), ReadPoissonDiscJob(info)); }
Napi::Value VariableDensityMaskAsync(const Napi::CallbackInfo& info) { return RunAsync(info.Env(), ReadVariableDensityJob(info)); }

}  // namespace

void InitMasks(Napi::Env env, Napi::Object exports) {
  exports.Set("randomMask", Napi::Function::New(env, RandomMask, "randomMask"));
  exports.Set("poissonDiscMask", Napi::Function::New(env, PoissonDiscMask, "poissonDiscMask"));
  exports.Set("variableDensityMask", Napi::Function::New(env, VariableDensityMask, "variableDensityMask"));
  exports.Set("randomMaskAsync", Napi::Function::New(env, RandomMaskAsync, "randomMaskAsync"));
  exports.Set("poissonDiscMaskAsync", Napi::Function::New(env, PoissonDiscMaskAsync, "poissonDiscMaskAsync"));
  exports.Set("variableDensityMaskAsync", Napi::Function::New(env, VariableDensityMaskAsync, "variableDensityMaskAsync"));
}

}  // namespace qscope
