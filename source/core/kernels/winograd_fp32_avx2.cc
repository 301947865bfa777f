// AVX2+FMA Winograd F(4x4, 3x3) transforms (see conv_winograd.cc and gemm_fp32_isa.h): a group's tiles in two
// halves of 8, one tile per vector lane. Each tile's patch row is read as two chunks of 4 floats (its window's
// columns 0-3 and 4-7, of which the transform uses 4 and 5), each under its own lane mask, so that input outside the
// image reads as zero without a padded copy and a group may span tile rows. 4x4 transposes within the two 128-bit
// halves turn the chunks of 8 tiles into one vector per patch column, and the output rows back into chunks.
#include <immintrin.h>

#include "core/kernels/gemm_fp32_isa.h"

namespace qt {
namespace {

constexpr int kHalf = 8;  // tiles per vector
constexpr int kGroupTiles = 16;

// Lanes [lo, hi) of a 4-lane vector as a maskload/maskstore mask.
__m128i Lanes4(int64_t lo, int64_t hi) {
  const int l = lo < 0 ? 0 : lo > 4 ? 4 : static_cast<int>(lo);
  const int h = hi < 0 ? 0 : hi > 4 ? 4 : static_cast<int>(hi);
  const __m128i iota = _mm_setr_epi32(0, 1, 2, 3);
  return _mm_and_si128(_mm_cmpgt_epi32(iota, _mm_set1_epi32(l - 1)), _mm_cmpgt_epi32(_mm_set1_epi32(h), iota));
}

// Lanes [0, n) of an 8-lane vector.
__m256i Lanes8(int64_t n) {
  const int k = n < 0 ? 0 : n > 8 ? 8 : static_cast<int>(n);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Four floats at plane + offset under a mask (a chunk wholly outside has offset 0 and an empty mask).
struct Chunk {
  int64_t offset;
  __m128i mask;
  bool whole;  // all four lanes: a plain load or store (masked ones cost more on AMD's cores)
};

inline __m128 LoadChunk(const float* plane, const Chunk& c) {
  return c.whole ? _mm_loadu_ps(plane + c.offset) : _mm_maskload_ps(plane + c.offset, c.mask);
}

inline void StoreChunk(float* plane, const Chunk& c, __m128 v) {
  if (c.whole) {
    _mm_storeu_ps(plane + c.offset, v);
  } else {
    _mm_maskstore_ps(plane + c.offset, c.mask, v);
  }
}

// Per 128-bit half, the 4x4 transpose of rows a, b, c, d: o[s] holds element s of each row.
inline void Transpose4(__m256 a, __m256 b, __m256 c, __m256 d, __m256 o[4]) {
  const __m256 t0 = _mm256_unpacklo_ps(a, b), t1 = _mm256_unpackhi_ps(a, b);
  const __m256 t2 = _mm256_unpacklo_ps(c, d), t3 = _mm256_unpackhi_ps(c, d);
  o[0] = _mm256_shuffle_ps(t0, t2, 0x44);
  o[1] = _mm256_shuffle_ps(t0, t2, 0xEE);
  o[2] = _mm256_shuffle_ps(t1, t3, 0x44);
  o[3] = _mm256_shuffle_ps(t1, t3, 0xEE);
}

// Bᵀ on six vectors, factored as the AVX-512 transform factors it.
inline void InputTransform1d(const __m256 d[6], __m256 o[6]) {
  const __m256 four = _mm256_set1_ps(4.f), five = _mm256_set1_ps(5.f), two = _mm256_set1_ps(2.f);
  o[0] = _mm256_fmadd_ps(four, d[0], _mm256_fnmadd_ps(five, d[2], d[4]));
  o[1] = _mm256_fnmadd_ps(four, _mm256_add_ps(d[1], d[2]), _mm256_add_ps(d[3], d[4]));
  o[2] = _mm256_fmadd_ps(four, _mm256_sub_ps(d[1], d[2]), _mm256_sub_ps(d[4], d[3]));
  const __m256 s3 = _mm256_sub_ps(d[4], d[2]), t3 = _mm256_sub_ps(d[3], d[1]);
  o[3] = _mm256_fmadd_ps(two, t3, s3);
  o[4] = _mm256_fnmadd_ps(two, t3, s3);
  o[5] = _mm256_fmadd_ps(four, d[1], _mm256_fnmadd_ps(five, d[3], d[5]));
}

// Aᵀ on six vectors.
inline void OutputTransform1d(__m256 m0, __m256 m1, __m256 m2, __m256 m3, __m256 m4, __m256 m5, __m256 y[4]) {
  const __m256 t0 = _mm256_add_ps(m1, m2), t1 = _mm256_sub_ps(m1, m2);
  const __m256 t2 = _mm256_add_ps(m3, m4), t3 = _mm256_sub_ps(m3, m4);
  y[0] = _mm256_add_ps(_mm256_add_ps(m0, t0), t2);
  y[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.f), t3, t1);
  y[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.f), t2, t0);
  y[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.f), t3, t1), m5);
}

