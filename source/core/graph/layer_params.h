#pragma once

#include <string>
#include <variant>
#include <vector>

#include "core/base/status.h"
#include "core/graph/layer_type.h"

namespace qt {

// Per-layer parameters as a .tnnproto layer line carries them (§A.4 of tnn_format.md). Field order below is the
// file order; every struct's reader and writer sit side by side in layer_params.cc.

// Convolution and Deconvolution. Pads are symmetric (pad_h applies to top and bottom).
struct ConvParams {
  int group = 1;
  int input_channel = 0;  // per group: weight dim 1
  int output_channel = 0;
  int kernel_h = 0, kernel_w = 0;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int has_bias = 0;
  int pad_type = -1;  // -1 explicit (Caffe), 0 SAME_UPPER, 1 VALID, 3 SAME with the odd pad first (deconvolution)
  int dilation_h = 1, dilation_w = 1;
  int activation = 0;  // 0 none, 1 ReLU, 2 ReLU6, 256 swish (not supported by int8 kernels)
};

constexpr int kActivationNone = 0;
constexpr int kActivationRelu = 1;
constexpr int kActivationRelu6 = 2;
constexpr int kActivationSwish = 256;

struct PoolParams {
  int pool_type = 0;  // 0 max, 1 average
  int kernel_h = 0, kernel_w = 0;  // 0 and 0: global pooling
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int kernel_index_h = -1, kernel_index_w = -1;
  int pad_type = 0;
  int ceil_mode = 0;
  int is_adaptive = 0;
  int output_h = 0, output_w = 0;
};

struct ClipParams {
  float min = 0.f, max = 0.f;
};

struct PReluParams {
  int channel_shared = 0;
  int has_filler = 0;
};

// HardSwish: y = x·clamp(alpha·x + beta, 0, 1); HardSigmoid: y = clamp(alpha·x + beta, 0, 1).
struct HardActivationParams {
  float alpha = 1.f / 6.f;
  float beta = 0.5f;
};

// Add/Sub/Mul/Div/Maximum. With one input blob the other operand is the constant in the layer resource, placed at
// weight_input_index (0: constant is the left operand).
struct BinaryParams {
  int weight_input_index = 1;
};

// Concat, Softmax, Flatten.
struct AxisParams {
  int axis = 1;
};

struct InnerProductParams {
  int num_output = 0;
  int has_bias = 0;
  int transpose = 0;
  int axis = 1;
};

struct ScaleParams {
  int axis = 1;
  int num_axes = 1;
  int bias_term = 0;
};

struct ReshapeParams {
  int axis = 0;
  int num_axes = 4;
  std::vector<int> shape;  // 0 copies the input dim, -1 is inferred
  int reshape_type = 0;    // 0 NCHW (Caffe/ONNX), 1 NHWC (TF)
};

struct PermuteParams {
  std::vector<int> order;
};

struct PadParams {
  int pad_t = 0, pad_b = 0, pad_l = 0, pad_r = 0;
  int pad_c_begin = 0, pad_c_end = 0;
  int type = 0;  // 0 constant, 1 reflect, 2 edge
  float value = 0.f;
};

struct UpsampleParams {
  int mode = 1;  // 1 nearest, 2 bilinear, 3 cubic
  float scale_h = 1.f, scale_w = 1.f;
  int align_corners = 0;
  int output_h = 0, output_w = 0;  // 0: use the scales
};

struct SplitVParams {
  int axis = 1;
  std::vector<int> slices;
};

// MatMul (numpy matmul semantics, batch dims broadcast). With one input blob the other operand is the constant
// in the layer resource, at weight_position (0: the constant is the left operand); -1 with two input blobs.
struct MatMulParams {
  int weight_position = -1;
};

using LayerParams = std::variant<std::monostate, ConvParams, PoolParams, ClipParams, PReluParams,
                                 HardActivationParams, BinaryParams, AxisParams, InnerProductParams, ScaleParams,
                                 ReshapeParams, PermuteParams, PadParams, UpsampleParams, SplitVParams,
                                 MatMulParams>;

// Default params for a type (what a layer line without params means).
LayerParams DefaultLayerParams(LayerType type);

// Parses the param tokens of one layer line (everything after the output blob names).
// Errors name the parameter and the rule broken; the caller adds file and layer context.
Status ParseLayerParams(LayerType type, const std::vector<std::string>& tokens, LayerParams* params);

// Writes every param of the type (defaults included), in file order.
void WriteLayerParams(const LayerParams& params, std::vector<std::string>* tokens);

// Shortest text that reads back as the same float (so a written model re-reads bit-identically).
std::string FormatFloat(float v);

}  // namespace qt
