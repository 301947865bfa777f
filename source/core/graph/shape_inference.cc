#include "shape_inference.h"

#include <algorithm>
#include <cmath>

namespace qt {
namespace {

int NormalizeAxis(int axis, size_t rank) { return axis < 0 ? axis + static_cast<int>(rank) : axis; }

Status Require4D(const Layer& l, const Dims& d) {
  if (d.size() != 4) {
    return Status::InvalidArgument("layer '" + l.name + "' (" + l.type_str + ") needs a 4-D NCHW input, got " +
                                   DimsToString(d));
  }
  return Status::Ok();
}

Status InferLayer(const Graph& graph, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  auto same = [&]() { out->assign(l.outputs.size(), x); };
  switch (l.type) {
    case LayerType::kConvolution: {
      QT_RETURN_IF_ERROR(Require4D(l, x));
      const auto& p = l.Params<ConvParams>();
      if (x[1] != p.group * p.input_channel) {
        return Status::InvalidArgument("layer '" + l.name + "': input " + DimsToString(x) + " has " +
                                       std::to_string(x[1]) + " channels but the convolution expects group " +
                                       std::to_string(p.group) + " x " + std::to_string(p.input_channel));
      }
      WindowGeometry g;
      QT_RETURN_IF_ERROR(ConvGeometry(p, x[2], x[3], &g).WithContext("layer '" + l.name + "'"));
      out->assign(1, Dims{x[0], p.output_channel, g.out_h, g.out_w});
      return Status::Ok();
    }
    case LayerType::kDeconvolution: {
      QT_RETURN_IF_ERROR(Require4D(l, x));
      const auto& p = l.Params<ConvParams>();
      WindowGeometry g;
      QT_RETURN_IF_ERROR(DeconvGeometry(p, x[2], x[3], &g).WithContext("layer '" + l.name + "'"));
      out->assign(1, Dims{x[0], p.output_channel, g.out_h, g.out_w});
      return Status::Ok();
    }
    case LayerType::kPooling: {
      QT_RETURN_IF_ERROR(Require4D(l, x));
      WindowGeometry g;
      int kh = 0, kw = 0;
      QT_RETURN_IF_ERROR(PoolGeometry(l.Params<PoolParams>(), x[2], x[3], &g, &kh, &kw)
                             .WithContext("layer '" + l.name + "'"));
      out->assign(l.outputs.size(), Dims{x[0], x[1], g.out_h, g.out_w});
      return Status::Ok();
    }
    case LayerType::kRelu:
    case LayerType::kRelu6:
    case LayerType::kClip:
    case LayerType::kPRelu:
    case LayerType::kSigmoid:
    case LayerType::kTanh:
    case LayerType::kHardSwish:
    case LayerType::kHardSigmoid:
    case LayerType::kBatchNorm:
    case LayerType::kScale:
    case LayerType::kDropout:
      same();
      return Status::Ok();
    case LayerType::kSoftmax: {
      const int axis = NormalizeAxis(l.Params<AxisParams>().axis, x.size());
      if (axis < 0 || axis >= static_cast<int>(x.size())) {
        return Status::InvalidArgument("layer '" + l.name + "': softmax axis out of range for " + DimsToString(x));
      }
      same();
      return Status::Ok();
    }
    case LayerType::kAdd:
    case LayerType::kSub:
    case LayerType::kMul:
    case LayerType::kDiv:
    case LayerType::kMaximum: {
      Dims other;
      if (in.size() >= 2) {
        other = in[1];
      } else {
        auto it = graph.resources.find(l.name);
        if (it == graph.resources.end() || !std::holds_alternative<BinaryResource>(it->second)) {
          return Status::InvalidArgument("layer '" + l.name + "' has one input and no constant operand");
        }
        QT_RETURN_IF_ERROR(ResolveConstantDims(std::get<BinaryResource>(it->second).element, x, &other)
                               .WithContext("layer '" + l.name + "'"));
      }
      Dims o;
      QT_RETURN_IF_ERROR(BroadcastShapes(x, other, &o).WithContext("layer '" + l.name + "'"));
      out->assign(1, o);
      return Status::Ok();
    }
    case LayerType::kConcat: {
      const int axis = NormalizeAxis(l.Params<AxisParams>().axis, x.size());
      if (axis < 0 || axis >= static_cast<int>(x.size())) {
        return Status::InvalidArgument("layer '" + l.name + "': concat axis out of range for " + DimsToString(x));
      }
      Dims o = x;
      for (size_t i = 1; i < in.size(); ++i) {
        bool ok = in[i].size() == x.size();
        for (size_t d = 0; ok && d < x.size(); ++d) ok = static_cast<int>(d) == axis || in[i][d] == x[d];
        if (!ok) {
          return Status::InvalidArgument("layer '" + l.name + "': cannot concatenate " + DimsToString(x) + " and " +
                                         DimsToString(in[i]) + " along axis " + std::to_string(axis));
        }
        o[axis] += in[i][axis];
      }
      out->assign(1, o);
      return Status::Ok();
    }
    case LayerType::kInnerProduct: {
      const auto& p = l.Params<InnerProductParams>();
      const int axis = NormalizeAxis(p.axis, x.size());
      if (axis < 1 || axis > static_cast<int>(x.size())) {
        return Status::InvalidArgument("layer '" + l.name + "': inner product axis out of range");
      }
      Dims o(x.begin(), x.begin() + axis);
      o.push_back(p.num_output);
      while (o.size() < x.size()) o.push_back(1);
      out->assign(1, o);
      return Status::Ok();
    }
    case LayerType::kFlatten: {
      const int axis = NormalizeAxis(l.Params<AxisParams>().axis, x.size());
      if (axis < 0 || axis > static_cast<int>(x.size())) {
        return Status::InvalidArgument("layer '" + l.name + "': flatten axis out of range");
      }
      Dims o(x.begin(), x.begin() + axis);
      o.push_back(static_cast<int>(DimsCount(x, axis)));
      out->assign(1, o);
      return Status::Ok();
    }
    case LayerType::kReshape: {
      // TNN's rule: dims before `axis` are kept, then one dim per shape entry; 0 copies the input dim at that
      // position, one -1 is inferred from the element count.
      const auto& p = l.Params<ReshapeParams>();
      if (p.axis < 0 || p.axis > static_cast<int>(x.size())) {
        return Status::InvalidArgument("layer '" + l.name + "': reshape axis out of range");
      }
      Dims o(x.begin(), x.begin() + p.axis);
      int infer = -1;
      for (size_t j = 0; j < p.shape.size(); ++j) {
        const size_t i = p.axis + j;
        const int s = p.shape[j];
        if (s == -1) {
          if (infer >= 0) return Status::InvalidArgument("layer '" + l.name + "': reshape has two -1 dims");
          infer = static_cast<int>(i);
          o.push_back(1);
        } else if (s == 0) {
          if (i >= x.size()) return Status::InvalidArgument("layer '" + l.name + "': reshape 0 past input rank");
          o.push_back(x[i]);
        } else if (s > 0) {
          o.push_back(s);
        } else {
          return Status::InvalidArgument("layer '" + l.name + "': reshape dim " + std::to_string(s));
        }
      }
      const int64_t total = DimsCount(x);
      if (infer >= 0) {
        const int64_t rest = DimsCount(o);
        if (rest == 0 || total % rest != 0) {
          return Status::InvalidArgument("layer '" + l.name + "': cannot reshape " + DimsToString(x) + " to " +
                                         DimsToString(o) + " with one inferred dim");
        }
        o[infer] = static_cast<int>(total / rest);
      }
      if (DimsCount(o) != total) {
        return Status::InvalidArgument("layer '" + l.name + "': cannot reshape " + DimsToString(x) + " (" +
                                       std::to_string(total) + " values) to " + DimsToString(o));
      }
      out->assign(1, o);
      return Status::Ok();
    }
    case LayerType::kPermute: {
      const auto& order = l.Params<PermuteParams>().order;
      if (order.size() != x.size()) {
        return Status::InvalidArgument("layer '" + l.name + "': permute order has " + std::to_string(order.size()) +
                                       " axes but the input is " + DimsToString(x));
      }
      Dims o(x.size());
      for (size_t i = 0; i < x.size(); ++i) o[i] = x[order[i]];
      out->assign(1, o);
      return Status::Ok();
    }
    case LayerType::kPad: {
      QT_RETURN_IF_ERROR(Require4D(l, x));
      const auto& p = l.Params<PadParams>();
      out->assign(1, Dims{x[0], x[1] + p.pad_c_begin + p.pad_c_end, x[2] + p.pad_t + p.pad_b, x[3] + p.pad_l + p.pad_r});
      return Status::Ok();
    }
    case LayerType::kUpsample: {
      QT_RETURN_IF_ERROR(Require4D(l, x));
      const auto& p = l.Params<UpsampleParams>();
      int oh = p.output_h, ow = p.output_w;
      if (oh <= 0 || ow <= 0) {
        oh = static_cast<int>(std::round(x[2] * p.scale_h));
        ow = static_cast<int>(std::round(x[3] * p.scale_w));
      }
      if (oh <= 0 || ow <= 0) return Status::InvalidArgument("layer '" + l.name + "': upsample output is empty");
      out->assign(1, Dims{x[0], x[1], oh, ow});
      return Status::Ok();
    }
    case LayerType::kSplitV: {
      const auto& p = l.Params<SplitVParams>();
      const int axis = NormalizeAxis(p.axis, x.size());
      if (axis < 0 || axis >= static_cast<int>(x.size()) || p.slices.size() != l.outputs.size()) {
        return Status::InvalidArgument("layer '" + l.name + "': SplitV needs one slice per output and a valid axis");
      }
      int sum = 0;
      out->clear();
      for (int s : p.slices) {
        Dims o = x;
        o[axis] = s;
        sum += s;
        out->push_back(o);
      }
      if (sum != x[axis]) {
        return Status::InvalidArgument("layer '" + l.name + "': SplitV slices sum to " + std::to_string(sum) +
                                       " but the axis has " + std::to_string(x[axis]));
      }
      return Status::Ok();
    }
    case LayerType::kMatMul: {
      Dims a = x, b;
      if (in.size() >= 2) {
        b = in[1];
      } else {
        auto it = graph.resources.find(l.name);
        if (it == graph.resources.end() || !std::holds_alternative<MatMulResource>(it->second)) {
          return Status::InvalidArgument("layer '" + l.name + "' has one input and no constant operand");
        }
        const auto& w = std::get<MatMulResource>(it->second).weight;
        Dims wd(w.dims().begin(), w.dims().end());
        if (DimsCount(wd) != w.count()) {
          return Status::InvalidArgument("layer '" + l.name + "': constant dims " + DimsToString(wd) +
                                         " do not match its " + std::to_string(w.count()) + " values");
        }
        if (l.Params<MatMulParams>().weight_position == 0) {
          b = a;
          a = wd;
        } else {
          b = wd;
        }
      }
      Dims o;
      QT_RETURN_IF_ERROR(MatMulShape(a, b, &o).WithContext("layer '" + l.name + "'"));
      out->assign(1, o);
      return Status::Ok();
    }
  }
  return Status::Internal("unhandled layer type");
}

// SAME_UPPER (0) or VALID (1) output size along one axis, with the padding TNN splits as begin = total/2.
void TfWindow(int pad_type, int in, int k, int stride, int* out, int* pad_begin, int* pad_end) {
  *out = pad_type == 0 ? (in + stride - 1) / stride : (in - k + stride) / stride;
  const int along = std::max(0, (*out - 1) * stride + k - in);
  *pad_begin = along / 2;
  *pad_end = along - *pad_begin;
}

}  // namespace

Status BroadcastShapes(const Dims& a, const Dims& b, Dims* out) {
  const size_t n = std::max(a.size(), b.size());
  Dims o(n, 1);
  for (size_t i = 0; i < n; ++i) {
    const int da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      return Status::InvalidArgument("shapes " + DimsToString(a) + " and " + DimsToString(b) + " do not broadcast");
    }
    o[i] = da == 1 ? db : da;
  }
  *out = o;
  return Status::Ok();
}

