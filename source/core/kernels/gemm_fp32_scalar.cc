// Portable fp32 micro-kernel: plain loops over a 4x16 tile that any compiler can vectorise.
#include "core/kernels/gemm_fp32_isa.h"

namespace qt {
namespace {

constexpr int kMr = 4, kNr = 16;

float Activate(float v, int activation) {
  if (activation == 1) return v > 0.f ? v : 0.f;
  if (activation == 2) {
    v = v < 0.f ? 0.f : v;
    return 6.f < v ? 6.f : v;
  }
  return v;
}

void Tile(const Fp32Gemm& g, int64_t rb, int64_t j0) {
  const int64_t cols = g.n - j0 < kNr ? g.n - j0 : kNr;
  float acc[kMr][kNr] = {};
  const float* a = g.a + rb * g.k * kMr;
  for (int64_t k = 0; k < g.k; ++k) {
    const float* b = g.b + g.koff[k] + j0;
    for (int r = 0; r < kMr; ++r) {
      const float w = a[k * kMr + r];
      for (int64_t j = 0; j < cols; ++j) acc[r][j] += w * b[j];
    }
  }
  GridRuns runs;
  TileRuns(g.grid_w, g.out_w, g.n, j0, cols, &runs);
  for (int r = 0; r < kMr && rb * kMr + r < g.m; ++r) {
    const int64_t row = rb * kMr + r;
    const float bias = g.bias ? g.bias[row] : 0.f;
    float* out = g.out + row * g.out_stride;
    for (int s = 0; s < runs.n; ++s) {
      const float* v = acc[r] + (runs.first[s] - j0);
      for (int64_t i = 0; i < runs.len[s]; ++i) out[runs.out[s] + i] = Activate(v[i] + bias, g.activation);
    }
  }
}

}  // namespace

const Fp32MicroKernel& Fp32MicroKernelScalar() {
  static const Fp32MicroKernel kernel{"scalar", kMr, kNr, Tile, nullptr};
  return kernel;
}

}  // namespace qt
