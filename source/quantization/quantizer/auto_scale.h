#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/graph/graph.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/inputs/preprocess.h"
#include "quantization/methods/blob_stats.h"
#include "quantization/quantizer/calibrator.h"

namespace qt {

// One threshold a blob could be quantized with, and what it costs downstream.
struct ScaleCandidate {
  std::string method;        // "Min-Max", "KL", "MSE", "ACIQ-Gauss", "ACIQ-Laplace", "p99.99", ...
  std::vector<float> scale;  // one per statistics channel (one when merged)
  // The error the blob's quantization with this scale causes in what its consumers compute: per consumer the
  // energy of the change of its output over the energy of the output (over the measured inputs), summed over the
  // consumers; a consumer that is not a convolution or inner product counts the blob's own error the same way.
  double error = 0;
};

// The candidates of `-b auto` for one blob, from its statistics (histograms needed): Min-Max, KL, MSE, ACIQ-Gauss,
// ACIQ-Laplace and the 99.9, 99.99 and 99.999 percentiles of |x|. Candidates with the same scales as an earlier
// one are dropped, so the list is short where methods agree.
Status BlobScaleCandidates(const BlobStats& stats, bool merged, const std::string& blob,
                           std::vector<ScaleCandidate>* candidates);

// Runs the fp32 graph on `samples` and, for every blob with candidates, the consumers of that blob on the
// quantization error each candidate leaves (a convolution or inner product is linear in its input, so the change
// of its output is the layer without bias and activation applied to the error); fills each candidate's error.
// The inputs run on one network per thread; each input's sums are kept apart and added in double in input order,
// so the result does not depend on the thread count.
Status MeasureConsumerErrors(const Graph& graph, const std::vector<CalibrationSample>& samples, const Preprocess& pre,
                             const ProgressFn& progress, std::map<std::string, std::vector<ScaleCandidate>>* candidates);

// The index of the candidate with the lowest error (the earliest on ties).
size_t BestCandidate(const std::vector<ScaleCandidate>& candidates);

}  // namespace qt
