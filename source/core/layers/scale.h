#pragma once

namespace qt {

struct LayerKind;

struct ScaleParams {
  int axis = 1;
  int num_axes = 1;
  int bias_term = 0;
};

// Per-channel affine layers: Scale and BatchNormCxx (y = x·scale[c] + bias[c]).
const LayerKind& ScaleKind();
const LayerKind& BatchNormKind();

}  // namespace qt
