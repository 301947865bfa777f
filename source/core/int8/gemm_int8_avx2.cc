// AVX2 int8 micro-kernel: activations sign-extended to int16 pairs (two channels per column) and weights as int16
// pairs, multiplied by vpmaddwd, whose pairwise int32 sums are exact (vpmaddubsw is avoided: it saturates to
// int16). A 6x16 tile keeps 12 ymm accumulators. The requantization is RequantizeInt8 step by step in float
// lanes, with MINPS/MAXPS operand orders that give the C ternaries' results.
#include <immintrin.h>

#include <cstring>

#include "core/int8/gemm_int8_isa.h"

namespace qt {
namespace {

constexpr int kMr = 6, kNr = 16, kGroup = 2;

int64_t ABlockBytes(int64_t groups) { return groups * kMr * kGroup * 2; }

void PackA(const int8_t* w, int64_t m, int64_t channels, int taps, int8_t* dst, int32_t* correction) {
  const int64_t k = channels * taps;
  const int64_t pairs = (channels + kGroup - 1) / kGroup;
  const int64_t blocks = (m + kMr - 1) / kMr;
  const int64_t block_bytes = ABlockBytes(pairs * taps);
  for (int64_t rb = 0; rb < blocks; ++rb) {
    int8_t* block = dst + rb * block_bytes;
    for (int64_t q = 0; q < pairs; ++q) {
      for (int t = 0; t < taps; ++t) {
        int8_t* group = block + (q * taps + t) * kMr * kGroup * 2;
        for (int r = 0; r < kMr; ++r) {
          const int64_t row = rb * kMr + r;
          for (int i = 0; i < kGroup; ++i) {
            const int64_t c = q * kGroup + i;
            const int16_t v = row < m && c < channels ? w[row * k + c * taps + t] : 0;
            std::memcpy(group + (r * kGroup + i) * 2, &v, 2);
          }
        }
      }
    }
  }
  for (int64_t r = 0; r < m; ++r) correction[r] = 0;
}

void PackB(const int8_t* src, int64_t channels, int64_t src_stride, int64_t count, int64_t q0, int64_t q1,
           int64_t dst_stride, uint8_t* dst) {
  const __m128i zero = _mm_setzero_si128();
  for (int64_t q = q0; q < q1; ++q) {
    const int64_t c0 = q * kGroup, c1 = c0 + 1;
    const int8_t* s0 = c0 < channels ? src + c0 * src_stride : nullptr;
    const int8_t* s1 = c1 < channels ? src + c1 * src_stride : nullptr;
    uint8_t* d = dst + q * dst_stride * kGroup * 2;
    int64_t e = 0;
    for (; e + 16 <= count; e += 16) {
      const __m128i r0 = s0 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(s0 + e)) : zero;
      const __m128i r1 = s1 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(s1 + e)) : zero;
      const __m128i a_lo = _mm_cvtepi8_epi16(r0), b_lo = _mm_cvtepi8_epi16(r1);
      const __m128i a_hi = _mm_cvtepi8_epi16(_mm_srli_si128(r0, 8)), b_hi = _mm_cvtepi8_epi16(_mm_srli_si128(r1, 8));
      __m128i* o = reinterpret_cast<__m128i*>(d + e * kGroup * 2);
      _mm_storeu_si128(o + 0, _mm_unpacklo_epi16(a_lo, b_lo));
      _mm_storeu_si128(o + 1, _mm_unpackhi_epi16(a_lo, b_lo));
      _mm_storeu_si128(o + 2, _mm_unpacklo_epi16(a_hi, b_hi));
      _mm_storeu_si128(o + 3, _mm_unpackhi_epi16(a_hi, b_hi));
    }
    for (; e < count; ++e) {
      const int16_t v[2] = {static_cast<int16_t>(s0 ? s0[e] : 0), static_cast<int16_t>(s1 ? s1[e] : 0)};
      std::memcpy(d + e * kGroup * 2, v, sizeof(v));
    }
  }
}

__m256i Float2Int8Lanes(__m256 v) {
  const __m256 ge = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GE_OQ);
  const __m256 half = _mm256_blendv_ps(_mm256_set1_ps(-0.5f), _mm256_set1_ps(0.5f), ge);
  __m256 r = _mm256_add_ps(v, half);
  r = _mm256_min_ps(r, _mm256_set1_ps(127.f));   // r < 127 ? r : 127
  r = _mm256_max_ps(r, _mm256_set1_ps(-128.f));  // r > −128 ? r : −128
  return _mm256_cvttps_epi32(r);
}

__m256i Requantize(__m256i acc, const Int8Gemm& g, int64_t row) {
  __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_set1_ps(g.multiplier[row]));
  if (g.activation == 2) {
    __m256i q = Float2Int8Lanes(v);
    q = _mm256_min_epi32(q, _mm256_set1_epi32(g.relu6_max[row]));
    return _mm256_max_epi32(q, _mm256_setzero_si256());
  }
  if (g.activation == 1) v = _mm256_max_ps(v, _mm256_setzero_ps());  // v > 0 ? v : 0
  return Float2Int8Lanes(_mm256_add_ps(v, _mm256_set1_ps(static_cast<float>(g.out_zero[row]))));
}

