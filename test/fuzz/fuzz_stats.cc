// The statistics file reader (--stats), with and without the per-channel histograms. The fingerprint the run
// expects is taken from the file itself (bytes 12-19), so that mutations reach the body.
#include <cstring>

#include "quantization/quantizer/stats_file.h"
#include "test/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qt;
  uint64_t fingerprint = 0;
  if (size >= 20) std::memcpy(&fingerprint, data + 12, 8);
  const std::string path = fuzz::WriteTemp(".stats", data, size);
  for (bool channel_histograms : {false, true}) {
    std::map<std::string, BlobStats> stats;
    const Status s = LoadBlobStats(path, fingerprint, channel_histograms, &stats);
    if (!s.ok()) fuzz::CheckOneLine(s.message());
  }
  return 0;
}
