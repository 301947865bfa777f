// AVX-512 VNNI int8 micro-kernel: vpdpbusd multiplies unsigned by signed bytes, so activations are stored as
// x + 128 (x ^ 0x80, in [0, 255]) and each row's constant −128·Σ_k w is added back: Σ (x + 128)·w − 128·Σ w =
// Σ x·w, exactly, as every product fits in 16 bits and the sums in int32 (vpdpbusd does not saturate). An 8x32
// tile keeps 16 zmm accumulators; per k-group (4 channels) two 64-byte loads of B and eight broadcast weights.
// The requantization is RequantizeInt8 step by step in float lanes; MINPS/MAXPS take their operands in the order
// that gives the C ternaries' result (NaN included), so outputs are bit-identical with the scalar code.
#include <immintrin.h>

#include <cstring>

#include "core/int8/gemm_int8_isa.h"
#include "core/int8/int8_avx512.h"

namespace qt {
namespace {

constexpr int kMr = 8, kNr = 32, kGroup = 4;

int64_t ABlockBytes(int64_t groups) { return groups * kMr * kGroup; }

void PackA(const int8_t* w, int64_t m, int64_t channels, int taps, int8_t* dst, int32_t* correction) {
  const int64_t k = channels * taps;
  const int64_t quads = (channels + kGroup - 1) / kGroup;
  const int64_t blocks = (m + kMr - 1) / kMr;
  const int64_t block_bytes = ABlockBytes(quads * taps);
  for (int64_t rb = 0; rb < blocks; ++rb) {
    int8_t* block = dst + rb * block_bytes;
    for (int64_t q = 0; q < quads; ++q) {
      for (int t = 0; t < taps; ++t) {
        int8_t* group = block + (q * taps + t) * kMr * kGroup;
        for (int r = 0; r < kMr; ++r) {
          const int64_t row = rb * kMr + r;
          for (int i = 0; i < kGroup; ++i) {
            const int64_t c = q * kGroup + i;
            group[r * kGroup + i] = row < m && c < channels ? w[row * k + c * taps + t] : 0;
          }
        }
      }
    }
  }
  for (int64_t r = 0; r < m; ++r) {
    int32_t sum = 0;
    for (int64_t kk = 0; kk < k; ++kk) sum += w[r * k + kk];
    correction[r] = -128 * sum;
  }
}

void PackB(const int8_t* src, int64_t channels, int64_t src_stride, int64_t count, int64_t q0, int64_t q1,
           int64_t dst_stride, uint8_t* dst) {
  const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));
  const __m128i zero = _mm_setzero_si128();
  for (int64_t q = q0; q < q1; ++q) {
    const int8_t* s[kGroup];
    for (int i = 0; i < kGroup; ++i) {
      const int64_t c = q * kGroup + i;
      s[i] = c < channels ? src + c * src_stride : nullptr;
    }
    uint8_t* d = dst + q * dst_stride * kGroup;
    int64_t e = 0;
    // 64 columns at a time: the byte and word unpacks interleave within 128-bit lanes, so quad vector u_i holds
    // columns 16L + 4i + [0, 4) in lane L; a 4x4 transpose of lanes puts 16 consecutive columns in each vector.
    const __m512i flip512 = _mm512_set1_epi8(static_cast<char>(0x80));
    const __m512i zero512 = _mm512_setzero_si512();
    for (; e + 64 <= count; e += 64) {
      const __m512i r0 = s[0] ? _mm512_loadu_si512(s[0] + e) : zero512;
      const __m512i r1 = s[1] ? _mm512_loadu_si512(s[1] + e) : zero512;
      const __m512i r2 = s[2] ? _mm512_loadu_si512(s[2] + e) : zero512;
      const __m512i r3 = s[3] ? _mm512_loadu_si512(s[3] + e) : zero512;
      const __m512i t0 = _mm512_unpacklo_epi8(r0, r1), t1 = _mm512_unpackhi_epi8(r0, r1);
      const __m512i t2 = _mm512_unpacklo_epi8(r2, r3), t3 = _mm512_unpackhi_epi8(r2, r3);
      const __m512i u0 = _mm512_unpacklo_epi16(t0, t2), u1 = _mm512_unpackhi_epi16(t0, t2);
      const __m512i u2 = _mm512_unpacklo_epi16(t1, t3), u3 = _mm512_unpackhi_epi16(t1, t3);
      // v0 = lanes (u0.0, u0.1, u1.0, u1.1), v1 = (u2.0, u2.1, u3.0, u3.1), v2/v3 the same from lanes 2 and 3.
      const __m512i v0 = _mm512_shuffle_i64x2(u0, u1, 0x44), v1 = _mm512_shuffle_i64x2(u2, u3, 0x44);
      const __m512i v2 = _mm512_shuffle_i64x2(u0, u1, 0xEE), v3 = _mm512_shuffle_i64x2(u2, u3, 0xEE);
      uint8_t* o = d + e * kGroup;
      _mm512_storeu_si512(o, _mm512_xor_si512(_mm512_shuffle_i64x2(v0, v1, 0x88), flip512));
      _mm512_storeu_si512(o + 64, _mm512_xor_si512(_mm512_shuffle_i64x2(v0, v1, 0xDD), flip512));
      _mm512_storeu_si512(o + 128, _mm512_xor_si512(_mm512_shuffle_i64x2(v2, v3, 0x88), flip512));
      _mm512_storeu_si512(o + 192, _mm512_xor_si512(_mm512_shuffle_i64x2(v2, v3, 0xDD), flip512));
    }
    for (; e + 16 <= count; e += 16) {
      const __m128i r0 = s[0] ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(s[0] + e)) : zero;
      const __m128i r1 = s[1] ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(s[1] + e)) : zero;
      const __m128i r2 = s[2] ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(s[2] + e)) : zero;
      const __m128i r3 = s[3] ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(s[3] + e)) : zero;
      const __m128i t0 = _mm_unpacklo_epi8(r0, r1), t1 = _mm_unpackhi_epi8(r0, r1);
      const __m128i t2 = _mm_unpacklo_epi8(r2, r3), t3 = _mm_unpackhi_epi8(r2, r3);
      __m128i* o = reinterpret_cast<__m128i*>(d + e * kGroup);
      _mm_storeu_si128(o + 0, _mm_xor_si128(_mm_unpacklo_epi16(t0, t2), flip));
      _mm_storeu_si128(o + 1, _mm_xor_si128(_mm_unpackhi_epi16(t0, t2), flip));
      _mm_storeu_si128(o + 2, _mm_xor_si128(_mm_unpacklo_epi16(t1, t3), flip));
      _mm_storeu_si128(o + 3, _mm_xor_si128(_mm_unpackhi_epi16(t1, t3), flip));
    }
    for (; e < count; ++e) {
      for (int i = 0; i < kGroup; ++i) d[e * kGroup + i] = static_cast<uint8_t>((s[i] ? s[i][e] : 0) ^ 0x80);
    }
  }
}

