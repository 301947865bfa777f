#pragma once

#include <vector>

namespace qt {

struct LayerKind;

struct PermuteParams {
  std::vector<int> order;
};

const LayerKind& PermuteKind();

}  // namespace qt
