#include <string>
#include <vector>

#include "collector/app.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return outrigger::RunMain(args);
}
