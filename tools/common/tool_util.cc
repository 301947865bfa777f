#include "tools/common/tool_util.h"

#include <gflags/gflags.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <gnu/libc-version.h>
#include <malloc.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

// -h as TNN's tools spell it; gflags' own --help also lists gflags' internal flags.
DEFINE_bool(h, false, "show this help (the tool's usage and its own flags) and exit");
DEFINE_string(input_shape, "",
              "input dims by input name, 'name:1,3,H,W[;name2:...]': fixes symbolic or wrong declared input dims "
              "(what ncnn's shape= and TNN's converter -in give)");

namespace qt {

namespace {

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define QT_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define QT_SANITIZED 1
#endif

// A first touch of a 4 KB page costs 5-14 us on the virtual machines the tools are timed on (a calibration of
// SqueezeNet touches about 32,000 of them: a sixth of its CPU time). Where the kernel gives transparent huge pages
// only on request ("madvise" mode), glibc 2.35+ requests them for what malloc maps when GLIBC_TUNABLES holds
// glibc.malloc.hugetlb=1, which it reads only at start-up: so the tool runs itself again once with it set
// (measured: 31,900 -> 3,000 page faults, calibration wall time 0.85x). QT_NO_HUGEPAGES=1, a hugetlb tunable
// already set, another mode, an older glibc, a sanitizer build or a failed exec all run the tool as it is.
void ReexecWithHugePages(char** argv) {
#if defined(__GLIBC__) && !defined(QT_SANITIZED)
  if (std::getenv("QT_NO_HUGEPAGES")) return;
  const char* current = std::getenv("GLIBC_TUNABLES");
  const std::string tunables = current ? current : "";
  if (tunables.find("glibc.malloc.hugetlb") != std::string::npos) return;
  int major = 0, minor = 0;
  if (std::sscanf(gnu_get_libc_version(), "%d.%d", &major, &minor) != 2 || major * 1000 + minor < 2035) return;
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  if (!std::getline(thp, mode) || mode.find("[madvise]") == std::string::npos) return;
  const std::string value = (tunables.empty() ? "" : tunables + ":") + "glibc.malloc.hugetlb=1";
  if (setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  // The exec failed: run without, and keep the variable from reaching anything the tool starts.
  if (current) {
    setenv("GLIBC_TUNABLES", current, 1);
  } else {
    unsetenv("GLIBC_TUNABLES");
  }
#else
  (void)argv;
#endif
}

}  // namespace

int ToolMain(const char* tool, const char* usage, int argc, char** argv, const std::function<Status()>& run) {
  ReexecWithHugePages(argv);
#if defined(__GLIBC__)
  // The tools' threads allocate a few large, long-lived buffers (a network's blobs, decoded inputs) phase after
  // phase. With one arena a phase reuses the pages the previous one freed; with glibc's default of an arena per
  // thread, each new worker faults in fresh pages (measured: the calibration report 0.40 -> 0.30 s, 7000 fewer
  // page faults). The hot loops do not allocate, so the shared arena's lock is not contended.
  mallopt(M_ARENA_MAX, 1);
  // The same buffers are freed and allocated again input after input (decoded images, a report's blobs). glibc
  // maps blocks past its mmap threshold and unmaps them on free, and gives the heap's free top back to the
  // kernel past its trim threshold: either way the next allocation faults in fresh pages, each a 2 MB page to
  // clear with huge pages (a tenth of a SqueezeNet report's CPU time). 32 MB is the largest mmap threshold glibc
  // accepts; what a tool frees stays in its heap until it exits.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  gflags::SetUsageMessage(usage);
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_h) {
    // Only the flags defined under tools/ (the tool's own and these shared ones).
    gflags::ShowUsageWithFlagsRestrict(argv[0], "tools/");
    return 0;
  }
  if (argc > 1) {
    std::fprintf(stderr, "%s: error: unexpected argument '%s'\n", tool, argv[1]);
    return 1;
  }
  const Status s = run();
  return s.ok() ? 0 : FailWith(tool, s);
}

Status PickFlag(const char* short_name, const std::string& short_value, const char* long_name,
                const std::string& long_value, std::string* value) {
  if (!short_value.empty() && !long_value.empty() && short_value != long_value) {
    return Status::InvalidArgument(std::string("-") + short_name + " and --" + long_name +
                                   " give different values ('" + short_value + "' and '" + long_value + "')");
  }
  *value = short_value.empty() ? long_value : short_value;
  return Status::Ok();
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

Status InputShapesFlag(std::map<std::string, Dims>* shapes) {
  shapes->clear();
  std::stringstream all(FLAGS_input_shape);
  std::string item;
  while (std::getline(all, item, ';')) {
    if (item.empty()) continue;
    const size_t colon = item.rfind(':');
    const std::string bad = "--input_shape '" + item + "': ";
    if (colon == std::string::npos || colon == 0) return Status::InvalidArgument(bad + "expected name:d0,d1,...");
    const std::string name = item.substr(0, colon);
    Dims dims;
    for (const std::string& d : SplitList(item.substr(colon + 1))) {
      char* end = nullptr;
      const long v = std::strtol(d.c_str(), &end, 10);
      if (*end != '\0' || v < 1 || v > (1 << 20)) {
        return Status::InvalidArgument(bad + "dim '" + d + "' is not an integer in [1, 2^20]");
      }
      dims.push_back(static_cast<int>(v));
    }
    if (dims.empty() || dims.size() > 6) return Status::InvalidArgument(bad + "needs 1 to 6 dims");
    if (!shapes->emplace(name, dims).second) return Status::InvalidArgument(bad + "input '" + name + "' is given twice");
  }
  return Status::Ok();
}

Status CheckOutputWritable(const std::string& path, const std::string& flag) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::IoError(flag + " " + path + ": folder '" + dir.string() + "' does not exist");
  if (access(dir.c_str(), W_OK) != 0) {
    return Status::IoError(flag + " " + path + ": folder '" + dir.string() + "' is not writable");
  }
  return Status::Ok();
}

Progress::Progress(std::string what, size_t total)
    : what_(std::move(what)), total_(total), tty_(isatty(fileno(stderr)) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void Progress::Update(size_t done) {
  const auto now = std::chrono::steady_clock::now();
  const size_t tenth = total_ ? done * 10 / total_ : 10;
  const bool last = done >= total_;
  if (tty_ ? (now - last_draw_ < std::chrono::milliseconds(200) && !last) : (tenth == last_tenth_ && !last)) return;
  last_draw_ = now;
  last_tenth_ = tenth;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = done / std::max(secs, 1e-9);
  std::fprintf(stderr, "%s%s: %zu/%zu, %.1f/s, ETA %.0f s%s", tty_ ? "\r" : "", what_.c_str(), done, total_, rate,
               rate > 0 ? (total_ - done) / rate : 0.0, tty_ ? "   " : "\n");
  open_ = tty_;
  if (last) Finish();
}

void Progress::Finish() {
  if (open_) std::fputc('\n', stderr);
  open_ = false;
}

}  // namespace qt
