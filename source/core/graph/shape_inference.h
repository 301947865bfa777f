#pragma once

#include <map>
#include <string>

#include "core/base/status.h"
#include "core/base/tensor.h"
#include "core/graph/graph.h"

namespace qt {

// Output size and the resolved pads of a 2-D window along one image axis pair, with TNN's rules for explicit
// (Caffe), SAME_UPPER and VALID padding.
struct WindowGeometry {
  int out_h = 0, out_w = 0;
  int pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
};

Status ConvGeometry(const ConvParams& p, int in_h, int in_w, WindowGeometry* g);
Status DeconvGeometry(const ConvParams& p, int in_h, int in_w, WindowGeometry* g);
// Also resolves global pooling (kernel 0) to the input size: *kernel_h/*kernel_w receive the kernel used.
Status PoolGeometry(const PoolParams& p, int in_h, int in_w, WindowGeometry* g, int* kernel_h, int* kernel_w);

using BlobDims = std::map<std::string, Dims>;

// Infers every blob's dims from the model inputs' dims (graph.inputs unless overridden in `input_dims`).
// Errors name the layer and the mismatch (e.g. a conv whose input has 4 channels but expects 3).
Status InferShapes(const Graph& graph, const BlobDims& input_dims, BlobDims* blob_dims);

}  // namespace qt

namespace qt {

// The shape of a one-input binary op's constant operand. Its stored dims are its shape; without dims TNN's
// runtime guesses from the element count against the other operand (§B.1): 1 → scalar, C → per channel,
// C·H·W → per sample, W → last axis, H·W → spatial. Fails with a message naming the counts otherwise.
Status ResolveConstantDims(const RawBuffer& constant, const Dims& other, Dims* dims);

// Numpy-style broadcast of two shapes (aligned at the last axis).
Status BroadcastShapes(const Dims& a, const Dims& b, Dims* out);

// Numpy matmul output of a [..., M, K] and b [..., K, N] (both rank >= 2; batch dims broadcast).
Status MatMulShape(const Dims& a, const Dims& b, Dims* out);

}  // namespace qt
