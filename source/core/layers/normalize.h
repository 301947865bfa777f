#pragma once

namespace qt {

struct LayerKind;

// TNN's Normalize layer line (NormalizeLayerParam): across_spatial epsilon channel_shared axis p, each optional
// (defaults below). TNN's Normalize has no scale: a Caffe Normalize becomes this and a Mul by its scale blob.
struct NormalizeLayerParams {
  int across_spatial = 0;
  float epsilon = 1e-12f;
  int channel_shared = 1;  // carried for TNN; no scale is applied by this layer
  int axis = 1;
  int p = 2;
};

const LayerKind& NormalizeKind();

}  // namespace qt
