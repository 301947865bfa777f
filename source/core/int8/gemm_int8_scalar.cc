// Portable int8 micro-kernel: plain loops over a 4x16 tile, one channel per k-group, requantized by
// RequantizeInt8 itself (this translation unit has no special target flags, so it may use the header's inline
// functions).
#include "core/int8/gemm_int8_isa.h"
#include "core/int8/kernels_int8.h"

namespace qt {
namespace {

constexpr int kMr = 4, kNr = 16;

int64_t ABlockBytes(int64_t groups) { return groups * kMr; }

void PackA(const int8_t* w, int64_t m, int64_t channels, int taps, int8_t* dst, int32_t* correction) {
  const int64_t k = channels * taps;
  const int64_t blocks = (m + kMr - 1) / kMr;
  for (int64_t rb = 0; rb < blocks; ++rb) {
    for (int64_t kk = 0; kk < k; ++kk) {
      for (int r = 0; r < kMr; ++r) {
        const int64_t row = rb * kMr + r;
        dst[(rb * k + kk) * kMr + r] = row < m ? w[row * k + kk] : 0;
      }
    }
  }
  for (int64_t r = 0; r < m; ++r) correction[r] = 0;
}

void PackB(const int8_t* src, int64_t channels, int64_t src_stride, int64_t count, int64_t q0, int64_t q1,
           int64_t dst_stride, uint8_t* dst) {
  for (int64_t q = q0; q < q1; ++q) {
    int8_t* d = reinterpret_cast<int8_t*>(dst) + q * dst_stride;
    if (q >= channels) {
      for (int64_t e = 0; e < count; ++e) d[e] = 0;
      continue;
    }
    const int8_t* s = src + q * src_stride;
    for (int64_t e = 0; e < count; ++e) d[e] = s[e];
  }
}

void Tile(const Int8Gemm& g, int64_t rb, int64_t j0) {
  const int64_t cols = g.n - j0 < kNr ? g.n - j0 : kNr;
  int32_t acc[kMr][kNr] = {};
  const int8_t* a = g.a + rb * g.a_block_bytes;
  for (int64_t kg = 0; kg < g.kgroups; ++kg) {
    const int8_t* b = reinterpret_cast<const int8_t*>(g.b + g.koff[kg]) + j0;
    for (int r = 0; r < kMr; ++r) {
      const int32_t w = a[kg * kMr + r];
      for (int64_t j = 0; j < cols; ++j) acc[r][j] += w * int32_t{b[j]};
    }
  }
  GridRuns runs;
  if (!g.c) TileRuns(g.grid_w, g.out_w, g.n, j0, cols, &runs);
  const Int8Requant* requant = static_cast<const Int8Requant*>(g.requant);
  for (int r = 0; r < kMr && rb * kMr + r < g.m; ++r) {
    const int64_t row = rb * kMr + r;
    int32_t v[kNr];
    for (int64_t j = 0; j < cols; ++j) {
      v[j] = acc[r][j] + g.row_add[row] - (g.col_sum ? g.weight_zero[row] * g.col_sum[j0 + j] : 0);
    }
    if (g.c) {
      for (int64_t j = 0; j < cols; ++j) g.c[row * g.ldc + j0 + j] = v[j];
      continue;
    }
    int8_t* out = g.out + row * g.out_stride;
    const int oc = static_cast<int>(g.row_base + row);
    for (int s = 0; s < runs.n; ++s) {
      for (int64_t i = 0; i < runs.len[s]; ++i) {
        const int32_t acc_j = v[runs.first[s] - j0 + i];
        out[runs.out[s] + i] = g.add ? RequantizeAddInt8(acc_j, oc, *requant, g.add[row * g.out_stride + runs.out[s] + i])
                                     : RequantizeInt8(acc_j, oc, *requant);
      }
    }
  }
}

}  // namespace

const Int8MicroKernel& Int8MicroKernelScalar() {
  static const Int8MicroKernel kernel{"scalar", kMr, kNr, 1, 1, ABlockBytes, PackA, PackB, Tile, nullptr,
                                      nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  return kernel;
}

}  // namespace qt
