#pragma once

#include <vector>

namespace qt {

struct LayerKind;

// ReduceMean / ReduceMax / ReduceMin / ReduceSum (TNN's ReduceLayerParam): the listed axes (negative count from
// the back; none: every axis) become 1 (keep_dims 1) or are removed.
struct ReduceParams {
  int keep_dims = 1;
  std::vector<int> axes;
};

const LayerKind& ReduceMeanKind();
const LayerKind& ReduceMaxKind();
const LayerKind& ReduceMinKind();
const LayerKind& ReduceSumKind();

}  // namespace qt
