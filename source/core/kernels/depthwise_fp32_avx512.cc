// AVX-512F depthwise plane kernel: 16 outputs of one output row per vector, eight vectors in flight (the FMA
// latency times two pipes), every tap one broadcast weight and one masked load per vector. Row-wise vectors never
// touch the planes' discarded grid columns, and masked loads never read past a row's last output.
#include <immintrin.h>

#include "core/kernels/gemm_fp32_isa.h"

namespace qt {
namespace {

constexpr int kLanes = 16;

__mmask16 LaneMask(int64_t lanes) {
  return lanes >= 16 ? static_cast<__mmask16>(0xFFFF)
                     : lanes <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << lanes) - 1u);
}

__m512 Activate(__m512 v, int activation) {
  if (activation == 1) return _mm512_max_ps(v, _mm512_setzero_ps());
  if (activation == 2) return _mm512_min_ps(_mm512_set1_ps(6.f), _mm512_max_ps(_mm512_setzero_ps(), v));
  return v;
}

// kTaps > 0: the tap count known at compile time, so the tap loop unrolls.
template <int kTaps>
void PlaneImpl(const Fp32DepthwisePlane& d) {
  const int64_t k = kTaps > 0 ? kTaps : d.k;
  const int64_t per_row = (d.out_w + kLanes - 1) / kLanes;
  const int64_t total = d.out_h * per_row;
  const __m512 bias = _mm512_set1_ps(d.bias);
  constexpr int kV = 8;
  for (int64_t v0 = 0; v0 < total; v0 += kV) {
    int64_t src[kV], dst[kV];
    __mmask16 mask[kV];
    for (int i = 0; i < kV; ++i) {
      const int64_t v = v0 + i < total ? v0 + i : total - 1;
      const int64_t oy = v / per_row, x0 = (v - oy * per_row) * kLanes;
      src[i] = oy * d.grid_w + x0;
      dst[i] = oy * d.out_w + x0;
      mask[i] = v0 + i < total ? LaneMask(d.out_w - x0) : static_cast<__mmask16>(0);
    }
    // Named accumulators: GCC 12 keeps an array of vectors on the stack.
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int64_t kk = 0; kk < k; ++kk) {
      const float* b = d.planes + d.koff[kk];
      const __m512 w = _mm512_set1_ps(d.w[kk]);
      a0 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[0], b + src[0]), a0);
      a1 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[1], b + src[1]), a1);
      a2 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[2], b + src[2]), a2);
      a3 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[3], b + src[3]), a3);
      a4 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[4], b + src[4]), a4);
      a5 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[5], b + src[5]), a5);
      a6 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[6], b + src[6]), a6);
      a7 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[7], b + src[7]), a7);
    }
    const __m512 acc[kV] = {a0, a1, a2, a3, a4, a5, a6, a7};
    for (int i = 0; i < kV; ++i) {
      _mm512_mask_storeu_ps(d.out + dst[i], mask[i], Activate(_mm512_add_ps(acc[i], bias), d.activation));
    }
  }
}

// Lanes [lo, hi) of a 32-lane pair of vectors.
uint32_t LaneRange32(int64_t lo, int64_t hi) {
  lo = lo < 0 ? 0 : lo;
  hi = hi > 32 ? 32 : hi;
  if (hi <= lo) return 0;
  const uint64_t bits = ((uint64_t{1} << (hi - lo)) - 1) << lo;
  return static_cast<uint32_t>(bits);
}

