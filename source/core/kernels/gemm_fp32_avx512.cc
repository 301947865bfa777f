// AVX-512F fp32 micro-kernels: an 8x32 tile in 16 zmm accumulators; per k, two loads of B and eight broadcast FMAs
// pairs; and a narrow 16x16 one for GEMMs of at most 16 columns. Tails are masked loads and stores, so B is never
// read past column n.
#include <immintrin.h>

#include "core/kernels/gemm_fp32_isa.h"

namespace qt {
namespace {

constexpr int kMr = 8, kNr = 32;

__mmask16 LaneMask(int64_t lanes) {
  return lanes >= 16 ? static_cast<__mmask16>(0xFFFF)
                     : lanes <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << lanes) - 1u);
}

// Lanes [lo, hi) of a 16-lane vector.
__mmask16 Lanes(int64_t lo, int64_t hi) { return static_cast<__mmask16>(LaneMask(hi) & ~LaneMask(lo)); }

__m512 Activate(__m512 v, int activation) {
  if (activation == 1) return _mm512_max_ps(v, _mm512_setzero_ps());
  if (activation == 2) return _mm512_min_ps(_mm512_set1_ps(6.f), _mm512_max_ps(_mm512_setzero_ps(), v));
  return v;
}

__m256 Activate256(__m256 v, int activation) {
  if (activation == 1) return _mm256_max_ps(v, _mm256_setzero_ps());
  if (activation == 2) return _mm256_min_ps(_mm256_set1_ps(6.f), _mm256_max_ps(_mm256_setzero_ps(), v));
  return v;
}

// An activation code as a type, for a generic lambda to take it as a constant.
template <int kAct>
struct ActTag {
  static constexpr int value = kAct;
};

// One row of a contiguous tile: + bias, the activation, stored as TileImpl stores it.
template <int kAct, bool kTail, bool kHalf>
__attribute__((always_inline)) inline void StoreRow(float* out, __m512 c0, __m512 c1, float bias, __mmask16 m0,
                                                    __mmask16 m1) {
  const __m512 b = _mm512_set1_ps(bias);
  const __m512 v0 = Activate(_mm512_add_ps(c0, b), kAct);
  if (kTail) {
    _mm512_mask_storeu_ps(out, m0, v0);
    if (!kHalf) _mm512_mask_storeu_ps(out + 16, m1, Activate(_mm512_add_ps(c1, b), kAct));
  } else {
    _mm512_storeu_ps(out, v0);
    _mm512_storeu_ps(out + 16, Activate(_mm512_add_ps(c1, b), kAct));
  }
}

// One row of a tile across grid rows: + bias, the activation, stored as at most two runs, run i's lanes at
// out + to[i] + lane (a run of no lanes has empty masks).
template <int kAct>
__attribute__((always_inline)) inline void StoreRuns(float* out, const int64_t (&to)[2], const __mmask16 (&mask)[2][2],
                                                     __m512 c0, __m512 c1, float bias) {
  const __m512 b = _mm512_set1_ps(bias);
  const __m512 v0 = Activate(_mm512_add_ps(c0, b), kAct), v1 = Activate(_mm512_add_ps(c1, b), kAct);
  _mm512_mask_storeu_ps(out + to[0], mask[0][0], v0);
  _mm512_mask_storeu_ps(out + to[0] + 16, mask[0][1], v1);
  _mm512_mask_storeu_ps(out + to[1], mask[1][0], v0);
  _mm512_mask_storeu_ps(out + to[1] + 16, mask[1][1], v1);
}

