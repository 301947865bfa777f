#pragma once

#include <string>
#include <variant>

#include "core/base/raw_buffer.h"

namespace qt {

// Weights and constants of one layer, as stored in .tnnmodel (§B.2). Quantized layers carry int8 weights, int32
// bias and the combined per-output-channel scales (§C.3-C.6).

struct ConvResource {
  RawBuffer filter;  // [oc][ic/group][kh][kw]; deconvolution [ic][oc/group][kh][kw]
  RawBuffer bias;    // present iff has_bias
  bool has_bias = false;
  RawBuffer zero_point;  // int8, only with an int8 filter
  RawBuffer scale;       // float, only with an int8 filter
};

struct InnerProductResource {
  RawBuffer weight;  // [num_output][k]
  RawBuffer bias;    // always written, may be empty
  RawBuffer zero_point;
  RawBuffer scale;
};

// Constant operand of a one-input Add/Sub/Mul/Div; its dims are its shape.
struct BinaryResource {
  RawBuffer element;
};

struct BatchNormResource {
  RawBuffer scale;
  RawBuffer bias;  // empty means zeros
};

struct ScaleResource {
  bool bias_term = false;
  RawBuffer scale;
  RawBuffer bias;
};

struct PReluResource {
  RawBuffer slope;
};

// Constant operand of a one-input MatMul; its dims are its shape.
struct MatMulResource {
  RawBuffer weight;
};

// Gather's constants (TNN's GatherLayerResource): each present or not, as the file's flags say. Indices are int32.
struct GatherResource {
  bool has_data = false;
  RawBuffer data;
  bool has_indices = false;
  RawBuffer indices;
};

using LayerResource = std::variant<ConvResource, InnerProductResource, BinaryResource, BatchNormResource,
                                   ScaleResource, PReluResource, MatMulResource, GatherResource>;

// The int8 quantization of one blob, stored as resource "<blob>_scale_data_": x ≈ scale[c]·(q − zero_point[c]).
// One value per channel (dim 1) or a single per-tensor value.
struct BlobScale {
  std::vector<float> scale;
  std::vector<int8_t> zero_point;
  bool operator==(const BlobScale& o) const { return scale == o.scale && zero_point == o.zero_point; }
};

}  // namespace qt