Status MatMulShape(const Dims& a, const Dims& b, Dims* out) {
  if (a.size() < 2 || b.size() < 2) {
    return Status::Unsupported("MatMul of " + DimsToString(a) + " and " + DimsToString(b) +
                               ": operands of rank 1 are not supported");
  }
  if (a.back() != b[b.size() - 2]) {
    return Status::InvalidArgument("MatMul of " + DimsToString(a) + " and " + DimsToString(b) + ": inner dims " +
                                   std::to_string(a.back()) + " and " + std::to_string(b[b.size() - 2]) +
                                   " differ");
  }
  Dims o;
  QT_RETURN_IF_ERROR(BroadcastShapes(Dims(a.begin(), a.end() - 2), Dims(b.begin(), b.end() - 2), &o)
                         .WithContext("MatMul batch dims"));
  o.push_back(a[a.size() - 2]);
  o.push_back(b.back());
  *out = o;
  return Status::Ok();
}

Status ResolveConstantDims(const RawBuffer& constant, const Dims& other, Dims* dims) {
  const int64_t n = constant.count();
  if (!constant.dims().empty()) {
    Dims d(constant.dims().begin(), constant.dims().end());
    if (DimsCount(d) != n) {
      return Status::InvalidArgument("constant dims " + DimsToString(d) + " do not match its " + std::to_string(n) +
                                     " values");
    }
    *dims = d;
    return Status::Ok();
  }
  const int c = other.size() > 1 ? other[1] : 1;
  const int h = other.size() > 2 ? other[2] : 1;
  const int w = other.size() > 3 ? other[3] : 1;
  if (n == 1) {
    *dims = Dims{1};
  } else if (n == c) {
    *dims = Dims{1, c, 1, 1};
  } else if (n == static_cast<int64_t>(c) * h * w) {
    *dims = Dims{1, c, h, w};
  } else if (n == w) {
    *dims = Dims{1, 1, 1, w};
  } else if (n == static_cast<int64_t>(h) * w) {
    *dims = Dims{1, 1, h, w};
  } else {
    return Status::InvalidArgument("constant of " + std::to_string(n) + " values has no dims and does not broadcast to " +
                                   DimsToString(other));
  }
  return Status::Ok();
}