// RequantizeAddInt8 on 8 lanes, `add` the operand's values.
__m256i RequantizeAdd(__m256i acc, const Int8Gemm& g, int64_t row, __m256i add) {
  const float scale = g.add_scale[row];
  const __m256 term = _mm256_sub_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(add), _mm256_set1_ps(scale)),
                                    _mm256_set1_ps(static_cast<float>(g.add_zero[row]) * scale));
  __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_set1_ps(g.multiplier[row]));
  if (g.fusion == 1) v = _mm256_add_ps(v, term);
  if (g.activation == 2) {
    __m256i q = Float2Int8Lanes(v);
    q = _mm256_min_epi32(q, _mm256_set1_epi32(g.relu6_max[row]));
    return _mm256_max_epi32(q, _mm256_setzero_si256());
  }
  if (g.activation == 1) v = _mm256_max_ps(v, _mm256_setzero_ps());
  if (g.fusion == 2) v = _mm256_add_ps(v, term);
  return Float2Int8Lanes(_mm256_add_ps(v, _mm256_set1_ps(static_cast<float>(g.out_zero[row]))));
}

int32_t LoadInt32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

void Tile(const Int8Gemm& g, int64_t rb, int64_t j0) {
  // Named accumulators rather than an array: with an array GCC 12 copied accumulators between registers in each
  // k step.
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
          c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const int8_t* a = g.a + rb * g.a_block_bytes;
  const uint8_t* b = g.b + j0 * kGroup * 2;
  for (int64_t kg = 0; kg < g.kgroups; ++kg) {
    const uint8_t* bk = b + g.koff[kg];
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bk));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bk + 32));
    __m256i w = _mm256_set1_epi32(LoadInt32(a));
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(b0, w));
    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(b1, w));
    w = _mm256_set1_epi32(LoadInt32(a + 4));
    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(b0, w));
    c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(b1, w));
    w = _mm256_set1_epi32(LoadInt32(a + 8));
    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(b0, w));
    c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(b1, w));
    w = _mm256_set1_epi32(LoadInt32(a + 12));
    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(b0, w));
    c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(b1, w));
    w = _mm256_set1_epi32(LoadInt32(a + 16));
    c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(b0, w));
    c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(b1, w));
    w = _mm256_set1_epi32(LoadInt32(a + 20));
    c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(b0, w));
    c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(b1, w));
    a += kMr * kGroup * 2;
  }
  const __m256i acc[kMr][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};

  const int64_t cols = g.n - j0 < kNr ? g.n - j0 : kNr;
  const int64_t rows = g.m - rb * kMr < kMr ? g.m - rb * kMr : kMr;
  __m256i cs0 = _mm256_setzero_si256(), cs1 = _mm256_setzero_si256();
  if (g.col_sum) {
    cs0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g.col_sum + j0));
    cs1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g.col_sum + j0 + 8));
  }
  GridRuns runs;
  if (!g.c) TileRuns(g.grid_w, g.out_w, g.n, j0, cols, &runs);
  for (int r = 0; r < rows; ++r) {
    const int64_t row = rb * kMr + r;
    const __m256i add = _mm256_set1_epi32(g.row_add[row]);
    __m256i v0 = _mm256_add_epi32(acc[r][0], add), v1 = _mm256_add_epi32(acc[r][1], add);
    if (g.col_sum) {
      const __m256i zw = _mm256_set1_epi32(g.weight_zero[row]);
      v0 = _mm256_sub_epi32(v0, _mm256_mullo_epi32(zw, cs0));
      v1 = _mm256_sub_epi32(v1, _mm256_mullo_epi32(zw, cs1));
    }
    alignas(32) int32_t lanes[kNr];
    if (g.c) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), v0);
      _mm256_store_si256(reinterpret_cast<__m256i*>(lanes + 8), v1);
      std::memcpy(g.c + row * g.ldc + j0, lanes, sizeof(int32_t) * cols);
      continue;
    }
    int8_t* out = g.out + row * g.out_stride;
    if (g.add) {
      // The operand gathered run by run into lane order, as the outputs are scattered below.
      alignas(32) int32_t add[kNr] = {};
      const int8_t* add_row = g.add + row * g.out_stride;
      for (int s = 0; s < runs.n; ++s) {
        for (int64_t i = 0; i < runs.len[s]; ++i) add[runs.first[s] - j0 + i] = add_row[runs.out[s] + i];
      }
      const __m256i add0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(add));
      const __m256i add1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(add + 8));
      _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), RequantizeAdd(v0, g, row, add0));
      _mm256_store_si256(reinterpret_cast<__m256i*>(lanes + 8), RequantizeAdd(v1, g, row, add1));
    } else {
      _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), Requantize(v0, g, row));
      _mm256_store_si256(reinterpret_cast<__m256i*>(lanes + 8), Requantize(v1, g, row));
    }
    for (int s = 0; s < runs.n; ++s) {
      const int32_t* v = lanes + (runs.first[s] - j0);
      for (int64_t i = 0; i < runs.len[s]; ++i) out[runs.out[s] + i] = static_cast<int8_t>(v[i]);
    }
  }
}

}  // namespace

const Int8MicroKernel& Int8MicroKernelAvx2() {
  static const Int8MicroKernel kernel{"avx2", kMr, kNr, kGroup, kGroup * 2, ABlockBytes, PackA, PackB, Tile,
                                      nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  return kernel;
}

}  // namespace qt
