// Int8DepthwiseDirect on vpdpbusd: each 32-bit lane sums four taps of one output's window row in one instruction
// (a 3x3 window's row in one, a 5x5 window's in two), the bytes gathered from the input row by a VBMI permute. The
// float-lane kernel of gemm_int8_avx512vnni.cc spends nine FMAs and two conversions of every input vector on the
// same outputs.
// As in that file's GEMM, the input enters vpdpbusd as x + 128 (x ^ 0x80, unsigned) and −128·Σw is added back:
// every sum is exact in int32, then RequantizeInt8 as the other kernels do it.
#include <immintrin.h>

#include <cstdint>

#include "core/int8/gemm_int8_isa.h"
#include "core/int8/int8_avx512.h"

namespace qt {
namespace {

// Σ of a KxK window's weights: vpdpbusd sums (x + 128)·w, and −128·Σw takes the offset back out.
template <int K>
int32_t WeightSum(const int8_t* w) {
  int32_t sum = 0;
  for (int t = 0; t < K * K; ++t) sum += w[t];
  return sum;
}

// Window row ky's weights [4q, 4q + 4) as the signed bytes of every lane (taps past the window weigh nothing).
template <int K>
__m512i RowWeights(const int8_t* w, int ky, int q) {
  uint32_t v = 0;
  for (int r = 0; r < 4 && 4 * q + r < K; ++r) v |= uint32_t{static_cast<uint8_t>(w[K * ky + 4 * q + r])} << (8 * r);
  return _mm512_set1_epi32(static_cast<int32_t>(v));
}

// Input row i of a block of R output rows (stride S), its bytes loaded: each quad's lanes gathered, offset to
// unsigned, and summed into the accumulators of the output rows (i − ky) / S its window rows ky reach, acc[r·stride].
template <int K, int R, int S>
__attribute__((always_inline)) inline void AddInputRow(int i, __m512i bytes, const __m512i* gather,
                                                       const __m512i (&w)[K][(K + 3) / 4], __m512i* acc, int stride) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
#pragma GCC unroll 32
  for (int q = 0; q < (K + 3) / 4; ++q) {
    const __m512i x = _mm512_xor_si512(_mm512_permutexvar_epi8(gather[q], bytes), flip);
#pragma GCC unroll 32
    for (int ky = 0; ky < K; ++ky) {
      const int r = (i - ky) / S;
      if (i < ky || (i - ky) % S != 0 || r >= R) continue;
      acc[r * stride] = _mm512_dpbusd_epi32(acc[r * stride], x, w[ky][q]);
    }
  }
}

// Vectors [c0, c0 + C) of 16 outputs of every output row, R rows at a time, for a KxK window (K = 3: one quad of
// taps per window row, K = 5: two). Input row i of a block feeds output rows (i − ky) / S; for vector c it is one
// masked load of the 16·S + K − 1 input columns from S·16·(c0 + c) − pad_left on (columns outside the input read
// 0), permuted once per quad q so that lane j holds columns S·j + 4q + [0, 4).
template <int K, int R, int C, int S>
void Strip(const Int8DepthwiseDirect& d, int64_t c0) {
  constexpr int kQuads = (K + 3) / 4;
  constexpr int kRows = (R - 1) * S + K;
  alignas(64) uint8_t order[kQuads][64];
  for (int q = 0; q < kQuads; ++q) {
    for (int j = 0; j < 16; ++j) {
      for (int r = 0; r < 4; ++r) order[q][4 * j + r] = static_cast<uint8_t>(S * j + (4 * q + r < K ? 4 * q + r : 0));
    }
  }
  __m512i gather[kQuads];
  for (int q = 0; q < kQuads; ++q) gather[q] = _mm512_load_si512(order[q]);
  const int64_t first = 16 * S * c0 - d.pad_left;  // input column of the strip's first load
  __mmask64 load[C];
  __mmask16 store[C];
  for (int c = 0; c < C; ++c) {
    const int64_t at = first + 16 * S * c;
    load[c] = Lanes64(-at, d.in_w - at) & Lanes64(0, 16 * S + K - 1);
    store[c] = LaneMask(d.out_w - 16 * (c0 + c));
  }
  __m512i w[K][kQuads];
  for (int ky = 0; ky < K; ++ky) {
    for (int q = 0; q < kQuads; ++q) w[ky][q] = RowWeights<K>(d.w, ky, q);
  }
  const DirectRequant rq = DirectConstants(d, d, 0);
  const __m512i add = _mm512_sub_epi32(rq.row_add, _mm512_set1_epi32(128 * WeightSum<K>(d.w)));
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
        AddInputRow<K, R, S>(i, bytes, gather, w, &acc[0][c], C);
      }
    }
    for (int r = 0; r < R && y0 + r < out_h; ++r) {
#pragma GCC unroll 32
      for (int c = 0; c < C; ++c) {
        const __m512i v =
            RequantizeVectors(_mm512_add_epi32(acc[r][c], add), rq.multiplier, rq.out_zero, rq.relu6_max, activation);
        _mm512_mask_cvtepi32_storeu_epi8(out + (y0 + r) * out_w + 16 * c, store[c], v);
      }
    }
  }
}

