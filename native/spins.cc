// Kernel family 'spins': classical unit 3D spins on a periodic n×n square
// lattice, the two Hamiltonians of the domain-imaging paper (issue 15), and a
// seeded Metropolis simulated annealer. Reading of the paper's Hamiltonians:
// docs/decisions/1500-spin-hamiltonians.md.
//
//   Type I  (labyrinths):  E = −J Σ_<ij> S_i·S_j + Σ_<ij> D_ij·(S_i × S_j),
//                          D_ij = D (ẑ × r̂_ij) (interfacial DMI, in plane, ⊥ bond)
//   Type II (domains):     E = −J Σ_<ij> S_i·S_j
//                              + D Σ_{i<j} [S_i·S_j − a (S_i·r̂)(S_j·r̂)] / r³  (all pairs, periodic images;
//                                a = 1 as printed in the paper, a = 3 the textbook dipole; decision 1500)
//                              − K Σ_i S_iz²
//
// <ij>: nearest-neighbour bonds, each counted once. Lattice: site (row, col),
// x = col, y = row; array layout [n][n][3] (Sx, Sy, Sz innermost).
//
// Local field h_i = −∂E/∂S_i (S_i treated as an unconstrained vector). Every
// term but the anisotropy is bilinear, so E = −½ Σ_i S_i·h_i^pair − K Σ S_iz².
// The dipolar field is a periodic convolution, computed with the project's
// FFT (fft::Complex) from a kernel summed over (2M+1)² periodic images.
//
//   spinsField(model, spins)  -> Float64Array h (n·n·3)       (sync)
//   spinsEnergy(model, spins) -> number                       (sync)
//   spinsAnnealStart(model, schedule, init | null) -> {promise, cancel}
//
// Annealing: checkerboard Metropolis (two colours per sweep; the dipolar field
// is recomputed before each colour and held fixed during it, so same-colour
// dipolar couplings lag by one half-sweep), proposals S' = normalise(S + σ·g)
// with g Gaussian and σ adapted every sweep towards 50 % acceptance, a
// geometric temperature schedule t0 → t1, then zero-temperature alignment
// sweeps (each spin turned along its effective field, kept only if the
// energy falls). One thread, one xoshiro stream: bit-reproducible per seed.
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fft_plan.h"
#include "kernels.h"
#include "rng.h"

namespace qscope {
namespace {

struct Model {
  int type = 1;
  std::size_t n = 0;
  double J = 1, D = 0.3, K = 0;
  std::size_t images = 8;  // dipolar: periodic images per direction on each side
  double dipoleFactor = 1;  // a in D [S_i·S_j − a (S_i·r̂)(S_j·r̂)]/r³: 1 as printed in the paper, 3 textbook
};

struct Schedule {
  double t0 = 1.5, t1 = 0.01;
  std::size_t sweeps = 1000, alignSweeps = 50;
  uint64_t seed = 1;
};

class Hamiltonian {
 public:
  explicit Hamiltonian(const Model& m) : m_(m), nn_(m.n * m.n) {
    if (m_.type == 2) {
      BuildDipolarKernel();
      hdip_.assign(nn_ * 3, 0.0);
      for (auto& b : re_) b.resize(nn_);
      for (auto& b : im_) b.resize(nn_);
    }
  }

