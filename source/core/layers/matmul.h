#pragma once

#include "core/base/status.h"
#include "core/base/tensor.h"

namespace qt {

struct LayerKind;

// MatMul (numpy matmul semantics, batch dims broadcast). With one input blob the other operand is the constant
// in the layer resource, at weight_position (0: the constant is the left operand); -1 with two input blobs.
struct MatMulParams {
  int weight_position = -1;
};

// Numpy matmul output of a [..., M, K] and b [..., K, N] (both rank >= 2; batch dims broadcast).
Status MatMulShape(const Dims& a, const Dims& b, Dims* out);

const LayerKind& MatMulKind();

}  // namespace qt
