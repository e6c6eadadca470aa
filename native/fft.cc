// Kernel family 'fft': complex and real FFTs of any length, along any set of
// axes of a C-ordered array, in float32 and float64, synchronous or on the
// libuv thread pool. Design notes: docs/decisions/0300-fft-kernels.md.
//
//   fftC2C(re, im, outRe, outIm, shape, axes, inverse)        -> undefined
//   fftR2C(x, outRe, outIm, shape, axes)                       -> undefined
//   fftC2R(re, im, out, shape, axes)     (shape = real shape)  -> undefined
//   fftC2CAsync / fftR2CAsync / fftC2RAsync: same arguments    -> Promise<undefined>
//   fftPlanCacheStats()                                        -> {plans, hits, misses}
//
// Outputs are allocated by the caller (TS) before the call, so the async
// workers' Execute() only touches raw memory of arrays kept alive by
// references. axes must be sorted, unique and non-negative (TS normalises).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "fft_plan.h"
#include "kernels.h"

namespace qscope {
namespace fft {

enum class Kind { C2C, R2C, C2R };

// One transform request, in raw pointers (safe to run off the JS thread).
struct Job {
  Kind kind = Kind::C2C;
  bool f32 = false;
  bool inverse = false;
  std::vector<std::size_t> shape;  // C2R: the real (output) shape
  std::vector<std::size_t> axes;   // sorted ascending, unique
  const void* in0 = nullptr;
  const void* in1 = nullptr;
  void* out0 = nullptr;
  void* out1 = nullptr;
};

static std::size_t Prod(const std::vector<std::size_t>& s, std::size_t from, std::size_t to) {
  std::size_t p = 1;
  for (std::size_t i = from; i < to; i++) p *= s[i];
  return p;
}

}  // namespace fft
}  // namespace qscope

// ---- kernels, compiled once per instruction-set target ----
#define QS_FFT_DRIVERS                                                                                          \
  template <typename T>                                                                                         \
  void RunJob(const Job& j) {                                                                                   \
    const std::size_t nd = j.shape.size();                                                                      \
    const std::vector<std::size_t>& sh = j.shape;                                                               \
    if (j.kind == Kind::C2C) {                                                                                  \
      const T* ir = static_cast<const T*>(j.in0);                                                               \
      const T* ii = static_cast<const T*>(j.in1);                                                               \
      T* orr = static_cast<T*>(j.out0);                                                                         \
      T* oi = static_cast<T*>(j.out1);                                                                          \
      for (std::size_t k = j.axes.size(); k-- > 0;) {                                                           \
        const std::size_t a = j.axes[k];                                                                        \
        C2CAxis<T>(ir, ii, orr, oi, Prod(sh, 0, a), sh[a], Prod(sh, a + 1, nd), j.inverse);                     \
        ir = orr;                                                                                               \
        ii = oi;                                                                                                \
      }                                                                                                         \
      return;                                                                                                   \
    }                                                                                                           \
    const std::size_t last = j.axes.back();                                                                     \
    std::vector<std::size_t> hs = sh;                                                                           \
    hs[last] = sh[last] / 2 + 1;                                                                                \
    if (j.kind == Kind::R2C) {                                                                                  \
      T* orr = static_cast<T*>(j.out0);                                                                         \
      T* oi = static_cast<T*>(j.out1);                                                                          \
      R2CAxis<T>(static_cast<const T*>(j.in0), orr, oi, Prod(sh, 0, last), sh[last], Prod(sh, last + 1, nd));   \
      for (std::size_t k = j.axes.size() - 1; k-- > 0;) {                                                       \
        const std::size_t a = j.axes[k];                                                                        \
        C2CAxis<T>(orr, oi, orr, oi, Prod(hs, 0, a), hs[a], Prod(hs, a + 1, nd), false);                        \
      }                                                                                                         \
      return;                                                                                                   \
    }                                                                                                           \
    const T* ir = static_cast<const T*>(j.in0);                                                                 \
    const T* ii = static_cast<const T*>(j.in1);                                                                 \
    std::unique_ptr<T[]> tmp;                                                                                   \
    if (j.axes.size() > 1) { /* inverse over the other axes into a temporary: the input stays untouched */      \
      const std::size_t nh = Prod(hs, 0, nd);                                                                   \
      tmp.reset(new T[2 * nh]);                                                                                 \
      for (std::size_t k = j.axes.size() - 1; k-- > 0;) {                                                       \
        const std::size_t a = j.axes[k];                                                                        \
        C2CAxis<T>(ir, ii, tmp.get(), tmp.get() + nh, Prod(hs, 0, a), hs[a], Prod(hs, a + 1, nd), true);        \
        ir = tmp.get();                                                                                         \
        ii = tmp.get() + nh;                                                                                    \
      }                                                                                                         \
    }                                                                                                           \
    C2RAxis<T>(ir, ii, static_cast<T*>(j.out0), Prod(sh, 0, last), sh[last], Prod(sh, last + 1, nd));          \
  }

