#pragma once
// Lane masks and RequantizeInt8 on 16 int32 lanes with AVX-512, shared by the int8 translation units that are
// compiled with AVX-512 flags (each has its own copy: the functions are static, so no unit links another unit's
// instructions). Only AVX-512F instructions. Include in an AVX-512 translation unit only.
#include <immintrin.h>

#include <cstdint>

#include "core/int8/gemm_int8_isa.h"

namespace qt {

// Lanes [0, lanes) of a 16-lane mask.
static inline __mmask16 LaneMask(int64_t lanes) {
  return lanes >= 16 ? static_cast<__mmask16>(0xFFFF)
                     : lanes <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << lanes) - 1u);
}
// Lanes [lo, hi) ∩ [0, 16).
static inline __mmask16 Lanes(int64_t lo, int64_t hi) {
  return static_cast<__mmask16>(LaneMask(hi) & ~LaneMask(lo));
}
// Lanes [lo, hi) ∩ [0, 64) of a 64-lane (byte) mask.
static inline __mmask64 Lanes64(int64_t lo, int64_t hi) {
  lo = lo < 0 ? 0 : lo;
  hi = hi > 64 ? 64 : hi;
  if (hi <= lo) return 0;
  const __mmask64 upto = hi == 64 ? ~__mmask64{0} : (__mmask64{1} << hi) - 1;
  return upto & ~((__mmask64{1} << lo) - 1);
}

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


// A direct depthwise channel's requantization constants, as vectors: channel a's in the lanes outside b_lanes,
// channel b's in b_lanes.
struct DirectRequant {
  __m512i row_add, relu6_max;
  __m512 multiplier, out_zero;
};

static inline DirectRequant DirectConstants(const Int8DepthwiseDirect& a, const Int8DepthwiseDirect& b,
                                            __mmask16 b_lanes) {
  DirectRequant q;
  q.row_add = _mm512_mask_blend_epi32(b_lanes, _mm512_set1_epi32(a.row_add), _mm512_set1_epi32(b.row_add));
  q.relu6_max = _mm512_mask_blend_epi32(b_lanes, _mm512_set1_epi32(a.relu6_max), _mm512_set1_epi32(b.relu6_max));
  q.multiplier = _mm512_mask_blend_ps(b_lanes, _mm512_set1_ps(a.multiplier), _mm512_set1_ps(b.multiplier));
  q.out_zero = _mm512_mask_blend_ps(b_lanes, _mm512_set1_ps(static_cast<float>(a.out_zero)),
                                    _mm512_set1_ps(static_cast<float>(b.out_zero)));
  return q;
}

}  // namespace qt