__m512i RequantizeLanes(__m512i acc, float multiplier, int8_t out_zero, int8_t relu6_max, int activation) {
  return RequantizeVectors(acc, _mm512_set1_ps(multiplier), _mm512_set1_ps(static_cast<float>(out_zero)),
                           _mm512_set1_epi32(relu6_max), activation);
}

__m512i Requantize(__m512i acc, const Int8Gemm& g, int64_t row) {
  return RequantizeLanes(acc, g.multiplier[row], g.out_zero[row], g.relu6_max[row], g.activation);
}

// RequantizeAddInt8 on 16 lanes, `add` the operand's bytes.
__m512i RequantizeAdd(__m512i acc, const Int8Gemm& g, int64_t row, __m128i add) {
  const float scale = g.add_scale[row];
  const __m512 term = _mm512_sub_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(add)), _mm512_set1_ps(scale)),
                                    _mm512_set1_ps(static_cast<float>(g.add_zero[row]) * scale));
  __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(g.multiplier[row]));
  if (g.fusion == 1) v = _mm512_add_ps(v, term);
  if (g.activation == 2) {
    __m512i q = Float2Int8Lanes(v);
    q = _mm512_min_epi32(q, _mm512_set1_epi32(g.relu6_max[row]));
    return _mm512_max_epi32(q, _mm512_setzero_si512());
  }
  if (g.activation == 1) v = _mm512_max_ps(v, _mm512_setzero_ps());
  if (g.fusion == 2) v = _mm512_add_ps(v, term);
  return Float2Int8Lanes(_mm512_add_ps(v, _mm512_set1_ps(static_cast<float>(g.out_zero[row]))));
}