inline __m256 Activate(__m256 v, int activation) {
  if (activation == 1) return _mm256_max_ps(v, _mm256_setzero_ps());
  if (activation == 2) return _mm256_min_ps(_mm256_set1_ps(6.f), _mm256_max_ps(_mm256_setzero_ps(), v));
  return v;
}

// Tile i of the half (tiles tile0 + i) as its tile row and column; false past the group's count.
bool TilePosition(int64_t tile0, int count, int64_t tiles_x, int i, int64_t* ty, int64_t* tx) {
  if (i >= count) return false;
  *ty = (tile0 + i) / tiles_x;
  *tx = (tile0 + i) - *ty * tiles_x;
  return true;
}

void InputHalf(const WinogradInput& w, int base) {
  const int count = w.count - base < kHalf ? w.count - base : kHalf;
  // chunks[r][part][i]: patch row r of tile i, columns 4·part + [0, 4) of its window.
  Chunk chunks[6][2][kHalf];
  for (int i = 0; i < kHalf; ++i) {
    int64_t ty = 0, tx = 0;
    const bool tile = TilePosition(w.tile0 + base, count, w.tiles_x, i, &ty, &tx);
    for (int r = 0; r < 6; ++r) {
      const int64_t y = 4 * ty - w.pad_top + r;
      for (int part = 0; part < 2; ++part) {
        const int64_t x = 4 * tx - w.pad_left + 4 * part;
        Chunk& c = chunks[r][part][i];
        if (!tile || y < 0 || y >= w.in_h || x + 4 <= 0 || x >= w.in_w) {
          c = Chunk{0, _mm_setzero_si128(), false};
        } else {
          c = Chunk{y * w.in_w + x, Lanes4(-x, w.in_w - x), x >= 0 && x + 4 <= w.in_w};
        }
      }
    }
  }
  const __m256i store_mask = Lanes8(count);
  const bool full = count == kHalf;
  for (int64_t ch = w.c0; ch < w.c1; ++ch) {
    const float* plane = w.in + ch * w.in_hw;
    __m256 h[6][6];  // h[r][b] = (d B)[r][b]
    for (int r = 0; r < 6; ++r) {
      __m256 x[2][4];  // x[part][k]: tiles k (low half) and k + 4 (high half)
      for (int part = 0; part < 2; ++part) {
        for (int k = 0; k < 4; ++k) {
          const Chunk &lo = chunks[r][part][k], &hi = chunks[r][part][k + 4];
          x[part][k] = _mm256_set_m128(LoadChunk(plane, hi), LoadChunk(plane, lo));
        }
      }
      __m256 d[6], upper[4];
      Transpose4(x[0][0], x[0][1], x[0][2], x[0][3], d);
      Transpose4(x[1][0], x[1][1], x[1][2], x[1][3], upper);
      d[4] = upper[0];
      d[5] = upper[1];
      InputTransform1d(d, h[r]);
    }
    float* dst = w.v + ch * w.chan_stride + base;
    for (int b = 0; b < 6; ++b) {
      const __m256 col[6] = {h[0][b], h[1][b], h[2][b], h[3][b], h[4][b], h[5][b]};
      __m256 v[6];
      InputTransform1d(col, v);
      for (int a = 0; a < 6; ++a) {
        float* p = dst + (a * 6 + b) * w.comp_stride;
        if (full) {
          _mm256_storeu_ps(p, v[a]);
        } else {
          _mm256_maskstore_ps(p, store_mask, v[a]);
        }
      }
    }
  }
}

