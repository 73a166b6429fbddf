#include "collector/common/mutex_checks.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "absl/synchronization/mutex.h"

namespace outrigger::common {
namespace {

// Two locks taken in one order, then in the other: Debian's Abseil (built without
// NDEBUG) takes that for a potential deadlock and aborts ("dying due to potential
// deadlock") unless the check is off. In a child process, so that the check's state
// does not leak into other tests.
void LockInBothOrders() {
  absl::Mutex a;
  absl::Mutex b;
  a.Lock();
  b.Lock();
  b.Unlock();
  a.Unlock();
  b.Lock();
  a.Lock();
  a.Unlock();
  b.Unlock();
}

TEST(MutexChecks, ALockOrderInversionDoesNotAbort) {
  EXPECT_EXIT(
      {
        DisableMutexDeadlockDetection();
        LockInBothOrders();
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace outrigger::common