// Eight vectors of 16 outputs (output rows' runs, row-major over the plane) per step. A tap reads, for each
// vector, input row oy·S − pad_top + ky at columns (x0 + l)·S − pad_left + kx: lanes outside the input are masked
// off (they read 0, the pad), so no padded copy is needed. Stride 2 loads 32 consecutive columns and keeps the
// even ones.
template <int K, int S>
void DirectImpl(const Fp32DepthwiseDirect& d) {
  constexpr int kV = 8;
  const int64_t per_row = (d.out_w + kLanes - 1) / kLanes;
  const int64_t total = d.out_h * per_row;
  const __m512 bias = _mm512_set1_ps(d.bias);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int64_t v0 = 0; v0 < total; v0 += kV) {
    int64_t iy0[kV], dst[kV];
    const float* base[kV];
    uint32_t col[kV][K];
    __mmask16 store[kV];
    for (int i = 0; i < kV; ++i) {
      const bool valid = v0 + i < total;
      const int64_t v = valid ? v0 + i : total - 1;
      const int64_t oy = v / per_row, x0 = (v - oy * per_row) * kLanes;
      const int64_t ix0 = x0 * S - d.pad_left;
      iy0[i] = valid ? oy * S - d.pad_top : -(int64_t{1} << 40);
      dst[i] = oy * d.out_w + x0;
      base[i] = d.in + ix0;
      store[i] = valid ? LaneMask(d.out_w - x0) : static_cast<__mmask16>(0);
      for (int kx = 0; kx < K; ++kx) col[i][kx] = LaneRange32(-(ix0 + kx), d.in_w - (ix0 + kx));
    }
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int ky = 0; ky < K; ++ky) {
      const float* row[kV];
      bool inside[kV];
      for (int i = 0; i < kV; ++i) {
        const int64_t iy = iy0[i] + ky;
        inside[i] = iy >= 0 && iy < d.in_h;
        row[i] = inside[i] ? base[i] + iy * d.in_w : d.in;
      }
      for (int kx = 0; kx < K; ++kx) {
        const __m512 w = _mm512_set1_ps(d.w[ky * K + kx]);
        auto tap = [&](int i, __m512 a) {
          const uint32_t m = inside[i] ? col[i][kx] : 0u;
          const float* p = row[i] + kx;
          __m512 x;
          if (S == 1) {
            x = _mm512_maskz_loadu_ps(static_cast<__mmask16>(m), p);
          } else {
            const __m512 lo = _mm512_maskz_loadu_ps(static_cast<__mmask16>(m), p);
            const __m512 hi = _mm512_maskz_loadu_ps(static_cast<__mmask16>(m >> 16), p + 16);
            x = _mm512_permutex2var_ps(lo, even, hi);
          }
          return _mm512_fmadd_ps(w, x, a);
        };
        a0 = tap(0, a0);
        a1 = tap(1, a1);
        a2 = tap(2, a2);
        a3 = tap(3, a3);
        a4 = tap(4, a4);
        a5 = tap(5, a5);
        a6 = tap(6, a6);
        a7 = tap(7, a7);
      }
    }
    const __m512 acc[kV] = {a0, a1, a2, a3, a4, a5, a6, a7};
    for (int i = 0; i < kV; ++i) {
      _mm512_mask_storeu_ps(d.out + dst[i], store[i], Activate(_mm512_add_ps(acc[i], bias), d.activation));
    }
  }
}

}  // namespace

bool DepthwiseDirectAvx512Applies(int kernel_h, int kernel_w, int stride_h, int stride_w, int dilation_h,
                                  int dilation_w) {
  return kernel_h == kernel_w && (kernel_h == 3 || kernel_h == 5) && stride_h == stride_w &&
         (stride_h == 1 || stride_h == 2) && dilation_h == 1 && dilation_w == 1;
}

void DepthwiseDirectAvx512(const Fp32DepthwiseDirect& d) {
  if (d.kernel == 3) {
    d.stride == 1 ? DirectImpl<3, 1>(d) : DirectImpl<3, 2>(d);
  } else {
    d.stride == 1 ? DirectImpl<5, 1>(d) : DirectImpl<5, 2>(d);
  }
}

void DepthwisePlaneAvx512(const Fp32DepthwisePlane& d) {
  switch (d.k) {
    case 9: PlaneImpl<9>(d); return;
    case 25: PlaneImpl<25>(d); return;
    default: PlaneImpl<0>(d); return;
  }
}

}  // namespace qt