int32_t LoadInt32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// kHalf: a tail of at most 16 columns, computed in one vector per row instead of two.
template <bool kHalf>
void TileImpl(const Int8Gemm& g, int64_t rb, int64_t j0) {
  // Named accumulators rather than an array: with an array GCC 12 moved every accumulator to another register
  // (and spilled two) in each k step, at about half the kernel's speed.
  __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
          c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
  const int8_t* a = g.a + rb * g.a_block_bytes;
  const uint8_t* b = g.b + j0 * kGroup;
  for (int64_t kg = 0; kg < g.kgroups; ++kg) {
    const uint8_t* bk = b + g.koff[kg];
    const __m512i b0 = _mm512_loadu_si512(bk);
    const __m512i b1 = kHalf ? _mm512_setzero_si512() : _mm512_loadu_si512(bk + 64);
    __m512i w = _mm512_set1_epi32(LoadInt32(a));
    c00 = _mm512_dpbusd_epi32(c00, b0, w);
    if (!kHalf) c01 = _mm512_dpbusd_epi32(c01, b1, w);
    w = _mm512_set1_epi32(LoadInt32(a + 4));
    c10 = _mm512_dpbusd_epi32(c10, b0, w);
    if (!kHalf) c11 = _mm512_dpbusd_epi32(c11, b1, w);
    w = _mm512_set1_epi32(LoadInt32(a + 8));
    c20 = _mm512_dpbusd_epi32(c20, b0, w);
    if (!kHalf) c21 = _mm512_dpbusd_epi32(c21, b1, w);
    w = _mm512_set1_epi32(LoadInt32(a + 12));
    c30 = _mm512_dpbusd_epi32(c30, b0, w);
    if (!kHalf) c31 = _mm512_dpbusd_epi32(c31, b1, w);
    w = _mm512_set1_epi32(LoadInt32(a + 16));
    c40 = _mm512_dpbusd_epi32(c40, b0, w);
    if (!kHalf) c41 = _mm512_dpbusd_epi32(c41, b1, w);
    w = _mm512_set1_epi32(LoadInt32(a + 20));
    c50 = _mm512_dpbusd_epi32(c50, b0, w);
    if (!kHalf) c51 = _mm512_dpbusd_epi32(c51, b1, w);
    w = _mm512_set1_epi32(LoadInt32(a + 24));
    c60 = _mm512_dpbusd_epi32(c60, b0, w);
    if (!kHalf) c61 = _mm512_dpbusd_epi32(c61, b1, w);
    w = _mm512_set1_epi32(LoadInt32(a + 28));
    c70 = _mm512_dpbusd_epi32(c70, b0, w);
    if (!kHalf) c71 = _mm512_dpbusd_epi32(c71, b1, w);
    a += kMr * kGroup;
  }
  const __m512i acc[kMr][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31},
                               {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71}};

  const int64_t cols = g.n - j0 < kNr ? g.n - j0 : kNr;
  const __mmask16 m0 = LaneMask(cols), m1 = LaneMask(cols - 16);
  const int64_t rows = g.m - rb * kMr < kMr ? g.m - rb * kMr : kMr;
  __m512i cs0 = _mm512_setzero_si512(), cs1 = _mm512_setzero_si512();
  if (g.col_sum) {
    cs0 = _mm512_loadu_si512(g.col_sum + j0);
    cs1 = _mm512_loadu_si512(g.col_sum + j0 + 16);
  }
  const bool contiguous = g.grid_w == g.out_w;
  GridRuns runs;
  __mmask16 run_mask[40][2];
  if (!g.c && !contiguous) {
    TileRuns(g.grid_w, g.out_w, g.n, j0, cols, &runs);
    for (int s = 0; s < runs.n; ++s) {
      const int64_t lo = runs.first[s] - j0, hi = lo + runs.len[s];
      run_mask[s][0] = Lanes(lo, hi);
      run_mask[s][1] = Lanes(lo - 16, hi - 16);
      runs.out[s] -= lo;
    }
  }
  for (int r = 0; r < rows; ++r) {
    const int64_t row = rb * kMr + r;
    const __m512i add = _mm512_set1_epi32(g.row_add[row]);
    __m512i v0 = _mm512_add_epi32(acc[r][0], add), v1 = _mm512_add_epi32(acc[r][1], add);
    if (g.col_sum) {
      const __m512i zw = _mm512_set1_epi32(g.weight_zero[row]);
      v0 = _mm512_sub_epi32(v0, _mm512_mullo_epi32(zw, cs0));
      v1 = _mm512_sub_epi32(v1, _mm512_mullo_epi32(zw, cs1));
    }
    if (g.c) {
      _mm512_mask_storeu_epi32(g.c + row * g.ldc + j0, m0, v0);
      _mm512_mask_storeu_epi32(g.c + row * g.ldc + j0 + 16, m1, v1);
      continue;
    }
    int8_t* out = g.out + row * g.out_stride;
    __m128i q0, q1;
    if (g.add) {
      const int8_t* add_row = g.add + row * g.out_stride;
      __m128i a0 = _mm_setzero_si128(), a1 = a0;
      if (contiguous) {
        a0 = _mm_maskz_loadu_epi8(m0, add_row + j0);
        a1 = _mm_maskz_loadu_epi8(m1, add_row + j0 + 16);
      } else {
        for (int s = 0; s < runs.n; ++s) {
          a0 = _mm_mask_loadu_epi8(a0, run_mask[s][0], add_row + runs.out[s]);
          a1 = _mm_mask_loadu_epi8(a1, run_mask[s][1], add_row + runs.out[s] + 16);
        }
      }
      q0 = _mm512_cvtepi32_epi8(RequantizeAdd(v0, g, row, a0));
      q1 = _mm512_cvtepi32_epi8(RequantizeAdd(v1, g, row, a1));
    } else {
      q0 = _mm512_cvtepi32_epi8(Requantize(v0, g, row));
      q1 = _mm512_cvtepi32_epi8(Requantize(v1, g, row));
    }
    if (contiguous) {
      _mm_mask_storeu_epi8(out + j0, m0, q0);
      _mm_mask_storeu_epi8(out + j0 + 16, m1, q1);
      continue;
    }
    for (int s = 0; s < runs.n; ++s) {
      _mm_mask_storeu_epi8(out + runs.out[s], run_mask[s][0], q0);
      _mm_mask_storeu_epi8(out + runs.out[s] + 16, run_mask[s][1], q1);
    }
  }
}