// kHalf: a tail of at most 16 columns, computed in one vector per row instead of two. kExtra (with kHalf, on a
// contiguous grid): a tail of 17 columns, the 17th in one 8-row vector (lane r: row r) fed by the k step's eight
// weights, so that a grid of 49 columns (MobileNetV2's 7x7 layers) costs 2 + 1 + 1/8 vectors per row and k
// instead of 4. Its sums are the tile's: Σ_k a·b from 0 in k order, + bias, then the activation.
template <bool kTail, bool kHalf, bool kExtra = false>
void TileImpl(const Fp32Gemm& g, int64_t rb, int64_t j0) {
  const int64_t cols = kTail ? g.n - j0 : kNr;
  const __mmask16 m0 = LaneMask(cols), m1 = LaneMask(cols - 16);
  // Named accumulators rather than an array: with an array GCC 12 stored every accumulator to the stack after
  // each FMA in the masked (tail) instantiation, which made a partial column block slower than a full one.
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
         c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
  __m256 extra = _mm256_setzero_ps();
  const float* a = g.a + rb * g.k * kMr;
  const float* b = g.b + j0;
  for (int64_t k = 0; k < g.k; ++k) {
    if (k < g.prefetch_lines) _mm_prefetch(reinterpret_cast<const char*>(g.prefetch + 16 * k), _MM_HINT_T0);
    const float* bk = b + g.koff[k];
    if (kExtra) extra = _mm256_fmadd_ps(_mm256_loadu_ps(a), _mm256_set1_ps(bk[16]), extra);
    const __m512 b0 = kTail ? _mm512_maskz_loadu_ps(m0, bk) : _mm512_loadu_ps(bk);
    const __m512 b1 = kHalf ? _mm512_setzero_ps() : kTail ? _mm512_maskz_loadu_ps(m1, bk + 16) : _mm512_loadu_ps(bk + 16);
    __m512 w = _mm512_set1_ps(a[0]);
    c00 = _mm512_fmadd_ps(w, b0, c00);
    if (!kHalf) c01 = _mm512_fmadd_ps(w, b1, c01);
    w = _mm512_set1_ps(a[1]);
    c10 = _mm512_fmadd_ps(w, b0, c10);
    if (!kHalf) c11 = _mm512_fmadd_ps(w, b1, c11);
    w = _mm512_set1_ps(a[2]);
    c20 = _mm512_fmadd_ps(w, b0, c20);
    if (!kHalf) c21 = _mm512_fmadd_ps(w, b1, c21);
    w = _mm512_set1_ps(a[3]);
    c30 = _mm512_fmadd_ps(w, b0, c30);
    if (!kHalf) c31 = _mm512_fmadd_ps(w, b1, c31);
    w = _mm512_set1_ps(a[4]);
    c40 = _mm512_fmadd_ps(w, b0, c40);
    if (!kHalf) c41 = _mm512_fmadd_ps(w, b1, c41);
    w = _mm512_set1_ps(a[5]);
    c50 = _mm512_fmadd_ps(w, b0, c50);
    if (!kHalf) c51 = _mm512_fmadd_ps(w, b1, c51);
    w = _mm512_set1_ps(a[6]);
    c60 = _mm512_fmadd_ps(w, b0, c60);
    if (!kHalf) c61 = _mm512_fmadd_ps(w, b1, c61);
    w = _mm512_set1_ps(a[7]);
    c70 = _mm512_fmadd_ps(w, b0, c70);
    if (!kHalf) c71 = _mm512_fmadd_ps(w, b1, c71);
    a += kMr;
  }
  for (int64_t i = g.k; i < g.prefetch_lines; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(g.prefetch + 16 * i), _MM_HINT_T0);
  }
  const int64_t rows = g.m - rb * kMr < kMr ? g.m - rb * kMr : kMr;
  bool contiguous = g.grid_w == g.out_w;
  int64_t at = j0;  // where a contiguous tile's first column lands in the output row
  if (!contiguous) {
    // Most tiles of a shifted grid (a stride-2 stem: 82 of every 114 columns) lie inside one output row: they
    // store as a contiguous tile does, without the per-run loop and its masked stores.
    const int64_t oy = j0 / g.grid_w, ox = j0 - oy * g.grid_w;
    if (ox + cols <= g.out_w) {
      contiguous = true;
      at = oy * g.out_w + ox;
    }
  }
  if (rows == kMr && !kExtra) {
    // A full-height tile, its accumulators stored straight from their registers: through the array below GCC
    // wrote all sixteen to the stack and reloaded them, and reloaded the Fp32Gemm fields after every store (a tile
    // of K = 16, MobileNetV2's 112x112 expansion, spent a third of its time there).
    static const float kNoBias[kMr] = {};
    const float* bias = g.bias ? g.bias + rb * kMr : kNoBias;
    const int64_t stride = g.out_stride;
    if (contiguous) {
      float* out = g.out + rb * kMr * stride + at;
      auto store = [&](auto act) {
        constexpr int kAct = decltype(act)::value;
        StoreRow<kAct, kTail, kHalf>(out, c00, c01, bias[0], m0, m1);
        StoreRow<kAct, kTail, kHalf>(out + stride, c10, c11, bias[1], m0, m1);
        StoreRow<kAct, kTail, kHalf>(out + 2 * stride, c20, c21, bias[2], m0, m1);
        StoreRow<kAct, kTail, kHalf>(out + 3 * stride, c30, c31, bias[3], m0, m1);
        StoreRow<kAct, kTail, kHalf>(out + 4 * stride, c40, c41, bias[4], m0, m1);
        StoreRow<kAct, kTail, kHalf>(out + 5 * stride, c50, c51, bias[5], m0, m1);
        StoreRow<kAct, kTail, kHalf>(out + 6 * stride, c60, c61, bias[6], m0, m1);
        StoreRow<kAct, kTail, kHalf>(out + 7 * stride, c70, c71, bias[7], m0, m1);
      };
      if (g.activation == 2) {
        store(ActTag<2>());
      } else if (g.activation == 1) {
        store(ActTag<1>());
      } else {
        store(ActTag<0>());
      }
      return;
    }
    // A tile across grid rows (a stride-2 stem's, 32 of every 114 columns): its runs, each masked.
    GridRuns runs;
    TileRuns(g.grid_w, g.out_w, g.n, j0, cols, &runs);
    if (runs.n <= 2) {
      __mmask16 mask[2][2] = {};
      int64_t to[2] = {};
      for (int i = 0; i < runs.n; ++i) {
        const int64_t lo = runs.first[i] - j0, hi = lo + runs.len[i];
        mask[i][0] = Lanes(lo, hi);
        mask[i][1] = Lanes(lo - 16, hi - 16);
        to[i] = runs.out[i] - lo;
      }
      float* out = g.out + rb * kMr * stride;
      auto store = [&](auto act) {
        constexpr int kAct = decltype(act)::value;
        StoreRuns<kAct>(out, to, mask, c00, c01, bias[0]);
        StoreRuns<kAct>(out + stride, to, mask, c10, c11, bias[1]);
        StoreRuns<kAct>(out + 2 * stride, to, mask, c20, c21, bias[2]);
        StoreRuns<kAct>(out + 3 * stride, to, mask, c30, c31, bias[3]);
        StoreRuns<kAct>(out + 4 * stride, to, mask, c40, c41, bias[4]);
        StoreRuns<kAct>(out + 5 * stride, to, mask, c50, c51, bias[5]);
        StoreRuns<kAct>(out + 6 * stride, to, mask, c60, c61, bias[6]);
        StoreRuns<kAct>(out + 7 * stride, to, mask, c70, c71, bias[7]);
      };
      if (g.activation == 2) {
        store(ActTag<2>());
      } else if (g.activation == 1) {
        store(ActTag<1>());
      } else {
        store(ActTag<0>());
      }
      return;
    }
  }
  const __m512 acc[kMr][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31},
                              {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71}};
  GridRuns runs;
  __mmask16 run_mask[40][2];
  if (!contiguous) {
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
    const __m512 bias = _mm512_set1_ps(g.bias ? g.bias[row] : 0.f);
    const __m512 v0 = Activate(_mm512_add_ps(acc[r][0], bias), g.activation);
    const __m512 v1 = Activate(_mm512_add_ps(acc[r][1], bias), g.activation);
    float* out = g.out + row * g.out_stride;
    if (contiguous) {
      // A masked store costs about twice a plain one on Zen 5, even with every lane set.
      if (kTail) {
        _mm512_mask_storeu_ps(out + at, m0, v0);
        if (!kHalf) _mm512_mask_storeu_ps(out + at + 16, m1, v1);
      } else {
        _mm512_storeu_ps(out + at, v0);
        _mm512_storeu_ps(out + at + 16, v1);
      }
      continue;
    }
    for (int s = 0; s < runs.n; ++s) {
      // The run's lanes land at out + runs.out[s] + lane; masked-off lanes are never touched.
      _mm512_mask_storeu_ps(out + runs.out[s], run_mask[s][0], v0);
      _mm512_mask_storeu_ps(out + runs.out[s] + 16, run_mask[s][1], v1);
    }
  }
  if (kExtra) {
    alignas(32) float bias[kMr] = {}, v[kMr];
    for (int r = 0; r < rows && g.bias; ++r) bias[r] = g.bias[rb * kMr + r];
    _mm256_store_ps(v, Activate256(_mm256_add_ps(extra, _mm256_load_ps(bias)), g.activation));
    for (int r = 0; r < rows; ++r) g.out[(rb * kMr + r) * g.out_stride + at + 16] = v[r];
  }
}

