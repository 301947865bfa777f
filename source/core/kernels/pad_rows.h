#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/base/parallel.h"
#include "core/kernels/kernels_fp32.h"

namespace qt {

// The body of PadFp32 and PadInt8 (NCHW, any element type): each output row is a copy of its source row's middle
// plus the border columns, mapped once for all rows; `map` turns a source value into the output's (the identity in
// float, a requantization table in int8) and `fill` is the constant in the output's type.
template <typename T, typename Map>
void PadRows(const T* in, const Dims& d, const PadParams4d& p, T fill, const Map& map, T* out) {
  const int n = d[0], c = d[1], h = d[2], w = d[3];
  const int oc = c + p.pad_c_begin + p.pad_c_end, oh = h + p.pad_top + p.pad_bottom, ow = w + p.pad_left + p.pad_right;
  // Source index of an output index along one axis, -1 where the constant goes.
  auto source = [&](int i, int size) {
    if (i >= 0 && i < size) return i;
    if (p.mode == PadMode::kConstant) return -1;
    if (p.mode == PadMode::kEdge) return std::min(std::max(i, 0), size - 1);
    if (size == 1) return 0;
    const int period = 2 * (size - 1);
    const int r = ((i % period) + period) % period;
    return r < size ? r : period - r;
  };
  std::vector<int> border_x;
  for (int x = 0; x < p.pad_left; ++x) border_x.push_back(source(x - p.pad_left, w));
  for (int x = p.pad_left + w; x < ow; ++x) border_x.push_back(source(x - p.pad_left, w));
  ParallelFor(int64_t{n} * oc, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const int b = static_cast<int>(plane / oc), z = static_cast<int>(plane % oc);
      T* dst_plane = out + plane * oh * ow;
      const int sc = source(z - p.pad_c_begin, c);
      for (int y = 0; y < oh; ++y) {
        T* dst = dst_plane + int64_t{y} * ow;
        const int sy = source(y - p.pad_top, h);
        if (sc < 0 || sy < 0) {
          std::fill(dst, dst + ow, fill);
          continue;
        }
        const T* src = in + ((int64_t{b} * c + sc) * h + sy) * w;
        std::transform(src, src + w, dst + p.pad_left, map);
        for (int x = 0; x < p.pad_left; ++x) dst[x] = border_x[x] < 0 ? fill : map(src[border_x[x]]);
        for (int x = p.pad_left + w, k = p.pad_left; x < ow; ++x, ++k) {
          dst[x] = border_x[k] < 0 ? fill : map(src[border_x[k]]);
        }
      }
    }
  });
}

}  // namespace qt
