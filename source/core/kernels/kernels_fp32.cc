#include "core/kernels/kernels_fp32.h"
#include "core/kernels/kernel_util.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/base/parallel.h"
#include "core/kernels/gemm_fp32_isa.h"
#include "core/kernels/pool_max.h"

namespace qt {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapConst = Eigen::Map<const RowMatrix>;

}  // namespace

void Conv2dFp32Ref(const Conv2dParams& p, const float* in, const float* w, const float* bias, float* out) {
  const int icg = p.in_c / p.group, ocg = p.out_c / p.group;
  for (int n = 0; n < p.batch; ++n) {
    for (int oc = 0; oc < p.out_c; ++oc) {
      const int g = oc / ocg;
      for (int oy = 0; oy < p.out_h; ++oy) {
        for (int ox = 0; ox < p.out_w; ++ox) {
          double acc = bias ? bias[oc] : 0.0;
          for (int ic = 0; ic < icg; ++ic) {
            for (int ky = 0; ky < p.kernel_h; ++ky) {
              const int iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
              if (iy < 0 || iy >= p.in_h) continue;
              for (int kx = 0; kx < p.kernel_w; ++kx) {
                const int ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
                if (ix < 0 || ix >= p.in_w) continue;
                acc += double{in[((int64_t{n} * p.in_c + g * icg + ic) * p.in_h + iy) * p.in_w + ix]} *
                       w[((int64_t{oc} * icg + ic) * p.kernel_h + ky) * p.kernel_w + kx];
              }
            }
          }
          out[((int64_t{n} * p.out_c + oc) * p.out_h + oy) * p.out_w + ox] =
              Activate(static_cast<float>(acc), p.activation);
        }
      }
    }
  }
}

void Pool2dFp32Ref(const Pool2dParams& p, const float* in, float* out) {
  for (int64_t pl = 0; pl < int64_t{p.batch} * p.channels; ++pl) {
    const float* src = in + pl * p.in_h * p.in_w;
    float* dst = out + pl * p.out_h * p.out_w;
    for (int oy = 0; oy < p.out_h; ++oy) {
      for (int ox = 0; ox < p.out_w; ++ox) {
        int hs = oy * p.stride_h - p.pad_top, ws = ox * p.stride_w - p.pad_left;
        int he = std::min(hs + p.kernel_h, p.in_h + p.pad_bottom);
        int we = std::min(ws + p.kernel_w, p.in_w + p.pad_right);
        const int padded_size = (he - hs) * (we - ws);
        hs = std::max(hs, 0);
        ws = std::max(ws, 0);
        he = std::min(he, p.in_h);
        we = std::min(we, p.in_w);
        if (p.type == PoolType::kMax) {
          float m = -std::numeric_limits<float>::max();
          for (int y = hs; y < he; ++y)
            for (int x = ws; x < we; ++x) m = std::max(m, src[y * p.in_w + x]);
          dst[oy * p.out_w + ox] = m;
        } else {
          float s = 0.f;
          for (int y = hs; y < he; ++y)
            for (int x = ws; x < we; ++x) s += src[y * p.in_w + x];
          const int div = p.count_include_pad ? padded_size : (he - hs) * (we - ws);
          dst[oy * p.out_w + ox] = div > 0 ? s / static_cast<float>(div) : 0.f;
        }
      }
    }
  }
}

bool IsGlobalAverage(const Pool2dParams& p) {
  return p.type == PoolType::kAvg && p.out_h == 1 && p.out_w == 1 && p.kernel_h == p.in_h && p.kernel_w == p.in_w &&
         p.pad_top == 0 && p.pad_left == 0 && p.pad_bottom == 0 && p.pad_right == 0;
}

namespace {

// Global average pooling: each plane summed in the reference's order, 16 planes side by side so that the
// independent sums vectorise. Bit-identical with the reference, which sums one plane at a time in one dependency
// chain.
void GlobalAverage(const float* in, int64_t planes, int64_t hw, float* out) {
  constexpr int kLanes = 16;
  const float divisor = static_cast<float>(hw);
  ParallelFor((planes + kLanes - 1) / kLanes, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t first = b * kLanes;
      if (first + kLanes <= planes) {
        float sum[kLanes] = {};
        const float* src = in + first * hw;
        for (int64_t i = 0; i < hw; ++i) {
          for (int c = 0; c < kLanes; ++c) sum[c] += src[c * hw + i];
        }
        for (int c = 0; c < kLanes; ++c) out[first + c] = sum[c] / divisor;
        continue;
      }
      for (int64_t pl = first; pl < planes; ++pl) {
        float sum = 0.f;
        for (int64_t i = 0; i < hw; ++i) sum += in[pl * hw + i];
        out[pl] = sum / divisor;
      }
    }
  });
}

}  // namespace