void Tile(const Fp32Gemm& g, int64_t rb, int64_t j0) {
  if (j0 + kNr <= g.n) {
    TileImpl<false, false>(g, rb, j0);
  } else if (j0 + kNr / 2 >= g.n) {
    TileImpl<true, true>(g, rb, j0);
  } else if (j0 + kNr / 2 + 1 == g.n && g.grid_w == g.out_w) {
    TileImpl<true, true, true>(g, rb, j0);
  } else {
    TileImpl<true, false>(g, rb, j0);
  }
}

// kBlocks row blocks from rb on, one 8-lane vector each (lane r: row rb·8 + r), so that every k step is one
// broadcast of B and kBlocks independent FMAs (the tile spends eight FMAs of one useful lane each on it). Each
// output is the tile's sum: Σ_k a·b from 0 in k order, + bias, then the activation.
template <int kBlocks>
void GemvBlocks(const Fp32Gemm& g, int64_t rb) {
  static_assert(kBlocks == 8 || kBlocks == 1, "eight chains, or one for the tail");
  const float* a = g.a + rb * g.k * kMr;
  const int64_t stride = g.k * kMr;
  __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (int64_t k = 0; k < g.k; ++k) {
    const __m256 x = _mm256_set1_ps(g.b[g.koff[k]]);
    const float* ak = a + k * kMr;
    c0 = _mm256_fmadd_ps(_mm256_loadu_ps(ak), x, c0);
    if (kBlocks == 8) {
      c1 = _mm256_fmadd_ps(_mm256_loadu_ps(ak + stride), x, c1);
      c2 = _mm256_fmadd_ps(_mm256_loadu_ps(ak + 2 * stride), x, c2);
      c3 = _mm256_fmadd_ps(_mm256_loadu_ps(ak + 3 * stride), x, c3);
      c4 = _mm256_fmadd_ps(_mm256_loadu_ps(ak + 4 * stride), x, c4);
      c5 = _mm256_fmadd_ps(_mm256_loadu_ps(ak + 5 * stride), x, c5);
      c6 = _mm256_fmadd_ps(_mm256_loadu_ps(ak + 6 * stride), x, c6);
      c7 = _mm256_fmadd_ps(_mm256_loadu_ps(ak + 7 * stride), x, c7);
    }
  }
  const __m256 acc[8] = {c0, c1, c2, c3, c4, c5, c6, c7};
  for (int i = 0; i < kBlocks; ++i) {
    const int64_t row0 = (rb + i) * kMr;
    const int64_t rows = g.m - row0 < kMr ? g.m - row0 : kMr;
    alignas(32) float bias[kMr] = {};
    for (int64_t r = 0; r < rows && g.bias; ++r) bias[r] = g.bias[row0 + r];
    const __m256 v = Activate256(_mm256_add_ps(acc[i], _mm256_load_ps(bias)), g.activation);
    if (rows == kMr) {
      _mm256_storeu_ps(g.out + row0, v);
    } else {
      alignas(32) float tmp[kMr];
      _mm256_store_ps(tmp, v);
      for (int64_t r = 0; r < rows; ++r) g.out[row0 + r] = tmp[r];
    }
  }
}

