// AVX-512F depthwise kernels. The grid kernel (3x3 and 5x5, stride 1 and 2) runs blocks of output rows x
// vectors of 16 columns, stride 1 straight from the input plane, stride 2 on phase planes it builds itself. The
// plane kernel (other windows, on planes from BuildPlanes) runs 16 outputs of one output row per
// vector, eight vectors in flight, every tap one broadcast weight and one masked load per vector; its row-wise
// vectors never touch the planes' discarded grid columns.
#include <immintrin.h>

#include "core/kernels/gemm_fp32_isa.h"

namespace qt {
namespace {

constexpr int kLanes = 16;

__mmask16 LaneMask(int64_t lanes) {
  return lanes >= 16 ? static_cast<__mmask16>(0xFFFF)
                     : lanes <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << lanes) - 1u);
}

__m512 Activate(__m512 v, int activation) {
  if (activation == 1) return _mm512_max_ps(v, _mm512_setzero_ps());
  if (activation == 2) return _mm512_min_ps(_mm512_set1_ps(6.f), _mm512_max_ps(_mm512_setzero_ps(), v));
  return v;
}

// kTaps > 0: the tap count known at compile time, so the tap loop unrolls.
template <int kTaps>
void PlaneImpl(const Fp32DepthwisePlane& d) {
  const int64_t k = kTaps > 0 ? kTaps : d.k;
  const int64_t per_row = (d.out_w + kLanes - 1) / kLanes;
  const int64_t total = d.out_h * per_row;
  const __m512 bias = _mm512_set1_ps(d.bias);
  constexpr int kV = 8;
  for (int64_t v0 = 0; v0 < total; v0 += kV) {
    int64_t src[kV], dst[kV];
    __mmask16 mask[kV];
    for (int i = 0; i < kV; ++i) {
      const int64_t v = v0 + i < total ? v0 + i : total - 1;
      const int64_t oy = v / per_row, x0 = (v - oy * per_row) * kLanes;
      src[i] = oy * d.grid_w + x0;
      dst[i] = oy * d.out_w + x0;
      mask[i] = v0 + i < total ? LaneMask(d.out_w - x0) : static_cast<__mmask16>(0);
    }
    // Named accumulators: GCC 12 keeps an array of vectors on the stack.
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int64_t kk = 0; kk < k; ++kk) {
      const float* b = d.planes + d.koff[kk];
      const __m512 w = _mm512_set1_ps(d.w[kk]);
      a0 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[0], b + src[0]), a0);
      a1 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[1], b + src[1]), a1);
      a2 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[2], b + src[2]), a2);
      a3 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[3], b + src[3]), a3);
      a4 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[4], b + src[4]), a4);
      a5 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[5], b + src[5]), a5);
      a6 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[6], b + src[6]), a6);
      a7 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[7], b + src[7]), a7);
    }
    const __m512 acc[kV] = {a0, a1, a2, a3, a4, a5, a6, a7};
    for (int i = 0; i < kV; ++i) {
      _mm512_mask_storeu_ps(d.out + dst[i], mask[i], Activate(_mm512_add_ps(acc[i], bias), d.activation));
    }
  }
}

// Lanes [lo, hi) of a 32-lane pair of vectors.
uint32_t LaneRange32(int64_t lo, int64_t hi) {
  lo = lo < 0 ? 0 : lo;
  hi = hi > 32 ? 32 : hi;
  if (hi <= lo) return 0;
  const uint64_t bits = ((uint64_t{1} << (hi - lo)) - 1) << lo;
  return static_cast<uint32_t>(bits);
}