  // Dipolar field of the whole lattice into hdip_ (Type II; no-op for Type I).
  void UpdateDipolar(const double* s) {
    if (m_.type != 2) return;
    for (int a = 0; a < 3; a++) {
      for (std::size_t i = 0; i < nn_; i++) {
        re_[a][i] = s[i * 3 + a];
        im_[a][i] = 0;
      }
      fft::Complex(re_[a].data(), im_[a].data(), re_[a].data(), im_[a].data(), {m_.n, m_.n}, {0, 1}, false);
    }
    for (std::size_t k = 0; k < nn_; k++) {
      const double xr = re_[0][k], xi = im_[0][k], yr = re_[1][k], yi = im_[1][k];
      re_[0][k] = wxx_[k] * xr + wxy_[k] * yr;
      im_[0][k] = wxx_[k] * xi + wxy_[k] * yi;
      re_[1][k] = wxy_[k] * xr + wyy_[k] * yr;
      im_[1][k] = wxy_[k] * xi + wyy_[k] * yi;
      re_[2][k] *= wzz_[k];
      im_[2][k] *= wzz_[k];
    }
    for (int a = 0; a < 3; a++) {
      fft::Complex(re_[a].data(), im_[a].data(), re_[a].data(), im_[a].data(), {m_.n, m_.n}, {0, 1}, true);
      for (std::size_t i = 0; i < nn_; i++) hdip_[i * 3 + a] = re_[a][i];
    }
  }

  // Bilinear ("pair") field at site (r, c): exchange + DMI + the held dipolar field.
  void PairField(const double* s, std::size_t r, std::size_t c, double h[3]) const {
    const std::size_t n = m_.n;
    const std::size_t cp = (c + 1) % n, cm = (c + n - 1) % n, rp = (r + 1) % n, rm = (r + n - 1) % n;
    const double* e = s + (r * n + cp) * 3;  // r̂ = +x
    const double* w = s + (r * n + cm) * 3;  // r̂ = −x
    const double* so = s + (rp * n + c) * 3;  // r̂ = +y
    const double* no = s + (rm * n + c) * 3;  // r̂ = −y
    for (int a = 0; a < 3; a++) h[a] = m_.J * (e[a] + w[a] + so[a] + no[a]);
    if (m_.type == 1) {
      // Σ_j D_ij × S_j with D_ij = D ẑ×r̂: +x → D ŷ, −x → −D ŷ, +y → −D x̂, −y → +D x̂.
      // ŷ × S = (S_z, 0, −S_x); x̂ × S = (0, −S_z, S_y).
      const double D = m_.D;
      const double dx = e[0] - w[0], dz = e[2] - w[2];  // D ŷ × (S_e − S_w)
      h[0] += D * dz;
      h[2] -= D * dx;
      const double ny = no[1] - so[1], nz = no[2] - so[2];  // D x̂ × (S_no − S_so)
      h[1] -= D * nz;
      h[2] += D * ny;
    } else {
      const double* d = hdip_.data() + (r * n + c) * 3;
      for (int a = 0; a < 3; a++) h[a] += d[a];
    }
  }

  // −∂E/∂S for every site (anisotropy included); recomputes the dipolar field.
  void Field(const double* s, double* out) {
    UpdateDipolar(s);
    for (std::size_t r = 0; r < m_.n; r++)
      for (std::size_t c = 0; c < m_.n; c++) {
        double* h = out + (r * m_.n + c) * 3;
        PairField(s, r, c, h);
        if (m_.type == 2) h[2] += 2 * m_.K * s[(r * m_.n + c) * 3 + 2];
      }
  }

  double Energy(const double* s) {
    UpdateDipolar(s);
    double e = 0;
    for (std::size_t r = 0; r < m_.n; r++)
      for (std::size_t c = 0; c < m_.n; c++) {
        const double* si = s + (r * m_.n + c) * 3;
        double h[3];
        PairField(s, r, c, h);
        e -= 0.5 * (si[0] * h[0] + si[1] * h[1] + si[2] * h[2]);
        if (m_.type == 2) e -= m_.K * si[2] * si[2];
      }
    return e;
  }

  // Energy change of replacing S_i by t (others fixed), given the pair field h at i.
  double Delta(const double* si, const double* t, const double h[3]) const {
    double d = -((t[0] - si[0]) * h[0] + (t[1] - si[1]) * h[1] + (t[2] - si[2]) * h[2]);
    if (m_.type == 2) d -= m_.K * (t[2] * t[2] - si[2] * si[2]);
    return d;
  }

  const Model& model() const { return m_; }

