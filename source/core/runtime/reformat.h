#pragma once

#include "core/base/tensor.h"
#include "core/graph/layer_resource.h"

namespace qt {

// TNN's reformat between float and int8 blobs (§C.8): q = clamp(round_half_away(x / s + zp), −128, 127), 0
// when s == 0; x = s · (q − zp). Scales are per channel (dim 1) or one per tensor.
void QuantizeTensor(const Tensor& in, const BlobScale& scale, Int8Tensor* out);
void DequantizeTensor(const Int8Tensor& in, Tensor* out);

}  // namespace qt