// The four phase planes of one channel for stride 2: phase (py, px) row y, column x holds input
// (2y + py − pad_top, 2x + px − pad_left), 0 outside the input; each vector keeps the even columns of 32
// consecutive input columns. Rows are written in whole vectors, so a row's last vector runs up to 15 floats into
// the next row (written after it) or past the planes.
void BuildPhasePlanes(const Fp32DepthwiseGrid& d) {
  const int64_t phase = d.hq * d.wq;
  const __m512 zero = _mm512_setzero_ps();
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int py = 0; py < 2; ++py) {
    for (int px = 0; px < 2; ++px) {
      float* ph = d.planes + (py * 2 + px) * phase;
      for (int64_t y = 0; y < d.hq; ++y) {
        const int64_t iy = y * 2 + py - d.pad_top;
        float* row = ph + y * d.wq;
        if (iy < 0 || iy >= d.in_h) {
          for (int64_t x = 0; x < d.wq; x += kLanes) _mm512_storeu_ps(row + x, zero);
          continue;
        }
        const float* src = d.in + iy * d.in_w;
        for (int64_t x = 0; x < d.wq; x += kLanes) {
          const int64_t ix0 = x * 2 + px - d.pad_left;
          const uint32_t m = LaneRange32(-ix0, d.in_w - ix0);
          const __m512 lo = _mm512_maskz_loadu_ps(static_cast<__mmask16>(m), src + ix0);
          const __m512 hi = _mm512_maskz_loadu_ps(static_cast<__mmask16>(m >> 16), src + ix0 + 16);
          _mm512_storeu_ps(row + x, _mm512_permutex2var_ps(lo, even, hi));
        }
      }
    }
  }
}

// Rows y0 + [0, R) and vectors c0 + [0, C) of a block, those inside the output: + bias, the activation.
template <int R, int C>
__attribute__((always_inline)) inline void StoreBlock(const Fp32DepthwiseGrid& d, int64_t y0, int64_t c0, const __m512 (&acc)[R][C], __m512 bias) {
  for (int r = 0; r < R && y0 + r < d.out_h; ++r) {
    float* row = d.out + (y0 + r) * d.out_w;
#pragma GCC unroll 32
    for (int c = 0; c < C; ++c) {
      const int64_t x0 = (c0 + c) * kLanes;
      _mm512_mask_storeu_ps(row + x0, LaneMask(d.out_w - x0), Activate(_mm512_add_ps(acc[r][c], bias), d.activation));
    }
  }
}

// Lanes [n, n + 16) of the 32 lanes lo, hi (n a constant once the callers' loops unroll).
__attribute__((always_inline)) inline __m512 ShiftLanes(__m512 lo, __m512 hi, int n) {
  const __m512i l = _mm512_castps_si512(lo), h = _mm512_castps_si512(hi);
  switch (n) {
    case 1: return _mm512_castsi512_ps(_mm512_alignr_epi32(h, l, 1));
    case 2: return _mm512_castsi512_ps(_mm512_alignr_epi32(h, l, 2));
    case 3: return _mm512_castsi512_ps(_mm512_alignr_epi32(h, l, 3));
    case 4: return _mm512_castsi512_ps(_mm512_alignr_epi32(h, l, 4));
    default: return lo;
  }
}

// The fields a block kernel reads, copied out of Fp32DepthwiseGrid: through a reference GCC reloaded them (and
// re-broadcast every weight) after each store through `out`, which might alias them.
template <int K>
struct GridLocals {
  explicit GridLocals(const Fp32DepthwiseGrid& d)
      : in(d.in), out(d.out), in_h(d.in_h), in_w(d.in_w), out_h(d.out_h), out_w(d.out_w), pad_top(d.pad_top),
        pad_left(d.pad_left), activation(d.activation), bias(_mm512_set1_ps(d.bias)) {
#pragma GCC unroll 32
    for (int t = 0; t < K * K; ++t) w[t] = _mm512_set1_ps(d.w[t]);
  }
  const float* in;
  float* out;
  int64_t in_h, in_w, out_h, out_w, pad_top, pad_left;
  int activation;
  __m512 bias;
  __m512 w[K * K];
};

// StoreBlock on the locals, the activation a constant and the column masks given.
template <int kAct, int R, int C>
__attribute__((always_inline)) inline void StoreRows(float* out, int64_t out_w, int64_t rows, int64_t x0,
                                                     const __mmask16 (&mask)[C], const __m512 (&acc)[R][C],
                                                     __m512 bias) {
#pragma GCC unroll 32
  for (int r = 0; r < R; ++r) {
    if (r >= rows) break;
    float* row = out + r * out_w + x0;
#pragma GCC unroll 32
    for (int c = 0; c < C; ++c) {
      _mm512_mask_storeu_ps(row + c * kLanes, mask[c], Activate(_mm512_add_ps(acc[r][c], bias), kAct));
    }
  }
}