void Gemv(const Fp32Gemm& g, int64_t rb0, int64_t rb1) {
  int64_t rb = rb0;
  for (; rb + 8 <= rb1; rb += 8) GemvBlocks<8>(g, rb);
  for (; rb < rb1; ++rb) GemvBlocks<1>(g, rb);
}

// The narrow kernel: a 16x16 tile in 16 accumulators, one vector of B and sixteen broadcast FMAs per k. For GEMMs
// of at most 16 columns, where the 8x32 tile runs its one-vector tail: eight chains of dependent FMAs leave the
// FMA units waiting on their latency (a Winograd unit's 36 GEMMs of 16 columns and K = 64: 130 against 180
// GFLOP/s).
constexpr int kNarrowMr = 16, kNarrowNr = 16;

template <bool kTail>
void NarrowTileImpl(const Fp32Gemm& g, int64_t rb, int64_t j0) {
  const int64_t cols = kTail ? g.n - j0 : kNarrowNr;
  const __mmask16 m0 = LaneMask(cols);
  __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0,
         c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
  const float* a = g.a + rb * g.k * kNarrowMr;
  const float* b = g.b + j0;
  for (int64_t k = 0; k < g.k; ++k) {
    if (k < g.prefetch_lines) _mm_prefetch(reinterpret_cast<const char*>(g.prefetch + 16 * k), _MM_HINT_T0);
    const float* bk = b + g.koff[k];
    const __m512 v = kTail ? _mm512_maskz_loadu_ps(m0, bk) : _mm512_loadu_ps(bk);
    c0 = _mm512_fmadd_ps(_mm512_set1_ps(a[0]), v, c0);
    c1 = _mm512_fmadd_ps(_mm512_set1_ps(a[1]), v, c1);
    c2 = _mm512_fmadd_ps(_mm512_set1_ps(a[2]), v, c2);
    c3 = _mm512_fmadd_ps(_mm512_set1_ps(a[3]), v, c3);
    c4 = _mm512_fmadd_ps(_mm512_set1_ps(a[4]), v, c4);
    c5 = _mm512_fmadd_ps(_mm512_set1_ps(a[5]), v, c5);
    c6 = _mm512_fmadd_ps(_mm512_set1_ps(a[6]), v, c6);
    c7 = _mm512_fmadd_ps(_mm512_set1_ps(a[7]), v, c7);
    c8 = _mm512_fmadd_ps(_mm512_set1_ps(a[8]), v, c8);
    c9 = _mm512_fmadd_ps(_mm512_set1_ps(a[9]), v, c9);
    c10 = _mm512_fmadd_ps(_mm512_set1_ps(a[10]), v, c10);
    c11 = _mm512_fmadd_ps(_mm512_set1_ps(a[11]), v, c11);
    c12 = _mm512_fmadd_ps(_mm512_set1_ps(a[12]), v, c12);
    c13 = _mm512_fmadd_ps(_mm512_set1_ps(a[13]), v, c13);
    c14 = _mm512_fmadd_ps(_mm512_set1_ps(a[14]), v, c14);
    c15 = _mm512_fmadd_ps(_mm512_set1_ps(a[15]), v, c15);
    a += kNarrowMr;
  }
  for (int64_t i = g.k; i < g.prefetch_lines; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(g.prefetch + 16 * i), _MM_HINT_T0);
  }
  const __m512 acc[kNarrowMr] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15};

  const int64_t rows = g.m - rb * kNarrowMr < kNarrowMr ? g.m - rb * kNarrowMr : kNarrowMr;
  const bool contiguous = g.grid_w == g.out_w;
  GridRuns runs;
  __mmask16 run_mask[40];
  if (!contiguous) {
    TileRuns(g.grid_w, g.out_w, g.n, j0, cols, &runs);
    for (int s = 0; s < runs.n; ++s) {
      const int64_t lo = runs.first[s] - j0;
      run_mask[s] = Lanes(lo, lo + runs.len[s]);
      runs.out[s] -= lo;
    }
  }
  for (int r = 0; r < rows; ++r) {
    const int64_t row = rb * kNarrowMr + r;
    const __m512 v = Activate(_mm512_add_ps(acc[r], _mm512_set1_ps(g.bias ? g.bias[row] : 0.f)), g.activation);
    float* out = g.out + row * g.out_stride;
    if (contiguous) {
      if (kTail) {
        _mm512_mask_storeu_ps(out + j0, m0, v);
      } else {
        _mm512_storeu_ps(out + j0, v);
      }
      continue;
    }
    for (int s = 0; s < runs.n; ++s) _mm512_mask_storeu_ps(out + runs.out[s], run_mask[s], v);
  }
}

