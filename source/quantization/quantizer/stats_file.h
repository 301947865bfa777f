#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/graph/graph.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/inputs/preprocess.h"
#include "quantization/methods/blob_stats.h"

namespace qt {

// A 64-bit fingerprint of what calibration statistics depend on: the calibrated graph (its TNN serialization, so
// any source format), the input dims, the preprocessing, and every calibration file's name and content.
Status CalibrationFingerprint(const Graph& graph, const std::vector<CalibrationSample>& samples,
                              const Preprocess& pre, uint64_t* fingerprint);

// The statistics file (--stats): magic "QTSTATS", format version, fingerprint, then every blob's ranges, means and
// histograms (counts as varints). Written atomically.
Status SaveBlobStats(const std::string& path, uint64_t fingerprint, const std::map<std::string, BlobStats>& stats);

// Reads a statistics file. Per-channel histograms are read only when `channel_histograms` (per-channel KL or MSE
// needs them), else skipped. A file made for another fingerprint is refused with a message naming both; a corrupt
// or truncated file is an error naming the file and the field.
Status LoadBlobStats(const std::string& path, uint64_t fingerprint, bool channel_histograms,
                     std::map<std::string, BlobStats>* stats);

}  // namespace qt