void InputTransform(const WinogradInput& w) {
  for (int base = 0; base < w.count && base < kGroupTiles; base += kHalf) InputHalf(w, base);
}

void OutputHalf(const WinogradOutput& w, int base) {
  const int count = w.count - base < kHalf ? w.count - base : kHalf;
  // stores[r][i]: output row r of tile i, its 4 columns clipped to the output (an empty mask outside).
  Chunk stores[4][kHalf];
  for (int i = 0; i < kHalf; ++i) {
    int64_t ty = 0, tx = 0;
    const bool tile = TilePosition(w.tile0 + base, count, w.tiles_x, i, &ty, &tx);
    for (int r = 0; r < 4; ++r) {
      const int64_t y = 4 * ty + r, x = 4 * tx;
      stores[r][i] = tile && y < w.out_h ? Chunk{y * w.out_w + x, Lanes4(0, w.out_w - x), x + 4 <= w.out_w}
                                         : Chunk{0, _mm_setzero_si128(), false};
    }
  }
  const __m256i load_mask = Lanes8(count);
  const bool full = count == kHalf;
  for (int64_t o = w.o0; o < w.o1; ++o) {
    const float* m = w.m + (o - w.o0) * w.row_stride + base;
    __m256 z[4][6];  // z = Aᵀ M
    for (int b = 0; b < 6; ++b) {
      __m256 col[6];
      for (int a = 0; a < 6; ++a) {
        const float* p = m + (a * 6 + b) * w.comp_stride;
        col[a] = full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, load_mask);
      }
      __m256 y[4];
      OutputTransform1d(col[0], col[1], col[2], col[3], col[4], col[5], y);
      for (int r = 0; r < 4; ++r) z[r][b] = y[r];
    }
    const __m256 bias = _mm256_set1_ps(w.bias[o]);
    float* plane = w.out + o * w.out_hw;
    for (int r = 0; r < 4; ++r) {
      // The bias joins column 1, whose Aᵀ column is all ones: it reaches each output once.
      __m256 y[4];
      OutputTransform1d(z[r][0], _mm256_add_ps(z[r][1], bias), z[r][2], z[r][3], z[r][4], z[r][5], y);
      for (int x = 0; x < 4; ++x) y[x] = Activate(y[x], w.activation);
      __m256 rows[4];  // rows[k]: tile k's 4 outputs (low half), tile k + 4's (high half)
      Transpose4(y[0], y[1], y[2], y[3], rows);
      for (int k = 0; k < 4; ++k) {
        const Chunk &lo = stores[r][k], &hi = stores[r][k + 4];
        StoreChunk(plane, lo, _mm256_castps256_ps128(rows[k]));
        StoreChunk(plane, hi, _mm256_extractf128_ps(rows[k], 1));
      }
    }
  }
}

void OutputTransform(const WinogradOutput& w) {
  for (int base = 0; base < w.count && base < kGroupTiles; base += kHalf) OutputHalf(w, base);
}

}  // namespace

const Fp32WinogradTransforms& WinogradTransformsAvx2() {
  static const Fp32WinogradTransforms transforms{InputTransform, OutputTransform};
  return transforms;
}

}  // namespace qt
