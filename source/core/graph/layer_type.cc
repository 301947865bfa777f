#include "layer_type.h"

#include <map>

namespace qt {
namespace {

const std::map<std::string, LayerType>& StringTable() {
  static const std::map<std::string, LayerType> table = {
      {"Convolution", LayerType::kConvolution},
      {"Deconvolution", LayerType::kDeconvolution},
      {"Pooling", LayerType::kPooling},
      {"ReLU", LayerType::kRelu},
      {"Relu", LayerType::kRelu},
      {"ReLU6", LayerType::kRelu6},
      {"Relu6", LayerType::kRelu6},
      {"Clip", LayerType::kClip},
      {"PReLU", LayerType::kPRelu},
      {"Sigmoid", LayerType::kSigmoid},
      {"Tanh", LayerType::kTanh},
      {"HardSwish", LayerType::kHardSwish},
      {"HardSigmoid", LayerType::kHardSigmoid},
      {"Add", LayerType::kAdd},
      {"Sub", LayerType::kSub},
      {"Mul", LayerType::kMul},
      {"Div", LayerType::kDiv},
      {"Concat", LayerType::kConcat},
      {"Softmax", LayerType::kSoftmax},
      {"SoftmaxCaffe", LayerType::kSoftmax},
      {"InnerProduct", LayerType::kInnerProduct},
      {"BatchNormCxx", LayerType::kBatchNorm},
      {"BatchNormalization", LayerType::kBatchNorm},
      {"Scale", LayerType::kScale},
      {"Flatten", LayerType::kFlatten},
      {"Reshape", LayerType::kReshape},
      {"Permute", LayerType::kPermute},
      {"Pad", LayerType::kPad},
      {"Upsample", LayerType::kUpsample},
      {"SplitV", LayerType::kSplitV},
      {"Dropout", LayerType::kDropout},
      {"Maximum", LayerType::kMaximum},
      {"MatMul", LayerType::kMatMul},
  };
  return table;
}

}  // namespace

bool LayerTypeFromString(const std::string& type_str, LayerType* type) {
  const auto& table = StringTable();
  auto it = table.find(type_str);
  if (it == table.end()) return false;
  *type = it->second;
  return true;
}

const char* LayerTypeName(LayerType type) {
  switch (type) {
    case LayerType::kConvolution: return "Convolution";
    case LayerType::kDeconvolution: return "Deconvolution";
    case LayerType::kPooling: return "Pooling";
    case LayerType::kRelu: return "ReLU";
    case LayerType::kRelu6: return "ReLU6";
    case LayerType::kClip: return "Clip";
    case LayerType::kPRelu: return "PReLU";
    case LayerType::kSigmoid: return "Sigmoid";
    case LayerType::kTanh: return "Tanh";
    case LayerType::kHardSwish: return "HardSwish";
    case LayerType::kHardSigmoid: return "HardSigmoid";
    case LayerType::kAdd: return "Add";
    case LayerType::kSub: return "Sub";
    case LayerType::kMul: return "Mul";
    case LayerType::kDiv: return "Div";
    case LayerType::kConcat: return "Concat";
    case LayerType::kSoftmax: return "Softmax";
    case LayerType::kInnerProduct: return "InnerProduct";
    case LayerType::kBatchNorm: return "BatchNormCxx";
    case LayerType::kScale: return "Scale";
    case LayerType::kFlatten: return "Flatten";
    case LayerType::kReshape: return "Reshape";
    case LayerType::kPermute: return "Permute";
    case LayerType::kPad: return "Pad";
    case LayerType::kUpsample: return "Upsample";
    case LayerType::kSplitV: return "SplitV";
    case LayerType::kDropout: return "Dropout";
    case LayerType::kMaximum: return "Maximum";
    case LayerType::kMatMul: return "MatMul";
  }
  return "Unknown";
}

int TnnLayerTypeId(LayerType type) {
  switch (type) {
    case LayerType::kConvolution: return 1;
    case LayerType::kDeconvolution: return 22;
    case LayerType::kPooling: return 4;
    case LayerType::kRelu: return 5;
    case LayerType::kRelu6: return 125;
    case LayerType::kClip: return 171;
    case LayerType::kPRelu: return 35;
    case LayerType::kSigmoid: return 23;
    case LayerType::kTanh: return 39;
    case LayerType::kHardSwish: return 173;
    case LayerType::kHardSigmoid: return 172;
    case LayerType::kAdd: return 38;
    case LayerType::kSub: return 108;
    case LayerType::kMul: return 42;
    case LayerType::kDiv: return 175;
    case LayerType::kConcat: return 8;
    case LayerType::kSoftmax: return 21;
    case LayerType::kInnerProduct: return 19;
    case LayerType::kBatchNorm: return 2;
    case LayerType::kScale: return 16;
    case LayerType::kFlatten: return 10;
    case LayerType::kReshape: return 9;
    case LayerType::kPermute: return 32;
    case LayerType::kPad: return 44;
    case LayerType::kUpsample: return 149;
    case LayerType::kSplitV: return 153;
    case LayerType::kDropout: return 11;
    case LayerType::kMaximum: return 137;
    case LayerType::kMatMul: return 105;
  }
  return 0;
}

bool LayerTypeFromTnnId(int id, LayerType* type) {
  for (const auto& entry : StringTable()) {
    if (TnnLayerTypeId(entry.second) == id) {
      *type = entry.second;
      return true;
    }
  }
  return false;
}

bool HasQuantizedForm(LayerType type) {
  switch (type) {
    case LayerType::kConvolution:
    case LayerType::kPooling:
    case LayerType::kRelu:
    case LayerType::kAdd:
    case LayerType::kConcat:
    case LayerType::kInnerProduct:
    case LayerType::kUpsample:
    case LayerType::kSigmoid:
    case LayerType::kBatchNorm:
      return true;
    default:
      return false;
  }
}

}  // namespace qt
