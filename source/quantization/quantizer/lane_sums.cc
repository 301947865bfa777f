#include "quantization/quantizer/lane_sums.h"

#include <cmath>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace qt {
namespace {

constexpr size_t kLanes = 32;

// Σ u·v over the n terms that `vec` (8 terms from index i as two vectors) and `one` (term i) produce.
template <typename Vec, typename One>
double LaneSum(size_t n, const Vec& vec, const One& one) {
  alignas(64) double lane[kLanes] = {};
  size_t i = 0;
#if defined(__AVX512F__)
  __m512d acc[4] = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd()};
  for (; i + kLanes <= n; i += kLanes) {
    for (int v = 0; v < 4; ++v) {
      __m512d u, w;
      vec(i + 8 * v, &u, &w);
      acc[v] = _mm512_fmadd_pd(u, w, acc[v]);
    }
  }
  for (int v = 0; v < 4; ++v) _mm512_store_pd(lane + 8 * v, acc[v]);
#else
  (void)vec;
#endif
  for (size_t l = 0; i < n; ++i, l = (l + 1) % kLanes) {
    double u, w;
    one(i, &u, &w);
    lane[l] = std::fma(u, w, lane[l]);
  }
  for (size_t width = kLanes / 2; width > 0; width /= 2) {
    for (size_t l = 0; l < width; ++l) lane[l] += lane[l + width];
  }
  return lane[0];
}

}  // namespace

double SumOfSquares(const float* x, size_t n) {
  return LaneSum(
      n,
      [&](size_t i, auto* u, auto* w) {
#if defined(__AVX512F__)
        *u = *w = _mm512_cvtps_pd(_mm256_loadu_ps(x + i));
#endif
      },
      [&](size_t i, double* u, double* w) { *u = *w = x[i]; });
}

double SquaredDistance(const float* a, const float* b, size_t n) {
  return LaneSum(
      n,
      [&](size_t i, auto* u, auto* w) {
#if defined(__AVX512F__)
        *u = *w = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(a + i)), _mm512_cvtps_pd(_mm256_loadu_ps(b + i)));
#endif
      },
      [&](size_t i, double* u, double* w) { *u = *w = static_cast<double>(a[i]) - b[i]; });
}

double Dot(const double* a, const double* b, size_t n) {
  return LaneSum(
      n,
      [&](size_t i, auto* u, auto* w) {
#if defined(__AVX512F__)
        *u = _mm512_loadu_pd(a + i);
        *w = _mm512_loadu_pd(b + i);
#endif
      },
      [&](size_t i, double* u, double* w) {
        *u = a[i];
        *w = b[i];
      });
}

}  // namespace qt