void Pool2dFp32(const Pool2dParams& p, const float* in, float* out) {
  if (IsGlobalAverage(p)) {
    GlobalAverage(in, int64_t{p.batch} * p.channels, int64_t{p.in_h} * p.in_w, out);
    return;
  }
  // Max starts from the reference's −FLT_MAX, which an empty window keeps.
  constexpr float kLow = -std::numeric_limits<float>::max();
  MaxRow3s2<float> row3s2 = nullptr;
  MaxRow2s2<float> row2s2 = nullptr;
#if QT_X86_KERNELS
  if (BestFp32Isa() == Fp32Isa::kAvx512) {
    row3s2 = MaxPool3x3s2RowAvx512;
    row2s2 = MaxPool2x2s2RowAvx512;
  }
#endif
  PoolPlanes<float>(p, in, out, kLow, kLow, Pool2dFp32Ref, row3s2, row2s2);
}

void InnerProductFp32Ref(const InnerProductParams2& p, const float* in, const float* w, const float* bias,
                         float* out) {
  for (int m = 0; m < p.m; ++m) {
    for (int n = 0; n < p.n; ++n) {
      double acc = bias ? bias[n] : 0.0;
      for (int k = 0; k < p.k; ++k) acc += double{in[int64_t{m} * p.k + k]} * w[int64_t{n} * p.k + k];
      out[int64_t{m} * p.n + n] = static_cast<float>(acc);
    }
  }
}

void InnerProductFp32(const InnerProductParams2& p, const float* in, const float* w, const float* bias, float* out) {
  // Fixed 16-output units, one GEMM call each, for thread-count-independent results (see Conv2dFp32).
  ParallelFor((p.n + 15) / 16, [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      const int64_t n0 = u * 16, n1 = std::min<int64_t>(n0 + 16, p.n);
      Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>> o(out + n0, p.m, n1 - n0, Eigen::OuterStride<>(p.n));
      o.noalias() = MapConst(in, p.m, p.k) * MapConst(w + n0 * p.k, n1 - n0, p.k).transpose();
      if (bias) {
        for (int m = 0; m < p.m; ++m)
          for (int64_t n = n0; n < n1; ++n) out[int64_t{m} * p.n + n] += bias[n];
      }
    }
  });
}

void ReluFp32(const float* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] > 0.f ? in[i] : 0.f;
}
void ClipFp32(const float* in, float* out, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::min(std::max(in[i], lo), hi);
}
void SigmoidFp32(const float* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = 1.f / (1.f + std::exp(-in[i]));
}
void TanhFp32(const float* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(in[i]);
}
void HardSwishFp32(const float* in, float* out, int64_t n, float alpha, float beta) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] * std::min(std::max(alpha * in[i] + beta, 0.f), 1.f);
}
void HardSigmoidFp32(const float* in, float* out, int64_t n, float alpha, float beta) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::min(std::max(alpha * in[i] + beta, 0.f), 1.f);
}
void PReluFp32(const float* in, float* out, int batch, int channels, int64_t spatial, const float* slopes,
               bool shared) {
  for (int n = 0; n < batch; ++n) {
    for (int c = 0; c < channels; ++c) {
      const float s = shared ? slopes[0] : slopes[c];
      const int64_t off = (int64_t{n} * channels + c) * spatial;
      for (int64_t i = 0; i < spatial; ++i) out[off + i] = in[off + i] > 0.f ? in[off + i] : in[off + i] * s;
    }
  }
}
void ChannelAffineFp32(const float* in, float* out, int batch, int channels, int64_t spatial, const float* scale,
                       const float* bias) {
  for (int n = 0; n < batch; ++n) {
    for (int c = 0; c < channels; ++c) {
      const int64_t off = (int64_t{n} * channels + c) * spatial;
      const float b = bias ? bias[c] : 0.f;
      for (int64_t i = 0; i < spatial; ++i) out[off + i] = in[off + i] * scale[c] + b;
    }
  }
}

