#pragma once

#include <vector>

namespace qt {

struct LayerKind;

// StridedSliceV2 (TNN's ONNX Slice): per listed axis, begin, end and stride. Ends INT_MAX / INT_MIN mean "to the
// end" forward and backward (onnx2tnn's mapping of ONNX's ±INT64 ends); axes not listed are taken whole.
struct StridedSliceV2Params {
  std::vector<int> begins, ends, axes, strides;
};

const LayerKind& StridedSliceV2Kind();

}  // namespace qt