// StoreRows with the activation picked once per block, so that each instantiation keeps it a constant.
template <int R, int C>
__attribute__((always_inline)) inline void StoreRowsActivated(int activation, float* out, int64_t out_w,
                                                              int64_t rows, int64_t x0, const __mmask16 (&mask)[C],
                                                              const __m512 (&acc)[R][C], __m512 bias) {
  if (activation == 2) {
    StoreRows<2, R, C>(out, out_w, rows, x0, mask, acc, bias);
  } else if (activation == 1) {
    StoreRows<1, R, C>(out, out_w, rows, x0, mask, acc, bias);
  } else {
    StoreRows<0, R, C>(out, out_w, rows, x0, mask, acc, bias);
  }
}

// Stride 1, read straight from the input plane: blocks of R output rows x C vectors of 16 output columns (R·C
// accumulators, at least the FMA latency times two pipes), column strip by column strip. The block's input rows
// are walked once, each row's loads serving every output row whose window holds it, so each accumulator still
// takes its taps in tap order. A row is C + 1 loads, the window's columns their shifts (three masked loads per
// vector for 3x3 took the load ports). Lanes outside the input are masked off and rows outside it read a zero
// row: both read as the pad's 0. Rows and columns past the output are computed and not stored.
template <int K, int R, int C>
void DirectRows(const Fp32DepthwiseGrid& d, const float* zero_row, int64_t c_begin, int64_t c_end) {
  const GridLocals<K> g(d);
  for (int64_t c0 = c_begin; c0 < c_end; c0 += C) {
    // Vector c of a row holds columns col + 16·c + [0, 16); the one past the block, only the K − 1 its windows
    // reach.
    __mmask16 mask[C + 1], store[C];
#pragma GCC unroll 32
    for (int c = 0; c <= C; ++c) {
      const int64_t ix0 = (c0 + c) * kLanes - g.pad_left;
      mask[c] = static_cast<__mmask16>(LaneRange32(-ix0, g.in_w - ix0) & (c < C ? 0xFFFFu : (1u << (K - 1)) - 1u));
    }
#pragma GCC unroll 32
    for (int c = 0; c < C; ++c) store[c] = LaneMask(g.out_w - (c0 + c) * kLanes);
    const int64_t col = c0 * kLanes - g.pad_left;
    for (int64_t y0 = 0; y0 < g.out_h; y0 += R) {
      __m512 acc[R][C];
#pragma GCC unroll 32
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 32
        for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
      }
#pragma GCC unroll 32
      for (int i = 0; i < R + K - 1; ++i) {
        const int64_t iy = y0 + i - g.pad_top;
        const float* row = (iy >= 0 && iy < g.in_h ? g.in + iy * g.in_w : zero_row) + col;
        __m512 v[C + 1];
#pragma GCC unroll 32
        for (int c = 0; c <= C; ++c) v[c] = _mm512_maskz_loadu_ps(mask[c], row + c * kLanes);
#pragma GCC unroll 32
        for (int kx = 0; kx < K; ++kx) {
#pragma GCC unroll 32
          for (int c = 0; c < C; ++c) {
            const __m512 x = ShiftLanes(v[c], v[c + 1], kx);
#pragma GCC unroll 32
            for (int ky = 0; ky < K; ++ky) {
              const int r = i - ky;
              if (r >= 0 && r < R) acc[r][c] = _mm512_fmadd_ps(g.w[ky * K + kx], x, acc[r][c]);
            }
          }
        }
      }
      const int64_t rows = g.out_h - y0;
      float* out = g.out + y0 * g.out_w;
      const int64_t x0 = c0 * kLanes;
      StoreRowsActivated<R, C>(g.activation, out, g.out_w, rows, x0, store, acc, g.bias);
    }
  }
}

