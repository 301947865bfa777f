#pragma once

#include <vector>

namespace qt {

struct LayerKind;

struct ReshapeParams {
  int axis = 0;
  int num_axes = 4;
  std::vector<int> shape;  // 0 copies the input dim, -1 is inferred
  int reshape_type = 0;    // 0 NCHW (Caffe/ONNX), 1 NHWC (TF)
};

const LayerKind& ReshapeKind();

}  // namespace qt