void MatMulFp32(const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, float* out,
                const Dims& out_dims) {
  const size_t rank = out_dims.size();
  const int m = a_dims[a_dims.size() - 2], k = a_dims.back(), n = b_dims.back();
  const size_t batch_rank = rank - 2;
  // Matrix strides of a and b along the output's batch axes (0 where broadcast or absent).
  std::vector<int64_t> sa(batch_rank, 0), sb(batch_rank, 0);
  int64_t st_a = int64_t{m} * k, st_b = int64_t{k} * n;
  for (size_t i = 0; i < batch_rank; ++i) {
    const size_t o = batch_rank - 1 - i;
    if (i + 2 < a_dims.size()) {
      const int d = a_dims[a_dims.size() - 3 - i];
      sa[o] = d == 1 ? 0 : st_a;
      st_a *= d;
    }
    if (i + 2 < b_dims.size()) {
      const int d = b_dims[b_dims.size() - 3 - i];
      sb[o] = d == 1 ? 0 : st_b;
      st_b *= d;
    }
  }
  const int64_t batches = DimsCount(Dims(out_dims.begin(), out_dims.begin() + batch_rank));
  std::vector<int> idx(batch_rank, 0);
  int64_t oa = 0, ob = 0;
  for (int64_t bi = 0; bi < batches; ++bi) {
    const float* pa = a + oa;
    const float* pb = b + ob;
    float* po = out + bi * m * n;
    for (int i = 0; i < m; ++i) {
      float* row = po + int64_t{i} * n;
      std::fill(row, row + n, 0.f);
      for (int kk = 0; kk < k; ++kk) {
        const float av = pa[int64_t{i} * k + kk];
        const float* brow = pb + int64_t{kk} * n;
        for (int j = 0; j < n; ++j) row[j] += av * brow[j];
      }
    }
    for (int d = static_cast<int>(batch_rank) - 1; d >= 0; --d) {
      oa += sa[d];
      ob += sb[d];
      if (++idx[d] < out_dims[d]) break;
      oa -= sa[d] * out_dims[d];
      ob -= sb[d] * out_dims[d];
      idx[d] = 0;
    }
  }
}

namespace {

// Strides of a and b aligned to an output of `rank` dims (0 along broadcast axes).
void BroadcastStrides(const Dims& a_dims, const Dims& b_dims, size_t rank, std::vector<int64_t>* sa,
                      std::vector<int64_t>* sb) {
  sa->assign(rank, 0);
  sb->assign(rank, 0);
  int64_t st_a = 1, st_b = 1;
  for (size_t i = 0; i < rank; ++i) {
    const size_t o = rank - 1 - i;
    if (i < a_dims.size()) {
      const int d = a_dims[a_dims.size() - 1 - i];
      (*sa)[o] = d == 1 ? 0 : st_a;
      st_a *= d;
    }
    if (i < b_dims.size()) {
      const int d = b_dims[b_dims.size() - 1 - i];
      (*sb)[o] = d == 1 ? 0 : st_b;
      st_b *= d;
    }
  }
}

}  // namespace

void BinaryFp32Ref(BinaryOp op, const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, float* out,
                const Dims& out_dims) {
  const size_t rank = out_dims.size();
  std::vector<int64_t> sa, sb;
  BroadcastStrides(a_dims, b_dims, rank, &sa, &sb);
  const int64_t total = DimsCount(out_dims);
  std::vector<int> idx(rank, 0);
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < total; ++i) {
    const float x = a[ia], y = b[ib];
    switch (op) {
      case BinaryOp::kAdd: out[i] = x + y; break;
      case BinaryOp::kSub: out[i] = x - y; break;
      case BinaryOp::kMul: out[i] = x * y; break;
      case BinaryOp::kDiv: out[i] = x / y; break;
      case BinaryOp::kMax: out[i] = std::max(x, y); break;
    }
    for (int d = static_cast<int>(rank) - 1; d >= 0; --d) {
      ia += sa[d];
      ib += sb[d];
      if (++idx[d] < out_dims[d]) break;
      ia -= sa[d] * out_dims[d];
      ib -= sb[d] * out_dims[d];
      idx[d] = 0;
    }
  }
}

