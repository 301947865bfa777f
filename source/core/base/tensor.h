#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qt {

// Dims in NCHW order (rank 1..6; rank-2 tensors are {N, C}).
using Dims = std::vector<int>;

int64_t DimsCount(const Dims& d, size_t from = 0);
std::string DimsToString(const Dims& d);

// A dense float32 tensor in NCHW (row-major) order.
struct Tensor {
  Dims dims;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(Dims d, float fill = 0.f) : dims(std::move(d)), data(DimsCount(dims), fill) {}
  int64_t count() const { return static_cast<int64_t>(data.size()); }
  int dim(size_t i) const { return i < dims.size() ? dims[i] : 1; }
  // N, C, H, W with missing trailing dims as 1 (so a {N, C} tensor is N×C×1×1).
  int batch() const { return dim(0); }
  int channels() const { return dim(1); }
  int64_t spatial() const { return DimsCount(dims, 2); }
};

// A dense int8 tensor with its quantization: x ≈ scale[c] · (q − zero_point[c]), c along dim 1, or a single
// (per-tensor) scale when scales has one element.
struct Int8Tensor {
  Dims dims;
  std::vector<int8_t> data;
  std::vector<float> scales;
  std::vector<int8_t> zero_points;

  int64_t count() const { return static_cast<int64_t>(data.size()); }
  int dim(size_t i) const { return i < dims.size() ? dims[i] : 1; }
};

}  // namespace qt
