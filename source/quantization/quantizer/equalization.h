#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/graph/graph.h"
#include "core/graph/shape_inference.h"

namespace qt {

// A rectified blob whose channels can be rescaled without changing what the fp32 model computes: produced by a
// convolution with a fused ReLU (or followed by a ReLU), through a chain of single-reader layers that commute with
// a positive per-channel scale (ReLU, PReLU, max and average pooling), and read only by convolutions, dense or
// depthwise, that take the inverse scale in their weights. Not a model output.
struct EqualizationGroup {
  std::string producer;                // the convolution whose output channels are divided by s
  std::vector<std::string> consumers;  // the convolutions whose input channels are multiplied by s
  std::string blob;                    // the blob they read: its channel c is divided by s_c
  int channels = 0;
};

// The groups of `graph` (shapes from `dims`), in layer order.
std::vector<EqualizationGroup> FindEqualizationGroups(const Graph& graph, const BlobDims& dims);

// Divides channel c of each group's blob by s_c = (r_c / R)^alpha, r_c the largest |x| of the channel on the
// calibration inputs (`channel_max`, by blob) and R the largest over the channels (a channel never seen above zero
// keeps s = 1): 1/s goes into the producer's weights and bias and s into the consumers' weights, so the fp32
// model computes the same outputs (up to float rounding), while one int8 scale for the whole blob now resolves the
// small channels more finely. Consumers' per-channel weight steps grow with the largest s_c of their inputs, hence
// an alpha below 1. Returns the blobs changed.
std::vector<std::string> EqualizeChannels(const std::vector<EqualizationGroup>& groups,
                     const std::map<std::string, std::vector<float>>& channel_max, double alpha, Graph* graph);

// Divides channel c of `group`'s blob by s[c] (s > 0): the producer's weights and bias by s, the consumers' input
// channels times s; the fp32 outputs stay the same.
void RescaleChannels(const EqualizationGroup& group, const std::vector<double>& s, Graph* graph);

// The fp32 model that an int8 model made with channel equalization stands for, recovered from the two models:
// `fp32` simplified as QuantizeGraph simplifies it (BatchNorm/Scale folded, Conv + ReLU fused), then each
// equalization group rescaled by the factors its producer's int8 weights show (a row of dequantized weights is the
// fp32 row, times its input channels' factors, divided by the row's own factor; the groups are taken in layer order,
// so the input factors are known). A group counts as rescaled when some factor is below 0.98 and none above 1.01
// (equalization only enlarges channels; weight rounding moves the factors by tenths of a %, weight clipping such as
// TNN's ADMM raises them); the others are left alone, and so is every group when the int8 model's convolutions do
// not read per-tensor scales. *rescaled lists the blobs
// changed: empty means the int8 model was not equalized, and *reference is then `fp32` as given.
Status EqualizedReference(const Graph& fp32, const Graph& int8, Graph* reference, std::vector<std::string>* rescaled);

}  // namespace qt
