#pragma once

namespace qt {

struct LayerKind;

// TNN's Pooling1D on [N, C, L] tensors.
struct Pool1dParams {
  int pool_type = 0;  // 0 max, 1 average
  int kernel = 0;     // 0: global
  int stride = 1;
  int pad = 0;
  int kernel_index_h = -1, kernel_index_w = -1;
  int pad_type = -1;  // -1 explicit, 0 SAME, 1 VALID
  int ceil_mode = 0;
};

const LayerKind& Pooling1DKind();

}  // namespace qt
