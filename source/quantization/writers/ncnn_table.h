#pragma once

#include <map>
#include <string>

#include "core/base/status.h"
#include "core/graph/graph.h"

namespace qt {

// ncnn's calibration table (what ncnn2table writes and ncnn2int8 reads): for every int8 Convolution and
// InnerProduct, first `<layer>_param_0 m0 m1 ...` — weight multipliers (int8 = float · m) of the raw float weights,
// one per output channel, or one per group for a grouped convolution (ncnn's ConvolutionDepthWise) — then
// `<layer> m` — the multiplier of the layer's input blob. Multipliers are 127 / clipping threshold, i.e.
// 1 / scale. A 3x3 stride-1 dilation-1 ungrouped convolution gets 6-bit weight multipliers (31 / threshold), as
// ncnn2table writes them, because ncnn runs those with int8 Winograd F(4,3), which needs 6-bit weights.
//
// `quantized` is the quantized graph and `input_scales` the per-tensor input scale each Conv/InnerProduct's
// weights were folded with (weight scale = threshold / 127 · input scale).
std::string NcnnTable(const Graph& quantized, const std::map<std::string, float>& input_scales);

}  // namespace qt