void Tile(const Int8Gemm& g, int64_t rb, int64_t j0) {
  if (j0 + kNr / 2 >= g.n) {
    TileImpl<true>(g, rb, j0);
  } else {
    TileImpl<false>(g, rb, j0);
  }
}

// 64 consecutive grid columns as four phase vectors: lane i of phase r is column 4i + r, whose quad of taps is
// the four bytes a load at offset r puts in lane i. So one vpdpbusd applies up to four taps to 16 columns.
struct PhaseAcc {
  __m512i p0, p1, p2, p3;
};

inline void AccumulateQuad(const uint8_t* b, __m512i w, PhaseAcc* a) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  a->p0 = _mm512_dpbusd_epi32(a->p0, _mm512_xor_si512(_mm512_loadu_si512(b), flip), w);
  a->p1 = _mm512_dpbusd_epi32(a->p1, _mm512_xor_si512(_mm512_loadu_si512(b + 1), flip), w);
  a->p2 = _mm512_dpbusd_epi32(a->p2, _mm512_xor_si512(_mm512_loadu_si512(b + 2), flip), w);
  a->p3 = _mm512_dpbusd_epi32(a->p3, _mm512_xor_si512(_mm512_loadu_si512(b + 3), flip), w);
}

// The requantized phases interleaved back into column order: byte 4i + r of the result is phase r's lane i.
__m512i RequantizePhases(const PhaseAcc& a, const Int8DepthwisePlane& d, __m512i add) {
  const __m512i byte = _mm512_set1_epi32(0xFF);
  auto q = [&](__m512i v) {
    return RequantizeLanes(_mm512_add_epi32(v, add), d.multiplier, d.out_zero, d.relu6_max, d.activation);
  };
  __m512i t = _mm512_and_si512(q(a.p0), byte);
  t = _mm512_or_si512(t, _mm512_slli_epi32(_mm512_and_si512(q(a.p1), byte), 8));
  t = _mm512_or_si512(t, _mm512_slli_epi32(_mm512_and_si512(q(a.p2), byte), 16));
  return _mm512_or_si512(t, _mm512_slli_epi32(q(a.p3), 24));
}

// Two 64-column steps at a time keep eight vpdpbusd chains in flight.
// The valid columns of d.grid to d.out.
void CompactGrid(const Int8DepthwisePlane& d) {
  for (int64_t oy = 0; oy < d.out_h; ++oy) {
    const int8_t* src = d.grid + oy * d.grid_w;
    int8_t* dst = d.out + oy * d.out_w;
    for (int64_t x = 0; x < d.out_w; x += 64) {
      const int64_t n = d.out_w - x < 64 ? d.out_w - x : 64;
      const __mmask64 m = n == 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
      _mm512_mask_storeu_epi8(dst + x, m, _mm512_maskz_loadu_epi8(m, src + x));
    }
  }
}

void Depthwise(const Int8DepthwisePlane& d) {
  static_assert(kDepthwiseBlock == 128, "two steps of 64 columns");
  const __m512i add = _mm512_set1_epi32(d.row_add - 128 * d.w_sum);
  const uint8_t* planes = reinterpret_cast<const uint8_t*>(d.planes);
  for (int64_t j0 = 0; j0 < d.grid_n; j0 += kDepthwiseBlock) {
    PhaseAcc a{_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    PhaseAcc b = a;
    for (int64_t q = 0; q < d.quads; ++q) {
      const __m512i w = _mm512_set1_epi32(d.quad_w[q]);
      const uint8_t* src = planes + d.quad_off[q] + j0;
      AccumulateQuad(src, w, &a);
      AccumulateQuad(src + 64, w, &b);
    }
    _mm512_storeu_si512(d.grid + j0, RequantizePhases(a, d, add));
    _mm512_storeu_si512(d.grid + j0 + 64, RequantizePhases(b, d, add));
  }
  CompactGrid(d);
}

// Depthwise's step with its two halves on two channels: a grid of at most 64 columns left the second half's
// accumulators, loads and requantization working on nothing.
void DepthwisePair(const Int8DepthwisePlane& d0, const Int8DepthwisePlane& d1) {
  const __m512i add0 = _mm512_set1_epi32(d0.row_add - 128 * d0.w_sum);
  const __m512i add1 = _mm512_set1_epi32(d1.row_add - 128 * d1.w_sum);
  const uint8_t* planes0 = reinterpret_cast<const uint8_t*>(d0.planes);
  const uint8_t* planes1 = reinterpret_cast<const uint8_t*>(d1.planes);
  PhaseAcc a{_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
  PhaseAcc b = a;
  for (int64_t q = 0; q < d0.quads; ++q) {
    AccumulateQuad(planes0 + d0.quad_off[q], _mm512_set1_epi32(d0.quad_w[q]), &a);
    AccumulateQuad(planes1 + d1.quad_off[q], _mm512_set1_epi32(d1.quad_w[q]), &b);
  }
  _mm512_storeu_si512(d0.grid, RequantizePhases(a, d0, add0));
  _mm512_storeu_si512(d1.grid, RequantizePhases(b, d1, add1));
  CompactGrid(d0);
  CompactGrid(d1);
}

// ---- Int8DepthwiseDirect: the fp32 grid kernels' small-plane blocks (depthwise_fp32_avx512.cc) on int8 rows ----

// 16 int8 values from p (lanes outside m read 0) as floats.
inline __m512 LoadBytesAsFloats(__mmask16 m, const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p)));
}

