// InstanceNorm (TNN's InstBatchNormCxx, ONNX InstanceNormalization).
#include "core/layers/instance_norm.h"

#include <cmath>

#include "core/kernels/tensor_ops_fp32.h"
#include "core/layers/layer.h"

namespace qt {
namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<InstanceNormParams>(*params);
  QT_RETURN_IF_ERROR(r.IntOr("channels", &p->channels, 0));
  QT_RETURN_IF_ERROR(r.FloatOr("eps", &p->eps, 1e-5f));
  if (!(p->eps >= 0.f)) return Status::ParseError("eps " + FormatFloat(p->eps) + " must be >= 0");
  return Status::Ok();
}

void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<InstanceNormParams>(params);
  w.Int(p.channels);
  w.Float(p.eps);
}

Status Check(const Graph& g, const Layer& l) {
  QT_RETURN_IF_ERROR(CheckOneInOneOut(g, l));
  if (!FindResource<BatchNormResource>(g, l)) return MissingResource(l, "instance norm scale");
  return Status::Ok();
}

class InstanceNormExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const auto* r = FindResource<BatchNormResource>(ctx);
    eps_ = ctx.layer.Params<InstanceNormParams>().eps;
    scale_ = r->scale.ToFloat();
    bias_ = r->bias.ToFloat();
    const int channels = ctx.in_dims[0].size() > 1 ? ctx.in_dims[0][1] : 1;
    if (static_cast<int>(scale_.size()) != channels || (!bias_.empty() && static_cast<int>(bias_.size()) != channels)) {
      return Status::InvalidArgument("has " + std::to_string(scale_.size()) + " scales for " +
                                     std::to_string(channels) + " channels");
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const Tensor& x = *in[0];
    InstanceNormFp32(x.data.data(), out[0]->data.data(), x.batch(), x.channels(), x.spatial(), scale_.data(),
                     bias_.empty() ? nullptr : bias_.data(), eps_);
    return Status::Ok();
  }

 private:
  float eps_ = 1e-5f;
  std::vector<float> scale_, bias_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) {
  return std::make_unique<InstanceNormExec>();
}

}  // namespace

const LayerKind& InstanceNormKind() {
  static const LayerKind kind{"InstBatchNormCxx", {}, 43, false, DefaultOf<InstanceNormParams>, Parse, Write, Check,
                              InferSame, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
