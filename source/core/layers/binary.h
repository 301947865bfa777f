#pragma once

#include "core/base/raw_buffer.h"
#include "core/base/status.h"
#include "core/base/tensor.h"

namespace qt {

struct LayerKind;

// Add/Sub/Mul/Div/Maximum. With one input blob the other operand is the constant in the layer resource, placed at
// weight_input_index (0: constant is the left operand; any other value: the right one).
struct BinaryParams {
  int weight_input_index = 1;
};

// The shape of a one-input binary op's constant operand. Its stored dims are its shape; without dims TNN's
// runtime guesses from the element count against the other operand (§B.1): 1 → scalar, C → per channel,
// C·H·W → per sample, W → last axis, H·W → spatial. Fails with a message naming the counts otherwise.
Status ResolveConstantDims(const RawBuffer& constant, const Dims& other, Dims* dims);

// Numpy-style broadcast of two shapes (aligned at the last axis).
Status BroadcastShapes(const Dims& a, const Dims& b, Dims* out);

const LayerKind& AddKind();
const LayerKind& SubKind();
const LayerKind& MulKind();
const LayerKind& DivKind();
const LayerKind& MaximumKind();

}  // namespace qt
