#include <string>
#include <vector>

#include "collector/app.h"
#include "collector/common/mutex_checks.h"

int main(int argc, char** argv) {
  outrigger::common::DisableMutexDeadlockDetection();  // before any lock is taken
  std::vector<std::string> args(argv + 1, argv + argc);
  return outrigger::RunMain(args);
}
