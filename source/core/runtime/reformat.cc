#include "core/runtime/reformat.h"

#include "core/int8/kernels_int8.h"

namespace qt {

void QuantizeTensor(const Tensor& in, const BlobScale& scale, Int8Tensor* out) {
  out->dims = in.dims;
  out->data.resize(in.data.size());
  out->scales = scale.scale;
  out->zero_points = scale.zero_point;
  const int channels = in.channels();
  const int64_t spatial = in.spatial();
  const bool per_tensor = scale.scale.size() == 1;
  for (int64_t i = 0; i < in.count(); ++i) {
    const int c = per_tensor ? 0 : static_cast<int>((i / spatial) % channels);
    const float s = scale.scale[c];
    if (s == 0.f) {
      out->data[i] = 0;
      continue;
    }
    const float zp = scale.zero_point.empty() ? 0.f : static_cast<float>(scale.zero_point[c]);
    out->data[i] = Float2Int8(in.data[i] / s + zp);
  }
}

void DequantizeTensor(const Int8Tensor& in, Tensor* out) {
  out->dims = in.dims;
  out->data.resize(in.data.size());
  const int channels = in.dim(1);
  int64_t spatial = 1;
  for (size_t d = 2; d < in.dims.size(); ++d) spatial *= in.dims[d];
  const bool per_tensor = in.scales.size() == 1;
  for (int64_t i = 0; i < in.count(); ++i) {
    const int c = per_tensor ? 0 : static_cast<int>((i / spatial) % channels);
    const int zp = in.zero_points.empty() ? 0 : in.zero_points[c];
    out->data[i] = in.scales[c] * static_cast<float>(in.data[i] - zp);
  }
}

}  // namespace qt