// The exact integer sums (float lanes) + row_add, requantized.
inline __m512i RequantizeDirect(__m512 acc, const DirectRequant& q, int activation) {
  return RequantizeVectors(_mm512_add_epi32(_mm512_cvtps_epi32(acc), q.row_add), q.multiplier, q.out_zero,
                           q.relu6_max, activation);
}

// Outputs of at most 8 per row (7x7 planes): lanes 0-7 are output columns 0-7 of channel a, lanes 8-15 those of
// channel b. Each input row of a channel is one 16-byte load from −pad_left (lanes outside the input masked off,
// rows outside it not loaded), the window's column kx of both channels one two-source permute (lane ox: column
// ox·S + kx). Input row i of a block of R output rows feeds output rows (i − ky) / S.
template <int R, int S>
void DirectPairRows(const Int8DepthwiseDirect& a, const Int8DepthwiseDirect& b, bool store_b) {
  constexpr int K = 3;
  const __mmask16 load_mask = Lanes(a.pad_left, a.pad_left + a.in_w);
  const __mmask16 store_mask = LaneMask(a.out_w);
  __m512i idx[K];
  alignas(64) int32_t lanes[16];
#pragma GCC unroll 32
  for (int kx = 0; kx < K; ++kx) {
    for (int ox = 0; ox < 8; ++ox) {
      // Lanes past the output (column 7 of a 7-wide plane at stride 2) read any loaded lane.
      const int col = ox * S + kx < 16 ? ox * S + kx : 15;
      lanes[ox] = col;
      lanes[8 + ox] = 16 + col;
    }
    idx[kx] = _mm512_load_si512(lanes);
  }
  __m512 w[K * K];
#pragma GCC unroll 32
  for (int t = 0; t < K * K; ++t) {
    w[t] = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(a.w[t]), _mm512_set1_ps(b.w[t]));
  }
  const DirectRequant q = DirectConstants(a, b, 0xFF00);
  const int activation = a.activation;
  for (int64_t y0 = 0; y0 < a.out_h; y0 += R) {
    __m512 acc[R];
#pragma GCC unroll 32
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
#pragma GCC unroll 32
    for (int i = 0; i < (R - 1) * S + K; ++i) {
      const int64_t iy = y0 * S + i - a.pad_top;
      const bool inside = iy >= 0 && iy < a.in_h;
      // A row outside the input loads nothing (mask 0) from row 0's address.
      const __mmask16 m = inside ? load_mask : static_cast<__mmask16>(0);
      const int64_t at = (inside ? iy * a.in_w : 0) - a.pad_left;
      const __m512 lo = LoadBytesAsFloats(m, a.in + at);
      const __m512 hi = LoadBytesAsFloats(m, b.in + at);
      __m512 x[K];
#pragma GCC unroll 32
      for (int kx = 0; kx < K; ++kx) x[kx] = _mm512_permutex2var_ps(lo, idx[kx], hi);
#pragma GCC unroll 32
      for (int ky = 0; ky < K; ++ky) {
        const int r = (i - ky) / S;
        if (i < ky || (i - ky) % S != 0 || r >= R) continue;
#pragma GCC unroll 32
        for (int kx = 0; kx < K; ++kx) acc[r] = _mm512_fmadd_ps(w[ky * K + kx], x[kx], acc[r]);
      }
    }
    for (int r = 0; r < R && y0 + r < a.out_h; ++r) {
      const __m512i v = RequantizeDirect(acc[r], q, activation);
      const int64_t at = (y0 + r) * a.out_w;
      _mm512_mask_cvtepi32_storeu_epi8(a.out + at, store_mask, v);
      if (store_b) _mm512_mask_cvtepi32_storeu_epi8(b.out + at, store_mask, _mm512_shuffle_i32x4(v, v, 0xEE));
    }
  }
}

