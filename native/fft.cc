// Kernel family 'fft': not yet written (see its issue).
#include "kernels.h"

namespace qscope {
void InitFft(Napi::Env, Napi::Object) {}
}  // namespace qscope
