// AVX-512F max pooling: the 3x3 stride-2 window (SqueezeNet's pools) and the 2x2 stride-2 one (BlazeFace's
// shortcuts) on rows whose windows lie inside the input.
#include <immintrin.h>

#include "core/kernels/gemm_fp32_isa.h"

namespace qt {
namespace {

__mmask16 LaneMask(int64_t lanes) {
  return lanes >= 16 ? static_cast<__mmask16>(0xFFFF)
                     : lanes <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << lanes) - 1u);
}

// max(low, rows r, r + w, r + 2w) at columns [c, c + 16) for the lanes of `m` (0 elsewhere).
__m512 VerticalMax(const float* r, int64_t w, int64_t c, __mmask16 m, __m512 low) {
  const __m512 a = _mm512_maskz_loadu_ps(m, r + c), b = _mm512_maskz_loadu_ps(m, r + w + c);
  const __m512 d = _mm512_maskz_loadu_ps(m, r + 2 * w + c);
  return _mm512_max_ps(_mm512_max_ps(_mm512_max_ps(a, b), d), low);
}

// max(low, rows r and r + w) at columns [c, c + 16) for the lanes of `m` (0 elsewhere).
__m512 VerticalMax2(const float* r, int64_t w, int64_t c, __mmask16 m, __m512 low) {
  const __m512 a = _mm512_maskz_loadu_ps(m, r + c), b = _mm512_maskz_loadu_ps(m, r + w + c);
  return _mm512_max_ps(_mm512_max_ps(a, b), low);
}

}  // namespace

void MaxPool3x3s2RowAvx512(const float* r, int64_t in_w, float low, int64_t count, float* dst) {
  // Output i reads columns 2i, 2i + 1, 2i + 2: per 16 outputs, the vertical maxima of 33 columns in three vectors
  // (v0, v1 and the first lane of v2), whose even lanes, odd lanes and even lanes shifted by one column pair are
  // the window's three columns. Lanes past the row's last window are loaded as 0 and never stored.
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  const __m512 lo = _mm512_set1_ps(low);
  for (int64_t i = 0; i < count; i += 16) {
    const int64_t n = count - i < 16 ? count - i : 16, cols = 2 * n + 1, c = 2 * i;
    const __m512 v0 = VerticalMax(r, in_w, c, LaneMask(cols), lo);
    const __m512 v1 = VerticalMax(r, in_w, c + 16, LaneMask(cols - 16), lo);
    const __m512 v2 = VerticalMax(r, in_w, c + 32, LaneMask(cols - 32), lo);
    const __m512 s0 = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(v1), _mm512_castps_si512(v0), 2));
    const __m512 s1 = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(v2), _mm512_castps_si512(v1), 2));
    const __m512 m = _mm512_max_ps(_mm512_max_ps(_mm512_permutex2var_ps(v0, even, v1), _mm512_permutex2var_ps(v0, odd, v1)),
                                   _mm512_permutex2var_ps(s0, even, s1));
    _mm512_mask_storeu_ps(dst + i, LaneMask(n), m);
  }
}

void MaxPool2x2s2RowAvx512(const float* r, int64_t in_w, float low, int64_t count, float* dst) {
  // Output i reads columns 2i and 2i + 1: per 16 outputs, the vertical maxima of 32 columns in two vectors, whose
  // even and odd lanes are the window's two columns. Lanes past the row's last window are loaded as 0 and never
  // stored.
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  const __m512 lo = _mm512_set1_ps(low);
  for (int64_t i = 0; i < count; i += 16) {
    const int64_t n = count - i < 16 ? count - i : 16, cols = 2 * n, c = 2 * i;
    const __m512 v0 = VerticalMax2(r, in_w, c, LaneMask(cols), lo);
    const __m512 v1 = VerticalMax2(r, in_w, c + 16, LaneMask(cols - 16), lo);
    const __m512 m = _mm512_max_ps(_mm512_permutex2var_ps(v0, even, v1), _mm512_permutex2var_ps(v0, odd, v1));
    _mm512_mask_storeu_ps(dst + i, LaneMask(n), m);
  }
}

}  // namespace qt