// Rows of more than 8 outputs, in strips of C vectors of 16 outputs (vectors [c0, c0 + C) of each row), blocks of R
// rows. Stride 1: input row i is C + 1 16-byte loads, the window's column kx of vector c
// lanes [kx, kx + 16) of loads c and c + 1. Stride 2: vector c reads 32 input columns, whose even and odd ones are
// the window's columns 0 and 1, the even ones shifted by one lane with the column after them (lane 0 of the next
// load) column 2. Lanes outside the input masked off, rows outside it not loaded.
template <int R, int C, int S>
void DirectStrip(const Int8DepthwiseDirect& d, int64_t c0) {
  constexpr int K = 3;
  constexpr int L = S == 1 ? C + 1 : 2 * C + 1;  // 16-byte loads per input row
  const int64_t first = 16 * S * c0 - d.pad_left;  // input column of the strip's first load
  __mmask16 load[L], store[C];
#pragma GCC unroll 32
  for (int j = 0; j < L; ++j) load[j] = Lanes(-first - 16 * j, d.in_w - first - 16 * j);
#pragma GCC unroll 32
  for (int c = 0; c < C; ++c) store[c] = LaneMask(d.out_w - 16 * (c0 + c));
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  __m512 w[K * K];
#pragma GCC unroll 32
  for (int t = 0; t < K * K; ++t) w[t] = _mm512_set1_ps(d.w[t]);
  const DirectRequant q = DirectConstants(d, d, 0);
  const int64_t in_h = d.in_h, in_w = d.in_w, out_h = d.out_h, out_w = d.out_w, pad_top = d.pad_top;
  const int activation = d.activation;
  const int8_t* in = d.in + first;
  int8_t* out = d.out + 16 * c0;
  for (int64_t y0 = 0; y0 < out_h; y0 += R) {
    __m512 acc[R][C];
#pragma GCC unroll 32
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 32
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    }
#pragma GCC unroll 32
    for (int i = 0; i < (R - 1) * S + K; ++i) {
      const int64_t iy = y0 * S + i - pad_top;
      const bool inside = iy >= 0 && iy < in_h;
      // A row outside the input loads nothing (masks 0) from row 0's address.
      const int8_t* row = in + (inside ? iy * in_w : 0);
      __m512 v[L];
#pragma GCC unroll 32
      for (int j = 0; j < L; ++j) v[j] = LoadBytesAsFloats(inside ? load[j] : static_cast<__mmask16>(0), row + 16 * j);
#pragma GCC unroll 32
      for (int c = 0; c < C; ++c) {
        __m512 x[K];
        if (S == 1) {
          const __m512i lo = _mm512_castps_si512(v[c]), hi = _mm512_castps_si512(v[c + 1]);
          x[0] = v[c];
          x[1] = _mm512_castsi512_ps(_mm512_alignr_epi32(hi, lo, 1));
          x[2] = _mm512_castsi512_ps(_mm512_alignr_epi32(hi, lo, 2));
        } else {
          x[0] = _mm512_permutex2var_ps(v[2 * c], even, v[2 * c + 1]);
          x[1] = _mm512_permutex2var_ps(v[2 * c], odd, v[2 * c + 1]);
          x[2] = _mm512_castsi512_ps(
              _mm512_alignr_epi32(_mm512_castps_si512(v[2 * c + 2]), _mm512_castps_si512(x[0]), 1));
        }
#pragma GCC unroll 32
        for (int ky = 0; ky < K; ++ky) {
          const int r = (i - ky) / S;
          if (i < ky || (i - ky) % S != 0 || r >= R) continue;
#pragma GCC unroll 32
          for (int kx = 0; kx < K; ++kx) acc[r][c] = _mm512_fmadd_ps(w[ky * K + kx], x[kx], acc[r][c]);
        }
      }
    }
    for (int r = 0; r < R && y0 + r < out_h; ++r) {
#pragma GCC unroll 32
      for (int c = 0; c < C; ++c) {
        _mm512_mask_cvtepi32_storeu_epi8(out + (y0 + r) * out_w + 16 * c, store[c],
                                         RequantizeDirect(acc[r][c], q, activation));
      }
    }
  }
}

// Strips of four vectors (eight accumulators in blocks of two rows), the last one of what is left; a single vector
// per row (14x14 planes) in blocks of 7 rows where they divide the plane.
template <int S>
void DirectWide(const Int8DepthwiseDirect& d) {
  const int64_t vectors = (d.out_w + 15) / 16;
  for (int64_t c0 = 0; c0 < vectors; c0 += 4) {
    switch (vectors - c0 < 4 ? vectors - c0 : 4) {
      case 1: d.out_h % 7 == 0 ? DirectStrip<7, 1, S>(d, c0) : DirectStrip<4, 1, S>(d, c0); break;
      case 2: DirectStrip<4, 2, S>(d, c0); break;
      case 3: DirectStrip<2, 3, S>(d, c0); break;
      default: DirectStrip<2, 4, S>(d, c0); break;
    }
  }
}

template <int S>
void DirectPair(const Int8DepthwiseDirect& a, const Int8DepthwiseDirect& b, bool store_b) {
  if (a.out_h % 7 == 0) {
    DirectPairRows<7, S>(a, b, store_b);
  } else if (a.out_h % 8 == 0) {
    DirectPairRows<8, S>(a, b, store_b);
  } else {
    DirectPairRows<4, S>(a, b, store_b);
  }
}

void DepthwiseDirect(const Int8DepthwiseDirect& a, const Int8DepthwiseDirect* b) {
  const int s = a.stride;
  // Two channels share a vector where a row of outputs and its window fit in 8 lanes and 16 input columns.
  if (a.out_w <= 8 && (a.out_w - 1) * s + 3 <= 16) {
    s == 1 ? DirectPair<1>(a, b ? *b : a, b != nullptr) : DirectPair<2>(a, b ? *b : a, b != nullptr);
    return;
  }
  s == 1 ? DirectWide<1>(a) : DirectWide<2>(a);
  if (b) s == 1 ? DirectWide<1>(*b) : DirectWide<2>(*b);
}

