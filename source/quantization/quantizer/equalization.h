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

}  // namespace qt
