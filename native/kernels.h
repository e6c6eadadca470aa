// Registration entry points of the kernel families. Each family lives in its
// own .cc file and adds its exports to the addon's exports object.
#pragma once
#include <napi.h>

namespace qscope {
void InitMasks(Napi::Env env, Napi::Object exports);
void InitFft(Napi::Env env, Napi::Object exports);
void InitSvd(Napi::Env env, Napi::Object exports);
void InitSvt(Napi::Env env, Napi::Object exports);
void InitSampling(Napi::Env env, Napi::Object exports);
void InitMrfm(Napi::Env env, Napi::Object exports);
void InitSpins(Napi::Env env, Napi::Object exports);
}  // namespace qscope
