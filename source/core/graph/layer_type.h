#pragma once

#include <string>

namespace qt {

// The layer types this tool reads, runs and writes. TNN has many more; a model using another type is rejected
// at load time with the type named.
enum class LayerType {
  kConvolution,
  kDeconvolution,
  kPooling,
  kRelu,
  kRelu6,
  kClip,
  kPRelu,
  kSigmoid,
  kTanh,
  kHardSwish,
  kHardSigmoid,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kConcat,
  kSoftmax,
  kInnerProduct,
  kBatchNorm,
  kScale,
  kFlatten,
  kReshape,
  kPermute,
  kPad,
  kUpsample,
  kSplitV,
  kDropout,
  kMaximum,
  kMatMul,
};

// Resolves a TNN type string, including TNN's aliases (Relu, SoftmaxCaffe, BatchNormalization, Relu6, ...).
// The "Quantized" prefix must already be stripped. Returns false for an unknown string.
bool LayerTypeFromString(const std::string& type_str, LayerType* type);

// The string TNN's own table spells the type with (and whose "Quantized" form the runtime accepts).
const char* LayerTypeName(LayerType type);

// TNN's LayerType integer id, as written in .tnnmodel resource headers.
int TnnLayerTypeId(LayerType type);
// The type with that TNN id; false for an id of a type this tool does not know.
bool LayerTypeFromTnnId(int id, LayerType* type);

// Whether TNN's loader accepts "Quantized" + LayerTypeName(type).
bool HasQuantizedForm(LayerType type);

constexpr int kTnnBlobScaleTypeId = 600;
constexpr const char* kQuantizedPrefix = "Quantized";
constexpr const char* kBlobScaleSuffix = "_scale_data_";

}  // namespace qt
