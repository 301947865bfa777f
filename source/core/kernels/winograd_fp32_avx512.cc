// AVX-512F Winograd F(4x4, 3x3) transforms (see conv_winograd.cc and gemm_fp32_isa.h): 16 tiles per vector, one
// per lane. Tiles with consecutive indices in one tile row read and write consecutive columns at a stride of 4, so
// a group's rows are moved as flat runs of 64 floats, 4 per tile, de-interleaved into one vector per column of the
// tile (and back) by two rounds of two-source permutes. A group spanning several tile rows (narrow outputs) is cut
// into segments, one per tile row, each loaded and stored under its own lane masks; input outside the image reads
// as zero through the masks, so no padded copy of the input is made.
#include <immintrin.h>

#include "core/kernels/gemm_fp32_isa.h"

namespace qt {
namespace {

constexpr int kLanes = 16;

__mmask16 LaneMask(int64_t lanes) {
  return lanes >= 16 ? static_cast<__mmask16>(0xFFFF)
                     : lanes <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << lanes) - 1u);
}

// Lanes [lo, hi) of a 16-lane vector.
__mmask16 Lanes(int64_t lo, int64_t hi) { return static_cast<__mmask16>(LaneMask(hi) & ~LaneMask(lo)); }

int64_t Max(int64_t a, int64_t b) { return a > b ? a : b; }
int64_t Min(int64_t a, int64_t b) { return a < b ? a : b; }

// The tiles of a group that lie in one tile row: lanes [lane0, lane1), tile row ty, first tile column tx0.
struct Segment {
  int lane0, lane1;
  int64_t ty, tx0;
};

int Segments(int64_t tile0, int count, int64_t tiles_x, Segment* seg) {
  int n = 0;
  for (int i = 0; i < count;) {
    const int64_t t = tile0 + i, ty = t / tiles_x, tx = t - ty * tiles_x;
    const int len = static_cast<int>(Min(count - i, tiles_x - tx));
    seg[n++] = Segment{i, i + len, ty, tx};
    i += len;
  }
  return n;
}

// A flat run of 64 floats (4 per lane) as vectors q = 0..3 of 16 floats: flat position f = 16q + l holds column
// 4·i + s of lane i = f / 4, s = f % 4.
// Two-source permute indices (plain arrays: a namespace-scope __m512i would be built with AVX-512 instructions at
// program start, on any CPU). Round 1 pairs vectors (q, q+1), round 2 pairs the results.
//   De-interleave: p_s[i] = flat[4i + s].
alignas(64) constexpr int32_t kSplitLo[16] = {0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29};  // s 0, 1
alignas(64) constexpr int32_t kSplitHi[16] = {2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31};  // s 2, 3
alignas(64) constexpr int32_t kJoinLo[16] = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
alignas(64) constexpr int32_t kJoinHi[16] = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};
//   Interleave: flat[4i + x] = y_x[i]. Round 1 zips y0 with y1 (and y2 with y3) into pairs of 8 lanes; round 2 zips
//   the pairs into quadruples of 4 lanes.
alignas(64) constexpr int32_t kZipLo[16] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
alignas(64) constexpr int32_t kZipHi[16] = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
alignas(64) constexpr int32_t kQuadLo[16] = {0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23};
alignas(64) constexpr int32_t kQuadHi[16] = {8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31};

inline __m512i Index(const int32_t* idx) { return _mm512_load_si512(idx); }

// Bᵀ on six vectors: rows (4 0 −5 0 1 0) (0 −4 −4 1 1 0) (0 4 −4 −1 1 0) (0 −2 −1 2 1 0) (0 2 −1 −2 1 0)
// (0 4 0 −5 0 1).
inline void InputTransform1d(const __m512 d[6], __m512 o[6]) {
  const __m512 four = _mm512_set1_ps(4.f), five = _mm512_set1_ps(5.f), two = _mm512_set1_ps(2.f);
  o[0] = _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4]));
  o[1] = _mm512_fnmadd_ps(four, _mm512_add_ps(d[1], d[2]), _mm512_add_ps(d[3], d[4]));
  o[2] = _mm512_fmadd_ps(four, _mm512_sub_ps(d[1], d[2]), _mm512_sub_ps(d[4], d[3]));
  const __m512 s3 = _mm512_sub_ps(d[4], d[2]), t3 = _mm512_sub_ps(d[3], d[1]);
  o[3] = _mm512_fmadd_ps(two, t3, s3);
  o[4] = _mm512_fnmadd_ps(two, t3, s3);
  o[5] = _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5]));
}

