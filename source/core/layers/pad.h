#pragma once

#include "core/kernels/kernels_fp32.h"

namespace qt {

struct LayerKind;

struct PadParams {
  int pad_t = 0, pad_b = 0, pad_l = 0, pad_r = 0;
  int pad_c_begin = 0, pad_c_end = 0;
  int type = 0;  // 0 constant, 1 reflect, 2 edge
  float value = 0.f;
};

const LayerKind& PadKind();
// The kernels' form of a Pad layer's params.
PadParams4d ToPadParams4d(const PadParams& p);

}  // namespace qt