void NarrowTile(const Fp32Gemm& g, int64_t rb, int64_t j0) {
  if (j0 + kNarrowNr <= g.n) {
    NarrowTileImpl<false>(g, rb, j0);
  } else {
    NarrowTileImpl<true>(g, rb, j0);
  }
}

// Rows [0, 16) of seven column vectors (v[c] lane r: row r, column c), + bias, activated, stored as rows of seven
// columns at out + r·stride: an 8x8 transpose in each 256-bit half (column 7 a zero vector), then each vector
// holds two rows, one per half, each stored with a 7-lane mask.
__attribute__((always_inline)) inline void StoreColumns16x7(const __m512 (&v)[kChannelTileCols], float* out,
                                                           int64_t stride) {
  const __m512 zero = _mm512_setzero_ps();
  // The all-lanes masked forms: GCC 12's plain unpacks start from an undefined vector and warn.
  auto lo = [&](__m512 a, __m512 b) { return _mm512_mask_unpacklo_ps(zero, 0xFFFF, a, b); };
  auto hi = [&](__m512 a, __m512 b) { return _mm512_mask_unpackhi_ps(zero, 0xFFFF, a, b); };
  const __m512 t0 = lo(v[0], v[1]), t1 = hi(v[0], v[1]), t2 = lo(v[2], v[3]), t3 = hi(v[2], v[3]);
  const __m512 t4 = lo(v[4], v[5]), t5 = hi(v[4], v[5]), t6 = lo(v[6], zero), t7 = hi(v[6], zero);
  // u[i] (i < 4): columns 0-3 of rows 4L + i in 128-bit lane L; u[4 + i] columns 4-7 of the same rows.
  const __m512 u[8] = {_mm512_shuffle_ps(t0, t2, 0x44), _mm512_shuffle_ps(t0, t2, 0xEE),
                       _mm512_shuffle_ps(t1, t3, 0x44), _mm512_shuffle_ps(t1, t3, 0xEE),
                       _mm512_shuffle_ps(t4, t6, 0x44), _mm512_shuffle_ps(t4, t6, 0xEE),
                       _mm512_shuffle_ps(t5, t7, 0x44), _mm512_shuffle_ps(t5, t7, 0xEE)};
  // Rows i and 4 + i (lanes 0 and 1 of u), rows 8 + i and 12 + i (lanes 2 and 3).
  const __m512i rows_01 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i rows_23 = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  constexpr __mmask16 kLow = 0x7F, kHigh = 0x7F00;
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m512 a = _mm512_permutex2var_ps(u[i], rows_01, u[4 + i]);
    const __m512 b = _mm512_permutex2var_ps(u[i], rows_23, u[4 + i]);
    // The high half's row r lands at out + r·stride: the store starts eight lanes before it (r >= 4).
    _mm512_mask_storeu_ps(out + i * stride, kLow, a);
    _mm512_mask_storeu_ps(out + (4 + i) * stride - 8, kHigh, a);
    _mm512_mask_storeu_ps(out + (8 + i) * stride, kLow, b);
    _mm512_mask_storeu_ps(out + (12 + i) * stride - 8, kHigh, b);
  }
}

}  // namespace

