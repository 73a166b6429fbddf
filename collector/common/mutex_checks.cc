#include "collector/common/mutex_checks.h"

#include "absl/synchronization/mutex.h"

namespace outrigger::common {

void DisableMutexDeadlockDetection() { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore); }

}  // namespace outrigger::common
