#pragma once

#include <cstdio>
#include <string>

#include "core/base/status.h"

namespace qt {

// Prints "<tool>: error: <message>" on one line of stderr and returns the exit code for a failed run.
inline int FailWith(const char* tool, const Status& s) {
  std::fprintf(stderr, "%s: error: %s\n", tool, s.message().c_str());
  return 1;
}

// Our flags have a short and a long spelling (-p/--proto, as TNN's tool has); gflags knows each as its own
// flag, so the value is whichever of the two was given. Both given with different values is an error.
Status PickFlag(const char* short_name, const std::string& short_value, const char* long_name,
                const std::string& long_value, std::string* value);

// Checks before any work that the folder of an output prefix (`-o out/model`) exists and is writable.
Status CheckOutputFolder(const std::string& prefix);

}  // namespace qt
