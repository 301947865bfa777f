#pragma once

#include <vector>

namespace qt {

struct LayerKind;

// TNN's StridedSlice (v1) layer line: three count-prefixed lists, begins, ends and strides, one value per input
// axis in NCHW order. TNN's normalisation: a negative begin or end has the dim added, an end of 0 means the dim;
// then begin < end and the output has (end − begin − 1)/stride + 1 elements. TNN does not clamp: a begin or end
// outside the axis reads out of bounds there, and is refused here. (TNN's two-input form, ends from a second
// input's dims, is not supported.)
struct StridedSliceParams {
  std::vector<int> begins, ends, strides;
};

const LayerKind& StridedSliceKind();

}  // namespace qt
