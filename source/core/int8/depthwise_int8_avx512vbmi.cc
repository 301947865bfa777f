// Int8DepthwiseDirect on vpdpbusd: each 32-bit lane sums one output's three taps of one window row in one
// instruction, its four bytes gathered from the input row by a VBMI byte permute. The float-lane kernel of
// gemm_int8_avx512vnni.cc spends nine FMAs and two conversions of every input vector on the same outputs.
// As in that file's GEMM, the input enters vpdpbusd as x + 128 (x ^ 0x80, unsigned) and −128·Σw is added back:
// every sum is exact in int32, then RequantizeInt8 as the other kernels do it.
#include <immintrin.h>

#include <cstdint>

#include "core/int8/gemm_int8_isa.h"
#include "core/int8/requant_avx512.h"

namespace qt {
namespace {

// Bits [lo, hi) ∩ [0, 64) of a 64-bit mask.
__mmask64 Bytes(int64_t lo, int64_t hi) {
  lo = lo < 0 ? 0 : lo;
  hi = hi > 64 ? 64 : hi;
  if (hi <= lo) return 0;
  const __mmask64 upto = hi == 64 ? ~__mmask64{0} : (__mmask64{1} << hi) - 1;
  return upto & ~((__mmask64{1} << lo) - 1);
}

__mmask16 Outputs(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : n <= 0 ? static_cast<__mmask16>(0)
                                                            : static_cast<__mmask16>((1u << n) - 1u);
}

// Window row ky's three weights as the signed bytes 0-2 of every lane (byte 3 weighs nothing).
__m512i RowWeights(const int8_t* w, int ky) {
  const uint32_t b0 = static_cast<uint8_t>(w[3 * ky]), b1 = static_cast<uint8_t>(w[3 * ky + 1]),
                 b2 = static_cast<uint8_t>(w[3 * ky + 2]);
  return _mm512_set1_epi32(static_cast<int32_t>(b0 | b1 << 8 | b2 << 16));
}

// Vectors [c0, c0 + C) of 16 outputs of every output row, R rows at a time. Input row i of a block feeds output
// rows (i − ky) / S; for vector c it is one masked load of the 16·S + 2 input columns from S·16·(c0 + c) −
// pad_left on (columns outside the input read 0), permuted so that lane j holds columns S·j + [0, 3).
template <int R, int C, int S>
void Strip(const Int8DepthwiseDirect& d, int64_t c0) {
  constexpr int K = 3;
  constexpr int kRows = (R - 1) * S + K;
  alignas(64) uint8_t order[64];
  for (int j = 0; j < 16; ++j) {
    for (int r = 0; r < 4; ++r) order[4 * j + r] = static_cast<uint8_t>(S * j + (r < K ? r : 0));
  }
  const __m512i gather = _mm512_load_si512(order);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const int64_t first = 16 * S * c0 - d.pad_left;  // input column of the strip's first load
  __mmask64 load[C];
  __mmask16 store[C];
  for (int c = 0; c < C; ++c) {
    const int64_t at = first + 16 * S * c;
    load[c] = Bytes(-at, d.in_w - at) & Bytes(0, 16 * S + 2);
    store[c] = Outputs(d.out_w - 16 * (c0 + c));
  }
  __m512i w[K];
  int32_t w_sum = 0;
  for (int ky = 0; ky < K; ++ky) {
    w[ky] = RowWeights(d.w, ky);
    w_sum += d.w[3 * ky] + d.w[3 * ky + 1] + d.w[3 * ky + 2];
  }
  const __m512i add = _mm512_set1_epi32(d.row_add - 128 * w_sum);
  const __m512 multiplier = _mm512_set1_ps(d.multiplier);
  const __m512 out_zero = _mm512_set1_ps(static_cast<float>(d.out_zero));
  const __m512i relu6_max = _mm512_set1_epi32(d.relu6_max);
  const int activation = d.activation;
  const int64_t in_h = d.in_h, in_w = d.in_w, out_h = d.out_h, out_w = d.out_w, pad_top = d.pad_top;
  const int8_t* in = d.in + first;
  int8_t* out = d.out + 16 * c0;
  for (int64_t y0 = 0; y0 < out_h; y0 += R) {
    __m512i acc[R][C];
#pragma GCC unroll 32
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 32
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_si512();
    }
#pragma GCC unroll 32
    for (int i = 0; i < kRows; ++i) {
      const int64_t iy = y0 * S + i - pad_top;
      const bool inside = iy >= 0 && iy < in_h;
      // A row outside the input loads nothing (masks 0) from row 0's address: its bytes read as 0.
      const int8_t* row = in + (inside ? iy * in_w : 0);
#pragma GCC unroll 32
      for (int c = 0; c < C; ++c) {
        const __m512i bytes = _mm512_maskz_loadu_epi8(inside ? load[c] : 0, row + 16 * S * c);
        const __m512i x = _mm512_xor_si512(_mm512_permutexvar_epi8(gather, bytes), flip);
#pragma GCC unroll 32
        for (int ky = 0; ky < K; ++ky) {
          const int r = (i - ky) / S;
          if (i < ky || (i - ky) % S != 0 || r >= R) continue;
          acc[r][c] = _mm512_dpbusd_epi32(acc[r][c], x, w[ky]);
        }
      }
    }
    for (int r = 0; r < R && y0 + r < out_h; ++r) {
#pragma GCC unroll 32
      for (int c = 0; c < C; ++c) {
        const __m512i q =
            RequantizeVectors(_mm512_add_epi32(acc[r][c], add), multiplier, out_zero, relu6_max, activation);
        _mm512_mask_cvtepi32_storeu_epi8(out + (y0 + r) * out_w + 16 * c, store[c], q);
      }
    }
  }
}

// Strips of three vectors in blocks of four rows, the last one of what is left.
template <int S>
void Wide(const Int8DepthwiseDirect& d) {
  const int64_t vectors = (d.out_w + 15) / 16;
  for (int64_t c0 = 0; c0 < vectors; c0 += 3) {
    switch (vectors - c0 < 3 ? vectors - c0 : 3) {
      case 1: Strip<4, 1, S>(d, c0); break;
      case 2: Strip<4, 2, S>(d, c0); break;
      default: Strip<4, 3, S>(d, c0); break;
    }
  }
}

}  // namespace

void DepthwiseDirectAvx512Vbmi(const Int8DepthwiseDirect& d) {
  d.stride == 1 ? Wide<1>(d) : Wide<2>(d);
}

}  // namespace qt