// Aᵀ on six vectors: rows (1 1 1 1 1 0) (0 1 −1 2 −2 0) (0 1 1 4 4 0) (0 1 −1 8 −8 1).
inline void OutputTransform1d(__m512 m0, __m512 m1, __m512 m2, __m512 m3, __m512 m4, __m512 m5, __m512 y[4]) {
  const __m512 t0 = _mm512_add_ps(m1, m2), t1 = _mm512_sub_ps(m1, m2);
  const __m512 t2 = _mm512_add_ps(m3, m4), t3 = _mm512_sub_ps(m3, m4);
  y[0] = _mm512_add_ps(_mm512_add_ps(m0, t0), t2);
  y[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.f), t3, t1);
  y[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.f), t2, t0);
  y[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.f), t3, t1), m5);
}

// The masked loads that build vector q of the run of patch row r (RowLoads[r][q]), from the channel's plane at
// `offset` (and offset + 4 for the shifted run that gives patch columns 4 and 5). A vector holds 4 lanes, so at
// most 4 segments meet in it. Rows are resolved per group, so the per-channel loop does the same loads for every
// channel, and the four vectors stay in registers (an array indexed at run time would live on the stack).
constexpr int kMaxPieces = 4;
struct RunLoad {
  __mmask16 mask, mask_shifted;
  int64_t offset;
};
struct RowLoads {
  RunLoad load[kMaxPieces];
  int n = 0;
};

inline void LoadRun(const RowLoads& l, const float* plane, __m512* q, __m512* shifted) {
  __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps();
  for (int k = 0; k < l.n; ++k) {
    a = _mm512_mask_loadu_ps(a, l.load[k].mask, plane + l.load[k].offset);
    b = _mm512_mask_loadu_ps(b, l.load[k].mask_shifted, plane + l.load[k].offset + 4);
  }
  *q = a;
  *shifted = b;
}

// V is stored with plain stores when the group is full: a masked store costs about twice as much.
inline void StoreLanes(float* dst, __mmask16 mask, bool full, __m512 v) {
  if (full) {
    _mm512_storeu_ps(dst, v);
  } else {
    _mm512_mask_storeu_ps(dst, mask, v);
  }
}

void InputTransform(const WinogradInput& w) {
  Segment seg[kLanes];
  const int ns = Segments(w.tile0, w.count, w.tiles_x, seg);
  RowLoads loads[6][4];
  for (int k = 0; k < ns; ++k) {
    // Flat position f of the segment's lanes reads column xbase + f.
    const int64_t xbase = 4 * (seg[k].tx0 - seg[k].lane0) - w.pad_left;
    const int64_t lo = 4 * seg[k].lane0, hi = 4 * seg[k].lane1;
    for (int q = 0; q < 4; ++q) {
      const int64_t flo = Max(lo, 16 * q), fhi = Min(hi, 16 * q + 16);
      if (flo >= fhi) continue;
      const __mmask16 mask = Lanes(Max(flo, -xbase) - 16 * q, Min(fhi, w.in_w - xbase) - 16 * q);
      const __mmask16 shifted = Lanes(Max(flo, -xbase - 4) - 16 * q, Min(fhi, w.in_w - xbase - 4) - 16 * q);
      if ((mask | shifted) == 0) continue;
      for (int r = 0; r < 6; ++r) {
        const int64_t y = 4 * seg[k].ty - w.pad_top + r;
        if (y < 0 || y >= w.in_h) continue;
        RowLoads& l = loads[r][q];
        l.load[l.n++] = RunLoad{mask, shifted, y * w.in_w + xbase + 16 * q};
      }
    }
  }
  const __mmask16 store_mask = LaneMask(w.count);
  const bool full = w.count == kLanes;
  const __m512i split_lo = Index(kSplitLo), split_hi = Index(kSplitHi);
  const __m512i join_lo = Index(kJoinLo), join_hi = Index(kJoinHi);
  for (int64_t c = w.c0; c < w.c1; ++c) {
    const float* plane = w.in + c * w.in_hw;
    __m512 h[6][6];  // h[r][b] = (d B)[r][b]
    for (int r = 0; r < 6; ++r) {
      __m512 q0, q1, q2, q3, s0, s1, s2, s3;
      LoadRun(loads[r][0], plane, &q0, &s0);
      LoadRun(loads[r][1], plane, &q1, &s1);
      LoadRun(loads[r][2], plane, &q2, &s2);
      LoadRun(loads[r][3], plane, &q3, &s3);
      const __m512 a01 = _mm512_permutex2var_ps(q0, split_lo, q1), b01 = _mm512_permutex2var_ps(q0, split_hi, q1);
      const __m512 a23 = _mm512_permutex2var_ps(q2, split_lo, q3), b23 = _mm512_permutex2var_ps(q2, split_hi, q3);
      const __m512 c01 = _mm512_permutex2var_ps(s0, split_lo, s1), c23 = _mm512_permutex2var_ps(s2, split_lo, s3);
      const __m512 d[6] = {_mm512_permutex2var_ps(a01, join_lo, a23), _mm512_permutex2var_ps(a01, join_hi, a23),
                           _mm512_permutex2var_ps(b01, join_lo, b23), _mm512_permutex2var_ps(b01, join_hi, b23),
                           _mm512_permutex2var_ps(c01, join_lo, c23), _mm512_permutex2var_ps(c01, join_hi, c23)};
      InputTransform1d(d, h[r]);
    }
    float* dst = w.v + c * w.chan_stride;
    for (int b = 0; b < 6; ++b) {
      const __m512 col[6] = {h[0][b], h[1][b], h[2][b], h[3][b], h[4][b], h[5][b]};
      __m512 v[6];
      InputTransform1d(col, v);
      for (int a = 0; a < 6; ++a) StoreLanes(dst + (a * 6 + b) * w.comp_stride, store_mask, full, v[a]);
    }
  }
}

