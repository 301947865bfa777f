// AVX2 depthwise plane kernel: 8 outputs of one output row per vector, six vectors in flight, every tap one
// broadcast weight and one masked load per vector (masked loads never read past a row's last output).
#include <immintrin.h>

#include <cstring>
#include <vector>

#include "core/kernels/gemm_fp32_isa.h"

namespace qt {
namespace {

constexpr int kLanes = 8;

__m256i LaneMask(int64_t lanes) {
  const int n = lanes >= kLanes ? kLanes : lanes <= 0 ? 0 : static_cast<int>(lanes);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__m256 Activate(__m256 v, int activation) {
  if (activation == 1) return _mm256_max_ps(v, _mm256_setzero_ps());
  if (activation == 2) return _mm256_min_ps(_mm256_set1_ps(6.f), _mm256_max_ps(_mm256_setzero_ps(), v));
  return v;
}

template <int kTaps>
void PlaneImpl(const Fp32DepthwisePlane& d) {
  const int64_t k = kTaps > 0 ? kTaps : d.k;
  const int64_t per_row = (d.out_w + kLanes - 1) / kLanes;
  const int64_t total = d.out_h * per_row;
  const __m256 bias = _mm256_set1_ps(d.bias);
  constexpr int kV = 6;
  for (int64_t v0 = 0; v0 < total; v0 += kV) {
    int64_t src[kV], dst[kV];
    __m256i mask[kV];
    for (int i = 0; i < kV; ++i) {
      const int64_t v = v0 + i < total ? v0 + i : total - 1;
      const int64_t oy = v / per_row, x0 = (v - oy * per_row) * kLanes;
      src[i] = oy * d.grid_w + x0;
      dst[i] = oy * d.out_w + x0;
      mask[i] = LaneMask(v0 + i < total ? d.out_w - x0 : 0);
    }
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
    for (int64_t kk = 0; kk < k; ++kk) {
      const float* b = d.planes + d.koff[kk];
      const __m256 w = _mm256_set1_ps(d.w[kk]);
      a0 = _mm256_fmadd_ps(w, _mm256_maskload_ps(b + src[0], mask[0]), a0);
      a1 = _mm256_fmadd_ps(w, _mm256_maskload_ps(b + src[1], mask[1]), a1);
      a2 = _mm256_fmadd_ps(w, _mm256_maskload_ps(b + src[2], mask[2]), a2);
      a3 = _mm256_fmadd_ps(w, _mm256_maskload_ps(b + src[3], mask[3]), a3);
      a4 = _mm256_fmadd_ps(w, _mm256_maskload_ps(b + src[4], mask[4]), a4);
      a5 = _mm256_fmadd_ps(w, _mm256_maskload_ps(b + src[5], mask[5]), a5);
    }
    const __m256 acc[kV] = {a0, a1, a2, a3, a4, a5};
    for (int i = 0; i < kV; ++i) {
      _mm256_maskstore_ps(d.out + dst[i], mask[i], Activate(_mm256_add_ps(acc[i], bias), d.activation));
    }
  }
}

// DepthwiseGridAvx2: the channel's rows copied once into a zero-padded plane (at stride 2 split into even and odd
// padded columns, so that every window column is a plain load), then blocks of rows x vectors of outputs, each
// summing its nine taps in tap order from 0 as the plane kernel does.
struct GridPlanes {
  const float* base;  // padded row y at base + y·row_stride
  int64_t row_stride;
  int64_t odd;        // stride 2: the odd columns at + odd
};

template <int kStride, int kRows, int kVectors>
void GridStep(const Fp32DepthwiseGrid& d, const GridPlanes& pl, int64_t oy, int64_t ox) {
  __m256 acc[kRows][kVectors];
  for (int r = 0; r < kRows; ++r) {
    for (int v = 0; v < kVectors; ++v) acc[r][v] = _mm256_setzero_ps();
  }
  for (int ky = 0; ky < 3; ++ky) {
    for (int kx = 0; kx < 3; ++kx) {
      const __m256 w = _mm256_set1_ps(d.w[ky * 3 + kx]);
      // Window column kx: stride 1, padded column ox + kx; stride 2, even columns from ox (kx 0) or ox + 1
      // (kx 2), odd ones from ox (kx 1).
      const int64_t col = kStride == 1 ? kx : kx == 1 ? pl.odd : kx / 2;
      for (int r = 0; r < kRows; ++r) {
        const float* row = pl.base + ((oy + r) * kStride + ky) * pl.row_stride + ox + col;
        for (int v = 0; v < kVectors; ++v) acc[r][v] = _mm256_fmadd_ps(w, _mm256_loadu_ps(row + v * kLanes), acc[r][v]);
      }
    }
  }
  const __m256 bias = _mm256_set1_ps(d.bias);
  for (int r = 0; r < kRows; ++r) {
    float* out = d.out + (oy + r) * d.out_w + ox;
    for (int v = 0; v < kVectors; ++v) {
      const __m256 y = Activate(_mm256_add_ps(acc[r][v], bias), d.activation);
      const int64_t n = d.out_w - ox - v * kLanes;
      if (n >= kLanes) {
        _mm256_storeu_ps(out + v * kLanes, y);
      } else {
        _mm256_maskstore_ps(out + v * kLanes, LaneMask(n), y);
      }
    }
  }
}

// Copies padded row y (input row y − pad_top, zeros outside the input) to dst: at stride 1, padded column x at
// dst[x] for x < width; at stride 2, padded column 2i at dst[i] and 2i + 1 at dst[odd + i] for i < width.
void PadRow(const Fp32DepthwiseGrid& d, int64_t y, int64_t width, int64_t odd, float* row, float* dst) {
  const int64_t span = d.stride * width;
  float* padded = d.stride == 1 ? dst : row;
  std::memset(padded, 0, sizeof(float) * static_cast<size_t>(span));
  const int64_t iy = y - d.pad_top;
  if (iy >= 0 && iy < d.in_h) {
    const int64_t x0 = d.pad_left < 0 ? -d.pad_left : 0;
    const int64_t x1 = d.in_w < span - d.pad_left ? d.in_w : span - d.pad_left;
    if (x1 > x0) {
      std::memcpy(padded + d.pad_left + x0, d.in + iy * d.in_w + x0, sizeof(float) * static_cast<size_t>(x1 - x0));
    }
  }
  if (d.stride == 1) return;
  for (int64_t i = 0; i < width; i += kLanes) {
    const __m256 a = _mm256_loadu_ps(row + 2 * i), b = _mm256_loadu_ps(row + 2 * i + kLanes);
    // Per 128-bit half: a0 a2 b0 b2 | a4 a6 b4 b6, then the 64-bit quarters reordered.
    const __m256 even = _mm256_shuffle_ps(a, b, 0x88), odd_lanes = _mm256_shuffle_ps(a, b, 0xDD);
    _mm256_storeu_ps(dst + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), 0xD8)));
    _mm256_storeu_ps(dst + odd + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(odd_lanes), 0xD8)));
  }
}

