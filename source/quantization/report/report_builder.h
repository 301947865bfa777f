#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/base/tensor.h"
#include "core/graph/graph.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/inputs/preprocess.h"
#include "quantization/methods/blob_stats.h"
#include "quantization/methods/scale_methods.h"
#include "quantization/report/report_data.h"

namespace qt {

// Every quantized layer of `int8`, in its layer order, with its local error (the int8 layer run alone as a
// one-layer network, fed the fp32 model's values of its input blobs, which it converts to int8 with the stored
// scales as TNN's runtime does) and its chain error (the whole int8 model up to its output), both against the fp32
// model's output blob of the same name on `inputs` (tensors by model input name). Cosines are means over the inputs;
// SQNR = 10·log10(Σ‖fp32‖² / Σ‖int8 − fp32‖²) over all inputs; clipped is the share of fp32 output values beyond
// the output scale's int8 range. A blob the int8 runtime fuses away (a 1x1 convolution's output before its fused
// Add) has no chain figures.
Status ComputeLayerErrors(const Graph& fp32, const Graph& int8,
                          const std::vector<const std::map<std::string, Tensor>*>& inputs,
                          std::vector<ReportLayer>* layers);

// The methods whose thresholds a histogram shows: Min-Max, KL, ACIQ-Gauss, ACIQ-Laplace, MSE.
const std::vector<BlobMethod>& ReportedBlobMethods();

// A histogram entry for every blob of `int8` that has a stored scale and statistics in `stats` (model inputs
// first, then layer outputs in layer order): the whole-tensor histogram resampled to `bars` bars, every reported
// method's per-tensor threshold on these statistics and the stored (chosen) threshold, with the clipped shares.
// `chosen` names each blob's method (blobs absent from it are labelled "merged").
std::vector<ReportHistogram> BlobHistograms(const Graph& int8, const std::map<std::string, BlobStats>& stats,
                                            const std::map<std::string, std::string>& chosen, int bars);

// The layers of `int8` that are not quantized, with a reason: `reasons` first (a caller that chose them, e.g. by
// sensitivity), then --fp32_layers (`user_float`), then what the graph says (no int8 kernel for the type, a
// Concat/Add fed by float layers only, a ReLU/pooling whose producer is float, ...).
std::vector<ReportFloatLayer> FloatLayers(const Graph& int8, const std::set<std::string>& user_float,
                                          const std::map<std::string, std::string>& reasons);

// Per output channel ranges of the dequantized weights of the `count` quantized convolutions and inner products
// with the lowest local cosine (chain cosine where there is no local figure).
std::vector<ReportWeightRange> WorstWeightRanges(const Graph& int8, const std::vector<ReportLayer>& layers,
                                                 int count);

// Fills the parts of `report` that come from the models: layer errors on `inputs` (with each layer's output scale
// method from `chosen_methods`, by blob), histograms from `stats` (resampled to 128 bars), the float layers, and the
// weight ranges of the four worst layers. Flags, headline figures, times and outputs are the caller's.
Status FillReport(const Graph& fp32, const Graph& int8, const std::map<std::string, BlobStats>& stats,
                  const std::map<std::string, std::string>& chosen_methods, const std::set<std::string>& user_float,
                  const std::map<std::string, std::string>& float_reasons,
                  const std::vector<const std::map<std::string, Tensor>*>& inputs, QuantReport* report);

// Statistics (ranges and whole-tensor histograms) of every blob of `fp32` to which `int8` gives a scale, collected
// on `samples` (for a report on an int8 model whose calibration statistics are gone).
Status CollectReportStats(const Graph& fp32, const Graph& int8, const std::vector<CalibrationSample>& samples,
                          const Preprocess& pre, std::map<std::string, BlobStats>* stats);

}  // namespace qt
