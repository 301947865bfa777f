#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/graph/graph.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/inputs/preprocess.h"
#include "quantization/methods/blob_stats.h"
#include "quantization/methods/tnn_blob_statistics.h"

namespace qt {

// Receives (pass name, inputs done, inputs in all) as calibration advances; called from one thread at a time.
using ProgressFn = std::function<void(const std::string& pass, size_t done, size_t total)>;

// Model inputs loaded for one calibration sample, by input name.
using SampleTensors = std::map<std::string, Tensor>;

struct StreamingCalibration {
  StatsRequest request;
  // Inputs whose decoded tensors are kept (for a report after quantization), by sample index.
  std::vector<size_t> keep;
  // Images on separate threads (each with its own copy of the network, kernels single-threaded inside), or one
  // image at a time with the threads inside the kernels.
  bool parallel_images = true;
};

// The default calibration: one pass over the samples (each decoded once) in which every tracked blob's ranges,
// histograms and means are collected. With parallel images, ranges and histograms merge exactly and means are
// added in sample order, so the statistics are identical whatever the thread count. An input holding Inf or NaN
// in a tracked blob is an error naming the file.
Status CollectBlobStats(const Graph& graph, const std::vector<CalibrationSample>& samples,
                        const std::vector<std::string>& blobs, const Preprocess& pre,
                        const StreamingCalibration& how, const ProgressFn& progress,
                        std::map<std::string, BlobStats>* stats, std::map<size_t, SampleTensors>* kept);

// TNN's calibration (--compat tnn): a ranges pass then a histogram pass over the samples, one at a time, with
// TNN's NAIVE float convolution order so that blob ranges are bit-identical with the reference tool's.
// `merged[blob]` selects a single per-tensor statistics channel; histograms only when `histograms`.
Status CollectTnnBlobStatistics(const Graph& graph, const std::vector<CalibrationSample>& samples,
                                const std::map<std::string, bool>& merged, bool histograms, const Preprocess& pre,
                                const ProgressFn& progress, std::map<std::string, TnnBlobStatistics>* stats);

// Loads a sample's files into tensors of the network's input dims.
Status LoadSample(const CalibrationSample& sample, const std::map<std::string, Dims>& input_dims,
                  const Preprocess& pre, SampleTensors* tensors);

}  // namespace qt
