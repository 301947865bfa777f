// AVX2 int8 micro-kernel: activations sign-extended to int16 pairs (two channels per column) and weights as int16
// pairs, multiplied by vpmaddwd, whose pairwise int32 sums are exact (vpmaddubsw is avoided: it saturates to
// int16). A 6x16 tile keeps 12 ymm accumulators. The requantization is RequantizeInt8 step by step in float
// lanes, with MINPS/MAXPS operand orders that give the C ternaries' results.
#include <immintrin.h>

#include <cstring>
#include <vector>

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

__m256i RequantizeLanes(__m256i acc, float multiplier, int activation, int8_t relu6_max, int8_t out_zero) {
  __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_set1_ps(multiplier));
  if (activation == 2) {
    __m256i q = Float2Int8Lanes(v);
    q = _mm256_min_epi32(q, _mm256_set1_epi32(relu6_max));
    return _mm256_max_epi32(q, _mm256_setzero_si256());
  }
  if (activation == 1) v = _mm256_max_ps(v, _mm256_setzero_ps());  // v > 0 ? v : 0
  return Float2Int8Lanes(_mm256_add_ps(v, _mm256_set1_ps(static_cast<float>(out_zero))));
}

__m256i Requantize(__m256i acc, const Int8Gemm& g, int64_t row) {
  return RequantizeLanes(acc, g.multiplier[row], g.activation, g.relu6_max[row], g.out_zero[row]);
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

// Copies n bytes, sizeof(T) ≤ n ≤ 2·sizeof(T), as two overlapping fixed-size moves.
template <typename T>
inline void TwoMoves(int8_t* dst, const int8_t* src, int64_t n) {
  T a, b;
  std::memcpy(&a, src, sizeof(T));
  std::memcpy(&b, src + n - sizeof(T), sizeof(T));
  std::memcpy(dst, &a, sizeof(T));
  std::memcpy(dst + n - sizeof(T), &b, sizeof(T));
}

// Copies n ≤ 16 bytes without a memcpy of a run-time size, which is a library call (once per run of every row of
// every tile).
inline void CopyUpTo16(int8_t* dst, const int8_t* src, int64_t n) {
  if (n >= 8) {
    TwoMoves<int64_t>(dst, src, n);
  } else if (n >= 4) {
    TwoMoves<int32_t>(dst, src, n);
  } else if (n >= 2) {
    TwoMoves<int16_t>(dst, src, n);
  } else if (n == 1) {
    *dst = *src;
  }
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
      v0 = RequantizeAdd(v0, g, row, add0);
      v1 = RequantizeAdd(v1, g, row, add1);
    } else {
      v0 = Requantize(v0, g, row);
      v1 = Requantize(v1, g, row);
    }
    // The 16 results (each in [−128, 127], so the saturating packs keep them) as bytes in column order.
    const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(v0, v1), 0xD8);
    const __m128i packed = _mm_packs_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
    if (runs.n == 1 && runs.len[0] == kNr) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + runs.out[0]), packed);
      continue;
    }
    alignas(16) int8_t bytes[kNr];
    _mm_store_si128(reinterpret_cast<__m128i*>(bytes), packed);
    for (int s = 0; s < runs.n; ++s) {
      CopyUpTo16(out + runs.out[s], bytes + (runs.first[s] - j0), runs.len[s]);
    }
  }
}

// Int8DepthwiseDirect on AVX2. The channel's rows are widened once into a zero-padded float copy (at stride 2
// split into even and odd padded columns, so that every window column is a plain load), then each output row sums
// its nine taps in float lanes: products are at most 2^14 and nine of them stay below 2^24, so every partial sum is
// an exact integer, as in the VNNI kernel. Eight outputs per vector, up to four vectors per step for independent
// chains; the last vector of a row is computed whole (the copy is wide enough) and stored in part.
constexpr int64_t kDwVec = 8;

struct DwPlanes {
  const float* base;  // padded row y at base + y·row_stride
  int64_t row_stride;
  int64_t odd;        // stride 2: the odd columns at + odd
};

// Eight int8 results of 8 int32 lanes, as the low 8 bytes.
int64_t PackLanes(__m256i q) {
  const __m256i p16 = _mm256_packs_epi32(q, q);
  const __m256i p8 = _mm256_packs_epi16(p16, p16);
  const __m256i g = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0));
  return _mm_cvtsi128_si64(_mm256_castsi256_si128(g));
}

