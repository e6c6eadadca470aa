// Kernel family 'masks': not yet written (see its issue).
#include "kernels.h"

namespace qscope {
void InitMasks(Napi::Env, Napi::Object) {}
}  // namespace qscope
