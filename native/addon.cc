// The qscope native addon: one module, every kernel family registered here.
#include "kernels.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  qscope::InitMasks(env, exports);
  qscope::InitFft(env, exports);
  qscope::InitSvd(env, exports);
  qscope::InitSvt(env, exports);
  qscope::InitSampling(env, exports);
  qscope::InitMrfm(env, exports);
  qscope::InitSpins(env, exports);
  return exports;
}

NODE_API_MODULE(qscope_native, Init)