namespace {

// out[i] = op(a[i·sa], b[i·sb]) for i < n, sa and sb 0 or 1: the loops vectorise, with the same operation per
// element as BinaryFp32Ref.
template <typename Op>
void BinaryRun(Op op, const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i], b[i]);
  } else if (sa == 1) {
    const float y = b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i], y);
  } else if (sb == 1) {
    const float x = a[0];
    for (int64_t i = 0; i < n; ++i) out[i] = op(x, b[i]);
  } else {
    const float v = op(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

template <typename Op>
void BinaryRuns(Op op, const float* a, const std::vector<int64_t>& sa, const float* b, const std::vector<int64_t>& sb,
                float* out, const Dims& out_dims) {
  const size_t rank = out_dims.size();
  const int64_t inner = rank == 0 ? 1 : out_dims[rank - 1];
  const int64_t ia_inner = rank == 0 ? 0 : sa[rank - 1], ib_inner = rank == 0 ? 0 : sb[rank - 1];
  const int64_t total = DimsCount(out_dims);
  if (inner == 0 || total == 0) return;
  std::vector<int> idx(rank, 0);
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < total; i += inner) {
    BinaryRun(op, a + ia, ia_inner, b + ib, ib_inner, out + i, inner);
    for (int d = static_cast<int>(rank) - 2; d >= 0; --d) {
      ia += sa[d];
      ib += sb[d];
      if (++idx[d] < out_dims[d]) break;
      ia -= sa[d] * out_dims[d];
      ib -= sb[d] * out_dims[d];
      idx[d] = 0;
    }
  }
}

}  // namespace

// The reference's element loop, one innermost row at a time.
void BinaryFp32(BinaryOp op, const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, float* out,
                const Dims& out_dims) {
  // Same-shape operands (the residual Adds) are one run.
  if (a_dims == b_dims && a_dims == out_dims && out_dims.size() > 1) {
    const Dims flat{static_cast<int>(DimsCount(out_dims))};
    BinaryFp32(op, a, flat, b, flat, out, flat);
    return;
  }
  const size_t rank = out_dims.size();
  std::vector<int64_t> sa, sb;
  BroadcastStrides(a_dims, b_dims, rank, &sa, &sb);
  switch (op) {
    case BinaryOp::kAdd: BinaryRuns([](float x, float y) { return x + y; }, a, sa, b, sb, out, out_dims); break;
    case BinaryOp::kSub: BinaryRuns([](float x, float y) { return x - y; }, a, sa, b, sb, out, out_dims); break;
    case BinaryOp::kMul: BinaryRuns([](float x, float y) { return x * y; }, a, sa, b, sb, out, out_dims); break;
    case BinaryOp::kDiv: BinaryRuns([](float x, float y) { return x / y; }, a, sa, b, sb, out, out_dims); break;
    case BinaryOp::kMax:
      BinaryRuns([](float x, float y) { return std::max(x, y); }, a, sa, b, sb, out, out_dims);
      break;
  }
}

void ConcatFp32(const std::vector<const float*>& ins, const std::vector<Dims>& in_dims, int axis, float* out) {
  const int64_t outer = DimsCount(Dims(in_dims[0].begin(), in_dims[0].begin() + axis));
  int64_t out_inner = 0;
  for (const auto& d : in_dims) out_inner += DimsCount(d, axis);
  int64_t offset = 0;
  for (size_t k = 0; k < ins.size(); ++k) {
    const int64_t inner = DimsCount(in_dims[k], axis);
    for (int64_t o = 0; o < outer; ++o) {
      std::memcpy(out + o * out_inner + offset, ins[k] + o * inner, inner * sizeof(float));
    }
    offset += inner;
  }
}

void SplitFp32(const float* in, const Dims& in_dims, int axis, const std::vector<float*>& outs,
               const std::vector<int>& slices) {
  const int64_t outer = DimsCount(Dims(in_dims.begin(), in_dims.begin() + axis));
  const int64_t unit = DimsCount(in_dims, axis + 1);
  const int64_t in_inner = DimsCount(in_dims, axis);
  int64_t offset = 0;
  for (size_t k = 0; k < outs.size(); ++k) {
    const int64_t inner = slices[k] * unit;
    for (int64_t o = 0; o < outer; ++o) std::memcpy(outs[k] + o * inner, in + o * in_inner + offset, inner * sizeof(float));
    offset += inner;
  }
}