Status ConvGeometry(const ConvParams& p, int in_h, int in_w, WindowGeometry* g) {
  if (p.pad_type == 3) return Status::InvalidArgument("pad_type 3 is defined for deconvolution only");
  const int kh = (p.kernel_h - 1) * p.dilation_h + 1;
  const int kw = (p.kernel_w - 1) * p.dilation_w + 1;
  if (p.pad_type == -1) {
    g->pad_top = g->pad_bottom = p.pad_h;
    g->pad_left = g->pad_right = p.pad_w;
    g->out_h = (in_h + 2 * p.pad_h - kh) / p.stride_h + 1;
    g->out_w = (in_w + 2 * p.pad_w - kw) / p.stride_w + 1;
  } else {
    TfWindow(p.pad_type, in_h, kh, p.stride_h, &g->out_h, &g->pad_top, &g->pad_bottom);
    TfWindow(p.pad_type, in_w, kw, p.stride_w, &g->out_w, &g->pad_left, &g->pad_right);
  }
  if (g->out_h < 1 || g->out_w < 1 || in_h + g->pad_top + g->pad_bottom < kh || in_w + g->pad_left + g->pad_right < kw) {
    return Status::InvalidArgument("convolution kernel " + std::to_string(p.kernel_h) + "x" + std::to_string(p.kernel_w) +
                                   " does not fit the " + std::to_string(in_h) + "x" + std::to_string(in_w) +
                                   " input");
  }
  return Status::Ok();
}

