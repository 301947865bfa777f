#include "core/kernels/tensor_ops_fp32.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace qt {
namespace {

std::vector<int64_t> RowMajorStrides(const Dims& dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

// Calls fn(offset) for every index of `dims` in row-major order, offset = base + Σ idx[d]·strides[d]. Rank 0
// visits base once; a zero dim visits nothing.
template <typename Fn>
void ForEachOffset(const Dims& dims, const std::vector<int64_t>& strides, int64_t base, Fn fn) {
  const int rank = static_cast<int>(dims.size());
  if (rank == 0) {
    fn(base);
    return;
  }
  for (int d : dims) {
    if (d <= 0) return;
  }
  const int last = rank - 1;
  const int inner = dims[last];
  const int64_t inner_stride = strides[last];
  std::vector<int> idx(rank, 0);
  int64_t off = base;
  for (;;) {
    for (int i = 0; i < inner; ++i) fn(off + i * inner_stride);
    int d = last - 1;
    for (; d >= 0; --d) {
      off += strides[d];
      if (++idx[d] < dims[d]) break;
      off -= idx[d] * strides[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

std::string ListToString(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

// Max and min that propagate NaN, as numpy's do.
inline float NanMax(float m, float x) { return x > m || std::isnan(x) ? x : m; }
inline float NanMin(float m, float x) { return x < m || std::isnan(x) ? x : m; }

}  // namespace

// ---- Strided slice --------------------------------------------------------------------------------------------

int SliceCount(int begin, int end, int step) {
  const int64_t b = begin, e = end, s = step;
  if (s > 0) return e > b ? static_cast<int>((e - b + s - 1) / s) : 0;
  return b > e ? static_cast<int>((b - e - s - 1) / -s) : 0;
}

Status NormalizeOnnxSlice(const Dims& in_dims, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                          const std::vector<int64_t>& axes, const std::vector<int64_t>& steps, StridedSliceSpec* spec) {
  const int rank = static_cast<int>(in_dims.size());
  if (ends.size() != starts.size() || (!axes.empty() && axes.size() != starts.size()) ||
      (!steps.empty() && steps.size() != starts.size())) {
    return Status::InvalidArgument("Slice: starts " + ListToString(starts) + ", ends " + ListToString(ends) +
                                   ", axes " + ListToString(axes) + " and steps " + ListToString(steps) +
                                   " must have one entry each (axes and steps may be empty)");
  }
  spec->begins.assign(rank, 0);
  spec->ends = in_dims;
  spec->steps.assign(rank, 1);
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t axis = axes.empty() ? static_cast<int64_t>(i) : axes[i];
    if (axis < -rank || axis >= rank) {
      return Status::InvalidArgument("Slice: axis " + std::to_string(axis) + " is outside [-" + std::to_string(rank) +
                                     ", " + std::to_string(rank) + ") for input " + DimsToString(in_dims));
    }
    if (axis < 0) axis += rank;
    if (seen[axis]) return Status::InvalidArgument("Slice: axis " + std::to_string(axis) + " is listed twice in axes " +
                                                   ListToString(axes));
    seen[axis] = true;
    int64_t step = steps.empty() ? 1 : steps[i];
    if (step == 0) return Status::InvalidArgument("Slice: step 0 on axis " + std::to_string(axis));
    const int64_t dim = in_dims[axis];
    // INT64_MIN + dim cannot overflow (dim >= 0), and a positive value never has dim added.
    int64_t b = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t e = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) {
      b = std::min(std::max(b, int64_t{0}), dim);
      e = std::min(std::max(e, int64_t{0}), dim);
    } else if (dim == 0) {
      b = e = 0;  // [0, dim-1] is empty: nothing to take backwards either
    } else {
      b = std::min(std::max(b, int64_t{0}), dim - 1);
      e = std::min(std::max(e, int64_t{-1}), dim - 1);
    }
    // A step longer than the axis takes at most its first element, as the axis length itself would; this keeps
    // the step in int range.
    const int64_t longest = std::max<int64_t>(dim, 1);
    step = std::min(std::max(step, -longest), longest);
    spec->begins[axis] = static_cast<int>(b);
    spec->ends[axis] = static_cast<int>(e);
    spec->steps[axis] = static_cast<int>(step);
  }
  spec->out_dims.resize(rank);
  for (int a = 0; a < rank; ++a) spec->out_dims[a] = SliceCount(spec->begins[a], spec->ends[a], spec->steps[a]);
  return Status::Ok();
}

void StridedSliceFp32(const float* in, const Dims& in_dims, const std::vector<int>& begins,
                      const std::vector<int>& /*ends: implied by out_dims*/, const std::vector<int>& steps, float* out,
                      const Dims& out_dims) {
  const std::vector<int64_t> in_strides = RowMajorStrides(in_dims);
  std::vector<int64_t> strides(in_dims.size());
  int64_t base = 0;
  for (size_t a = 0; a < in_dims.size(); ++a) {
    strides[a] = steps[a] * in_strides[a];
    base += begins[a] * in_strides[a];
  }
  float* o = out;
  ForEachOffset(out_dims, strides, base, [&](int64_t off) { *o++ = in[off]; });
}

// ---- Gather -----------------------------------------------------------------------------------------------------

Dims GatherOutputDims(const Dims& in_dims, int axis, const Dims& indices_dims) {
  Dims out(in_dims.begin(), in_dims.begin() + axis);
  out.insert(out.end(), indices_dims.begin(), indices_dims.end());
  out.insert(out.end(), in_dims.begin() + axis + 1, in_dims.end());
  return out;
}

Status GatherFp32(const float* in, const Dims& in_dims, int axis, const int64_t* indices, const Dims& indices_dims,
                  float* out, const Dims& out_dims) {
  const int rank = static_cast<int>(in_dims.size());
  if (axis < -rank || axis >= rank) {
    return Status::InvalidArgument("Gather: axis " + std::to_string(axis) + " is outside [-" + std::to_string(rank) +
                                   ", " + std::to_string(rank) + ") for input " + DimsToString(in_dims));
  }
  if (axis < 0) axis += rank;
  const Dims expected = GatherOutputDims(in_dims, axis, indices_dims);
  if (out_dims != expected) {
    return Status::InvalidArgument("Gather: output dims " + DimsToString(out_dims) + " should be " +
                                   DimsToString(expected) + " (input " + DimsToString(in_dims) + ", axis " +
                                   std::to_string(axis) + ", indices " + DimsToString(indices_dims) + ")");
  }
  const int64_t dim = in_dims[axis];
  const int64_t n_idx = DimsCount(indices_dims);
  for (int64_t j = 0; j < n_idx; ++j) {
    if (indices[j] < -dim || indices[j] >= dim) {
      return Status::InvalidArgument("Gather: index " + std::to_string(indices[j]) + " (element " + std::to_string(j) +
                                     " of the indices) is outside [-" + std::to_string(dim) + ", " +
                                     std::to_string(dim) + ") for axis " + std::to_string(axis) + " of input " +
                                     DimsToString(in_dims));
    }
  }
  const int64_t outer = DimsCount(Dims(in_dims.begin(), in_dims.begin() + axis));
  const int64_t inner = DimsCount(in_dims, axis + 1);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < n_idx; ++j) {
      const int64_t i = indices[j] < 0 ? indices[j] + dim : indices[j];
      std::memcpy(out + (o * n_idx + j) * inner, in + (o * dim + i) * inner, inner * sizeof(float));
    }
  }
  return Status::Ok();
}

// ---- Reductions -------------------------------------------------------------------------------------------------

const char* ReduceOpName(ReduceOp op) {
  switch (op) {
    case ReduceOp::kMean: return "mean";
    case ReduceOp::kMax: return "max";
    case ReduceOp::kMin: return "min";
    case ReduceOp::kSum: return "sum";
    case ReduceOp::kSumSquare: return "sum_square";
    case ReduceOp::kL1: return "l1";
    case ReduceOp::kL2: return "l2";
    case ReduceOp::kLogSumExp: return "log_sum_exp";
    case ReduceOp::kProd: return "prod";
    case ReduceOp::kLogSum: return "log_sum";
  }
  return "?";
}

Status NormalizeAxes(const std::vector<int64_t>& axes, int rank, std::vector<int>* out) {
  out->clear();
  for (int64_t a : axes) {
    if (a < -rank || a >= rank) {
      return Status::InvalidArgument("axis " + std::to_string(a) + " in " + ListToString(axes) + " is outside [-" +
                                     std::to_string(rank) + ", " + std::to_string(rank) + ")");
    }
    out->push_back(static_cast<int>(a < 0 ? a + rank : a));
  }
  std::sort(out->begin(), out->end());
  if (std::adjacent_find(out->begin(), out->end()) != out->end()) {
    return Status::InvalidArgument("axes " + ListToString(axes) + " name one axis twice (rank " +
                                   std::to_string(rank) + ")");
  }
  return Status::Ok();
}

Dims ReduceOutputDims(const Dims& in_dims, const std::vector<int>& axes, bool keep_dims) {
  Dims out;
  for (int a = 0; a < static_cast<int>(in_dims.size()); ++a) {
    if (std::find(axes.begin(), axes.end(), a) == axes.end()) {
      out.push_back(in_dims[a]);
    } else if (keep_dims) {
      out.push_back(1);
    }
  }
  return out;
}

void ReduceFp32(ReduceOp op, const float* in, const Dims& in_dims, const std::vector<int>& axes, float* out) {
  const std::vector<int64_t> strides = RowMajorStrides(in_dims);
  Dims kept_dims, red_dims;
  std::vector<int64_t> kept_strides, red_strides;
  for (int a = 0; a < static_cast<int>(in_dims.size()); ++a) {
    const bool reduced = std::find(axes.begin(), axes.end(), a) != axes.end();
    (reduced ? red_dims : kept_dims).push_back(in_dims[a]);
    (reduced ? red_strides : kept_strides).push_back(strides[a]);
  }
  const int64_t count = DimsCount(red_dims);
  auto sum = [&](int64_t base, auto term) {
    float s = 0.f;
    ForEachOffset(red_dims, red_strides, base, [&](int64_t off) { s += term(in[off]); });
    return s;
  };
  float* o = out;
  ForEachOffset(kept_dims, kept_strides, 0, [&](int64_t base) {
    float r = 0.f;
    switch (op) {
      case ReduceOp::kMean: r = sum(base, [](float x) { return x; }) / static_cast<float>(count); break;
      case ReduceOp::kSum: r = sum(base, [](float x) { return x; }); break;
      case ReduceOp::kSumSquare: r = sum(base, [](float x) { return x * x; }); break;
      case ReduceOp::kL1: r = sum(base, [](float x) { return std::fabs(x); }); break;
      case ReduceOp::kL2: r = std::sqrt(sum(base, [](float x) { return x * x; })); break;
      case ReduceOp::kLogSum: r = std::log(sum(base, [](float x) { return x; })); break;
      case ReduceOp::kMax:
        r = -std::numeric_limits<float>::infinity();
        ForEachOffset(red_dims, red_strides, base, [&](int64_t off) { r = NanMax(r, in[off]); });
        break;
      case ReduceOp::kMin:
        r = std::numeric_limits<float>::infinity();
        ForEachOffset(red_dims, red_strides, base, [&](int64_t off) { r = NanMin(r, in[off]); });
        break;
      case ReduceOp::kProd:
        r = 1.f;
        ForEachOffset(red_dims, red_strides, base, [&](int64_t off) { r *= in[off]; });
        break;
      case ReduceOp::kLogSumExp: {
        float m = -std::numeric_limits<float>::infinity();
        ForEachOffset(red_dims, red_strides, base, [&](int64_t off) { m = NanMax(m, in[off]); });
        // All −inf (or none), some +inf, or a NaN: the max is the answer, and x − m would be NaN.
        r = std::isfinite(m) ? m + std::log(sum(base, [m](float x) { return std::exp(x - m); })) : m;
        break;
      }
    }
    *o++ = r;
  });
}

// ---- ShuffleChannel ---------------------------------------------------------------------------------------------

void ShuffleChannelFp32(const float* in, float* out, int batch, int channels, int64_t spatial, int group) {
  const int per_group = channels / group;
  for (int n = 0; n < batch; ++n) {
    const float* src = in + static_cast<int64_t>(n) * channels * spatial;
    float* dst = out + static_cast<int64_t>(n) * channels * spatial;
    for (int i = 0; i < group; ++i) {
      for (int j = 0; j < per_group; ++j) {
        std::memcpy(dst + static_cast<int64_t>(j * group + i) * spatial,
                    src + static_cast<int64_t>(i * per_group + j) * spatial, spatial * sizeof(float));
      }
    }
  }
}

// ---- Crop -------------------------------------------------------------------------------------------------------

Status CaffeCropDims(const Dims& in_dims, const Dims& ref_dims, int axis, const std::vector<int>& offsets,
                     Dims* out_dims) {
  const int rank = static_cast<int>(in_dims.size());
  if (static_cast<int>(ref_dims.size()) != rank) {
    return Status::InvalidArgument("Crop: input " + DimsToString(in_dims) + " and reference " +
                                   DimsToString(ref_dims) + " must have the same rank");
  }
  if (axis < -rank || axis >= rank) {
    return Status::InvalidArgument("Crop: axis " + std::to_string(axis) + " is outside [-" + std::to_string(rank) +
                                   ", " + std::to_string(rank) + ")");
  }
  if (axis < 0) axis += rank;
  const int cropped = rank - axis;
  if (offsets.size() > 1 && static_cast<int>(offsets.size()) != cropped) {
    return Status::InvalidArgument("Crop: " + std::to_string(offsets.size()) + " offsets for " +
                                   std::to_string(cropped) + " cropped axes (give 0, 1 or one per axis from axis " +
                                   std::to_string(axis) + ")");
  }
  *out_dims = in_dims;
  for (int a = axis; a < rank; ++a) {
    const int off = offsets.empty() ? 0 : offsets.size() == 1 ? offsets[0] : offsets[a - axis];
    if (off < 0 || static_cast<int64_t>(off) + ref_dims[a] > in_dims[a]) {
      return Status::InvalidArgument("Crop: offset " + std::to_string(off) + " plus reference size " +
                                     std::to_string(ref_dims[a]) + " does not fit input size " +
                                     std::to_string(in_dims[a]) + " on axis " + std::to_string(a));
    }
    (*out_dims)[a] = ref_dims[a];
  }
  return Status::Ok();
}

void CropFp32(const float* in, const Dims& in_dims, int axis, const std::vector<int>& offsets, float* out,
              const Dims& out_dims) {
  const int rank = static_cast<int>(in_dims.size());
  if (axis < 0) axis += rank;
  std::vector<int> begins(rank, 0), ends(out_dims.begin(), out_dims.end()), steps(rank, 1);
  for (int a = axis; a < rank; ++a) {
    begins[a] = offsets.empty() ? 0 : offsets.size() == 1 ? offsets[0] : offsets[a - axis];
    ends[a] = begins[a] + out_dims[a];
  }
  StridedSliceFp32(in, in_dims, begins, ends, steps, out, out_dims);
}

// ---- LRN --------------------------------------------------------------------------------------------------------

void LrnFp32(const LrnParams& p, const float* in, float* out, const Dims& dims) {
  auto dim = [&](size_t i) { return i < dims.size() ? dims[i] : 1; };
  const int batch = dim(0), channels = dim(1);
  const int64_t spatial = DimsCount(dims, 2);
  const int pre_pad = (p.size - 1) / 2;
  if (p.region == LrnRegion::kAcrossChannels) {
    const float alpha_over_count = p.alpha / static_cast<float>(p.size);
    std::vector<float> sums(spatial);
    for (int n = 0; n < batch; ++n) {
      const float* x = in + static_cast<int64_t>(n) * channels * spatial;
      float* y = out + static_cast<int64_t>(n) * channels * spatial;
      for (int c = 0; c < channels; ++c) {
        std::fill(sums.begin(), sums.end(), 0.f);
        const int lo = std::max(c - pre_pad, 0), hi = std::min(c - pre_pad + p.size - 1, channels - 1);
        for (int i = lo; i <= hi; ++i) {
          const float* xi = x + i * spatial;
          for (int64_t s = 0; s < spatial; ++s) sums[s] += xi[s] * xi[s];
        }
        for (int64_t s = 0; s < spatial; ++s) {
          y[c * spatial + s] = x[c * spatial + s] * std::pow(p.k + alpha_over_count * sums[s], -p.beta);
        }
      }
    }
    return;
  }
  const int h = dim(2), w = dim(3);
  const float alpha_over_count = p.alpha / static_cast<float>(p.size * p.size);
  for (int64_t plane = 0; plane < static_cast<int64_t>(batch) * channels; ++plane) {
    const float* x = in + plane * h * w;
    float* y = out + plane * h * w;
    for (int r = 0; r < h; ++r) {
      for (int c = 0; c < w; ++c) {
        const int r0 = std::max(r - pre_pad, 0), r1 = std::min(r - pre_pad + p.size - 1, h - 1);
        const int c0 = std::max(c - pre_pad, 0), c1 = std::min(c - pre_pad + p.size - 1, w - 1);
        float s = 0.f;
        for (int i = r0; i <= r1; ++i) {
          for (int j = c0; j <= c1; ++j) s += x[i * w + j] * x[i * w + j];
        }
        y[r * w + c] = x[r * w + c] * std::pow(p.k + alpha_over_count * s, -p.beta);
      }
    }
  }
}

// ---- InstanceNormalization --------------------------------------------------------------------------------------

void InstanceNormFp32(const float* in, float* out, int batch, int channels, int64_t spatial, const float* scale,
                      const float* bias, float eps) {
  for (int n = 0; n < batch; ++n) {
    for (int c = 0; c < channels; ++c) {
      const int64_t base = (static_cast<int64_t>(n) * channels + c) * spatial;
      const float* x = in + base;
      float* y = out + base;
      float mean = 0.f;
      for (int64_t s = 0; s < spatial; ++s) mean += x[s];
      mean /= static_cast<float>(spatial);
      float var = 0.f;
      for (int64_t s = 0; s < spatial; ++s) var += (x[s] - mean) * (x[s] - mean);
      var /= static_cast<float>(spatial);
      const float a = (scale ? scale[c] : 1.f) / std::sqrt(var + eps);
      const float b = bias ? bias[c] : 0.f;
      for (int64_t s = 0; s < spatial; ++s) y[s] = (x[s] - mean) * a + b;
    }
  }
}

// ---- Elementwise unary ------------------------------------------------------------------------------------------

const char* UnaryOpName(UnaryOp op) {
  switch (op) {
    case UnaryOp::kExp: return "exp";
    case UnaryOp::kLog: return "log";
    case UnaryOp::kSqrt: return "sqrt";
    case UnaryOp::kAbs: return "abs";
    case UnaryOp::kNeg: return "neg";
    case UnaryOp::kElu: return "elu";
    case UnaryOp::kSoftplus: return "softplus";
    case UnaryOp::kSwish: return "swish";
    case UnaryOp::kPower: return "power";
    case UnaryOp::kReciprocal: return "reciprocal";
    case UnaryOp::kFloor: return "floor";
    case UnaryOp::kCeil: return "ceil";
    case UnaryOp::kSign: return "sign";
    case UnaryOp::kErf: return "erf";
    case UnaryOp::kGelu: return "gelu";
  }
  return "?";
}

namespace {

template <typename Fn>
void Map(const float* in, float* out, int64_t n, Fn fn) {
  for (int64_t i = 0; i < n; ++i) out[i] = fn(in[i]);
}

}  // namespace

void UnaryFp32(UnaryOp op, const float* in, float* out, int64_t n, const UnaryParams& p) {
  switch (op) {
    case UnaryOp::kExp: Map(in, out, n, [](float x) { return std::exp(x); }); return;
    case UnaryOp::kLog: Map(in, out, n, [](float x) { return std::log(x); }); return;
    case UnaryOp::kSqrt: Map(in, out, n, [](float x) { return std::sqrt(x); }); return;
    case UnaryOp::kAbs: Map(in, out, n, [](float x) { return std::fabs(x); }); return;
    case UnaryOp::kNeg: Map(in, out, n, [](float x) { return -x; }); return;
    case UnaryOp::kElu: {
      const float alpha = p.alpha;
      Map(in, out, n, [alpha](float x) { return x > 0.f ? x : alpha * std::expm1(x); });
      return;
    }
    case UnaryOp::kSoftplus:
      Map(in, out, n, [](float x) { return std::max(x, 0.f) + std::log1p(std::exp(-std::fabs(x))); });
      return;
    case UnaryOp::kSwish: Map(in, out, n, [](float x) { return x / (1.f + std::exp(-x)); }); return;
    case UnaryOp::kPower: {
      const float power = p.power, scale = p.scale, shift = p.shift;
      Map(in, out, n, [=](float x) { return std::pow(shift + scale * x, power); });
      return;
    }
    case UnaryOp::kReciprocal: Map(in, out, n, [](float x) { return 1.f / x; }); return;
    case UnaryOp::kFloor: Map(in, out, n, [](float x) { return std::floor(x); }); return;
    case UnaryOp::kCeil: Map(in, out, n, [](float x) { return std::ceil(x); }); return;
    case UnaryOp::kSign: Map(in, out, n, [](float x) { return x > 0.f ? 1.f : x < 0.f ? -1.f : x; }); return;
    case UnaryOp::kErf: Map(in, out, n, [](float x) { return std::erf(x); }); return;
    case UnaryOp::kGelu:
      Map(in, out, n, [](float x) { return 0.5f * x * (1.f + std::erf(x * 0.70710678118654752f)); });
      return;
  }
}

}  // namespace qt
