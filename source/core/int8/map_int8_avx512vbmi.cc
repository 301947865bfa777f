// AVX-512 VBMI byte map: a 256-entry table as four 64-byte vectors; vpermi2b looks the low seven bits up in two of
// them, and the byte's top bit picks which pair.
#include <immintrin.h>

#include "core/int8/gemm_int8_isa.h"

namespace qt {

void MapBytesAvx512Vbmi(const uint8_t* table, const int8_t* src, int64_t n, int8_t* dst) {
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  for (int64_t i = 0; i < n; i += 64) {
    const int64_t left = n - i;
    const __mmask64 m = left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
    const __m512i x = _mm512_maskz_loadu_epi8(m, src + i);
    const __m512i lo = _mm512_permutex2var_epi8(t0, x, t1), hi = _mm512_permutex2var_epi8(t2, x, t3);
    _mm512_mask_storeu_epi8(dst + i, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), lo, hi));
  }
}

}  // namespace qt
