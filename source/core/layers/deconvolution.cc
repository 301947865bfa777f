// Deconvolution (transposed convolution, Caffe weight layout): float only, as in TNN's int8 runtime.
#include <algorithm>

#include "core/layers/convolution.h"
#include "core/layers/layer.h"

namespace qt {

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

namespace {

Status Parse(ParamReader& r, LayerParams* p) { return ParseConvParams(r, &std::get<ConvParams>(*p)); }
void Write(const LayerParams& p, ParamWriter& w) { WriteConvParams(std::get<ConvParams>(p), w); }

Status Check(const Graph& g, const Layer& l) {
  QT_RETURN_IF_ERROR(CheckOneInOneOut(g, l));
  const auto* c = FindResource<ConvResource>(g, l);
  if (!c) return MissingResource(l, "convolution");
  const auto& p = l.Params<ConvParams>();
  if (c->filter.count() % (int64_t{p.kernel_h} * p.kernel_w) != 0) {
    return Status::InvalidArgument(LayerWhere(l) + ": filter size is not a multiple of the kernel size");
  }
  if (c->has_bias) QT_RETURN_IF_ERROR(CheckCount(l, "bias", c->bias.count(), p.output_channel));
  return Status::Ok();
}

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  QT_RETURN_IF_ERROR(Require4D(l, x));
  const auto& p = l.Params<ConvParams>();
  WindowGeometry g;
  QT_RETURN_IF_ERROR(DeconvGeometry(p, x[2], x[3], &g).WithContext("layer '" + l.name + "'"));
  out->assign(1, Dims{x[0], p.output_channel, g.out_h, g.out_w});
  return Status::Ok();
}

class DeconvExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<ConvParams>();
    const auto* r = FindResource<ConvResource>(ctx);
    if (!r) return Status::InvalidArgument("no weights");
    if (r->filter.dtype() == DataType::kInt8) {
      return Status::InvalidArgument("has int8 weights but is not marked Quantized");
    }
    weights_ = r->filter.ToFloat();
    if (r->has_bias) bias_ = r->bias.ToFloat();
    const Dims& in = ctx.in_dims[0];
    WindowGeometry g;
    QT_RETURN_IF_ERROR(DeconvGeometry(p, in[2], in[3], &g));
    Status s;
    cp_ = Conv2dParams{in[0], in[1], in[2], in[3], p.output_channel, g.out_h, g.out_w, p.kernel_h, p.kernel_w,
                       p.stride_h, p.stride_w, g.pad_top, g.pad_left, p.dilation_h, p.dilation_w, p.group,
                       ToActivation(p.activation, &s)};
    if (weights_.size() != static_cast<size_t>(in[1]) * (p.output_channel / p.group) * p.kernel_h * p.kernel_w) {
      return Status::InvalidArgument("deconvolution weights do not match [in_c][out_c/group][kh][kw]");
    }
    return s;
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    Deconv2dFp32(cp_, in[0]->data.data(), weights_.data(), bias_.empty() ? nullptr : bias_.data(),
                 out[0]->data.data());
    return Status::Ok();
  }

 private:
  Conv2dParams cp_;
  std::vector<float> weights_, bias_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<DeconvExec>(); }

}  // namespace

const LayerKind& DeconvolutionKind() {
  static const LayerKind kind{"Deconvolution", {}, 22, false, DefaultOf<ConvParams>, Parse, Write, Check, Infer,
                              CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