 private:
  // Real-space kernel W(Δ) summed over periodic images, then its (real) spectrum.
  void BuildDipolarKernel() {
    const std::size_t n = m_.n;
    const long M = static_cast<long>(m_.images);
    const double af = m_.dipoleFactor;
    std::vector<double> xx(nn_, 0), yy(nn_, 0), xy(nn_, 0), zz(nn_, 0);
    for (std::size_t dr = 0; dr < n; dr++)
      for (std::size_t dc = 0; dc < n; dc++) {
        double sxx = 0, syy = 0, sxy = 0, szz = 0;
        for (long a = -M; a <= M; a++)
          for (long b = -M; b <= M; b++) {
            const double y = static_cast<double>(dr) + static_cast<double>(a * static_cast<long>(n));
            const double x = static_cast<double>(dc) + static_cast<double>(b * static_cast<long>(n));
            const double r2 = x * x + y * y;
            if (r2 == 0) continue;
            const double r = std::sqrt(r2), ir3 = 1.0 / (r2 * r), ir5 = ir3 / r2;
            sxx += -(ir3 - af * x * x * ir5);
            syy += -(ir3 - af * y * y * ir5);
            sxy += af * x * y * ir5;
            szz += -ir3;
          }
        const std::size_t k = dr * n + dc;
        xx[k] = m_.D * sxx;
        yy[k] = m_.D * syy;
        xy[k] = m_.D * sxy;
        zz[k] = m_.D * szz;
      }
    std::vector<double> im(nn_);
    auto spectrum = [&](std::vector<double>& w) {
      std::fill(im.begin(), im.end(), 0.0);
      fft::Complex(w.data(), im.data(), w.data(), im.data(), {n, n}, {0, 1}, false);  // W even: the spectrum is real
    };
    spectrum(xx), spectrum(yy), spectrum(xy), spectrum(zz);
    wxx_ = std::move(xx), wyy_ = std::move(yy), wxy_ = std::move(xy), wzz_ = std::move(zz);
  }