void ChannelTileAvx512(const Fp32Gemm& g, int64_t rb, int64_t j0) {
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00, c04 = c00, c05 = c00, c06 = c00, c10 = c00,
         c11 = c00, c12 = c00, c13 = c00, c14 = c00, c15 = c00, c16 = c00;
  const float* a = g.a + rb * g.k * kChannelTileRows;
  const float* b = g.b + j0;
  for (int64_t k = 0; k < g.k; ++k) {
    if (k < g.prefetch_lines) _mm_prefetch(reinterpret_cast<const char*>(g.prefetch + 16 * k), _MM_HINT_T0);
    const float* bk = b + g.koff[k];
    const __m512 a0 = _mm512_loadu_ps(a), a1 = _mm512_loadu_ps(a + 16);
    __m512 x = _mm512_set1_ps(bk[0]);
    c00 = _mm512_fmadd_ps(a0, x, c00);
    c10 = _mm512_fmadd_ps(a1, x, c10);
    x = _mm512_set1_ps(bk[1]);
    c01 = _mm512_fmadd_ps(a0, x, c01);
    c11 = _mm512_fmadd_ps(a1, x, c11);
    x = _mm512_set1_ps(bk[2]);
    c02 = _mm512_fmadd_ps(a0, x, c02);
    c12 = _mm512_fmadd_ps(a1, x, c12);
    x = _mm512_set1_ps(bk[3]);
    c03 = _mm512_fmadd_ps(a0, x, c03);
    c13 = _mm512_fmadd_ps(a1, x, c13);
    x = _mm512_set1_ps(bk[4]);
    c04 = _mm512_fmadd_ps(a0, x, c04);
    c14 = _mm512_fmadd_ps(a1, x, c14);
    x = _mm512_set1_ps(bk[5]);
    c05 = _mm512_fmadd_ps(a0, x, c05);
    c15 = _mm512_fmadd_ps(a1, x, c15);
    x = _mm512_set1_ps(bk[6]);
    c06 = _mm512_fmadd_ps(a0, x, c06);
    c16 = _mm512_fmadd_ps(a1, x, c16);
    a += kChannelTileRows;
  }
  for (int64_t i = g.k; i < g.prefetch_lines; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(g.prefetch + 16 * i), _MM_HINT_T0);
  }
  const int64_t row0 = rb * kChannelTileRows;
  const __m512 bias0 = g.bias ? _mm512_loadu_ps(g.bias + row0) : _mm512_setzero_ps();
  const __m512 bias1 = g.bias ? _mm512_loadu_ps(g.bias + row0 + 16) : _mm512_setzero_ps();
  const int act = g.activation;
  const __m512 lo[kChannelTileCols] = {
      Activate(_mm512_add_ps(c00, bias0), act), Activate(_mm512_add_ps(c01, bias0), act),
      Activate(_mm512_add_ps(c02, bias0), act), Activate(_mm512_add_ps(c03, bias0), act),
      Activate(_mm512_add_ps(c04, bias0), act), Activate(_mm512_add_ps(c05, bias0), act),
      Activate(_mm512_add_ps(c06, bias0), act)};
  const __m512 hi[kChannelTileCols] = {
      Activate(_mm512_add_ps(c10, bias1), act), Activate(_mm512_add_ps(c11, bias1), act),
      Activate(_mm512_add_ps(c12, bias1), act), Activate(_mm512_add_ps(c13, bias1), act),
      Activate(_mm512_add_ps(c14, bias1), act), Activate(_mm512_add_ps(c15, bias1), act),
      Activate(_mm512_add_ps(c16, bias1), act)};
  float* out = g.out + row0 * g.out_stride + j0;
  StoreColumns16x7(lo, out, g.out_stride);
  StoreColumns16x7(hi, out + 16 * g.out_stride, g.out_stride);
}

