#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/kernels/grid_runs.h"

namespace qt {

struct Conv2dParams;

// How the fast convolutions (ConvFp32, ConvInt8) see one group of a convolution as a GEMM
//   C[oc][j] = Σ_k W[oc][k] · B[k][j]
// without materialising im2col. Row k = (channel c, tap t) of B is a view of the channel's planes shifted by
// tap_offset[t]: B[k][j] = planes[c·plane + tap_offset[t] + j]. The GEMM's columns j form a grid of out_h rows of
// grid_w columns; column j is output (j / grid_w, j % grid_w) when j % grid_w < out_w, and is discarded otherwise.
//   kDirect  (1x1, stride 1, no padding): the planes are the input planes themselves, grid_w = out_w.
//   kShifted (any other window): each channel is padded (pads hold the input's zero) and, for strides above 1,
//            split into stride_h·stride_w phase planes of hq x wq, so that every tap reads a contiguous run; the
//            grid is out_h x wq, i.e. wq − out_w discarded columns per row.
//   kIm2col  (when the shifted grid would waste too much, e.g. a large kernel on a tiny output): the planes are
//            the im2col rows, one "channel" per (c, ky, kx), grid_w = out_w.
// The weights' natural order [oc][c][ky][kx] is the k order c·taps + t in every layout.
struct ConvPlan {
  enum class Layout { kDirect, kShifted, kIm2col };
  Layout layout = Layout::kDirect;
  int64_t channels = 0;   // channels of the planes per group (kIm2col: icg·kh·kw)
  int taps = 1;           // taps per channel (kShifted: kh·kw)
  std::vector<int64_t> tap_offset;
  int64_t plane = 0;      // elements per channel of the planes
  int64_t grid_w = 0, grid_n = 0;
  int64_t max_tap_offset = 0;
  int hq = 0, wq = 0;     // kShifted: size of one phase plane

  int64_t k() const { return channels * taps; }
  // Elements a buffer of packed planes needs so that a GEMM tile of `nr` columns never reads outside it, also in
  // the discarded columns past the grid's end.
  int64_t BufferSize(int64_t nr) const {
    const int64_t padded_n = (grid_n + nr - 1) / nr * nr;
    return std::max(channels * plane, (channels - 1) * plane + max_tap_offset + padded_n);
  }
};

// `nr` is the column tile of the GEMM kernel that will run the plan (it decides whether a shifted grid wastes
// too much). `shifted`: any window other than 1x1 takes kShifted, whatever it wastes (the int8 depthwise kernel,
// whose taps share loads in the shifted layout and which would otherwise run one im2col plane per tap).
ConvPlan PlanConv(const Conv2dParams& p, int64_t nr, bool shifted = false);

// Offsets of GEMM row k = c·taps + t into the planes: c·plane + tap_offset[t].
std::vector<int64_t> PlanRowOffsets(const ConvPlan& plan);

// Fills channels [c0, c1) of the planes of one group from the group's input channels `src` (NCHW planes of
// in_h x in_w). Pads take pad[c] for input channel c of the group (T{0} when pad is nullptr). Not for kDirect.
template <typename T>
void BuildPlanes(const Conv2dParams& p, const ConvPlan& plan, const T* src, const T* pad, int64_t c0, int64_t c1,
                 T* dst);

}  // namespace qt