// 3x3 stride 2, read straight from the input plane: the same blocks. Output vector x0 reads 32 input columns
// from 2·x0 − pad_left and one past them: their even and odd columns are the window's columns 0 and 1, the even
// ones shifted by one lane (the extra column entering) column 2. Input row i of a block feeds output rows
// (i − ky) / 2, so each row is loaded once and each accumulator takes its taps in tap order. Vector columns
// [c_begin, c_end).
template <int R, int C>
void DirectRows3x3s2(const Fp32DepthwiseGrid& d, const float* zero_row, int64_t c_begin, int64_t c_end) {
  static_assert(R * C == 8, "eight accumulators");
  const GridLocals<3> g(d);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (int64_t c0 = c_begin; c0 < c_end; c0 += C) {
    __mmask16 lo_mask[C], hi_mask[C], store[C];
#pragma GCC unroll 32
    for (int c = 0; c < C; ++c) {
      const int64_t ix0 = (c0 + c) * 2 * kLanes - g.pad_left;
      const uint32_t m = LaneRange32(-ix0, g.in_w - ix0);
      lo_mask[c] = static_cast<__mmask16>(m);
      hi_mask[c] = static_cast<__mmask16>(m >> 16);
      store[c] = LaneMask(g.out_w - (c0 + c) * kLanes);
    }
    const int64_t past = (c0 + C) * 2 * kLanes - g.pad_left;
    const __mmask16 past_mask = static_cast<__mmask16>(LaneRange32(-past, g.in_w - past) & 1u);
    const int64_t col = c0 * 2 * kLanes - g.pad_left;
    for (int64_t y0 = 0; y0 < g.out_h; y0 += R) {
      __m512 acc[R][C];
#pragma GCC unroll 32
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 32
        for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
      }
#pragma GCC unroll 32
      for (int i = 0; i < 2 * R + 1; ++i) {
        const int64_t iy = 2 * y0 + i - g.pad_top;
        const float* row = (iy >= 0 && iy < g.in_h ? g.in + iy * g.in_w : zero_row) + col;
        // The column past vector c's 32 is lane 0 of vector c + 1's: loaded once.
        __m512 lo[C + 1], hi[C];
#pragma GCC unroll 32
        for (int c = 0; c < C; ++c) {
          lo[c] = _mm512_maskz_loadu_ps(lo_mask[c], row + c * 2 * kLanes);
          hi[c] = _mm512_maskz_loadu_ps(hi_mask[c], row + c * 2 * kLanes + kLanes);
        }
        lo[C] = _mm512_maskz_loadu_ps(past_mask, row + C * 2 * kLanes);
#pragma GCC unroll 32
        for (int c = 0; c < C; ++c) {
          const __m512 next = lo[c + 1];
          const __m512 x0 = _mm512_permutex2var_ps(lo[c], even, hi[c]);
          const __m512 x1 = _mm512_permutex2var_ps(lo[c], odd, hi[c]);
          const __m512 x2 =
              _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(next), _mm512_castps_si512(x0), 1));
#pragma GCC unroll 32
          for (int ky = 0; ky < 3; ++ky) {
            const int r = (i - ky) / 2;
            if ((i - ky) % 2 != 0 || i < ky || r >= R) continue;
            acc[r][c] = _mm512_fmadd_ps(g.w[ky * 3], x0, acc[r][c]);
            acc[r][c] = _mm512_fmadd_ps(g.w[ky * 3 + 1], x1, acc[r][c]);
            acc[r][c] = _mm512_fmadd_ps(g.w[ky * 3 + 2], x2, acc[r][c]);
          }
        }
      }
      const int64_t rows = g.out_h - y0;
      float* out = g.out + y0 * g.out_w;
      const int64_t x0 = c0 * kLanes;
      StoreRowsActivated<R, C>(g.activation, out, g.out_w, rows, x0, store, acc, g.bias);
    }
  }
}

// Stride 2, on the phase planes: the same blocks, each tap one plain load per vector.
template <int K, int R, int C>
void PhaseRows(const Fp32DepthwiseGrid& d) {
  static_assert(R * C == 8, "eight accumulators");
  const int64_t phase = d.hq * d.wq;
  const int64_t vectors = (d.out_w + kLanes - 1) / kLanes;
  const __m512 bias = _mm512_set1_ps(d.bias);
  for (int64_t y0 = 0; y0 < d.out_h; y0 += R) {
    for (int64_t c0 = 0; c0 < vectors; c0 += C) {
      const float* base = d.planes + y0 * d.wq + c0 * kLanes;
      __m512 acc[R][C];
#pragma GCC unroll 32
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 32
        for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
      }
#pragma GCC unroll 32
      for (int ky = 0; ky < K; ++ky) {
#pragma GCC unroll 32
        for (int kx = 0; kx < K; ++kx) {
          const float* p = base + ((ky % 2) * 2 + kx % 2) * phase + (ky / 2) * d.wq + kx / 2;
          const __m512 w = _mm512_set1_ps(d.w[ky * K + kx]);
#pragma GCC unroll 32
          for (int r = 0; r < R; ++r) {
#pragma GCC unroll 32
            for (int c = 0; c < C; ++c) {
              acc[r][c] = _mm512_fmadd_ps(w, _mm512_loadu_ps(p + r * d.wq + c * kLanes), acc[r][c]);
            }
          }
        }
      }
      StoreBlock<R, C>(d, y0, c0, acc, bias);
    }
  }
}

