#pragma once

#include "core/base/status.h"
#include "core/base/tensor.h"
#include "core/kernels/kernels_fp32.h"
#include "core/layers/convolution.h"

namespace qt {

struct PoolParams {
  int pool_type = 0;  // 0 max, 1 average
  int kernel_h = 0, kernel_w = 0;  // 0 and 0: global pooling
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int kernel_index_h = -1, kernel_index_w = -1;
  int pad_type = 0;
  int ceil_mode = 0;
  int is_adaptive = 0;
  int output_h = 0, output_w = 0;
};

// Also resolves global pooling (kernel 0) to the input size: *kernel_h/*kernel_w receive the kernel used.
Status PoolGeometry(const PoolParams& p, int in_h, int in_w, WindowGeometry* g, int* kernel_h, int* kernel_w);

// The pooling kernel's geometry for a Pooling layer on an NCHW input of dims `in` (shared by the float and int8
// executors, which differ only in how an average counts the padding).
Status MakePool2dParams(const PoolParams& p, const Dims& in, bool count_include_pad, Pool2dParams* out);

const LayerKind& PoolingKind();

}  // namespace qt
