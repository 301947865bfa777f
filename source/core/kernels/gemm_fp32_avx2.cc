// AVX2+FMA fp32 micro-kernel: a 6x16 tile in 12 ymm accumulators (the register budget of 16 ymm leaves two for B
// and one for the broadcast weight). Tails use maskload/maskstore, so B is never read past column n.
#include <immintrin.h>

#include "core/kernels/gemm_fp32_isa.h"

namespace qt {
namespace {

constexpr int kMr = 6, kNr = 16;

// Lanes [lo, hi) of an 8-lane vector as a maskload/maskstore mask.
__m256i Lanes(int64_t lo, int64_t hi) {
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const int l = lo < 0 ? 0 : lo > 8 ? 8 : static_cast<int>(lo);
  const int h = hi < 0 ? 0 : hi > 8 ? 8 : static_cast<int>(hi);
  const __m256i ge_lo = _mm256_cmpgt_epi32(iota, _mm256_set1_epi32(l - 1));
  const __m256i lt_hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(h), iota);
  return _mm256_and_si256(ge_lo, lt_hi);
}

__m256 Activate(__m256 v, int activation) {
  if (activation == 1) return _mm256_max_ps(v, _mm256_setzero_ps());
  if (activation == 2) return _mm256_min_ps(_mm256_set1_ps(6.f), _mm256_max_ps(_mm256_setzero_ps(), v));
  return v;
}

// kHalf: a tail of at most 8 columns, computed in one vector per row instead of two.
template <bool kTail, bool kHalf>
void TileImpl(const Fp32Gemm& g, int64_t rb, int64_t j0) {
  // Named accumulators rather than an array: with an array GCC 12 stored every accumulator to the stack in each
  // k step.
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
         c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const int64_t cols = kTail ? g.n - j0 : kNr;
  const __m256i m0 = Lanes(0, cols), m1 = Lanes(0, cols - 8);
  const float* a = g.a + rb * g.k * kMr;
  const float* b = g.b + j0;
  for (int64_t k = 0; k < g.k; ++k) {
    const float* bk = b + g.koff[k];
    const __m256 b0 = kTail ? _mm256_maskload_ps(bk, m0) : _mm256_loadu_ps(bk);
    const __m256 b1 = kHalf ? _mm256_setzero_ps() : kTail ? _mm256_maskload_ps(bk + 8, m1) : _mm256_loadu_ps(bk + 8);
    __m256 w = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(w, b0, c00);
    if (!kHalf) c01 = _mm256_fmadd_ps(w, b1, c01);
    w = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(w, b0, c10);
    if (!kHalf) c11 = _mm256_fmadd_ps(w, b1, c11);
    w = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(w, b0, c20);
    if (!kHalf) c21 = _mm256_fmadd_ps(w, b1, c21);
    w = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(w, b0, c30);
    if (!kHalf) c31 = _mm256_fmadd_ps(w, b1, c31);
    w = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(w, b0, c40);
    if (!kHalf) c41 = _mm256_fmadd_ps(w, b1, c41);
    w = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(w, b0, c50);
    if (!kHalf) c51 = _mm256_fmadd_ps(w, b1, c51);
    a += kMr;
  }
  const __m256 acc[kMr][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};

  const int64_t rows = g.m - rb * kMr < kMr ? g.m - rb * kMr : kMr;
  const bool contiguous = g.grid_w == g.out_w;
  GridRuns runs;
  __m256i run_mask[40][2];
  if (!contiguous) {
    TileRuns(g.grid_w, g.out_w, g.n, j0, cols, &runs);
    for (int s = 0; s < runs.n; ++s) {
      const int64_t lo = runs.first[s] - j0, hi = lo + runs.len[s];
      run_mask[s][0] = Lanes(lo, hi);
      run_mask[s][1] = Lanes(lo - 8, hi - 8);
      runs.out[s] -= lo;
    }
  }
  for (int r = 0; r < rows; ++r) {
    const int64_t row = rb * kMr + r;
    const __m256 bias = _mm256_set1_ps(g.bias ? g.bias[row] : 0.f);
    const __m256 v0 = Activate(_mm256_add_ps(acc[r][0], bias), g.activation);
    const __m256 v1 = Activate(_mm256_add_ps(acc[r][1], bias), g.activation);
    float* out = g.out + row * g.out_stride;
    if (contiguous) {
      if (kTail) {
        _mm256_maskstore_ps(out + j0, m0, v0);
        _mm256_maskstore_ps(out + j0 + 8, m1, v1);
      } else {
        _mm256_storeu_ps(out + j0, v0);
        _mm256_storeu_ps(out + j0 + 8, v1);
      }
      continue;
    }
    for (int s = 0; s < runs.n; ++s) {
      _mm256_maskstore_ps(out + runs.out[s], run_mask[s][0], v0);
      _mm256_maskstore_ps(out + runs.out[s] + 8, run_mask[s][1], v1);
    }
  }
}

void Tile(const Fp32Gemm& g, int64_t rb, int64_t j0) {
  if (j0 + kNr <= g.n) {
    TileImpl<false, false>(g, rb, j0);
  } else if (j0 + kNr / 2 >= g.n) {
    TileImpl<true, true>(g, rb, j0);
  } else {
    TileImpl<true, false>(g, rb, j0);
  }
}

}  // namespace

const Fp32MicroKernel& Fp32MicroKernelAvx2() {
  static const Fp32MicroKernel kernel{"avx2", kMr, kNr, Tile, nullptr};
  return kernel;
}

}  // namespace qt