// Stride 1 and 3x3 stride 2 read the input plane, whose pad rows read the zero row at the scratch's start;
// 5x5 stride 2 runs on the phase planes.
template <int K>
void Blocks(const Fp32DepthwiseGrid& d) {
  if (K == 5 && d.stride == 2) {
    const int64_t planes = 4 * d.hq * d.wq;
    _mm512_storeu_ps(d.planes + planes + kLanes, _mm512_setzero_ps());
    _mm512_storeu_ps(d.planes + planes + 2 * kLanes, _mm512_setzero_ps());
    BuildPhasePlanes(d);
    d.rows == 8 ? PhaseRows<K, 8, 1>(d) : PhaseRows<K, 4, 2>(d);
    return;
  }
  for (int64_t x = 0; x < d.in_w + 2 * kLanes; x += kLanes) _mm512_storeu_ps(d.planes + x, _mm512_setzero_ps());
  const float* zero_row = d.planes + kLanes;
  if (d.stride == 1) {
    // Vector columns [begin, end) of the output rows; an odd last one (112 columns: 7 vectors) in blocks of 8 rows
    // x 1 vector rather than a 4 x 2 block half past the row.
    const int64_t vectors = (d.out_w + kLanes - 1) / kLanes;
    if (d.rows == 8) {
      DirectRows<K, 8, 1>(d, zero_row, 0, vectors);
    } else {
      const int64_t pairs = vectors / 2 * 2;
      DirectRows<K, 4, 2>(d, zero_row, 0, pairs);
      if (pairs < vectors) DirectRows<K, 8, 1>(d, zero_row, pairs, vectors);
    }
  } else {
    const int64_t vectors = (d.out_w + kLanes - 1) / kLanes;
    if (d.rows == 8) {
      DirectRows3x3s2<8, 1>(d, zero_row, 0, vectors);
      return;
    }
    // Blocks of 2 rows x 4 vectors where the row has them (112 -> 56): an input row feeds at most two output rows,
    // so in 4 x 2 blocks at most four of the eight accumulators take its FMAs, and their dependent chains left the
    // FMA units waiting (22 against 18 cycles per output vector, 96 channels of 112x112 alone).
    const int64_t quads = vectors / 4 * 4;
    DirectRows3x3s2<2, 4>(d, zero_row, 0, quads);
    if (quads < vectors) DirectRows3x3s2<4, 2>(d, zero_row, quads, vectors);
  }
}

// Two channels of one geometry in one vector (DepthwiseGridPairApplies): lanes 0-7 are output columns 0-7 of
// channel a, lanes 8-15 those of channel b, so a 7x7 plane fills 14 of 16 lanes where the grid kernel fills 7 (and
// 7 of its 8 block rows). Blocks of R output rows; each input row of a channel is one load of its 16 columns from
// −pad_left (lanes outside the input masked off, rows outside it not loaded: zero), and the window's column kx of
// both channels is one two-source permute of the pair's rows (lane ox: column ox·S + kx). Input row i of a block
// feeds output rows (i − ky) / S, so each accumulator takes its taps in tap order from 0 (a pad row's taps too),
// + bias, then the activation: the grid kernel's sums, bit for bit.
template <int R, int S>
void PairRows(const Fp32DepthwiseGrid& a, const Fp32DepthwiseGrid& b) {
  constexpr int K = 3;
  const __mmask16 load_mask = static_cast<__mmask16>(LaneRange32(a.pad_left, a.pad_left + a.in_w) & 0xFFFFu);
  const __mmask16 store_mask = LaneMask(a.out_w);
  __m512i idx[K];
  alignas(64) int32_t lanes[kLanes];
#pragma GCC unroll 32
  for (int kx = 0; kx < K; ++kx) {
    for (int ox = 0; ox < 8; ++ox) {
      // Lanes past the output (column 7 of a 7-wide plane at stride 2) read any loaded lane.
      const int col = ox * S + kx < kLanes ? ox * S + kx : kLanes - 1;
      lanes[ox] = col;
      lanes[8 + ox] = kLanes + col;
    }
    idx[kx] = _mm512_load_si512(lanes);
  }
  __m512 w[K * K];
#pragma GCC unroll 32
  for (int t = 0; t < K * K; ++t) w[t] = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(a.w[t]), _mm512_set1_ps(b.w[t]));
  const __m512 bias = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(a.bias), _mm512_set1_ps(b.bias));
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
      const __m512 lo = _mm512_maskz_loadu_ps(m, a.in + at);
      const __m512 hi = _mm512_maskz_loadu_ps(m, b.in + at);
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
      const __m512 v = Activate(_mm512_add_ps(acc[r], bias), a.activation);
      const int64_t at = (y0 + r) * a.out_w;
      _mm512_mask_storeu_ps(a.out + at, store_mask, v);
      _mm512_mask_storeu_ps(b.out + at, store_mask, _mm512_shuffle_f32x4(v, v, 0xEE));
    }
  }
}

