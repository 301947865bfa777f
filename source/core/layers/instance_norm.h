#pragma once

namespace qt {

struct LayerKind;

// TNN's InstBatchNormCxx: per (n, c) normalisation over the spatial dims, then scale and bias per channel (from a
// BatchNorm-like resource).
struct InstanceNormParams {
  int channels = 0;  // written by TNN, unused
  float eps = 1e-5f;
};

const LayerKind& InstanceNormKind();

}  // namespace qt
