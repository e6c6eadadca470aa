// Kernel family 'svd': not yet written (see its issue).
#include "kernels.h"

namespace qscope {
void InitSvd(Napi::Env, Napi::Object) {}
}  // namespace qscope