// Two channels of one geometry, each in its own vectors (DepthwiseGridTwinApplies: outputs 9 to 14 wide, 15 at
// stride 2, as 14x14 planes): blocks of R output rows, one channel after the other, so that the block rows match
// the plane (7 for 14 rows, where the grid kernel's blocks of 8 computed 16) and each call serves two channels.
// Each input row of a channel is one load of its 16 columns from −pad_left (stride 2: 32, in two), the window's
// columns its shifts (stride 2: its even, odd and shifted-even lanes); lanes outside the input masked off, rows
// outside it not loaded. Each accumulator takes its taps in tap order from 0, + bias, then the activation: the
// grid kernel's sums, bit for bit.
template <int R, int S>
void TwinRows(const Fp32DepthwiseGrid& a, const Fp32DepthwiseGrid& b) {
  constexpr int K = 3;
  const uint32_t valid = LaneRange32(a.pad_left, a.pad_left + a.in_w);
  const __mmask16 lo_mask = static_cast<__mmask16>(valid), hi_mask = static_cast<__mmask16>(valid >> 16);
  const __mmask16 store_mask = LaneMask(a.out_w);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  // Lane 15 (past the output) reads lane 31.
  const __m512i next = _mm512_setr_epi32(2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 31);
  const __m512 zero = _mm512_setzero_ps();
  const int64_t in_h = a.in_h, in_w = a.in_w, out_h = a.out_h, out_w = a.out_w, pad_top = a.pad_top;
  const int64_t pad_left = a.pad_left;
  const int activation = a.activation;
  // One channel after the other, its nine weights in registers: both channels' weights and accumulators (32
  // vectors) spilled, and GCC re-broadcast the weights after every store through the outputs.
  const float* in[2] = {a.in, b.in};
  float* out[2] = {a.out, b.out};
  __m512 w[2][K * K], bias[2];
#pragma GCC unroll 32
  for (int t = 0; t < K * K; ++t) {
    w[0][t] = _mm512_set1_ps(a.w[t]);
    w[1][t] = _mm512_set1_ps(b.w[t]);
  }
  bias[0] = _mm512_set1_ps(a.bias);
  bias[1] = _mm512_set1_ps(b.bias);
  for (int c = 0; c < 2; ++c) {
    for (int64_t y0 = 0; y0 < out_h; y0 += R) {
      __m512 acc[R];
#pragma GCC unroll 32
      for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
#pragma GCC unroll 32
      for (int i = 0; i < (R - 1) * S + K; ++i) {
        const int64_t iy = y0 * S + i - pad_top;
        const bool inside = iy >= 0 && iy < in_h;
        // A row outside the input loads nothing (mask 0) from row 0's address.
        const __mmask16 m0 = inside ? lo_mask : static_cast<__mmask16>(0);
        const __mmask16 m1 = inside ? hi_mask : static_cast<__mmask16>(0);
        const int64_t at = (inside ? iy * in_w : 0) - pad_left;
        const float* row = in[c] + at;
        __m512 x[K];
        if (S == 1) {
          x[0] = _mm512_maskz_loadu_ps(m0, row);
          x[1] = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(zero), _mm512_castps_si512(x[0]), 1));
          x[2] = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(zero), _mm512_castps_si512(x[0]), 2));
        } else {
          const __m512 lo = _mm512_maskz_loadu_ps(m0, row), hi = _mm512_maskz_loadu_ps(m1, row + kLanes);
          x[0] = _mm512_permutex2var_ps(lo, even, hi);
          x[1] = _mm512_permutex2var_ps(lo, odd, hi);
          x[2] = _mm512_permutex2var_ps(lo, next, hi);
        }