  Model m_;
  std::size_t nn_;
  std::vector<double> wxx_, wyy_, wxy_, wzz_;
  std::vector<double> hdip_;
  std::vector<double> re_[3], im_[3];
};

struct AnnealOutput {
  std::vector<double> spins;
  double energy = 0, acceptance = 0, sigma = 0;
  std::size_t sweepsDone = 0;
  bool aborted = false;
};

AnnealOutput Anneal(const Model& m, const Schedule& sc, std::vector<double> s, const std::atomic<bool>& cancel) {
  Hamiltonian H(m);
  Rng rng(sc.seed);
  const std::size_t n = m.n, nn = n * n;
  AnnealOutput out;
  if (s.empty()) {
    s.resize(nn * 3);
    for (std::size_t i = 0; i < nn; i++) {
      double g[3], q;
      do {
        g[0] = rng.Normal(), g[1] = rng.Normal(), g[2] = rng.Normal();
        q = std::sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]);
      } while (q < 1e-12);
      for (int a = 0; a < 3; a++) s[i * 3 + a] = g[a] / q;
    }
  }
  double sigma = 1.0;
  const double ratio = sc.sweeps > 1 ? std::pow(sc.t1 / sc.t0, 1.0 / static_cast<double>(sc.sweeps - 1)) : 1.0;
  double T = sc.t0;
  for (std::size_t sw = 0; sw < sc.sweeps; sw++, T *= ratio) {
    if (cancel.load(std::memory_order_relaxed)) {
      out.aborted = true;
      break;
    }
    std::size_t accepted = 0;
    for (int colour = 0; colour < 2; colour++) {
      H.UpdateDipolar(s.data());
      for (std::size_t r = 0; r < n; r++)
        for (std::size_t c = (r + colour) & 1; c < n; c += 2) {
          double* si = s.data() + (r * n + c) * 3;
          double h[3], t[3], q;
          H.PairField(s.data(), r, c, h);
          do {
            for (int a = 0; a < 3; a++) t[a] = si[a] + sigma * rng.Normal();
            q = std::sqrt(t[0] * t[0] + t[1] * t[1] + t[2] * t[2]);
          } while (q < 1e-12);
          for (int a = 0; a < 3; a++) t[a] /= q;
          const double dE = H.Delta(si, t, h);
          if (dE <= 0 || rng.Uniform() < std::exp(-dE / T)) {
            for (int a = 0; a < 3; a++) si[a] = t[a];
            accepted++;
          }
        }
    }
    out.acceptance = static_cast<double>(accepted) / static_cast<double>(nn);
    sigma *= out.acceptance > 0.5 ? 1.1 : 1 / 1.1;
    sigma = std::fmin(4.0, std::fmax(1e-3, sigma));
    out.sweepsDone++;
  }
  for (std::size_t sw = 0; sw < sc.alignSweeps && !out.aborted; sw++) {
    if (cancel.load(std::memory_order_relaxed)) {
      out.aborted = true;
      break;
    }
    for (int colour = 0; colour < 2; colour++) {
      H.UpdateDipolar(s.data());
      for (std::size_t r = 0; r < n; r++)
        for (std::size_t c = (r + colour) & 1; c < n; c += 2) {
          double* si = s.data() + (r * n + c) * 3;
          double h[3], t[3];
          H.PairField(s.data(), r, c, h);
          t[0] = h[0], t[1] = h[1], t[2] = h[2] + (m.type == 2 ? 2 * m.K * si[2] : 0.0);
          const double q = std::sqrt(t[0] * t[0] + t[1] * t[1] + t[2] * t[2]);
          if (q < 1e-12) continue;
          for (int a = 0; a < 3; a++) t[a] /= q;
          if (H.Delta(si, t, h) < 0)
            for (int a = 0; a < 3; a++) si[a] = t[a];
        }
    }
  }
  out.sigma = sigma;
  out.energy = H.Energy(s.data());
  out.spins = std::move(s);
  return out;
}

// ---------------------------- N-API ----------------------------

double Num(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("spins: ") + key + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) throw Napi::RangeError::New(o.Env(), std::string("spins: ") + key + " must be finite");
  return d;
}

// The TS layer validates; these re-checks keep a bad call from reading out of bounds.
Model ParseModel(const Napi::Value& v) {
  Napi::Env env = v.Env();
  if (!v.IsObject()) throw Napi::TypeError::New(env, "spins: model must be an object");
  Napi::Object o = v.As<Napi::Object>();
  Model m;
  m.type = static_cast<int>(Num(o, "type"));
  const double n = Num(o, "n");
  if (m.type != 1 && m.type != 2) throw Napi::RangeError::New(env, "spins: type must be 1 or 2");
  if (!(n >= 2 && n <= 4096) || n != std::floor(n) || static_cast<long>(n) % 2)
    throw Napi::RangeError::New(env, "spins: n must be an even integer in [2, 4096]");
  m.n = static_cast<std::size_t>(n);
  m.J = Num(o, "J");
  m.D = Num(o, "D");
  m.K = Num(o, "K");
  const double images = Num(o, "images");
  if (!(images >= 0 && images <= 1024) || images != std::floor(images)) throw Napi::RangeError::New(env, "spins: images must be an integer in [0, 1024]");
  m.images = static_cast<std::size_t>(images);
  m.dipoleFactor = Num(o, "dipoleFactor");
  return m;
}

std::vector<double> SpinsArg(const Napi::Value& v, std::size_t n, const char* name) {
  Napi::Env env = v.Env();
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, std::string("spins: ") + name + " must be a Float64Array");
  auto a = v.As<Napi::Float64Array>();
  if (a.ElementLength() != n * n * 3) throw Napi::RangeError::New(env, std::string("spins: ") + name + " must hold n·n·3 values");
  return std::vector<double>(a.Data(), a.Data() + a.ElementLength());
}