template <int kStride>
void GridChannel(const Fp32DepthwiseGrid& d) {
  const int64_t vectors = (d.out_w + kLanes - 1) / kLanes, vec_w = vectors * kLanes;
  // Padded columns read: at stride 1 up to vec_w + 1; at stride 2 even ones up to index vec_w, odd ones up to
  // vec_w − 1. One vector more keeps every copy step whole.
  const int64_t width = vec_w + kLanes;
  const int64_t odd = kStride == 1 ? 0 : width;
  const int64_t row_stride = kStride == 1 ? width : 2 * width;
  const int64_t rows = (d.out_h - 1) * kStride + 3;
  thread_local std::vector<float> planes, row;
  if (static_cast<int64_t>(planes.size()) < rows * row_stride) planes.resize(static_cast<size_t>(rows * row_stride));
  if (static_cast<int64_t>(row.size()) < kStride * width) row.resize(static_cast<size_t>(kStride * width));
  for (int64_t y = 0; y < rows; ++y) PadRow(d, y, width, odd, row.data(), planes.data() + y * row_stride);
  const GridPlanes pl{planes.data(), row_stride, odd};
  int64_t oy = 0;
  // Narrow rows take several rows per step, so that a step has up to four independent sums.
  if (vectors == 1) {
    for (; oy + 4 <= d.out_h; oy += 4) GridStep<kStride, 4, 1>(d, pl, oy, 0);
    if (oy + 3 == d.out_h) GridStep<kStride, 3, 1>(d, pl, oy, 0);
    if (oy + 2 == d.out_h) GridStep<kStride, 2, 1>(d, pl, oy, 0);
    if (oy + 1 == d.out_h) GridStep<kStride, 1, 1>(d, pl, oy, 0);
    return;
  }
  if (vectors == 2) {
    for (; oy + 2 <= d.out_h; oy += 2) GridStep<kStride, 2, 2>(d, pl, oy, 0);
  }
  for (; oy < d.out_h; ++oy) {
    int64_t ox = 0;
    for (; ox + 4 * kLanes <= vec_w; ox += 4 * kLanes) GridStep<kStride, 1, 4>(d, pl, oy, ox);
    for (; ox + 2 * kLanes <= vec_w; ox += 2 * kLanes) GridStep<kStride, 1, 2>(d, pl, oy, ox);
    for (; ox < vec_w; ox += kLanes) GridStep<kStride, 1, 1>(d, pl, oy, ox);
  }
}

}  // namespace

bool DepthwiseGridAvx2Applies(int kernel_h, int kernel_w, int stride_h, int stride_w, int dilation_h,
                              int dilation_w) {
  return kernel_h == 3 && kernel_w == 3 && dilation_h == 1 && dilation_w == 1 && stride_h == stride_w &&
         (stride_h == 1 || stride_h == 2);
}

void DepthwiseGridAvx2(const Fp32DepthwiseGrid& d) {
  if (d.stride == 1) {
    GridChannel<1>(d);
  } else {
    GridChannel<2>(d);
  }
}

void DepthwisePlaneAvx2(const Fp32DepthwisePlane& d) {
  switch (d.k) {
    case 9: PlaneImpl<9>(d); return;
    case 25: PlaneImpl<25>(d); return;
    default: PlaneImpl<0>(d); return;
  }
}

}  // namespace qt