void SoftmaxFp32(const float* in, float* out, const Dims& dims, int axis) {
  const int64_t outer = DimsCount(Dims(dims.begin(), dims.begin() + axis));
  const int64_t n = dims[axis];
  const int64_t inner = DimsCount(dims, axis + 1);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const float* x = in + o * n * inner + i;
      float* y = out + o * n * inner + i;
      float m = x[0];
      for (int64_t c = 1; c < n; ++c) m = std::max(m, x[c * inner]);
      float s = 0.f;
      for (int64_t c = 0; c < n; ++c) {
        y[c * inner] = std::exp(x[c * inner] - m);
        s += y[c * inner];
      }
      for (int64_t c = 0; c < n; ++c) y[c * inner] /= s;
    }
  }
}

void PermuteFp32(const float* in, const Dims& in_dims, const std::vector<int>& order, float* out) {
  const size_t rank = in_dims.size();
  std::vector<int64_t> in_stride(rank, 1);
  for (int i = static_cast<int>(rank) - 2; i >= 0; --i) in_stride[i] = in_stride[i + 1] * in_dims[i + 1];
  Dims out_dims(rank);
  for (size_t i = 0; i < rank; ++i) out_dims[i] = in_dims[order[i]];
  const int64_t total = DimsCount(in_dims);
  std::vector<int> idx(rank, 0);
  for (int64_t i = 0; i < total; ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < rank; ++d) src += idx[d] * in_stride[order[d]];
    out[i] = in[src];
    for (int d = static_cast<int>(rank) - 1; d >= 0; --d) {
      if (++idx[d] < out_dims[d]) break;
      idx[d] = 0;
    }
  }
}

void PadFp32Ref(const float* in, const Dims& d, const PadParams4d& p, float* out) {
  const int n = d[0], c = d[1], h = d[2], w = d[3];
  const int oc = c + p.pad_c_begin + p.pad_c_end, oh = h + p.pad_top + p.pad_bottom, ow = w + p.pad_left + p.pad_right;
  auto map = [&](int i, int size, bool* inside) {
    if (i >= 0 && i < size) {
      *inside = true;
      return i;
    }
    *inside = p.mode != PadMode::kConstant;
    if (p.mode == PadMode::kEdge) return std::min(std::max(i, 0), size - 1);
    if (size == 1) return 0;
    const int period = 2 * (size - 1);
    int r = ((i % period) + period) % period;
    return r < size ? r : period - r;
  };
  for (int b = 0; b < n; ++b)
    for (int z = 0; z < oc; ++z)
      for (int y = 0; y < oh; ++y)
        for (int x = 0; x < ow; ++x) {
          bool ic = false, iy = false, ix = false;
          const int sc = map(z - p.pad_c_begin, c, &ic), sy = map(y - p.pad_top, h, &iy), sx = map(x - p.pad_left, w, &ix);
          out[((int64_t{b} * oc + z) * oh + y) * ow + x] =
              (ic && iy && ix) ? in[((int64_t{b} * c + sc) * h + sy) * w + sx] : p.value;
        }
}

int PadSourceIndex(int i, int size, PadMode mode) {
  if (i >= 0 && i < size) return i;
  if (mode == PadMode::kConstant) return -1;
  if (mode == PadMode::kEdge) return std::min(std::max(i, 0), size - 1);
  if (size == 1) return 0;
  const int period = 2 * (size - 1);
  const int r = ((i % period) + period) % period;
  return r < size ? r : period - r;
}

