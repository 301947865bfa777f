#pragma once

namespace qt {

struct LayerKind;

// The one param of Concat, Softmax and Flatten (its reader and writer: ParseAxisParams in layer.h).
struct AxisParams {
  int axis = 1;
};

const LayerKind& ConcatKind();
const LayerKind& SoftmaxKind();
const LayerKind& FlattenKind();

}  // namespace qt
