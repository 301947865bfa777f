#include "core/runtime/reformat.h"

#include <algorithm>

#include "core/int8/kernels_int8.h"

namespace qt {

// Both conversions walk the tensor one channel plane at a time, so the scale and zero point are constants of the
// inner loop and it vectorises; the arithmetic per value is TNN's (NaiveQuantBias / NaiveDequantBias).

void QuantizeTensor(const Tensor& in, const BlobScale& scale, Int8Tensor* out) {
  out->dims = in.dims;
  out->data.resize(in.data.size());
  out->scales = scale.scale;
  out->zero_points = scale.zero_point;
  const int channels = in.channels();
  const int64_t spatial = in.spatial();
  const bool per_tensor = scale.scale.size() == 1;
  for (int64_t plane = 0; plane * spatial < in.count(); ++plane) {
    const int c = per_tensor ? 0 : static_cast<int>(plane % channels);
    const float s = scale.scale[c];
    const float zp = scale.zero_point.empty() ? 0.f : static_cast<float>(scale.zero_point[c]);
    const float* x = in.data.data() + plane * spatial;
    int8_t* q = out->data.data() + plane * spatial;
    if (s == 0.f) {
      std::fill(q, q + spatial, int8_t{0});
      continue;
    }
    for (int64_t i = 0; i < spatial; ++i) q[i] = Float2Int8(x[i] / s + zp);
  }
}

void DequantizeTensor(const Int8Tensor& in, Tensor* out) {
  out->dims = in.dims;
  out->data.resize(in.data.size());
  const int channels = in.dim(1);
  int64_t spatial = 1;
  for (size_t d = 2; d < in.dims.size(); ++d) spatial *= in.dims[d];
  const bool per_tensor = in.scales.size() == 1;
  for (int64_t plane = 0; plane * spatial < in.count(); ++plane) {
    const int c = per_tensor ? 0 : static_cast<int>(plane % channels);
    const float s = in.scales[c];
    const int zp = in.zero_points.empty() ? 0 : in.zero_points[c];
    const int8_t* q = in.data.data() + plane * spatial;
    float* x = out->data.data() + plane * spatial;
    for (int64_t i = 0; i < spatial; ++i) x[i] = s * static_cast<float>(q[i] - zp);
  }
}

}  // namespace qt
