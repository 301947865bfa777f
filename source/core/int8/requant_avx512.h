#pragma once
// RequantizeInt8 on 16 int32 lanes with AVX-512, shared by the translation units that are compiled with AVX-512
// flags (each has its own copy: the functions are static, so no unit links another unit's instructions). Only
// AVX-512F instructions. Include after <immintrin.h>, in an AVX-512 translation unit only.
#include <immintrin.h>

namespace qt {

// TNN's Float2Int8 on 16 lanes: ±0.5 by the sign test v >= 0, then clamp to [−128, 127], then truncate.
static inline __m512i Float2Int8Lanes(__m512 v) {
  const __mmask16 ge = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GE_OQ);
  const __m512 half = _mm512_mask_blend_ps(ge, _mm512_set1_ps(-0.5f), _mm512_set1_ps(0.5f));
  __m512 r = _mm512_add_ps(v, half);
  r = _mm512_min_ps(r, _mm512_set1_ps(127.f));   // r < 127 ? r : 127
  r = _mm512_max_ps(r, _mm512_set1_ps(-128.f));  // r > −128 ? r : −128
  return _mm512_cvttps_epi32(r);
}

// RequantizeInt8 with each lane's own multiplier, output zero point (as a float) and ReLU6 clamp.
static inline __m512i RequantizeVectors(__m512i acc, __m512 multiplier, __m512 out_zero, __m512i relu6_max,
                                        int activation) {
  __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), multiplier);
  if (activation == 2) {
    __m512i q = Float2Int8Lanes(v);
    q = _mm512_min_epi32(q, relu6_max);
    return _mm512_max_epi32(q, _mm512_setzero_si512());
  }
  if (activation == 1) v = _mm512_max_ps(v, _mm512_setzero_ps());  // v > 0 ? v : 0
  return Float2Int8Lanes(_mm512_add_ps(v, out_zero));
}

}  // namespace qt