// Rows in whole 64-byte vectors (a row's last one runs into the next row, written after it, or past the planes);
// input bytes outside the input are merged from the pad vector. Stride 2 keeps the even bytes of 128 consecutive
// input columns (the low byte of each 16-bit lane).
template <int S>
void PhasePlanesImpl(const Int8PhasePlanes& p) {
  const __m512i pad = _mm512_set1_epi8(p.pad);
  const int64_t phase = p.hq * p.wq;
  // A vector's input lanes depend on its column only: its masks are worked out once per phase, not once per row
  // (on 7x7 and 14x14 planes the rows are a vector or two each, and the masks were most of the work).
  constexpr int64_t kMaxVectors = 32;
  const int64_t vectors = (p.wq + 63) / 64;
  const bool hoisted = vectors <= kMaxVectors;
  __mmask64 lo_mask[kMaxVectors], hi_mask[kMaxVectors];
  // Stride 2: phase column px = 1 reads the input columns one to the right of px = 0's, so the odd bytes of the
  // 128 columns loaded for px = 0 are px = 1's row; both phases of a row come from one pair of loads.
  for (int py = 0; py < S; ++py) {
    for (int px = 0; px < (S == 2 ? 1 : S); ++px) {
      for (int64_t v = 0; hoisted && v < vectors; ++v) {
        const int64_t ix0 = v * 64 * S + px - p.pad_left;
        lo_mask[v] = Lanes64(-ix0, p.in_w - ix0);
        hi_mask[v] = Lanes64(-ix0 - 64, p.in_w - ix0 - 64);
      }
      int8_t* ph = p.dst + (py * S + px) * phase;
      int8_t* odd_ph = ph + phase;  // stride 2: phase (py, 1)
      for (int64_t y = 0; y < p.hq; ++y) {
        const int64_t iy = y * S + py - p.pad_top;
        int8_t* row = ph + y * p.wq;
        int8_t* odd_row = odd_ph + y * p.wq;
        // Whole vectors run into the next rows, written after them; but with stride 2 the even phase's vectors
        // must not run past its end into the odd phase's rows, written along with the even ones.
        auto store_even = [&](int64_t x, __m512i value) {
          const int64_t room = phase - (y * p.wq + x);
          if (S == 2 && room < 64) {
            _mm512_mask_storeu_epi8(row + x, Lanes64(0, room), value);
          } else {
            _mm512_storeu_si512(row + x, value);
          }
        };
        if (iy < 0 || iy >= p.in_h) {
          for (int64_t x = 0; x < p.wq; x += 64) {
            store_even(x, pad);
            if (S == 2) _mm512_storeu_si512(odd_row + x, pad);
          }
          continue;
        }
        const int8_t* src = p.in + iy * p.in_w;
        for (int64_t x = 0, v = 0; x < p.wq; x += 64, ++v) {
          const int64_t ix0 = x * S + px - p.pad_left;
          const __mmask64 lo = hoisted ? lo_mask[v] : Lanes64(-ix0, p.in_w - ix0);
          if (S == 1) {
            _mm512_storeu_si512(row + x, _mm512_mask_loadu_epi8(pad, lo, src + ix0));
          } else {
            const __mmask64 hi = hoisted ? hi_mask[v] : Lanes64(-ix0 - 64, p.in_w - ix0 - 64);
            const __m512i a = _mm512_mask_loadu_epi8(pad, lo, src + ix0);
            const __m512i b = _mm512_mask_loadu_epi8(pad, hi, src + ix0 + 64);
            const __m512i even = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(a)),
                                                    _mm512_cvtepi16_epi8(b), 1);
            const __m512i odd =
                _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(_mm512_srli_epi16(a, 8))),
                                   _mm512_cvtepi16_epi8(_mm512_srli_epi16(b, 8)), 1);
            store_even(x, even);
            _mm512_storeu_si512(odd_row + x, odd);
          }
        }
      }
    }
  }
}

void PhasePlanes(const Int8PhasePlanes& p) {
  if (p.stride == 1) {
    PhasePlanesImpl<1>(p);
  } else {
    PhasePlanesImpl<2>(p);
  }
}

// Output i = max(low, the columns 2i and 2i + 1 of rows r and r + in_w): 32 outputs per step from the vertical
// maxima of 64 columns, whose odd bytes are shifted onto the even ones in 16-bit lanes and the even bytes kept.
void MaxRow2s2(const int8_t* r, int64_t in_w, int8_t low, int64_t count, int8_t* dst) {
  const __m512i lo = _mm512_set1_epi8(low);
  for (int64_t i = 0; i < count; i += 32) {
    const int64_t n = count - i < 32 ? count - i : 32;
    const __mmask64 m = Lanes64(0, 2 * n);
    const __m512i a = _mm512_maskz_loadu_epi8(m, r + 2 * i), b = _mm512_maskz_loadu_epi8(m, r + in_w + 2 * i);
    const __m512i v = _mm512_max_epi8(_mm512_max_epi8(a, b), lo);
    const __m512i pair = _mm512_max_epi8(v, _mm512_srli_epi16(v, 8));
    _mm256_mask_storeu_epi8(dst + i, static_cast<__mmask32>(Lanes64(0, n)), _mm512_cvtepi16_epi8(pair));
  }
}