Napi::Value Field(const Napi::CallbackInfo& info) {
  Model m = ParseModel(info[0]);
  std::vector<double> s = SpinsArg(info[1], m.n, "spins");
  Hamiltonian H(m);
  auto out = Napi::Float64Array::New(info.Env(), s.size());
  H.Field(s.data(), out.Data());
  return out;
}

Napi::Value Energy(const Napi::CallbackInfo& info) {
  Model m = ParseModel(info[0]);
  std::vector<double> s = SpinsArg(info[1], m.n, "spins");
  Hamiltonian H(m);
  return Napi::Number::New(info.Env(), H.Energy(s.data()));
}

class AnnealWorker : public Napi::AsyncWorker {
 public:
  AnnealWorker(Napi::Env env, Model m, Schedule sc, std::vector<double> init, std::shared_ptr<std::atomic<bool>> cancel)
      : Napi::AsyncWorker(env, "qscope.spins"), deferred_(Napi::Promise::Deferred::New(env)), m_(m), sc_(sc),
        init_(std::move(init)), cancel_(std::move(cancel)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      out_ = Anneal(m_, sc_, std::move(init_), *cancel_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    auto s = Napi::Float64Array::New(env, out_.spins.size());
    std::memcpy(s.Data(), out_.spins.data(), out_.spins.size() * sizeof(double));
    o.Set("spins", s);
    o.Set("energy", Napi::Number::New(env, out_.energy));
    o.Set("acceptance", Napi::Number::New(env, out_.acceptance));
    o.Set("sigma", Napi::Number::New(env, out_.sigma));
    o.Set("sweepsDone", Napi::Number::New(env, static_cast<double>(out_.sweepsDone)));
    o.Set("aborted", Napi::Boolean::New(env, out_.aborted));
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Model m_;
  Schedule sc_;
  std::vector<double> init_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  AnnealOutput out_;
};

Napi::Value AnnealStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Model m = ParseModel(info[0]);
  if (!info[1].IsObject()) throw Napi::TypeError::New(env, "spins: schedule must be an object");
  Napi::Object so = info[1].As<Napi::Object>();
  Schedule sc;
  sc.t0 = Num(so, "t0");
  sc.t1 = Num(so, "t1");
  if (!(sc.t0 > 0) || !(sc.t1 > 0)) throw Napi::RangeError::New(env, "spins: t0, t1 must be > 0");
  const double sweeps = Num(so, "sweeps"), align = Num(so, "alignSweeps"), seed = Num(so, "seed");
  if (!(sweeps >= 0 && sweeps <= 1e7) || !(align >= 0 && align <= 1e7)) throw Napi::RangeError::New(env, "spins: sweeps out of range");
  if (!(seed >= 0 && seed <= 9007199254740991.0) || seed != std::floor(seed)) throw Napi::RangeError::New(env, "spins: seed must be a non-negative integer");
  sc.sweeps = static_cast<std::size_t>(sweeps);
  sc.alignSweeps = static_cast<std::size_t>(align);
  sc.seed = static_cast<uint64_t>(seed);
  std::vector<double> init;
  if (!info[2].IsNull() && !info[2].IsUndefined()) init = SpinsArg(info[2], m.n, "init");
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto* worker = new AnnealWorker(env, m, sc, std::move(init), cancel);
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", worker->Promise());
  handle.Set("cancel", Napi::Function::New(env, [cancel](const Napi::CallbackInfo&) { cancel->store(true); }, "cancel"));
  worker->Queue();
  return handle;
}

}  // namespace

void InitSpins(Napi::Env env, Napi::Object exports) {
  exports.Set("spinsField", Napi::Function::New(env, Field, "spinsField"));
  exports.Set("spinsEnergy", Napi::Function::New(env, Energy, "spinsEnergy"));
  exports.Set("spinsAnnealStart", Napi::Function::New(env, AnnealStart, "spinsAnnealStart"));
}

}  // namespace qscope
