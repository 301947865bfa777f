#include "core/kernels/conv_plan.h"
#include "core/kernels/kernel_util.h"

#include <type_traits>

#include "core/kernels/kernels_fp32.h"

namespace qt {
namespace {


}  // namespace

ConvPlan PlanConv(const Conv2dParams& p, int64_t nr, bool shifted) {
  ConvPlan plan;
  const int icg = p.in_c / p.group;
  const bool one_by_one = p.kernel_h == 1 && p.kernel_w == 1;
  if (one_by_one && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 && p.pad_left == 0 && p.out_h == p.in_h &&
      p.out_w == p.in_w) {
    plan.layout = ConvPlan::Layout::kDirect;
    plan.channels = icg;
    plan.tap_offset = {0};
    plan.plane = int64_t{p.in_h} * p.in_w;
    plan.grid_w = p.out_w;
    plan.grid_n = plan.plane;
    return plan;
  }
  const int row_span = (p.kernel_h - 1) * p.dilation_h / p.stride_h;
  const int col_span = (p.kernel_w - 1) * p.dilation_w / p.stride_w;
  const int64_t out_hw = int64_t{p.out_h} * p.out_w;
  const int64_t shifted_cols = RoundUp(int64_t{p.out_h} * (p.out_w + col_span), nr);
  // A strided 1x1 reads one phase in s²: subsampling it (im2col of a 1x1) is cheaper than building every phase.
  // Otherwise the shifted grid wins unless its discarded columns add more than a fifth of the GEMM's work.
  if (!one_by_one && (shifted || shifted_cols * 5 <= RoundUp(out_hw, nr) * 6)) {
    plan.layout = ConvPlan::Layout::kShifted;
    plan.channels = icg;
    plan.taps = p.kernel_h * p.kernel_w;
    plan.hq = p.out_h + row_span;
    plan.wq = p.out_w + col_span;
    const int64_t phase = int64_t{plan.hq} * plan.wq;
    plan.plane = phase * p.stride_h * p.stride_w;
    plan.grid_w = plan.wq;
    plan.grid_n = int64_t{p.out_h} * plan.wq;
    for (int ky = 0; ky < p.kernel_h; ++ky) {
      for (int kx = 0; kx < p.kernel_w; ++kx) {
        const int dy = ky * p.dilation_h, dx = kx * p.dilation_w;
        const int64_t phase_index = (dy % p.stride_h) * p.stride_w + dx % p.stride_w;
        const int64_t off = phase_index * phase + int64_t{dy / p.stride_h} * plan.wq + dx / p.stride_w;
        plan.tap_offset.push_back(off);
        plan.max_tap_offset = std::max(plan.max_tap_offset, off);
      }
    }
    return plan;
  }
  plan.layout = ConvPlan::Layout::kIm2col;
  plan.channels = int64_t{icg} * p.kernel_h * p.kernel_w;
  plan.tap_offset = {0};
  plan.plane = out_hw;
  plan.grid_w = p.out_w;
  plan.grid_n = out_hw;
  return plan;
}

std::vector<int64_t> PlanRowOffsets(const ConvPlan& plan) {
  std::vector<int64_t> off(static_cast<size_t>(plan.k()));
  for (int64_t c = 0; c < plan.channels; ++c) {
    for (int t = 0; t < plan.taps; ++t) off[c * plan.taps + t] = c * plan.plane + plan.tap_offset[t];
  }
  return off;
}

// dst[i] = src[2i] for i < count, each pair of elements read as one twice-as-wide integer whose low half is the
// first element (x86 is little-endian): this vectorises where a stride-2 gather does not.
template <typename T>
void PickStride2(const T* src, T* dst, int count) {
  using Pair = std::conditional_t<sizeof(T) == 1, uint16_t, uint64_t>;
  using Half = std::conditional_t<sizeof(T) == 1, uint8_t, uint32_t>;
  static_assert(sizeof(Half) == sizeof(T), "int8 or float");
  const unsigned char* in = reinterpret_cast<const unsigned char*>(src);
  unsigned char* out = reinterpret_cast<unsigned char*>(dst);
  // The last element is copied on its own: its pair would read one element past the row.
  for (int i = 0; i + 1 < count; ++i) {
    Pair pair;
    std::memcpy(&pair, in + i * sizeof(Pair), sizeof(Pair));
    const Half half = static_cast<Half>(pair);
    std::memcpy(out + i * sizeof(Half), &half, sizeof(Half));
  }
  if (count > 0) dst[count - 1] = src[2 * (count - 1)];
}

template <typename T>
void BuildPlanes(const Conv2dParams& p, const ConvPlan& plan, const T* src, const T* pad, int64_t c0, int64_t c1,
                 T* dst) {
  const int64_t in_plane = int64_t{p.in_h} * p.in_w;
  if (plan.layout == ConvPlan::Layout::kIm2col) {
    const int kernel = p.kernel_h * p.kernel_w;
    for (int64_t v = c0; v < c1; ++v) {
      const int64_t c = v / kernel;
      const int ky = static_cast<int>(v % kernel) / p.kernel_w, kx = static_cast<int>(v % kernel) % p.kernel_w;
      const T pv = pad ? pad[c] : T{0};
      const T* s = src + c * in_plane;
      T* d = dst + v * plan.plane;
      for (int oy = 0; oy < p.out_h; ++oy) {
        const int iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
        T* row = d + int64_t{oy} * p.out_w;
        if (iy < 0 || iy >= p.in_h) {
          std::fill(row, row + p.out_w, pv);
          continue;
        }
        const T* srow = s + int64_t{iy} * p.in_w;
        for (int ox = 0; ox < p.out_w; ++ox) {
          const int ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
          row[ox] = (ix >= 0 && ix < p.in_w) ? srow[ix] : pv;
        }
      }
    }
    return;
  }
  const int64_t phase = int64_t{plan.hq} * plan.wq;
  for (int64_t c = c0; c < c1; ++c) {
    const T pv = pad ? pad[c] : T{0};
    const T* s = src + c * in_plane;
    for (int py = 0; py < p.stride_h; ++py) {
      for (int px = 0; px < p.stride_w; ++px) {
        T* ph = dst + c * plan.plane + (py * p.stride_w + px) * phase;
        for (int y = 0; y < plan.hq; ++y) {
          const int iy = y * p.stride_h + py - p.pad_top;
          T* row = ph + int64_t{y} * plan.wq;
          if (iy < 0 || iy >= p.in_h) {
            std::fill(row, row + plan.wq, pv);
            continue;
          }
          const T* srow = s + int64_t{iy} * p.in_w;
          if (p.stride_w == 1) {
            // Columns x take input column x − pad_left: a left pad, a copied run, a right pad.
            const int left = std::min(p.pad_left, plan.wq);
            const int copy_end = std::min(plan.wq, p.pad_left + p.in_w);
            const int first = std::max(left, 0);
            std::fill(row, row + first, pv);
            if (copy_end > first) std::memcpy(row + first, srow + (first - p.pad_left), sizeof(T) * (copy_end - first));
            std::fill(row + std::max(copy_end, first), row + plan.wq, pv);
          } else {
            // Columns x take input column x·stride + px − pad_left: pads on both sides, a strided run between.
            const int sw = p.stride_w, shift = px - p.pad_left;
            const int x0 = std::min(plan.wq, (sw - 1 - shift) / sw);  // shift < sw: a non-negative numerator
            const int last = p.in_w - 1 - shift;
            const int x1 = last < 0 ? x0 : std::max(x0, std::min(plan.wq, last / sw + 1));
            std::fill(row, row + x0, pv);
            std::fill(row + x1, row + plan.wq, pv);
            const T* s = srow + x0 * sw + shift;
            if (sw == 2) {
              PickStride2(s, row + x0, x1 - x0);
            } else {
              for (int x = 0; x < x1 - x0; ++x) row[x0 + x] = s[x * sw];
            }
          }
        }
      }
    }
  }
}

template void BuildPlanes<float>(const Conv2dParams&, const ConvPlan&, const float*, const float*, int64_t, int64_t,
                                 float*);
template void BuildPlanes<int8_t>(const Conv2dParams&, const ConvPlan&, const int8_t*, const int8_t*, int64_t,
                                  int64_t, int8_t*);

void TileRuns(int64_t grid_w, int64_t out_w, int64_t grid_n, int64_t j0, int64_t count, GridRuns* runs) {
  runs->n = 0;
  const int64_t end = std::min(j0 + count, grid_n);
  if (grid_w == out_w) {
    if (end > j0) {
      runs->first[0] = j0;
      runs->len[0] = end - j0;
      runs->out[0] = j0;
      runs->n = 1;
    }
    return;
  }
  int64_t j = j0;
  while (j < end) {
    const int64_t oy = j / grid_w, ox = j - oy * grid_w;
    if (ox < out_w) {
      const int64_t e = std::min(end, oy * grid_w + out_w);
      runs->first[runs->n] = j;
      runs->len[runs->n] = e - j;
      runs->out[runs->n] = oy * out_w + ox;
      ++runs->n;
    }
    j = (oy + 1) * grid_w;
  }
}

}  // namespace qt