namespace {

// kRows 32 or 16: a block's 16 first rows only (the last block of a channel count 16 or fewer past a multiple of
// 32: half the multiplications of the whole block).
template <bool kSums, int kRows>
__attribute__((always_inline)) inline void ChannelTile14Impl(const Fp32Gemm& g, int64_t rb, int64_t j0, float* sums) {
  constexpr int kCols = 2 * kChannelTileCols;
  constexpr bool kTwo = kRows == 32;
  __m512 lo[kCols], hi[kCols];
#pragma GCC unroll 32
  for (int j = 0; j < kCols; ++j) lo[j] = hi[j] = _mm512_setzero_ps();
  const float* a = g.a + rb * g.k * kChannelTileRows;
  const float* b = g.b + j0;
  for (int64_t k = 0; k < g.k; ++k) {
    if (k < g.prefetch_lines) _mm_prefetch(reinterpret_cast<const char*>(g.prefetch + 16 * k), _MM_HINT_T0);
    const float* bk = b + g.koff[k];
    const __m512 a0 = _mm512_loadu_ps(a), a1 = kTwo ? _mm512_loadu_ps(a + 16) : a0;
#pragma GCC unroll 32
    for (int j = 0; j < kCols; ++j) {
      const __m512 x = _mm512_set1_ps(bk[j]);
      lo[j] = _mm512_fmadd_ps(a0, x, lo[j]);
      if (kTwo) hi[j] = _mm512_fmadd_ps(a1, x, hi[j]);
    }
    a += kChannelTileRows;
  }
  for (int64_t i = g.k; i < g.prefetch_lines; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(g.prefetch + 16 * i), _MM_HINT_T0);
  }
  const int64_t row0 = rb * kChannelTileRows;
  const __m512 bias0 = g.bias ? _mm512_loadu_ps(g.bias + row0) : _mm512_setzero_ps();
  const __m512 bias1 = g.bias && kTwo ? _mm512_loadu_ps(g.bias + row0 + 16) : _mm512_setzero_ps();
  const int act = g.activation;
  if constexpr (kSums) {
    __m512 s0 = _mm512_loadu_ps(sums), s1 = kTwo ? _mm512_loadu_ps(sums + 16) : s0;
#pragma GCC unroll 32
    for (int j = 0; j < kCols; ++j) {
      s0 = _mm512_add_ps(s0, Activate(_mm512_add_ps(lo[j], bias0), act));
      if (kTwo) s1 = _mm512_add_ps(s1, Activate(_mm512_add_ps(hi[j], bias1), act));
    }
    _mm512_storeu_ps(sums, s0);
    if (kTwo) _mm512_storeu_ps(sums + 16, s1);
    return;
  }
  float* out = g.out + row0 * g.out_stride + j0;
#pragma GCC unroll 2
  for (int half = 0; half < 2; ++half) {
    __m512 v0[kChannelTileCols], v1[kChannelTileCols];
#pragma GCC unroll 32
    for (int j = 0; j < kChannelTileCols; ++j) {
      v0[j] = Activate(_mm512_add_ps(lo[half * kChannelTileCols + j], bias0), act);
      if (kTwo) v1[j] = Activate(_mm512_add_ps(hi[half * kChannelTileCols + j], bias1), act);
    }
    StoreColumns16x7(v0, out + half * kChannelTileCols, g.out_stride);
    if (kTwo) StoreColumns16x7(v1, out + 16 * g.out_stride + half * kChannelTileCols, g.out_stride);
  }
}

}  // namespace

void ChannelTile14Avx512(const Fp32Gemm& g, int64_t rb, int64_t j0) {
  ChannelTile14Impl<false, 32>(g, rb, j0, nullptr);
}

void ChannelTile14HalfAvx512(const Fp32Gemm& g, int64_t rb, int64_t j0) {
  ChannelTile14Impl<false, 16>(g, rb, j0, nullptr);
}

void ChannelTile14SumsAvx512(const Fp32Gemm& g, int64_t rb, int64_t j0, float* sums) {
  ChannelTile14Impl<true, 32>(g, rb, j0, sums);
}

void ChannelTile14HalfSumsAvx512(const Fp32Gemm& g, int64_t rb, int64_t j0, float* sums) {
  ChannelTile14Impl<true, 16>(g, rb, j0, sums);
}

const Fp32MicroKernel& Fp32MicroKernelAvx512() {
  static const Fp32MicroKernel kernel{"avx512", kMr, kNr, Tile, Gemv};
  return kernel;
}

const Fp32MicroKernel& Fp32MicroKernelAvx512Narrow() {
  static const Fp32MicroKernel kernel{"avx512-16x16", kNarrowMr, kNarrowNr, NarrowTile, nullptr};
  return kernel;
}

}  // namespace qt
