#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/graph/graph.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/inputs/preprocess.h"
#include "quantization/methods/scale_methods.h"

namespace qt {

// How blob scales are grouped: per channel (TNN -t 0), per-channel weights with per-tensor blobs ("mixed",
// -t 1), or per tensor for both (-t 2).
enum class MergeType { kPerChannel = 0, kMixed = 1, kPerTensor = 2 };

struct QuantizeOptions {
  BlobMethod blob_method = BlobMethod::kMinMax;
  WeightMethod weight_method = WeightMethod::kMinMax;
  MergeType merge = MergeType::kMixed;
  bool tnn_compat = false;  // reproduce TNN quantization_cmd's arithmetic exactly (tnn_format.md §D)
  Preprocess preprocess;
};

// Receives progress lines and notes (method downgrades, folding decisions) for the user.
using QuantizeLog = std::function<void(const std::string& line)>;

// Calibrates `fp32` on `samples` (one file per model input, in the order given) and returns the quantized graph, as TNN's tool
// builds it: Conv→ReLU/ReLU6 fused, blob scales for the I/O of Conv/Add/Concat/InnerProduct/ReLU/Pooling, int8
// Conv/InnerProduct weights with the input scale folded in, Add (two inputs) and Concat marked quantized, and
// ReLU/max-pool scales merged into their producers.
Status QuantizeGraph(const Graph& fp32, const std::vector<CalibrationSample>& samples, const QuantizeOptions& options,
                     const QuantizeLog& log, Graph* quantized);

}  // namespace qt