template <int kStride, int kRows, int kVectors>
void DwStep(const Int8DepthwiseDirect& d, const DwPlanes& pl, const __m256 (&w)[9], int64_t oy, int64_t ox) {
  __m256 acc[kRows][kVectors];
  for (int r = 0; r < kRows; ++r) {
    for (int v = 0; v < kVectors; ++v) acc[r][v] = _mm256_setzero_ps();
  }
  for (int ky = 0; ky < 3; ++ky) {
    for (int kx = 0; kx < 3; ++kx) {
      // Window column kx: stride 1, padded column ox + kx; stride 2, even columns from ox (kx 0) or ox + 1
      // (kx 2), odd ones from ox (kx 1).
      const int64_t col = kStride == 1 ? kx : kx == 1 ? pl.odd : kx / 2;
      for (int r = 0; r < kRows; ++r) {
        const float* row = pl.base + ((oy + r) * kStride + ky) * pl.row_stride + ox + col;
        for (int v = 0; v < kVectors; ++v) {
          acc[r][v] = _mm256_fmadd_ps(w[ky * 3 + kx], _mm256_loadu_ps(row + v * kDwVec), acc[r][v]);
        }
      }
    }
  }
  const __m256i add = _mm256_set1_epi32(d.row_add);
  for (int r = 0; r < kRows; ++r) {
    int8_t* out = d.out + (oy + r) * d.out_w + ox;
    for (int v = 0; v < kVectors; ++v) {
      const __m256i sum = _mm256_add_epi32(_mm256_cvtps_epi32(acc[r][v]), add);
      const int64_t bytes = PackLanes(RequantizeLanes(sum, d.multiplier, d.activation, d.relu6_max, d.out_zero));
      const int64_t n = d.out_w - ox - v * kDwVec;
      if (n >= kDwVec) {
        std::memcpy(out + v * kDwVec, &bytes, kDwVec);  // a constant size: one 8-byte store, not a call
      } else {
        std::memcpy(out + v * kDwVec, &bytes, static_cast<size_t>(n));
      }
    }
  }
}

// Widens padded row y (input row y − pad_top, zeros outside the input) into dst: at stride 1, padded column x at
// dst[x] for x < width; at stride 2, padded column 2i at dst[i] and 2i + 1 at dst[odd + i] for i < width.
void WidenRow(const Int8DepthwiseDirect& d, int64_t y, int64_t width, int64_t odd, int8_t* bytes, float* dst) {
  const int64_t span = d.stride * width + 16;  // padded columns read below, with the vector overrun
  std::memset(bytes, 0, static_cast<size_t>(span));
  const int64_t iy = y - d.pad_top;
  if (iy >= 0 && iy < d.in_h) {
    const int64_t x0 = d.pad_left < 0 ? -d.pad_left : 0;  // first input column that lands inside the span
    const int64_t x1 = d.in_w < span - d.pad_left ? d.in_w : span - d.pad_left;
    if (x1 > x0) std::memcpy(bytes + d.pad_left + x0, d.in + iy * d.in_w + x0, static_cast<size_t>(x1 - x0));
  }
  if (d.stride == 1) {
    for (int64_t x = 0; x < width; x += kDwVec) {
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes + x));
      _mm256_storeu_ps(dst + x, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b)));
    }
    return;
  }
  const __m128i split = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  for (int64_t i = 0; i < width; i += kDwVec) {
    const __m128i b = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + 2 * i)), split);
    _mm256_storeu_ps(dst + i, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b)));
    _mm256_storeu_ps(dst + odd + i, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8))));
  }
}

