#pragma once

// Helpers shared by the fuzz targets (test/fuzz/fuzz_*.cc). Each target defines LLVMFuzzerTestOneInput; it is
// linked with libFuzzer in the sanitizer build (QT_FUZZ) and with replay_main.cc everywhere else, so that the seed
// corpora and the regression inputs are replayed by ctest.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/io/tnn_io.h"

namespace qt {
namespace fuzz {

// The readers under test take paths: the input is written to a file of this process (in /dev/shm when it exists,
// so that a campaign does not wear the disk).
inline std::string TempPath(const std::string& suffix) {
  static const std::string dir = [] {
    if (const char* t = std::getenv("QT_FUZZ_TMPDIR")) return std::string(t);
    return std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  }();
  return dir + "/qtfuzz-" + std::to_string(getpid()) + suffix;
}

inline std::string WriteTemp(const std::string& suffix, const uint8_t* data, size_t size) {
  const std::string path = TempPath(suffix);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

// A file of the source tree (fixed companions of the fuzzed file: a proto, a caffemodel). Missing is a setup error.
inline std::string SourceFile(const std::string& rel) {
  std::string text;
  const std::string path = std::string(QT_SOURCE_DIR) + "/" + rel;
  if (!ReadFileText(path, &text).ok()) {
    std::fprintf(stderr, "fuzz target setup: cannot read %s\n", path.c_str());
    std::abort();
  }
  return text;
}

// A failed Status must be one line: errors are shown to the user as one line naming the file.
inline void CheckOneLine(const std::string& message) {
  if (message.empty() || message.find('\n') != std::string::npos) {
    std::fprintf(stderr, "error message is empty or not one line: '%s'\n", message.c_str());
    std::abort();
  }
}

}  // namespace fuzz
}  // namespace qt