Status DeconvGeometry(const ConvParams& p, int in_h, int in_w, WindowGeometry* g) {
  const int kh = (p.kernel_h - 1) * p.dilation_h + 1;
  const int kw = (p.kernel_w - 1) * p.dilation_w + 1;
  if (p.pad_type == -1) {
    g->pad_top = g->pad_bottom = p.pad_h;
    g->pad_left = g->pad_right = p.pad_w;
    g->out_h = (in_h - 1) * p.stride_h + kh - 2 * p.pad_h;
    g->out_w = (in_w - 1) * p.stride_w + kw - 2 * p.pad_w;
  } else {
    if (p.pad_type == 0 || p.pad_type == 3) {
      g->out_h = in_h * p.stride_h;
      g->out_w = in_w * p.stride_w;
    } else {
      g->out_h = (in_h - 1) * p.stride_h + kh;
      g->out_w = (in_w - 1) * p.stride_w + kw;
    }
    const int along_h = std::max(0, (in_h - 1) * p.stride_h + kh - g->out_h);
    const int along_w = std::max(0, (in_w - 1) * p.stride_w + kw - g->out_w);
    g->pad_top = along_h / 2;
    g->pad_bottom = along_h - g->pad_top;
    g->pad_left = along_w / 2;
    g->pad_right = along_w - g->pad_left;
    if (p.pad_type == 3) {
      // TNN's deconvolution for ONNX output_padding: SAME's pads swapped, the odd one first (PyTorch's
      // padding=(k-1)/2 with output_padding=stride-1).
      std::swap(g->pad_top, g->pad_bottom);
      std::swap(g->pad_left, g->pad_right);
    }
  }
  if (g->out_h < 1 || g->out_w < 1) return Status::InvalidArgument("deconvolution output is empty");
  return Status::Ok();
}

