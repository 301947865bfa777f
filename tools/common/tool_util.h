#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/base/tensor.h"

namespace qt {

// A tool's main: parses the flags (gflags, with `usage` for --help), refuses stray arguments, runs `run`, and turns
// its Status into the exit code (0, or 1 with one line "<tool>: error: <message>" on stderr).
int ToolMain(const char* tool, const char* usage, int argc, char** argv, const std::function<Status()>& run);

// Prints "<tool>: error: <message>" on one line of stderr and returns the exit code for a failed run.
inline int FailWith(const char* tool, const Status& s) {
  std::fprintf(stderr, "%s: error: %s\n", tool, s.message().c_str());
  return 1;
}

// Our flags have a short and a long spelling (-p/--proto, as TNN's tool has); gflags knows each as its own
// flag, so the value is whichever of the two was given. Both given with different values is an error.
Status PickFlag(const char* short_name, const std::string& short_value, const char* long_name,
                const std::string& long_value, std::string* value);

// The non-empty items of a comma-separated list ("a,,b" gives a and b).
std::vector<std::string> SplitList(const std::string& s);

// A JSON string literal of s (quotes, backslashes and control characters escaped).
std::string JsonString(const std::string& s);

// The shared --input_shape flag ("name:1,3,H,W[;name2:...]") by input name; empty when not given. Errors name the
// item and the rule broken.
Status InputShapesFlag(std::map<std::string, Dims>* shapes);

// Checked before any long work, so that an unwritable output fails at once: the folder of `path` must exist and be
// writable. `flag` names the option in the message.
Status CheckOutputWritable(const std::string& path, const std::string& flag);

// "done/total, rate, ETA" on stderr: redrawn in place on a terminal at most every 0.2 s, or printed as a plain
// line at every tenth of the work when stderr is a file or pipe, so that logs stay short.
class Progress {
 public:
  Progress(std::string what, size_t total);
  void Update(size_t done);
  // Ends the line; safe to call more than once.
  void Finish();

 private:
  std::string what_;
  size_t total_;
  bool tty_;
  bool open_ = false;
  size_t last_tenth_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace qt
