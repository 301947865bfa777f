// AVX-512F depthwise kernels. The grid kernel (3x3 and 5x5, stride 1 and 2) builds a channel's padded phase
// planes itself and runs plain loads over the flattened grid, compressing each vector's valid lanes into the
// output. The plane kernel (other windows, on planes from BuildPlanes) runs 16 outputs of one output row per
// vector, eight vectors in flight, every tap one broadcast weight and one masked load per vector; its row-wise
// vectors never touch the planes' discarded grid columns.
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

// The phase planes of one channel: phase (py, px) row y, column x holds input (y·S + py − pad_top,
// x·S + px − pad_left), 0 outside the input. Rows are written in whole vectors, so a row's last vector runs up to
// 15 floats into the next row (written after it) or past the planes.
template <int S>
void BuildGridPlanes(const Fp32DepthwiseGrid& d) {
  const int64_t phase = d.hq * d.wq;
  const __m512 zero = _mm512_setzero_ps();
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int py = 0; py < S; ++py) {
    for (int px = 0; px < S; ++px) {
      float* ph = d.planes + (py * S + px) * phase;
      for (int64_t y = 0; y < d.hq; ++y) {
        const int64_t iy = y * S + py - d.pad_top;
        float* row = ph + y * d.wq;
        if (iy < 0 || iy >= d.in_h) {
          for (int64_t x = 0; x < d.wq; x += kLanes) _mm512_storeu_ps(row + x, zero);
          continue;
        }
        const float* src = d.in + iy * d.in_w;
        for (int64_t x = 0; x < d.wq; x += kLanes) {
          // Input columns ix0 + [0, 16·S) feed this vector; those outside [0, in_w) read as 0.
          const int64_t ix0 = x * S + px - d.pad_left;
          const uint32_t m = LaneRange32(-ix0, d.in_w - ix0);
          if (S == 1) {
            _mm512_storeu_ps(row + x, _mm512_maskz_loadu_ps(static_cast<__mmask16>(m), src + ix0));
          } else {
            const __m512 lo = _mm512_maskz_loadu_ps(static_cast<__mmask16>(m), src + ix0);
            const __m512 hi = _mm512_maskz_loadu_ps(static_cast<__mmask16>(m >> 16), src + ix0 + 16);
            _mm512_storeu_ps(row + x, _mm512_permutex2var_ps(lo, even, hi));
          }
        }
      }
    }
  }
}

// Eight vectors of 16 grid columns (the FMA latency times two pipes) from vector v0 on, or four when kHalf (the
// grid's last step); every tap one broadcast weight and one plain load per vector.
template <int kTaps, bool kHalf>
void GridStep(const Fp32DepthwiseGrid& d, int64_t v0, __m512 bias) {
  const float* b = d.planes + v0 * kLanes;
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (int t = 0; t < kTaps; ++t) {
    const float* p = b + d.tap_off[t];
    const __m512 w = _mm512_set1_ps(d.w[t]);
    a0 = _mm512_fmadd_ps(w, _mm512_loadu_ps(p), a0);
    a1 = _mm512_fmadd_ps(w, _mm512_loadu_ps(p + 16), a1);
    a2 = _mm512_fmadd_ps(w, _mm512_loadu_ps(p + 32), a2);
    a3 = _mm512_fmadd_ps(w, _mm512_loadu_ps(p + 48), a3);
    if (!kHalf) {
      a4 = _mm512_fmadd_ps(w, _mm512_loadu_ps(p + 64), a4);
      a5 = _mm512_fmadd_ps(w, _mm512_loadu_ps(p + 80), a5);
      a6 = _mm512_fmadd_ps(w, _mm512_loadu_ps(p + 96), a6);
      a7 = _mm512_fmadd_ps(w, _mm512_loadu_ps(p + 112), a7);
    }
  }
  const __m512 acc[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
  for (int i = 0; i < (kHalf ? 4 : 8); ++i) {
    const GridVector16& g = d.vectors[v0 + i];
    const __m512 r = Activate(_mm512_add_ps(acc[i], bias), d.activation);
    _mm512_mask_storeu_ps(d.out + g.out, g.store, _mm512_maskz_compress_ps(g.valid, r));
  }
}

template <int kTaps>
void GridImpl(const Fp32DepthwiseGrid& d) {
  const __m512 bias = _mm512_set1_ps(d.bias);
  int64_t v0 = 0;
  for (; v0 + 8 <= d.vector_count; v0 += 8) GridStep<kTaps, false>(d, v0, bias);
  if (v0 < d.vector_count) GridStep<kTaps, true>(d, v0, bias);
}

}  // namespace

int64_t DepthwiseGridScratchFloats(const Fp32DepthwiseGrid& d) {
  int64_t max_off = 0;
  for (int t = 0; t < d.kernel * d.kernel; ++t) max_off = d.tap_off[t] > max_off ? d.tap_off[t] : max_off;
  const int64_t planes = int64_t{d.stride} * d.stride * d.hq * d.wq + kLanes;
  const int64_t reads = max_off + d.vector_count * kLanes;
  return planes > reads ? planes : reads;
}

void DepthwiseGridAvx512(const Fp32DepthwiseGrid& d) {
  // The reads past the planes' end are discarded lanes; zeroed so that they hold no denormal or stale value.
  const int64_t planes = int64_t{d.stride} * d.stride * d.hq * d.wq;
  const int64_t total = DepthwiseGridScratchFloats(d);
  for (int64_t i = planes; i < total; ++i) d.planes[i] = 0.f;
  if (d.stride == 1) {
    BuildGridPlanes<1>(d);
  } else {
    BuildGridPlanes<2>(d);
  }
  if (d.kernel == 3) {
    GridImpl<9>(d);
  } else {
    GridImpl<25>(d);
  }
}

bool DepthwiseGridAvx512Applies(int kernel_h, int kernel_w, int stride_h, int stride_w, int dilation_h,
                                int dilation_w) {
  return kernel_h == kernel_w && (kernel_h == 3 || kernel_h == 5) && stride_h == stride_w &&
         (stride_h == 1 || stride_h == 2) && dilation_h == 1 && dilation_w == 1;
}

void DepthwisePlaneAvx512(const Fp32DepthwisePlane& d) {
  switch (d.k) {
    case 9: PlaneImpl<9>(d); return;
    case 25: PlaneImpl<25>(d); return;
    default: PlaneImpl<0>(d); return;
  }
}

}  // namespace qt
