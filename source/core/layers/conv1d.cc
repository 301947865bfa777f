// Convolution1D: a 2-D convolution of height 1 on the same packed kernels, with TNN's 1-D geometry.
#include "core/layers/conv1d.h"

#include <algorithm>

#include "core/layers/layer.h"

namespace qt {
namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<Conv1dParams>(*params);
  QT_RETURN_IF_ERROR(r.Int("group", &p->group));
  QT_RETURN_IF_ERROR(r.Int("input_channel", &p->input_channel));
  QT_RETURN_IF_ERROR(r.Int("output_channel", &p->output_channel));
  QT_RETURN_IF_ERROR(r.Int("kernel", &p->kernel));
  QT_RETURN_IF_ERROR(r.Int("stride", &p->stride));
  QT_RETURN_IF_ERROR(r.Int("pad", &p->pad_first));
  QT_RETURN_IF_ERROR(r.IntOr("pad", &p->pad_second, 0));
  QT_RETURN_IF_ERROR(r.IntOr("has_bias", &p->has_bias, 0));
  QT_RETURN_IF_ERROR(r.IntOr("pad_type", &p->pad_type, 0));
  QT_RETURN_IF_ERROR(r.IntOr("dilation", &p->dilation, 1));
  QT_RETURN_IF_ERROR(r.IntOr("activation", &p->activation, 0));
  if (p->group < 1 || p->output_channel < 1 || p->output_channel % p->group != 0) {
    return Status::ParseError("group " + std::to_string(p->group) + ", output_channel " +
                              std::to_string(p->output_channel) +
                              ": channels must be positive and output_channel divisible by group");
  }
  if (p->kernel < 1 || p->stride < 1 || p->dilation < 1 || p->pad_first < 0 || p->pad_second < 0) {
    return Status::ParseError("kernel, stride and dilation must be >= 1 and pads >= 0");
  }
  if (p->pad_type < -1 || p->pad_type > 1) {
    return Status::ParseError("pad_type " + std::to_string(p->pad_type) + " is not -1, 0 or 1");
  }
  return Status::Ok();
}

void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<Conv1dParams>(params);
  for (int v : {p.group, p.input_channel, p.output_channel, p.kernel, p.stride, p.pad_first, p.pad_second,
                p.has_bias, p.pad_type, p.dilation, p.activation}) {
    w.Int(v);
  }
}

// TNN's conv1d_layer.cc: SAME and VALID sizes use the undilated kernel.
Status Geometry(const Conv1dParams& p, int len, int* out, int* pad_begin) {
  const int ext = (p.kernel - 1) * p.dilation + 1;
  if (p.pad_type == -1) {
    *out = (len + p.pad_first + p.pad_second - ext) / p.stride + 1;
    *pad_begin = p.pad_second;
  } else {
    *out = p.pad_type == 0 ? (len + p.stride - 1) / p.stride : (len - p.kernel + p.stride) / p.stride;
    const int along = (*out - 1) * p.stride + p.kernel - len;
    *pad_begin = std::max(0, along / 2);
  }
  if (*out < 1) {
    return Status::InvalidArgument("1-D kernel " + std::to_string(p.kernel) + " does not fit the length " +
                                   std::to_string(len));
  }
  return Status::Ok();
}

Status Check(const Graph& g, const Layer& l) {
  QT_RETURN_IF_ERROR(CheckOneInOneOut(g, l));
  const auto* c = FindResource<ConvResource>(g, l);
  if (!c) return MissingResource(l, "convolution");
  const auto& p = l.Params<Conv1dParams>();
  const int64_t per_ic = int64_t{p.output_channel} * p.kernel;
  if (c->filter.count() == 0 || c->filter.count() % per_ic != 0) {
    return Status::InvalidArgument(LayerWhere(l) + ": filter has " + std::to_string(c->filter.count()) +
                                   " values, not a multiple of output_channel x kernel = " + std::to_string(per_ic));
  }
  if (c->has_bias) QT_RETURN_IF_ERROR(CheckCount(l, "bias", c->bias.count(), p.output_channel));
  if (c->filter.dtype() == DataType::kInt8) {
    return Status::Unsupported(LayerWhere(l) + ": int8 Convolution1D weights (TNN runs it in float only)");
  }
  return Status::Ok();
}

Status Infer(const Graph& graph, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  if (x.size() != 3) {
    return Status::InvalidArgument(LayerWhere(l) + " needs an N x C x L input, got " + DimsToString(x));
  }
  const auto& p = l.Params<Conv1dParams>();
  const int64_t per_group = FindResource<ConvResource>(graph, l)->filter.count() / (int64_t{p.output_channel} * p.kernel);
  if (x[1] != p.group * per_group) {
    return Status::InvalidArgument("layer '" + l.name + "': input " + DimsToString(x) + " has " +
                                   std::to_string(x[1]) + " channels but the convolution expects group " +
                                   std::to_string(p.group) + " x " + std::to_string(per_group));
  }
  int len = 0, pad = 0;
  QT_RETURN_IF_ERROR(Geometry(p, x[2], &len, &pad).WithContext("layer '" + l.name + "'"));
  out->assign(1, Dims{x[0], p.output_channel, len});
  return Status::Ok();
}

class Conv1dExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<Conv1dParams>();
    const auto* r = FindResource<ConvResource>(ctx);
    const std::vector<float> w = r->filter.ToFloat();
    const std::vector<float> b = r->has_bias ? r->bias.ToFloat() : std::vector<float>();
    const Dims& in = ctx.in_dims[0];
    int len = 0, pad = 0;
    QT_RETURN_IF_ERROR(Geometry(p, in[2], &len, &pad));
    Status s;
    const Conv2dParams cp{in[0], in[1], 1, in[2], p.output_channel, 1, len, 1, p.kernel, 1, p.stride, 0, pad,
                          1, p.dilation, p.group, ToActivation(p.activation, &s)};
    QT_RETURN_IF_ERROR(s);
    conv_.Init(cp, w.data(), b.empty() ? nullptr : b.data());
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    conv_.Run(in[0]->data.data(), out[0]->data.data());
    return Status::Ok();
  }

 private:
  ConvFp32 conv_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<Conv1dExec>(); }

}  // namespace

const LayerKind& Convolution1DKind() {
  static const LayerKind kind{"Convolution1D", {}, 203, false, DefaultOf<Conv1dParams>, Parse, Write, Check, Infer,
                              CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