#pragma GCC unroll 32
        for (int ky = 0; ky < K; ++ky) {
          const int r = (i - ky) / S;
          if (i < ky || (i - ky) % S != 0 || r >= R) continue;
#pragma GCC unroll 32
          for (int kx = 0; kx < K; ++kx) acc[r] = _mm512_fmadd_ps(w[c][ky * K + kx], x[kx], acc[r]);
        }
      }
      for (int r = 0; r < R && y0 + r < out_h; ++r) {
        _mm512_mask_storeu_ps(out[c] + (y0 + r) * out_w, store_mask,
                              Activate(_mm512_add_ps(acc[r], bias[c]), activation));
      }
    }
  }
}

template <int S>
void TwinBlocks(const Fp32DepthwiseGrid& a, const Fp32DepthwiseGrid& b) {
  if (a.out_h % 7 == 0) {
    TwinRows<7, S>(a, b);
  } else {
    TwinRows<4, S>(a, b);
  }
}

template <int S>
void PairBlocks(const Fp32DepthwiseGrid& a, const Fp32DepthwiseGrid& b) {
  if (a.out_h % 7 == 0) {
    PairRows<7, S>(a, b);
  } else if (a.out_h % 8 == 0) {
    PairRows<8, S>(a, b);
  } else {
    PairRows<4, S>(a, b);
  }
}

}  // namespace

bool DepthwiseGridPairApplies(int kernel, int stride, int64_t out_w) {
  return kernel == 3 && (stride == 1 || stride == 2) && out_w <= 8 && (out_w - 1) * stride + kernel <= kLanes;
}

void DepthwiseGridPairAvx512(const Fp32DepthwiseGrid& a, const Fp32DepthwiseGrid& b) {
  a.stride == 1 ? PairBlocks<1>(a, b) : PairBlocks<2>(a, b);
}

bool DepthwiseGridTwinApplies(int kernel, int stride, int64_t out_w) {
  return kernel == 3 && ((stride == 1 && out_w <= kLanes - 2) || (stride == 2 && out_w <= kLanes - 1));
}

void DepthwiseGridTwinAvx512(const Fp32DepthwiseGrid& a, const Fp32DepthwiseGrid& b) {
  a.stride == 1 ? TwinBlocks<1>(a, b) : TwinBlocks<2>(a, b);
}

int DepthwiseGridRows(int64_t out_w) { return out_w <= kLanes ? 8 : 4; }

int64_t DepthwiseGridScratchFloats(const Fp32DepthwiseGrid& d) {
  // A zero row with a vector of slack on each side (written in whole vectors); for 5x5 stride 2 the phase planes,
  // then the last block's reads past them (at most two vectors and the window's span beyond a row, which also
  // covers the build's last vector).
  const int64_t zero_row = (d.in_w + 2 * kLanes + kLanes - 1) / kLanes * kLanes;
  if (d.kernel == 5 && d.stride == 2) {
    const int64_t planes = 4 * d.hq * d.wq + 3 * kLanes;
    return planes > zero_row ? planes : zero_row;
  }
  return zero_row;
}

void DepthwiseGridAvx512(const Fp32DepthwiseGrid& d) { d.kernel == 3 ? Blocks<3>(d) : Blocks<5>(d); }

bool DepthwiseGridAvx512Applies(int kernel_h, int kernel_w, int stride_h, int stride_w, int dilation_h,
                                int dilation_w) {
  return kernel_h == kernel_w && (kernel_h == 3 || kernel_h == 5) && stride_h == stride_w &&
         (stride_h == 1 || stride_h == 2) && dilation_h == 1 && dilation_w == 1;
}

void DepthwisePlaneAvx512(const Fp32DepthwisePlane& d) {
  switch (d.k) {
    case 9: PlaneImpl<9>(d); return;
    case 25: PlaneImpl<25>(d); return;
    default: PlaneImpl<0>(d); return;
  }
}

}  // namespace qt