// AddInt8Ref's float steps on 16 lanes, in its order (products, sum, division, zero point, Float2Int8).
void AddPlane(const Int8AddPlane& p) {
  const __m512 sa = _mm512_set1_ps(p.sa), za = _mm512_set1_ps(p.za), sb = _mm512_set1_ps(p.sb);
  const __m512 zb = _mm512_set1_ps(p.zb), so = _mm512_set1_ps(p.so), zo = _mm512_set1_ps(p.zo);
  for (int64_t i = 0; i < p.n; i += 16) {
    const __mmask16 m = LaneMask(p.n - i);
    const __m512 a = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p.a + i)));
    const __m512 b = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p.b + i)));
    const __m512 sum = _mm512_add_ps(_mm512_mul_ps(sa, _mm512_sub_ps(a, za)), _mm512_mul_ps(sb, _mm512_sub_ps(b, zb)));
    const __m512i q = Float2Int8Lanes(_mm512_add_ps(_mm512_div_ps(sum, so), zo));
    _mm_mask_storeu_epi8(p.out + i, m, _mm512_cvtepi32_epi8(q));
  }
}

// One row block of a one-column GEMM (a batch-1 inner product): a 64-byte load of packed A holds k-groups q and q + 1
// of the block's 8 rows, and a permute of 16 k-groups of x puts group q's four bytes (as x + 128) in lanes 0-7 and
// q + 1's in lanes 8-15, so each vpdpbusd applies eight weights to each row; the two halves are summed at the end.
// Odd k-groups left over go through 256-bit vpdpbusd. The requantization is RequantizeLanes' without activation (TNN's
// int8 inner product has none), with the rows' own multipliers and zero points in the lanes.
void Gemv(const Int8Gemm& g, const int8_t* x, int64_t k, int64_t rb) {
  const int8_t* a = g.a + rb * g.a_block_bytes;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i acc = _mm512_setzero_si512(), acc2 = acc;
  int64_t q = 0;
  for (; q + 16 <= g.kgroups; q += 16) {
    const __mmask64 m = Lanes64(0, k - 4 * q);
    const __m512i xv = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + 4 * q), flip);
    const int8_t* aq = a + q * kMr * kGroup;
    for (int t = 0; t < 8; t += 2) {
      const __m512i i0 = _mm512_set_epi32(2 * t + 1, 2 * t + 1, 2 * t + 1, 2 * t + 1, 2 * t + 1, 2 * t + 1, 2 * t + 1,
                                          2 * t + 1, 2 * t, 2 * t, 2 * t, 2 * t, 2 * t, 2 * t, 2 * t, 2 * t);
      const __m512i i1 = _mm512_add_epi32(i0, _mm512_set1_epi32(2));
      acc = _mm512_dpbusd_epi32(acc, _mm512_permutexvar_epi32(i0, xv), _mm512_loadu_si512(aq + t * 64));
      acc2 = _mm512_dpbusd_epi32(acc2, _mm512_permutexvar_epi32(i1, xv), _mm512_loadu_si512(aq + t * 64 + 64));
    }
  }
  acc = _mm512_add_epi32(acc, acc2);
  __m256i sum = _mm256_add_epi32(_mm512_castsi512_si256(acc), _mm512_extracti64x4_epi64(acc, 1));
  for (; q < g.kgroups; ++q) {
    const int64_t left = k - 4 * q;
    const __mmask16 m = static_cast<__mmask16>(left >= 4 ? 0xF : (1u << left) - 1u);
    const __m128i xq = _mm_xor_si128(_mm_maskz_loadu_epi8(m, x + 4 * q), _mm512_castsi512_si128(flip));
    sum = _mm256_dpbusd_epi32(sum, _mm256_broadcastd_epi32(xq),
                              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + q * kMr * kGroup)));
  }
  const int64_t row0 = rb * kMr;
  const int64_t rows = g.m - row0 < kMr ? g.m - row0 : kMr;
  const __mmask16 rm = LaneMask(rows);
  const __m512i v = _mm512_add_epi32(_mm512_castsi256_si512(sum), _mm512_maskz_loadu_epi32(rm, g.row_add + row0));
  const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_maskz_loadu_ps(rm, g.multiplier + row0));
  const __m512 zo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(rm, g.out_zero + row0)));
  _mm_mask_storeu_epi8(g.out + row0, rm, _mm512_cvtepi32_epi8(Float2Int8Lanes(_mm512_add_ps(f, zo))));
}

}  // namespace

const Int8MicroKernel& Int8MicroKernelAvx512Vnni() {
  static const Int8MicroKernel kernel{"avx512vnni", kMr, kNr, kGroup, kGroup, ABlockBytes, PackA, PackB, Tile,
                                      Depthwise, PhasePlanes, MaxRow2s2, AddPlane, Gemv, DepthwisePair,
                                      DepthwiseDirect};
  return kernel;
}

}  // namespace qt