void PadFp32(const float* in, const Dims& d, const PadParams4d& p, float* out) {
  const int n = d[0], c = d[1], h = d[2], w = d[3];
  const int oc = c + p.pad_c_begin + p.pad_c_end, oh = h + p.pad_top + p.pad_bottom, ow = w + p.pad_left + p.pad_right;
  auto source = [&](int i, int size) { return PadSourceIndex(i, size, p.mode); };
  // Rows are built from a copy of the source row's middle and the border columns, mapped once for all rows.
  std::vector<int> border_x;
  for (int x = 0; x < p.pad_left; ++x) border_x.push_back(source(x - p.pad_left, w));
  for (int x = p.pad_left + w; x < ow; ++x) border_x.push_back(source(x - p.pad_left, w));
  ParallelFor(int64_t{n} * oc, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const int b = static_cast<int>(plane / oc), z = static_cast<int>(plane % oc);
      float* dst_plane = out + plane * oh * ow;
      const int sc = source(z - p.pad_c_begin, c);
      for (int y = 0; y < oh; ++y) {
        float* dst = dst_plane + int64_t{y} * ow;
        const int sy = source(y - p.pad_top, h);
        if (sc < 0 || sy < 0) {
          std::fill(dst, dst + ow, p.value);
          continue;
        }
        const float* src = in + ((int64_t{b} * c + sc) * h + sy) * w;
        std::copy(src, src + w, dst + p.pad_left);
        for (int x = 0; x < p.pad_left; ++x) dst[x] = border_x[x] < 0 ? p.value : src[border_x[x]];
        for (int x = p.pad_left + w, k = p.pad_left; x < ow; ++x, ++k) {
          dst[x] = border_x[k] < 0 ? p.value : src[border_x[k]];
        }
      }
    }
  });
}

void AddChannelPaddedFp32(const float* z, const float* x, const Dims& d, const PadParams4d& p, bool pad_first,
                          bool relu, float* out) {
  const int c = d[1], oc = c + p.pad_c_begin + p.pad_c_end;
  const int64_t hw = int64_t{d[2]} * d[3];
  auto add = [&](const float* a, const float* b, float* o) {
    if (relu) {
      for (int64_t i = 0; i < hw; ++i) {
        const float v = a[i] + b[i];
        o[i] = v > 0.f ? v : 0.f;
      }
    } else {
      for (int64_t i = 0; i < hw; ++i) o[i] = a[i] + b[i];
    }
  };
  // The padded channels' plane of the constant, shared by every thread.
  const std::vector<float> constant(oc > c ? static_cast<size_t>(hw) : 0, p.value);
  ParallelFor(int64_t{d[0]} * oc, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const int64_t b = plane / oc;
      const int sc = static_cast<int>(plane % oc) - p.pad_c_begin;
      const float* zp = z + plane * hw;
      const float* xp = sc < 0 || sc >= c ? constant.data() : x + (b * c + sc) * hw;
      if (pad_first) {
        add(xp, zp, out + plane * hw);
      } else {
        add(zp, xp, out + plane * hw);
      }
    }
  });
}

void ResizeFp32(const ResizeParams& p, const float* in, float* out) {
  const float sh = static_cast<float>(p.in_h) / p.out_h, sw = static_cast<float>(p.in_w) / p.out_w;
  for (int64_t pl = 0; pl < int64_t{p.batch} * p.channels; ++pl) {
    const float* src = in + pl * p.in_h * p.in_w;
    float* dst = out + pl * p.out_h * p.out_w;
    for (int y = 0; y < p.out_h; ++y) {
      for (int x = 0; x < p.out_w; ++x) {
        if (p.mode == ResizeMode::kNearest) {
          const int iy = std::min(static_cast<int>(std::floor(y * sh)), p.in_h - 1);
          const int ix = std::min(static_cast<int>(std::floor(x * sw)), p.in_w - 1);
          dst[y * p.out_w + x] = src[iy * p.in_w + ix];
          continue;
        }
        float fy, fx;
        if (p.align_corners) {
          fy = p.out_h > 1 ? y * static_cast<float>(p.in_h - 1) / (p.out_h - 1) : 0.f;
          fx = p.out_w > 1 ? x * static_cast<float>(p.in_w - 1) / (p.out_w - 1) : 0.f;
        } else {
          fy = std::max((y + 0.5f) * sh - 0.5f, 0.f);
          fx = std::max((x + 0.5f) * sw - 0.5f, 0.f);
        }
        const int y0 = std::min(static_cast<int>(fy), p.in_h - 1), x0 = std::min(static_cast<int>(fx), p.in_w - 1);
        const int y1 = std::min(y0 + 1, p.in_h - 1), x1 = std::min(x0 + 1, p.in_w - 1);
        const float ly = fy - y0, lx = fx - x0;
        dst[y * p.out_w + x] = (1 - ly) * ((1 - lx) * src[y0 * p.in_w + x0] + lx * src[y0 * p.in_w + x1]) +
                               ly * ((1 - lx) * src[y1 * p.in_w + x0] + lx * src[y1 * p.in_w + x1]);
      }
    }
  }
}

}  // namespace qt
