#pragma once

namespace qt {

struct LayerKind;

struct UpsampleParams {
  int mode = 1;  // 1 nearest, 2 bilinear, 3 cubic
  float scale_h = 1.f, scale_w = 1.f;
  int align_corners = 0;
  int output_h = 0, output_w = 0;  // 0: use the scales
};

const LayerKind& UpsampleKind();

}  // namespace qt
