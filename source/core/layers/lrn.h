#pragma once

namespace qt {

struct LayerKind;

// TNN's LRN layer line: alpha beta bias size (TNN reads all four without a default).
struct LrnLayerParams {
  float alpha = 1e-4f;
  float beta = 0.75f;
  float bias = 1.f;
  int size = 5;
};

const LayerKind& LrnKind();

}  // namespace qt