// The stores of vector q of output row y of the tiles (RowStores[y][q]): at plane + offset under `mask`, or plain
// when every lane is stored.
struct RunStore {
  __mmask16 mask;
  int64_t offset;
};
struct RowStores {
  RunStore store[kMaxPieces];
  int n = 0;
};

inline void StoreRun(const RowStores& s, float* plane, __m512 v) {
  for (int k = 0; k < s.n; ++k) StoreLanes(plane + s.store[k].offset, s.store[k].mask, s.store[k].mask == 0xFFFF, v);
}

inline __m512 Activate(__m512 v, int activation) {
  if (activation == 1) return _mm512_max_ps(v, _mm512_setzero_ps());
  if (activation == 2) return _mm512_min_ps(_mm512_set1_ps(6.f), _mm512_max_ps(_mm512_setzero_ps(), v));
  return v;
}

void OutputTransform(const WinogradOutput& w) {
  Segment seg[kLanes];
  const int ns = Segments(w.tile0, w.count, w.tiles_x, seg);
  RowStores stores[4][4];
  for (int k = 0; k < ns; ++k) {
    const int64_t xbase = 4 * (seg[k].tx0 - seg[k].lane0);  // flat position f lands in column xbase + f
    const int64_t lo = 4 * seg[k].lane0, hi = Min(4 * seg[k].lane1, w.out_w - xbase);
    for (int q = 0; q < 4; ++q) {
      const int64_t flo = Max(lo, 16 * q), fhi = Min(hi, 16 * q + 16);
      if (flo >= fhi) continue;
      for (int y = 0; y < 4 && 4 * seg[k].ty + y < w.out_h; ++y) {
        RowStores& st = stores[y][q];
        st.store[st.n++] = RunStore{Lanes(flo - 16 * q, fhi - 16 * q), (4 * seg[k].ty + y) * w.out_w + xbase + 16 * q};
      }
    }
  }
  const __mmask16 load_mask = LaneMask(w.count);
  const __m512i zip_lo = Index(kZipLo), zip_hi = Index(kZipHi), quad_lo = Index(kQuadLo), quad_hi = Index(kQuadHi);
  for (int64_t o = w.o0; o < w.o1; ++o) {
    const float* m = w.m + (o - w.o0) * w.row_stride;
    __m512 z[4][6];  // z = Aᵀ M
    for (int b = 0; b < 6; ++b) {
      __m512 col[6];
      for (int a = 0; a < 6; ++a) col[a] = _mm512_maskz_loadu_ps(load_mask, m + (a * 6 + b) * w.comp_stride);
      __m512 y[4];
      OutputTransform1d(col[0], col[1], col[2], col[3], col[4], col[5], y);
      for (int r = 0; r < 4; ++r) z[r][b] = y[r];
    }
    const __m512 bias = _mm512_set1_ps(w.bias[o]);
    float* plane = w.out + o * w.out_hw;
    for (int r = 0; r < 4; ++r) {
      // The bias joins column 1, whose Aᵀ column is all ones: it reaches each output once.
      __m512 y[4];
      OutputTransform1d(z[r][0], _mm512_add_ps(z[r][1], bias), z[r][2], z[r][3], z[r][4], z[r][5], y);
      for (int x = 0; x < 4; ++x) y[x] = Activate(y[x], w.activation);
      const __m512 p01 = _mm512_permutex2var_ps(y[0], zip_lo, y[1]), r01 = _mm512_permutex2var_ps(y[0], zip_hi, y[1]);
      const __m512 p23 = _mm512_permutex2var_ps(y[2], zip_lo, y[3]), r23 = _mm512_permutex2var_ps(y[2], zip_hi, y[3]);
      StoreRun(stores[r][0], plane, _mm512_permutex2var_ps(p01, quad_lo, p23));
      StoreRun(stores[r][1], plane, _mm512_permutex2var_ps(p01, quad_hi, p23));
      StoreRun(stores[r][2], plane, _mm512_permutex2var_ps(r01, quad_lo, r23));
      StoreRun(stores[r][3], plane, _mm512_permutex2var_ps(r01, quad_hi, r23));
    }
  }
}

}  // namespace

const Fp32WinogradTransforms& WinogradTransformsAvx512() {
  static const Fp32WinogradTransforms transforms{InputTransform, OutputTransform};
  return transforms;
}

}  // namespace qt