// Strips of three vectors in blocks of four rows, the last one of what is left.
template <int K, int S>
void Wide(const Int8DepthwiseDirect& d) {
  const int64_t vectors = (d.out_w + 15) / 16;
  for (int64_t c0 = 0; c0 < vectors; c0 += 3) {
    switch (vectors - c0 < 3 ? vectors - c0 : 3) {
      case 1: Strip<K, 4, 1, S>(d, c0); break;
      case 2: Strip<K, 4, 2, S>(d, c0); break;
      default: Strip<K, 4, 3, S>(d, c0); break;
    }
  }
}

// Rows of at most 8 outputs whose windows fit 16 input columns (7x7 planes): lanes 0-7 are output columns 0-7
// of channel a, lanes 8-15 those of channel b. Input row i is a 16-byte load of each channel from −pad_left
// (columns outside the input read 0), a's in bytes 0-15 and b's in bytes 16-31 of the permute's source.
template <int K, int R, int S>
void PairRows(const Int8DepthwiseDirect& a, const Int8DepthwiseDirect& b, bool store_b) {
  constexpr int kQuads = (K + 3) / 4;
  constexpr int kRows = (R - 1) * S + K;
  alignas(64) uint8_t order[kQuads][64];
  for (int q = 0; q < kQuads; ++q) {
    for (int j = 0; j < 16; ++j) {
      for (int r = 0; r < 4; ++r) {
        // Lanes past the output read any byte of their own channel's load (a zero weight, or a discarded lane).
        const int col = S * (j % 8) + (4 * q + r < K ? 4 * q + r : 0);
        order[q][4 * j + r] = static_cast<uint8_t>((j < 8 ? 0 : 16) + (col < 16 ? col : 15));
      }
    }
  }
  __m512i gather[kQuads];
  for (int q = 0; q < kQuads; ++q) gather[q] = _mm512_load_si512(order[q]);
  const __mmask16 load = static_cast<__mmask16>(Lanes64(a.pad_left, a.pad_left + a.in_w) & 0xFFFF);
  const __mmask16 store = LaneMask(a.out_w);
  constexpr __mmask16 kB = 0xFF00;
  __m512i w[K][kQuads];
  for (int ky = 0; ky < K; ++ky) {
    for (int q = 0; q < kQuads; ++q) {
      w[ky][q] = _mm512_mask_blend_epi32(kB, RowWeights<K>(a.w, ky, q), RowWeights<K>(b.w, ky, q));
    }
  }
  const DirectRequant rq = DirectConstants(a, b, kB);
  const __m512i offset = _mm512_mask_blend_epi32(kB, _mm512_set1_epi32(128 * WeightSum<K>(a.w)),
                                                 _mm512_set1_epi32(128 * WeightSum<K>(b.w)));
  const __m512i add = _mm512_sub_epi32(rq.row_add, offset);
  const int activation = a.activation;
  for (int64_t y0 = 0; y0 < a.out_h; y0 += R) {
    __m512i acc[R];
#pragma GCC unroll 32
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_si512();
#pragma GCC unroll 32
    for (int i = 0; i < kRows; ++i) {
      const int64_t iy = y0 * S + i - a.pad_top;
      const bool inside = iy >= 0 && iy < a.in_h;
      // A row outside the input loads nothing (mask 0) from row 0's address.
      const __mmask16 m = inside ? load : static_cast<__mmask16>(0);
      const int64_t at = (inside ? iy * a.in_w : 0) - a.pad_left;
      const __m512i bytes = _mm512_inserti32x4(_mm512_castsi128_si512(_mm_maskz_loadu_epi8(m, a.in + at)),
                                               _mm_maskz_loadu_epi8(m, b.in + at), 1);
      AddInputRow<K, R, S>(i, bytes, gather, w, acc, 1);
    }
    for (int r = 0; r < R && y0 + r < a.out_h; ++r) {
      const __m128i v = _mm512_cvtepi32_epi8(
          RequantizeVectors(_mm512_add_epi32(acc[r], add), rq.multiplier, rq.out_zero, rq.relu6_max, activation));
      const int64_t at = (y0 + r) * a.out_w;
      _mm_mask_storeu_epi8(a.out + at, store, v);
      if (store_b) _mm_mask_storeu_epi8(b.out + at, store, _mm_srli_si128(v, 8));
    }
  }
}

template <int K, int S>
void Pair(const Int8DepthwiseDirect& a, const Int8DepthwiseDirect& b, bool store_b) {
  if (a.out_h % 7 == 0) {
    PairRows<K, 7, S>(a, b, store_b);
  } else if (a.out_h % 8 == 0) {
    PairRows<K, 8, S>(a, b, store_b);
  } else {
    PairRows<K, 4, S>(a, b, store_b);
  }
}

template <int K>
void Direct(const Int8DepthwiseDirect& a, const Int8DepthwiseDirect* b) {
  if (a.out_w <= 8 && (a.out_w - 1) * a.stride + K <= 16) {
    const Int8DepthwiseDirect& second = b ? *b : a;
    a.stride == 1 ? Pair<K, 1>(a, second, b != nullptr) : Pair<K, 2>(a, second, b != nullptr);
    return;
  }
  a.stride == 1 ? Wide<K, 1>(a) : Wide<K, 2>(a);
  if (b) a.stride == 1 ? Wide<K, 1>(*b) : Wide<K, 2>(*b);
}

}  // namespace

void DepthwiseDirectAvx512Vbmi(const Int8DepthwiseDirect& a, const Int8DepthwiseDirect* b) {
  a.kernel == 5 ? Direct<5>(a, b) : Direct<3>(a, b);
}

}  // namespace qt