Status PoolGeometry(const PoolParams& p, int in_h, int in_w, WindowGeometry* g, int* kernel_h, int* kernel_w) {
  if (p.is_adaptive) return Status::Unsupported("adaptive pooling is not supported");
  const int kh = p.kernel_h == 0 ? in_h : p.kernel_h;
  const int kw = p.kernel_w == 0 ? in_w : p.kernel_w;
  *kernel_h = kh;
  *kernel_w = kw;
  if (p.pad_type == -1) {
    // TNN: ceil or floor of the Caffe formula, then the bottom/right pads are whatever the last window needs
    // (never negative).
    const float fh = static_cast<float>(in_h + 2 * p.pad_h - kh) / static_cast<float>(p.stride_h) + 1;
    const float fw = static_cast<float>(in_w + 2 * p.pad_w - kw) / static_cast<float>(p.stride_w) + 1;
    g->out_h = static_cast<int>(p.ceil_mode ? std::ceil(fh) : std::floor(fh));
    g->out_w = static_cast<int>(p.ceil_mode ? std::ceil(fw) : std::floor(fw));
    g->pad_top = p.pad_h;
    g->pad_left = p.pad_w;
    g->pad_bottom = std::max(0, (g->out_h - 1) * p.stride_h + kh - in_h - p.pad_h);
    g->pad_right = std::max(0, (g->out_w - 1) * p.stride_w + kw - in_w - p.pad_w);
  } else {
    TfWindow(p.pad_type, in_h, kh, p.stride_h, &g->out_h, &g->pad_top, &g->pad_bottom);
    TfWindow(p.pad_type, in_w, kw, p.stride_w, &g->out_w, &g->pad_left, &g->pad_right);
  }
  if (g->out_h < 1 || g->out_w < 1) {
    return Status::InvalidArgument("pooling window " + std::to_string(kh) + "x" + std::to_string(kw) +
                                   " does not fit the " + std::to_string(in_h) + "x" + std::to_string(in_w) + " input");
  }
  return Status::Ok();
}

Status InferShapes(const Graph& graph, const BlobDims& input_dims, BlobDims* blob_dims) {
  blob_dims->clear();
  for (const auto& in : graph.inputs) {
    auto it = input_dims.find(in.name);
    const Dims& d = it != input_dims.end() ? it->second : in.dims;
    for (int v : d) {
      if (v < 1) return Status::InvalidArgument("input '" + in.name + "' has dims " + DimsToString(d));
    }
    (*blob_dims)[in.name] = d;
  }
  for (const auto& l : graph.layers) {
    std::vector<Dims> in;
    for (const auto& name : l.inputs) {
      auto it = blob_dims->find(name);
      if (it == blob_dims->end()) {
        return Status::InvalidArgument("layer '" + l.name + "' reads blob '" + name +
                                       "', which no earlier layer produces and is not a model input");
      }
      in.push_back(it->second);
    }
    if (in.empty()) return Status::InvalidArgument("layer '" + l.name + "' has no input");
    std::vector<Dims> out;
    QT_RETURN_IF_ERROR(InferLayer(graph, l, in, &out));
    if (out.size() != l.outputs.size()) {
      return Status::InvalidArgument("layer '" + l.name + "' (" + l.type_str + ") has " +
                                     std::to_string(l.outputs.size()) + " outputs, expected " +
                                     std::to_string(out.size()));
    }
    for (size_t i = 0; i < out.size(); ++i) (*blob_dims)[l.outputs[i]] = out[i];
  }
  return Status::Ok();
}

}  // namespace qt