template <int kStride>
void DwChannel(const Int8DepthwiseDirect& d) {
  const int64_t vec_w = (d.out_w + kDwVec - 1) / kDwVec * kDwVec;
  // Padded columns read: at stride 1 up to vec_w + 1; at stride 2 even ones up to index vec_w, odd ones up to
  // vec_w − 1. One vector more keeps every widening step whole.
  const int64_t width = vec_w + kDwVec;
  const int64_t odd = kStride == 1 ? 0 : width;
  const int64_t row_stride = kStride == 1 ? width : 2 * width;
  const int64_t rows = (d.out_h - 1) * kStride + 3;
  thread_local std::vector<float> planes;
  thread_local std::vector<int8_t> bytes;
  if (static_cast<int64_t>(planes.size()) < rows * row_stride) planes.resize(static_cast<size_t>(rows * row_stride));
  const int64_t span = kStride * width + 16;
  if (static_cast<int64_t>(bytes.size()) < span + 16) bytes.resize(static_cast<size_t>(span + 16));
  for (int64_t y = 0; y < rows; ++y) WidenRow(d, y, width, odd, bytes.data(), planes.data() + y * row_stride);
  __m256 w[9];
  for (int k = 0; k < 9; ++k) w[k] = _mm256_set1_ps(static_cast<float>(d.w[k]));
  const DwPlanes pl{planes.data(), row_stride, odd};
  const int64_t vectors = vec_w / kDwVec;
  int64_t oy = 0;
  // Narrow rows take several rows per step, so that a step has up to four independent sums.
  if (vectors == 1) {
    for (; oy + 4 <= d.out_h; oy += 4) DwStep<kStride, 4, 1>(d, pl, w, oy, 0);
    if (oy + 3 == d.out_h) DwStep<kStride, 3, 1>(d, pl, w, oy, 0);
    if (oy + 2 == d.out_h) DwStep<kStride, 2, 1>(d, pl, w, oy, 0);
    if (oy + 1 == d.out_h) DwStep<kStride, 1, 1>(d, pl, w, oy, 0);
    return;
  }
  if (vectors == 2) {
    for (; oy + 2 <= d.out_h; oy += 2) DwStep<kStride, 2, 2>(d, pl, w, oy, 0);
  }
  for (; oy < d.out_h; ++oy) {
    int64_t ox = 0;
    for (; ox + 4 * kDwVec <= vec_w; ox += 4 * kDwVec) DwStep<kStride, 1, 4>(d, pl, w, oy, ox);
    for (; ox + 2 * kDwVec <= vec_w; ox += 2 * kDwVec) DwStep<kStride, 1, 2>(d, pl, w, oy, ox);
    for (; ox < vec_w; ox += kDwVec) DwStep<kStride, 1, 1>(d, pl, w, oy, ox);
  }
}

// AddInt8Ref's float steps on 8 lanes, in its order (products, sum, division, zero point, Float2Int8).
void AddPlane(const Int8AddPlane& p) {
  const __m256 sa = _mm256_set1_ps(p.sa), za = _mm256_set1_ps(p.za), sb = _mm256_set1_ps(p.sb);
  const __m256 zb = _mm256_set1_ps(p.zb), so = _mm256_set1_ps(p.so), zo = _mm256_set1_ps(p.zo);
  auto eight = [&](int64_t a8, int64_t b8) {
    const __m256 a = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(a8)));
    const __m256 b = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(b8)));
    const __m256 sum = _mm256_add_ps(_mm256_mul_ps(sa, _mm256_sub_ps(a, za)), _mm256_mul_ps(sb, _mm256_sub_ps(b, zb)));
    return PackLanes(Float2Int8Lanes(_mm256_add_ps(_mm256_div_ps(sum, so), zo)));
  };
  int64_t i = 0;
  for (; i + kDwVec <= p.n; i += kDwVec) {
    int64_t a8, b8;
    std::memcpy(&a8, p.a + i, kDwVec);
    std::memcpy(&b8, p.b + i, kDwVec);
    const int64_t bytes = eight(a8, b8);
    std::memcpy(p.out + i, &bytes, kDwVec);
  }
  if (i < p.n) {
    const size_t n = static_cast<size_t>(p.n - i);
    int64_t a8 = 0, b8 = 0;
    std::memcpy(&a8, p.a + i, n);
    std::memcpy(&b8, p.b + i, n);
    const int64_t bytes = eight(a8, b8);
    std::memcpy(p.out + i, &bytes, n);
  }
}

void DepthwiseDirect(const Int8DepthwiseDirect& a, const Int8DepthwiseDirect* b) {
  for (const Int8DepthwiseDirect* d : {&a, b}) {
    if (!d) continue;
    if (d->stride == 1) {
      DwChannel<1>(*d);
    } else {
      DwChannel<2>(*d);
    }
  }
}

}  // namespace

const Int8MicroKernel& Int8MicroKernelAvx2() {
  static const Int8MicroKernel kernel{"avx2", kMr, kNr, kGroup, kGroup * 2, ABlockBytes, PackA, PackB, Tile,
                                      nullptr, nullptr, nullptr, AddPlane, nullptr, nullptr, DepthwiseDirect};
  return kernel;
}

}  // namespace qt
