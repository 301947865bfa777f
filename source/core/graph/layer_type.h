#pragma once

#include <string>

namespace qt {

// The layer types this tool reads, runs and writes; each has its kind under core/layers/ (layer.h), found by
// LayerKindOf. TNN has more; a model using another type is rejected at load time with the type named.
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
  kConvolution1D,
  kPooling1D,
  kInstanceNorm,
  kExp,
  kLog,
  kSqrt,
  kAbs,
  kNeg,
  kElu,
  kSoftplus,
  kSwish,
  kPower,
  kStridedSliceV2,
  kReduceMean,
  kReduceMax,
  kReduceMin,
  kReduceSum,
  kGather,
  kPriorBox,
  kDetectionOutput,
  kNormalize,
  kShuffleChannel,
  kLrn,
  kStridedSlice,
};

// Every type, in enum order (for lookups by name or id).
constexpr LayerType kAllLayerTypes[] = {
    LayerType::kConvolution, LayerType::kDeconvolution, LayerType::kPooling,   LayerType::kRelu,
    LayerType::kRelu6,       LayerType::kClip,          LayerType::kPRelu,     LayerType::kSigmoid,
    LayerType::kTanh,        LayerType::kHardSwish,     LayerType::kHardSigmoid, LayerType::kAdd,
    LayerType::kSub,         LayerType::kMul,           LayerType::kDiv,       LayerType::kConcat,
    LayerType::kSoftmax,     LayerType::kInnerProduct,  LayerType::kBatchNorm, LayerType::kScale,
    LayerType::kFlatten,     LayerType::kReshape,       LayerType::kPermute,   LayerType::kPad,
    LayerType::kUpsample,    LayerType::kSplitV,        LayerType::kDropout,   LayerType::kMaximum,
    LayerType::kMatMul,      LayerType::kConvolution1D, LayerType::kPooling1D, LayerType::kInstanceNorm,
    LayerType::kExp,         LayerType::kLog,           LayerType::kSqrt,      LayerType::kAbs,
    LayerType::kNeg,         LayerType::kElu,           LayerType::kSoftplus,  LayerType::kSwish,
    LayerType::kPower,       LayerType::kStridedSliceV2, LayerType::kReduceMean, LayerType::kReduceMax,
    LayerType::kReduceMin,   LayerType::kReduceSum,     LayerType::kGather,
    LayerType::kPriorBox,    LayerType::kDetectionOutput, LayerType::kNormalize, LayerType::kShuffleChannel,
    LayerType::kLrn,         LayerType::kStridedSlice,
};

// These read the type's LayerKind (core/layers/layer.cc).

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
