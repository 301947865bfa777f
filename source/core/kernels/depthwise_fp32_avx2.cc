// AVX2 depthwise plane kernel: 8 outputs of one output row per vector, six vectors in flight, every tap one
// broadcast weight and one masked load per vector (masked loads never read past a row's last output).
#include <immintrin.h>

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

}  // namespace

void DepthwisePlaneAvx2(const Fp32DepthwisePlane& d) {
  switch (d.k) {
    case 9: PlaneImpl<9>(d); return;
    case 25: PlaneImpl<25>(d); return;
    default: PlaneImpl<0>(d); return;
  }
}

}  // namespace qt
