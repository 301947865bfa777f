// Convolution (incl. grouped and depthwise): TNN params, geometry, float and int8 execution.
#include "core/layers/convolution.h"

#include <algorithm>
#include <cfloat>

#include "core/layers/layer.h"

namespace qt {

Status ParseConvParams(ParamReader& r, ConvParams* p) {
  QT_RETURN_IF_ERROR(r.Int("group", &p->group));
  QT_RETURN_IF_ERROR(r.Int("input_channel", &p->input_channel));
  QT_RETURN_IF_ERROR(r.Int("output_channel", &p->output_channel));
  QT_RETURN_IF_ERROR(r.Int("kernel_h", &p->kernel_h));
  QT_RETURN_IF_ERROR(r.Int("kernel_w", &p->kernel_w));
  QT_RETURN_IF_ERROR(r.Int("stride_h", &p->stride_h));
  QT_RETURN_IF_ERROR(r.Int("stride_w", &p->stride_w));
  QT_RETURN_IF_ERROR(r.Int("pad_h", &p->pad_h));
  QT_RETURN_IF_ERROR(r.Int("pad_w", &p->pad_w));
  QT_RETURN_IF_ERROR(r.IntOr("has_bias", &p->has_bias, 0));
  QT_RETURN_IF_ERROR(r.IntOr("pad_type", &p->pad_type, 0));
  QT_RETURN_IF_ERROR(r.IntOr("dilation_h", &p->dilation_h, 1));
  QT_RETURN_IF_ERROR(r.IntOr("dilation_w", &p->dilation_w, 1));
  QT_RETURN_IF_ERROR(r.IntOr("activation", &p->activation, 0));
  if (p->group < 1 || p->input_channel < 1 || p->output_channel < 1 || p->output_channel % p->group != 0) {
    return Status::ParseError("group " + std::to_string(p->group) + ", input_channel " +
                              std::to_string(p->input_channel) + ", output_channel " +
                              std::to_string(p->output_channel) +
                              ": channels must be positive and output_channel divisible by group");
  }
  if (p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 ||
      p->dilation_w < 1 || p->pad_h < 0 || p->pad_w < 0) {
    return Status::ParseError("kernel, stride and dilation must be >= 1 and pads >= 0");
  }
  if ((p->pad_type < -1 || p->pad_type > 1) && p->pad_type != 3) {
    return Status::ParseError("pad_type " + std::to_string(p->pad_type) + " is not -1, 0, 1 or 3");
  }
  return Status::Ok();
}

void WriteConvParams(const ConvParams& p, ParamWriter& w) {
  for (int v : {p.group, p.input_channel, p.output_channel, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_h,
                p.pad_w, p.has_bias, p.pad_type, p.dilation_h, p.dilation_w, p.activation}) {
    w.Int(v);
  }
}

void TfWindow(int pad_type, int in, int k, int stride, int* out, int* pad_begin, int* pad_end) {
  *out = pad_type == 0 ? (in + stride - 1) / stride : (in - k + stride) / stride;
  const int along = std::max(0, (*out - 1) * stride + k - in);
  *pad_begin = along / 2;
  *pad_end = along - *pad_begin;
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

namespace {

Status Parse(ParamReader& r, LayerParams* p) { return ParseConvParams(r, &std::get<ConvParams>(*p)); }
void Write(const LayerParams& p, ParamWriter& w) { WriteConvParams(std::get<ConvParams>(p), w); }

Status Check(const Graph& g, const Layer& l) {
  QT_RETURN_IF_ERROR(CheckOneInOneOut(g, l));
  const auto* c = FindResource<ConvResource>(g, l);
  if (!c) return MissingResource(l, "convolution");
  const auto& p = l.Params<ConvParams>();
  // TNN takes the input channels per group from the input blob, not from the input_channel param (which some
  // converters fill with the total for depthwise layers): the filter must hold whole [ic/group][kh][kw] blocks.
  const int64_t per_ic = int64_t{p.output_channel} * p.kernel_h * p.kernel_w;
  if (c->filter.count() == 0 || c->filter.count() % per_ic != 0) {
    return Status::InvalidArgument(LayerWhere(l) + ": filter has " + std::to_string(c->filter.count()) +
                                   " values, not a multiple of output_channel x kernel = " + std::to_string(per_ic));
  }
  if (c->has_bias) QT_RETURN_IF_ERROR(CheckCount(l, "bias", c->bias.count(), p.output_channel));
  if (c->filter.dtype() == DataType::kInt8) {
    const int64_t n = c->scale.count();
    if (n != 1 && n != p.output_channel) {
      return Status::InvalidArgument(LayerWhere(l) + ": weight scale has " + std::to_string(n) +
                                     " values, expected 1 or " + std::to_string(p.output_channel));
    }
  }
  return Status::Ok();
}

Status Infer(const Graph& graph, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  QT_RETURN_IF_ERROR(Require4D(l, x));
  const auto& p = l.Params<ConvParams>();
  const auto* c = FindResource<ConvResource>(graph, l);
  const int64_t per_group =
      c ? c->filter.count() / (int64_t{p.output_channel} * p.kernel_h * p.kernel_w) : int64_t{p.input_channel};
  if (x[1] != p.group * per_group) {
    return Status::InvalidArgument("layer '" + l.name + "': input " + DimsToString(x) + " has " +
                                   std::to_string(x[1]) + " channels but the convolution expects group " +
                                   std::to_string(p.group) + " x " + std::to_string(per_group));
  }
  WindowGeometry g;
  QT_RETURN_IF_ERROR(ConvGeometry(p, x[2], x[3], &g).WithContext("layer '" + l.name + "'"));
  out->assign(1, Dims{x[0], p.output_channel, g.out_h, g.out_w});
  return Status::Ok();
}

Conv2dParams MakeConv2dParams(const ConvParams& p, const Dims& in, const WindowGeometry& g, Activation act) {
  return Conv2dParams{in[0], in[1], in[2], in[3], p.output_channel, g.out_h, g.out_w, p.kernel_h, p.kernel_w,
                      p.stride_h, p.stride_w, g.pad_top, g.pad_left, p.dilation_h, p.dilation_w, p.group, act};
}

class ConvExec : public LayerExec {
 public:
  explicit ConvExec(bool tnn_naive) : tnn_naive_(tnn_naive) {}
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<ConvParams>();
    const auto* r = FindResource<ConvResource>(ctx);
    if (!r) return Status::InvalidArgument("no weights");
    if (r->filter.dtype() == DataType::kInt8) {
      return Status::InvalidArgument("has int8 weights but is not marked Quantized");
    }
    weights_ = r->filter.ToFloat();
    if (r->has_bias) bias_ = r->bias.ToFloat();
    WindowGeometry g;
    QT_RETURN_IF_ERROR(ConvGeometry(p, ctx.in_dims[0][2], ctx.in_dims[0][3], &g));
    Status s;
    cp_ = MakeConv2dParams(p, ctx.in_dims[0], g, ToActivation(p.activation, &s));
    if (s.ok() && !tnn_naive_) {
      conv_.Init(cp_, weights_.data(), bias_.empty() ? nullptr : bias_.data());
      // The packed copy is all this path reads; the float weights would otherwise be held twice.
      std::vector<float>().swap(weights_);
      std::vector<float>().swap(bias_);
    }
    return s;
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    if (tnn_naive_) {
      Conv2dFp32Tnn(cp_, in[0]->data.data(), weights_.data(), bias_.empty() ? nullptr : bias_.data(),
                    out[0]->data.data());
    } else {
      conv_.Run(in[0]->data.data(), out[0]->data.data());
    }
    return Status::Ok();
  }
  const ConvFp32* fp32_conv() const override { return tnn_naive_ ? nullptr : &conv_; }

 private:
  bool tnn_naive_;
  Conv2dParams cp_;
  std::vector<float> weights_, bias_;  // the TNN-naive path only
  ConvFp32 conv_;                      // weights packed once at Prepare
};

// The Add operand of a fused convolution (TNN's CpuConvLayerAcc::Init): add_scale[oc] = s_a / s_out (0 where
// s_out < FLT_MIN), and the operand's zero point indexed as the output's (TNN's `output_bias_idx`).
Status MakeAddFusion(const LayerContext& ctx, int out_c, Int8Requant* r) {
  const BlobScale *a = nullptr, *o = nullptr;
  QT_RETURN_IF_ERROR(BlobScaleOf(ctx, ctx.layer.inputs[1], &a));
  QT_RETURN_IF_ERROR(BlobScaleOf(ctx, ctx.layer.outputs[0], &o));
  std::vector<float> sa, so;
  QT_RETURN_IF_ERROR(Expand(a->scale, out_c, "fused Add operand '" + ctx.layer.inputs[1] + "' scale", &sa));
  QT_RETURN_IF_ERROR(Expand(o->scale, out_c, "output blob '" + ctx.layer.outputs[0] + "' scale", &so));
  std::vector<int8_t> za = a->zero_point;
  if (o->zero_point.size() <= 1 && !za.empty()) za.resize(1);
  QT_RETURN_IF_ERROR(Expand(za, out_c, "fused Add operand zero point", &r->add_zero));
  r->add_scale.resize(out_c);
  for (int c = 0; c < out_c; ++c) r->add_scale[c] = so[c] >= FLT_MIN ? sa[c] / so[c] : 0.f;
  r->fusion = ctx.layer.Params<ConvParams>().fusion == 1 ? ConvAddFusion::kAddThenActivation
                                                          : ConvAddFusion::kActivationThenAdd;
  return Status::Ok();
}

class ConvInt8Exec : public LayerExec {
 public:
  bool is_int8() const override { return true; }
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<ConvParams>();
    fused_ = p.fusion != 0;
    const auto* res = FindResource<ConvResource>(ctx);
    if (!res) return Status::InvalidArgument("no weights");
    if (res->filter.dtype() != DataType::kInt8) return Status::InvalidArgument("is Quantized but its weights are not int8");
    const Dims& in = ctx.in_dims[0];
    WindowGeometry g;
    QT_RETURN_IF_ERROR(ConvGeometry(p, in[2], in[3], &g));
    Int8Requant r;
    QT_RETURN_IF_ERROR(MakeRequant(ctx, res->scale, res->zero_point, p.output_channel, in[1], p.activation, &r));
    const std::vector<int32_t> bias = Int32Bias(res->bias);
    if (!bias.empty() && static_cast<int>(bias.size()) != p.output_channel) {
      return Status::InvalidArgument("int32 bias has " + std::to_string(bias.size()) + " values for " +
                                     std::to_string(p.output_channel) + " output channels");
    }
    const std::vector<int8_t> w = res->filter.As<int8_t>();
    if (fused_) {
      if (ctx.layer.inputs.size() != 2 || ctx.in_dims[1] != ctx.out_dims[0]) {
        return Status::Internal("a fused convolution + Add needs the Add operand, of the output's dims");
      }
      QT_RETURN_IF_ERROR(MakeAddFusion(ctx, p.output_channel, &r));
    }
    conv_.Init(MakeConv2dParams(p, in, g, Activation::kNone), w.data(), bias.empty() ? nullptr : bias.data(),
               std::move(r));
    return Status::Ok();
  }
  Status ForwardInt8(const std::vector<const Int8Tensor*>& in, const std::vector<Int8Tensor*>& out) override {
    conv_.Run(in[0]->data.data(), out[0]->data.data(), fused_ ? in[1]->data.data() : nullptr);
    return Status::Ok();
  }

 private:
  ConvInt8 conv_;
  bool fused_ = false;  // a convolution + Add: in[1] is the Add's other operand
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options& o) {
  return std::make_unique<ConvExec>(o.tnn_naive);
}
std::unique_ptr<LayerExec> CreateInt8(const Layer&) { return std::make_unique<ConvInt8Exec>(); }

}  // namespace

const LayerKind& ConvolutionKind() {
  static const LayerKind kind{"Convolution", {}, 1, true, DefaultOf<ConvParams>, Parse, Write, Check, Infer,
                              CreateFp32, CreateInt8};
  return kind;
}

}  // namespace qt
