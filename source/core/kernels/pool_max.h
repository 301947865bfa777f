#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/base/parallel.h"
#include "core/kernels/kernels_fp32.h"

namespace qt {

// d[i] = max(v[2i], v[2i + 1], v[2i + 2]) for i < count. Each pair of elements is read as one twice-as-wide
// integer whose low half is the first element (x86 is little-endian), which vectorises where a stride-2 gather
// does not. int8 compares in 16-bit lanes on values biased by 0x80, where signed order is unsigned order.
inline void Max3Stride2(const int8_t* v, int8_t* d, int count) {
  const unsigned char* bytes = reinterpret_cast<const unsigned char*>(v);
  for (int i = 0; i < count; ++i) {
    uint16_t a, b;
    std::memcpy(&a, bytes + 2 * i, 2);
    std::memcpy(&b, bytes + 2 * i + 2, 2);
    const uint16_t x0 = (a & 0xFF) ^ 0x80, x1 = (a >> 8) ^ 0x80, x2 = (b & 0xFF) ^ 0x80;
    const uint16_t m = std::max(std::max(x0, x1), x2);
    d[i] = static_cast<int8_t>(static_cast<uint8_t>(m ^ 0x80));
  }
}
inline void Max3Stride2(const float* v, float* d, int count) {
  const unsigned char* bytes = reinterpret_cast<const unsigned char*>(v);
  for (int i = 0; i < count; ++i) {
    uint64_t a, b;
    std::memcpy(&a, bytes + 8 * i, 8);
    std::memcpy(&b, bytes + 8 * i + 8, 8);
    const uint32_t u0 = static_cast<uint32_t>(a), u1 = static_cast<uint32_t>(a >> 32), u2 = static_cast<uint32_t>(b);
    float x0, x1, x2;
    std::memcpy(&x0, &u0, 4);
    std::memcpy(&x1, &u1, 4);
    std::memcpy(&x2, &u2, 4);
    d[i] = std::max(std::max(x0, x1), x2);
  }
}

// Max pooling of one plane for the fast fp32 and int8 kernels. A window clipped to the input gives
// max(low, its values), an empty one `empty` (fp32: −FLT_MAX for both; TNN's int8: −127 and 0).
//
// Windows that lie entirely inside the input: per output row, a vertical max of the kernel's input rows over the
// columns the row reads (one contiguous pass), then the horizontal window at every stride-th column. For the
// common 3-wide stride-2 window, Max3Stride2. Windows on the border (padding, ceil mode) take the plain
// clipped loop. Max is exact, so the result is the reference's whatever the order.
//
// `row3s2`, when given, computes the inner windows of a 3x3 stride-2 pooling one output row at a time: from the
// window's top-left input element, the input row length, `low`, the output count, and the output row.
// `row2s2`, the same for a 2x2 stride-2 pooling (BlazeFace's).
template <typename T>
using MaxRow3s2 = void (*)(const T* src, int64_t in_w, T low, int64_t count, T* dst);
template <typename T>
using MaxRow2s2 = MaxRow3s2<T>;

template <typename T>
void MaxPoolPlane(const Pool2dParams& p, const T* src, T* dst, T low, T empty, std::vector<T>* buf,
                  MaxRow3s2<T> row3s2 = nullptr, MaxRow2s2<T> row2s2 = nullptr) {
  const int in_h = p.in_h, in_w = p.in_w, out_h = p.out_h, out_w = p.out_w;
  const int kh = p.kernel_h, kw = p.kernel_w, sh = p.stride_h, sw = p.stride_w, pt = p.pad_top, pl = p.pad_left;
  // Output rows/columns whose window is inside the input: oy·sh − pt >= 0 and oy·sh − pt + kh <= in_h.
  const int oy0 = std::min(out_h, (pt + sh - 1) / sh), ox0 = std::min(out_w, (pl + sw - 1) / sw);
  const int oy1 = std::max(oy0, std::min(out_h, in_h >= kh ? (in_h - kh + pt) / sh + 1 : 0));
  const int ox1 = std::max(ox0, std::min(out_w, in_w >= kw ? (in_w - kw + pl) / sw + 1 : 0));
  // A 3x3 stride-2 window on short rows (up to two 64-byte vectors, where per-row loops would run mostly in their
  // scalar remainders): whole-plane passes. V = the vertical max at every flat position; the window at (oy, ox)
  // starts at flat position 2(oy·w + ox) − c with c = pt·w + pl, so one pass of Max3Stride2 over V (shifted by c's
  // parity) gives every window, and each output row is a copy.
  const bool window3s2 = kh == 3 && kw == 3 && sh == 2 && sw == 2;
  const bool flat = window3s2 && in_w * static_cast<int>(sizeof(T)) <= 128;
  const bool window2s2 = kh == 2 && kw == 2 && sh == 2 && sw == 2;
  const MaxRow3s2<T> row = window3s2 ? row3s2 : window2s2 ? row2s2 : nullptr;
  if (row && oy1 > oy0 && ox1 > ox0) {
    for (int oy = oy0; oy < oy1; ++oy) {
      row(src + int64_t{oy * 2 - pt} * in_w + ox0 * 2 - pl, in_w, low, ox1 - ox0, dst + int64_t{oy} * out_w + ox0);
    }
  } else if (flat && oy1 > oy0 && ox1 > ox0) {
    const int64_t nv = int64_t{in_h - 2} * in_w;
    const int64_t c = int64_t{pt} * in_w + pl, parity = c & 1;
    const int64_t np = (nv - parity - 1) / 2;
    // The pair reads end one element past v: a gap keeps them clear of `pairs`, or the compiler's run-time
    // overlap check sends Max3Stride2 to its scalar loop.
    buf->resize(static_cast<size_t>(nv + 64 + np));
    T* v = buf->data();
    T* pairs = v + nv + 64;
    const T* r1 = src + in_w;
    const T* r2 = r1 + in_w;
    for (int64_t i = 0; i < nv; ++i) v[i] = std::max(std::max(std::max(src[i], r1[i]), r2[i]), low);
    Max3Stride2(v + parity, pairs, static_cast<int>(np));
    for (int oy = oy0; oy < oy1; ++oy) {
      const int64_t j = int64_t{oy} * in_w + ox0 - (c + parity) / 2;
      std::copy(pairs + j, pairs + j + (ox1 - ox0), dst + int64_t{oy} * out_w + ox0);
    }
  } else if (oy1 > oy0 && ox1 > ox0) {
    const int xa = ox0 * sw - pl, xb = (ox1 - 1) * sw - pl + kw;  // input columns the row's windows read
    const int count = ox1 - ox0;
    buf->resize(static_cast<size_t>(xb - xa + 2));
    T* v = buf->data();
    for (int oy = oy0; oy < oy1; ++oy) {
      const T* r = src + int64_t{oy * sh - pt} * in_w + xa;
      const int len = xb - xa;
      if (kh == 3) {
        const T* r1 = r + in_w;
        const T* r2 = r1 + in_w;
        for (int x = 0; x < len; ++x) v[x] = std::max(std::max(std::max(r[x], r1[x]), r2[x]), low);
      } else {
        for (int x = 0; x < len; ++x) v[x] = std::max(r[x], low);
        for (int ky = 1; ky < kh; ++ky) {
          const T* s = r + int64_t{ky} * in_w;
          for (int x = 0; x < len; ++x) v[x] = std::max(v[x], s[x]);
        }
      }
      T* d = dst + int64_t{oy} * out_w + ox0;
      if (kw == 3 && sw == 2) {
        Max3Stride2(v, d, count);
      } else {
        for (int i = 0; i < count; ++i) {
          const T* w = v + i * sw;
          T m = w[0];
          for (int kx = 1; kx < kw; ++kx) m = std::max(m, w[kx]);
          d[i] = m;
        }
      }
    }
  }
  for (int oy = 0; oy < out_h; ++oy) {
    const bool inner_row = oy >= oy0 && oy < oy1;
    for (int ox = 0; ox < out_w; ++ox) {
      if (inner_row && ox >= ox0 && ox < ox1) {
        ox = ox1 - 1;
        continue;
      }
      const int hs = std::max(oy * sh - pt, 0), he = std::min(oy * sh - pt + kh, in_h);
      const int ws = std::max(ox * sw - pl, 0), we = std::min(ox * sw - pl + kw, in_w);
      T m = low;
      for (int y = hs; y < he; ++y) {
        for (int x = ws; x < we; ++x) m = std::max(m, src[int64_t{y} * in_w + x]);
      }
      dst[int64_t{oy} * out_w + ox] = hs < he && ws < we ? m : empty;
    }
  }
}

// Pooling of independent planes in parallel: max pooling through MaxPoolPlane (from `low`; `empty` for a window
// clipped away entirely), anything else plane by plane through the reference `ref`, whose summation order is kept.
template <typename T, typename Ref>
void PoolPlanes(const Pool2dParams& p, const T* in, T* out, T low, T empty, Ref ref, MaxRow3s2<T> row3s2 = nullptr,
                MaxRow2s2<T> row2s2 = nullptr) {
  ParallelFor(int64_t{p.batch} * p.channels, [&](int64_t b, int64_t e) {
    Pool2dParams sub = p;
    sub.batch = 1;
    sub.channels = 1;
    thread_local std::vector<T> buf;
    for (int64_t pl = b; pl < e; ++pl) {
      const T* src = in + pl * p.in_h * p.in_w;
      T* dst = out + pl * p.out_h * p.out_w;
      if (p.type == PoolType::kMax) {
        MaxPoolPlane<T>(p, src, dst, low, empty, &buf, row3s2, row2s2);
      } else {
        ref(sub, src, dst);
      }
    }
  });
}

}  // namespace qt