namespace qscope {
namespace fft {
#define QS_FFT_NS generic
#include "fft_kernels.inc"
namespace generic {
QS_FFT_DRIVERS
}
#undef QS_FFT_NS

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define QS_FFT_HAVE_AVX2 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define QS_FFT_NS avx2
#include "fft_kernels.inc"
namespace avx2 {
QS_FFT_DRIVERS
}
#undef QS_FFT_NS
#pragma GCC pop_options
#endif

// AVX2+FMA kernels when the CPU has them; QSCOPE_FFT_ISA=generic forces the
// portable build (tests use it to cover both).
static bool UseAvx2() {
#ifdef QS_FFT_HAVE_AVX2
  static const bool use = [] {
    const char* isa = std::getenv("QSCOPE_FFT_ISA");
    if (isa && std::string(isa) == "generic") return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return use;
#else
  return false;
#endif
}

static void RunJob(const Job& j) {
#ifdef QS_FFT_HAVE_AVX2
  if (UseAvx2()) {
    if (j.f32) avx2::RunJob<float>(j); else avx2::RunJob<double>(j);
    return;
  }
#endif
  if (j.f32) generic::RunJob<float>(j); else generic::RunJob<double>(j);
}

// In-process entry points for other kernel families (declared in fft_plan.h).
void RealForward(const double* x, double* re, double* im, const std::vector<std::size_t>& shape, const std::vector<std::size_t>& axes) {
  Job j;
  j.kind = Kind::R2C;
  j.shape = shape;
  j.axes = axes;
  j.in0 = x;
  j.out0 = re;
  j.out1 = im;
  RunJob(j);
}
void RealInverse(const double* re, const double* im, double* out, const std::vector<std::size_t>& shape, const std::vector<std::size_t>& axes) {
  Job j;
  j.kind = Kind::C2R;
  j.shape = shape;
  j.axes = axes;
  j.in0 = re;
  j.in1 = im;
  j.out0 = out;
  RunJob(j);
}
void Complex(const double* re, const double* im, double* ore, double* oim, const std::vector<std::size_t>& shape, const std::vector<std::size_t>& axes, bool inverse) {
  Job j;
  j.kind = Kind::C2C;
  j.shape = shape;
  j.axes = axes;
  j.inverse = inverse;
  j.in0 = re;
  j.in1 = im;
  j.out0 = ore;
  j.out1 = oim;
  RunJob(j);
}

// ---------------------------- plans ----------------------------

static const double kPi = 3.14159265358979323846;

// exp(-2*pi*i*num/den) with the exponent reduced exactly first.
static inline void Root(std::uint64_t num, std::uint64_t den, double& c, double& s) {
  const double a = -2.0 * kPi * static_cast<double>(num % den) / static_cast<double>(den);
  c = std::cos(a);
  s = std::sin(a);
}

// Radices for n: 8s, then 4s (or a lone 2), then 3, 5, other primes up to
// kMaxGenericRadix. Returns false if a larger prime factor remains.
static bool Factorise(std::size_t n, std::vector<int>& radices) {
  radices.clear();
  int k = 0;  // power of two: radix 8 as far as possible, never a lone 2 next to a 8
  while (n % 2 == 0) { n /= 2; k++; }
  if (k == 1) radices.push_back(2);
  else if (k % 3 == 1) { k -= 4; radices.push_back(4); radices.push_back(4); }
  else if (k % 3 == 2) { k -= 2; radices.push_back(4); }
  for (; k >= 3; k -= 3) radices.insert(radices.begin(), 8);
  for (std::size_t p = 3; p <= kMaxGenericRadix && n > 1; p += 2) {
    while (n % p == 0) { radices.push_back(static_cast<int>(p)); n /= p; }
  }
  return n == 1;
}

static std::size_t NextSmooth(std::size_t n) {  // smallest 2^a 3^b 5^c >= n
  for (std::size_t m = n;; m++) {
    std::size_t r = m;
    for (std::size_t p : {2, 3, 5}) while (r % p == 0) r /= p;
    if (r == 1) return m;
  }
}

template <typename T>
static void FillStages(Plan<T>& P, const std::vector<int>& radices) {
  std::size_t cur = P.n;
  for (int r : radices) {
    Stage<T> st;
    st.radix = r;
    st.m = cur / static_cast<std::size_t>(r);
    st.twr.resize(st.m * (r - 1));
    st.twi.resize(st.m * (r - 1));
    for (std::size_t p = 0; p < st.m; p++)
      for (int k = 1; k < r; k++) {
        double c, s;
        Root(static_cast<std::uint64_t>(p) * k, cur, c, s);
        st.twr[p * (r - 1) + k - 1] = static_cast<T>(c);
        st.twi[p * (r - 1) + k - 1] = static_cast<T>(s);
      }
    if (r > 5) {
      const int h = (r - 1) / 2;
      st.cr.resize(h * h);
      st.ci.resize(h * h);
      for (int k = 1; k <= h; k++)
        for (int t = 1; t <= h; t++) {
          const double a = 2.0 * kPi * static_cast<double>((t * k) % r) / r;
          st.cr[(k - 1) * h + t - 1] = static_cast<T>(std::cos(a));
          st.ci[(k - 1) * h + t - 1] = static_cast<T>(std::sin(a));
        }
    }
    P.stages.push_back(std::move(st));
    cur /= static_cast<std::size_t>(r);
  }
}

template <typename T>
static std::shared_ptr<const Plan<T>> BuildPlan(std::size_t n) {
  auto P = std::make_shared<Plan<T>>();
  P->n = n;
  std::vector<int> radices;
  if (Factorise(n, radices)) {
    FillStages(*P, radices);
    if (n >= kFourStepMin) {
      // Balanced split: biggest factors first, each to the smaller side.
      std::vector<int> f = radices;
      std::sort(f.rbegin(), f.rend());
      std::size_t a = 1, b = 1;
      for (int r : f) (a <= b ? a : b) *= static_cast<std::size_t>(r);
      P->n1 = a;
      P->n2 = b;
      P->p1 = GetPlan<T>(a);
      P->p2 = GetPlan<T>(b);
      P->ftr.resize(n);
      P->fti.resize(n);
      for (std::size_t k2 = 0; k2 < b; k2++)
        for (std::size_t j1 = 0; j1 < a; j1++) {
          double c, s;
          Root(static_cast<std::uint64_t>(j1) * k2, n, c, s);
          P->ftr[k2 * a + j1] = static_cast<T>(c);
          P->fti[k2 * a + j1] = static_cast<T>(s);
        }
    }
    return P;
  }
  // Bluestein: X_k = w_k * sum_j (x_j w_j) conj(w_{k-j}), w_k = exp(-i pi k^2 / n).
  P->bluestein = true;
  const std::size_t m = NextSmooth(2 * n - 1);
  P->m = m;
  P->pm = GetPlan<T>(m);
  P->chr.resize(n);
  P->chi.resize(n);
  std::vector<double> br(m, 0.0), bi(m, 0.0);
  for (std::size_t k = 0; k < n; k++) {
    double c, s;
    Root(static_cast<std::uint64_t>(k) * k, 2 * n, c, s);  // exp(-2 pi i k^2 / 2n)
    P->chr[k] = static_cast<T>(c);
    P->chi[k] = static_cast<T>(s);
    br[k] = c;
    bi[k] = -s;
    if (k) { br[m - k] = c; bi[m - k] = -s; }
  }
  // Kernel spectrum in double whatever T is, then rounded.
  auto pd = GetPlan<double>(m);
  std::vector<double> scratch(ScratchSingle(*pd));
  generic::ExecSingle(*pd, br.data(), bi.data(), scratch.data());
  P->kr.resize(m);
  P->ki.resize(m);
  for (std::size_t k = 0; k < m; k++) {
    P->kr[k] = static_cast<T>(br[k] / m);
    P->ki[k] = static_cast<T>(bi[k] / m);
  }
  return P;
}

template <typename T>
static std::shared_ptr<const RealPlan<T>> BuildRealPlan(std::size_t n) {
  auto R = std::make_shared<RealPlan<T>>();
  R->n = n;
  if (n % 2 == 0) {
    R->half = GetPlan<T>(n / 2);
    R->wr.resize(n / 2 + 1);
    R->wi.resize(n / 2 + 1);
    for (std::size_t k = 0; k <= n / 2; k++) {
      double c, s;
      Root(k, n, c, s);
      R->wr[k] = static_cast<T>(c);
      R->wi[k] = static_cast<T>(s);
    }
  } else {
    R->full = GetPlan<T>(n);
  }
  return R;
}

// The process-wide plan cache: keyed by (length, precision, complex|real);
// inverse transforms share the forward plan (re/im swap). Plans are built
// outside the lock (a plan asks the cache for its sub-plans) and the cache is
// bounded: past kMaxPlans entries it is cleared, in-flight plans stay alive
// through their shared_ptr.
namespace {
constexpr std::size_t kMaxPlans = 256;
struct PlanCache {
  std::mutex mu;
  std::map<std::pair<std::size_t, int>, std::shared_ptr<const void>> plans;  // int: 0 f64, 1 f32, +2 real
  std::size_t hits = 0, misses = 0;
};
PlanCache& Cache() {
  static PlanCache* cache = new PlanCache();  // never destroyed: worker threads may outlive static teardown
  return *cache;
}
template <typename P, typename Build>
std::shared_ptr<const P> Lookup(std::size_t n, int tag, Build build) {
  PlanCache& c = Cache();
  const auto key = std::make_pair(n, tag);
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.plans.find(key);
    if (it != c.plans.end()) {
      c.hits++;
      return std::static_pointer_cast<const P>(it->second);
    }
  }
  std::shared_ptr<const P> made = build(n);
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.plans.find(key);
  if (it != c.plans.end()) {  // another thread built it meanwhile
    c.hits++;
    return std::static_pointer_cast<const P>(it->second);
  }
  c.misses++;
  if (c.plans.size() >= kMaxPlans) c.plans.clear();
  c.plans.emplace(key, made);
  return made;
}
}  // namespace

template <typename T>
std::shared_ptr<const Plan<T>> GetPlan(std::size_t n) {
  return Lookup<Plan<T>>(n, sizeof(T) == 4 ? 1 : 0, BuildPlan<T>);
}
template <typename T>
std::shared_ptr<const RealPlan<T>> GetRealPlan(std::size_t n) {
  return Lookup<RealPlan<T>>(n, sizeof(T) == 4 ? 3 : 2, BuildRealPlan<T>);
}
template std::shared_ptr<const Plan<float>> GetPlan<float>(std::size_t);
template std::shared_ptr<const Plan<double>> GetPlan<double>(std::size_t);
template std::shared_ptr<const RealPlan<float>> GetRealPlan<float>(std::size_t);
template std::shared_ptr<const RealPlan<double>> GetRealPlan<double>(std::size_t);

CacheStats GetCacheStats() {
  PlanCache& c = Cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return CacheStats{c.plans.size(), c.hits, c.misses};
}

// ---------------------------- N-API ----------------------------

namespace {

const char* FnName(Kind k) {
  return k == Kind::C2C ? "fftC2C" : k == Kind::R2C ? "fftR2C" : "fftC2R";
}

// A Float32Array or Float64Array argument of the expected length. (Messages
// are built only on failure: this runs on every call.)
void* ArrayArg(const Napi::CallbackInfo& info, std::size_t i, const char* fn, const char* name, int& f32,
               std::size_t length, std::vector<Napi::Object>& keep) {
  Napi::Env env = info.Env();
  Napi::Value v = info[i];
  auto where = [&] { return std::string(fn) + ": " + name; };
  napi_typedarray_type t;
  std::size_t len = 0;
  void* data = nullptr;
  if (!v.IsTypedArray() || napi_get_typedarray_info(env, v, &t, &len, &data, nullptr, nullptr) != napi_ok ||
      (t != napi_float32_array && t != napi_float64_array))
    throw Napi::TypeError::New(env, where() + " must be a Float32Array or Float64Array");
  const int is32 = (t == napi_float32_array) ? 1 : 0;
  if (f32 < 0) f32 = is32;
  else if (f32 != is32)
    throw Napi::TypeError::New(env, where() + " must have the same element type as the first array");
  if (len != length)
    throw Napi::RangeError::New(env, where() + ": length " + std::to_string(len) + " does not match the shape (" +
                                         std::to_string(length) + ")");
  keep.push_back(v.As<Napi::Object>());
  return data;
}

std::vector<std::size_t> IntList(const Napi::CallbackInfo& info, std::size_t i, const char* fn, const char* name,
                                 double min) {
  auto where = [&] { return std::string(fn) + ": " + name; };
  if (!info[i].IsArray()) throw Napi::TypeError::New(info.Env(), where() + " must be an array of integers");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<std::size_t> out;
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value e = a[k];
    if (!e.IsNumber()) throw Napi::TypeError::New(info.Env(), where() + " must be an array of integers");
    const double d = e.As<Napi::Number>().DoubleValue();
    if (!(d >= min) || d != std::floor(d) || d > 9007199254740991.0)
      throw Napi::RangeError::New(info.Env(), where() + "[" + std::to_string(k) + "] is out of range");
    out.push_back(static_cast<std::size_t>(d));
  }
  return out;
}

Job ParseJob(const Napi::CallbackInfo& info, Kind kind, std::vector<Napi::Object>& keep) {
  const char* fn = FnName(kind);
  Napi::Env env = info.Env();
  const std::size_t nargs = kind == Kind::C2C ? 7 : 5;
  if (info.Length() < nargs) throw Napi::TypeError::New(env, std::string(fn) + ": expected " + std::to_string(nargs) + " arguments");
  const std::size_t si = kind == Kind::C2C ? 4 : 3;
  Job j;
  j.kind = kind;
  j.shape = IntList(info, si, fn, "shape", 1);
  j.axes = IntList(info, si + 1, fn, "axes", 0);
  if (j.shape.empty()) throw Napi::RangeError::New(env, std::string(fn) + ": shape must not be empty");
  if (j.axes.empty()) throw Napi::RangeError::New(env, std::string(fn) + ": axes must not be empty");
  for (std::size_t k = 0; k < j.axes.size(); k++) {
    if (j.axes[k] >= j.shape.size() || (k && j.axes[k] <= j.axes[k - 1]))
      throw Napi::RangeError::New(env, std::string(fn) + ": axes must be sorted, unique and within the shape");
  }
  std::size_t total = 1;
  for (std::size_t d : j.shape) {
    if (total > (std::size_t(1) << 53) / d) throw Napi::RangeError::New(env, std::string(fn) + ": shape is too large");
    total *= d;
  }
  std::size_t half = total;
  if (kind != Kind::C2C) {
    const std::size_t last = j.shape[j.axes.back()];
    half = total / last * (last / 2 + 1);
  }
  int f32 = -1;
  switch (kind) {
    case Kind::C2C:
      j.in0 = ArrayArg(info, 0, fn, "re", f32, total, keep);
      j.in1 = ArrayArg(info, 1, fn, "im", f32, total, keep);
      j.out0 = ArrayArg(info, 2, fn, "outRe", f32, total, keep);
      j.out1 = ArrayArg(info, 3, fn, "outIm", f32, total, keep);
      if (!info[6].IsBoolean()) throw Napi::TypeError::New(env, "fftC2C: inverse must be a boolean");
      j.inverse = info[6].As<Napi::Boolean>().Value();
      break;
    case Kind::R2C:
      j.in0 = ArrayArg(info, 0, fn, "x", f32, total, keep);
      j.out0 = ArrayArg(info, 1, fn, "outRe", f32, half, keep);
      j.out1 = ArrayArg(info, 2, fn, "outIm", f32, half, keep);
      break;
    case Kind::C2R:
      j.in0 = ArrayArg(info, 0, fn, "re", f32, half, keep);
      j.in1 = ArrayArg(info, 1, fn, "im", f32, half, keep);
      j.out0 = ArrayArg(info, 2, fn, "out", f32, total, keep);
      j.inverse = true;
      break;
  }
  j.f32 = f32 == 1;
  return j;
}

// Runs a Job on the libuv pool. The typed arrays (inputs and outputs) are
// held by references until the worker is destroyed, after OnOK/OnError.
class FftWorker : public Napi::AsyncWorker {
 public:
  FftWorker(Napi::Env env, Job job, const std::vector<Napi::Object>& keep)
      : Napi::AsyncWorker(env, "qscope.fft"), job_(std::move(job)), deferred_(Napi::Promise::Deferred::New(env)) {
    for (const Napi::Object& o : keep) refs_.push_back(Napi::Persistent(o));
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override {
    try {
      RunJob(job_);
    } catch (const std::exception& e) {
      SetError(std::string("fft: ") + e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Job job_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> refs_;
};

template <Kind K>
Napi::Value Sync(const Napi::CallbackInfo& info) {
  std::vector<Napi::Object> keep;
  Job j = ParseJob(info, K, keep);
  try {
    RunJob(j);
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(info.Env(), std::string(FnName(K)) + ": out of memory");
  }
  return info.Env().Undefined();
}

template <Kind K>
Napi::Value Async(const Napi::CallbackInfo& info) {
  std::vector<Napi::Object> keep;
  Job j = ParseJob(info, K, keep);
  auto* w = new FftWorker(info.Env(), std::move(j), keep);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  CacheStats s = GetCacheStats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("plans", Napi::Number::New(info.Env(), static_cast<double>(s.plans)));
  o.Set("hits", Napi::Number::New(info.Env(), static_cast<double>(s.hits)));
  o.Set("misses", Napi::Number::New(info.Env(), static_cast<double>(s.misses)));
  o.Set("isa", Napi::String::New(info.Env(), UseAvx2() ? "avx2" : "generic"));
  return o;
}

}  // namespace
}  // namespace fft

void InitFft(Napi::Env env, Napi::Object exports) {
  using fft::Kind;
  exports.Set("fftC2C", Napi::Function::New(env, fft::Sync<Kind::C2C>, "fftC2C"));
  exports.Set("fftR2C", Napi::Function::New(env, fft::Sync<Kind::R2C>, "fftR2C"));
  exports.Set("fftC2R", Napi::Function::New(env, fft::Sync<Kind::C2R>, "fftC2R"));
  exports.Set("fftC2CAsync", Napi::Function::New(env, fft::Async<Kind::C2C>, "fftC2CAsync"));
  exports.Set("fftR2CAsync", Napi::Function::New(env, fft::Async<Kind::R2C>, "fftR2CAsync"));
  exports.Set("fftC2RAsync", Napi::Function::New(env, fft::Async<Kind::C2R>, "fftC2RAsync"));
  exports.Set("fftPlanCacheStats", Napi::Function::New(env, fft::Stats, "fftPlanCacheStats"));
}

}  // namespace qscope
