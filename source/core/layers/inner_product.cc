// InnerProduct: every dim from `axis` on is the input vector; float and int8 execution.
#include "core/layers/inner_product.h"

#include <algorithm>

#include "core/layers/layer.h"

namespace qt {
namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<InnerProductParams>(*params);
  QT_RETURN_IF_ERROR(r.Int("num_output", &p->num_output));
  QT_RETURN_IF_ERROR(r.Int("has_bias", &p->has_bias));
  QT_RETURN_IF_ERROR(r.Int("transpose", &p->transpose));
  QT_RETURN_IF_ERROR(r.Int("axis", &p->axis));
  if (p->num_output < 1) return Status::ParseError("num_output " + std::to_string(p->num_output) + " must be >= 1");
  if (p->transpose != 0) return Status::Unsupported("InnerProduct with transpose=1 is not supported");
  return Status::Ok();
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<InnerProductParams>(params);
  for (int v : {p.num_output, p.has_bias, p.transpose, p.axis}) w.Int(v);
}

Status Check(const Graph& g, const Layer& l) {
  QT_RETURN_IF_ERROR(CheckOneInOneOut(g, l));
  const auto* f = FindResource<InnerProductResource>(g, l);
  if (!f) return MissingResource(l, "inner product");
  const auto& p = l.Params<InnerProductParams>();
  if (f->weight.count() == 0 || f->weight.count() % p.num_output != 0) {
    return Status::InvalidArgument(LayerWhere(l) + ": weight has " + std::to_string(f->weight.count()) +
                                   " values, not a multiple of num_output " + std::to_string(p.num_output));
  }
  if (p.has_bias) QT_RETURN_IF_ERROR(CheckCount(l, "bias", f->bias.count(), p.num_output));
  return Status::Ok();
}

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
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

InnerProductParams2 GemmShape(const InnerProductParams& p, const Dims& in) {
  const int axis = NormalizeAxis(p.axis, in.size());
  InnerProductParams2 ip;
  ip.m = static_cast<int>(DimsCount(Dims(in.begin(), in.begin() + axis)));
  ip.k = static_cast<int>(DimsCount(in, axis));
  ip.n = p.num_output;
  return ip;
}

class InnerProductExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<InnerProductParams>();
    const auto* r = FindResource<InnerProductResource>(ctx);
    if (!r) return Status::InvalidArgument("no weights");
    if (r->weight.dtype() == DataType::kInt8) return Status::InvalidArgument("has int8 weights but is not Quantized");
    weights_ = r->weight.ToFloat();
    if (p.has_bias) bias_ = r->bias.ToFloat();
    const Dims& in = ctx.in_dims[0];
    ip_ = GemmShape(p, in);
    if (static_cast<int64_t>(weights_.size()) != int64_t{ip_.n} * ip_.k) {
      return Status::InvalidArgument("weights hold " + std::to_string(weights_.size()) + " values but the input " +
                                     DimsToString(in) + " needs " + std::to_string(int64_t{ip_.n} * ip_.k));
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    InnerProductFp32(ip_, in[0]->data.data(), weights_.data(), bias_.empty() ? nullptr : bias_.data(),
                     out[0]->data.data());
    return Status::Ok();
  }

 private:
  InnerProductParams2 ip_;
  std::vector<float> weights_, bias_;
};

class InnerProductInt8Exec : public LayerExec {
 public:
  bool is_int8() const override { return true; }
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<InnerProductParams>();
    const auto* res = FindResource<InnerProductResource>(ctx);
    if (!res) return Status::InvalidArgument("no weights");
    if (res->weight.dtype() != DataType::kInt8) return Status::InvalidArgument("is Quantized but its weights are not int8");
    const Dims& in = ctx.in_dims[0];
    const InnerProductParams2 ip = GemmShape(p, in);
    if (res->weight.count() != int64_t{ip.n} * ip.k) {
      return Status::InvalidArgument("weights hold " + std::to_string(res->weight.count()) + " values but the input " +
                                     DimsToString(in) + " needs " + std::to_string(int64_t{ip.n} * ip.k));
    }
    // TNN indexes the input zero point by the channel of each input element (dim 1).
    const int channels = in.size() > 1 ? in[1] : 1;
    Int8Requant r;
    QT_RETURN_IF_ERROR(MakeRequant(ctx, res->scale, res->zero_point, ip.n, channels, kActivationNone, &r));
    const int64_t per_channel = ip.k / std::max(channels, 1);
    std::vector<int8_t> zk(ip.k);
    for (int k = 0; k < ip.k; ++k) zk[k] = r.in_zero[std::min<int64_t>(k / std::max<int64_t>(per_channel, 1), channels - 1)];
    r.in_zero = std::move(zk);
    std::vector<int32_t> bias = p.has_bias ? Int32Bias(res->bias) : std::vector<int32_t>();
    if (!bias.empty() && static_cast<int>(bias.size()) != ip.n) {
      return Status::InvalidArgument("int32 bias has " + std::to_string(bias.size()) + " values for " +
                                     std::to_string(ip.n) + " outputs");
    }
    const std::vector<int8_t> w = res->weight.As<int8_t>();
    fc_.Init(ip, w.data(), bias.empty() ? nullptr : bias.data(), std::move(r));
    return Status::Ok();
  }
  Status ForwardInt8(const std::vector<const Int8Tensor*>& in, const std::vector<Int8Tensor*>& out) override {
    fc_.Run(in[0]->data.data(), out[0]->data.data());
    return Status::Ok();
  }

 private:
  InnerProductInt8 fc_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) {
  return std::make_unique<InnerProductExec>();
}
std::unique_ptr<LayerExec> CreateInt8(const Layer&) { return std::make_unique<InnerProductInt8Exec>(); }

}  // namespace

const LayerKind& InnerProductKind() {
  static const LayerKind kind{"InnerProduct", {}, 19, true, DefaultOf<InnerProductParams>, Parse, Write, Check,
                              Infer, CreateFp32, CreateInt8};
  return kind;
}

}  // namespace qt
