#pragma once

#include <cstddef>
#include <vector>

#include "core/base/status.h"

namespace qt {

struct LayerKind;

struct SplitVParams {
  int axis = 1;
  std::vector<int> slices;  // empty: an even split among the outputs (TNN's rule)
};

// The size of each output along the axis.
Status SplitVSlices(const SplitVParams& p, size_t outputs, int axis_size, std::vector<int>* slices);

const LayerKind& SplitVKind();

}  // namespace qt
