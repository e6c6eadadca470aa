// Kernel family 'svt': not yet written (see its issue).
#include "kernels.h"

namespace qscope {
void InitSvt(Napi::Env, Napi::Object) {}
}  // namespace qscope
