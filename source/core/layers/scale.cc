// Per-channel affine layers: Scale (Caffe) and BatchNormCxx (y = x·scale[c] + bias[c]).
#include "core/layers/scale.h"

#include "core/layers/layer.h"

namespace qt {
namespace {

Status ParseScale(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<ScaleParams>(*params);
  QT_RETURN_IF_ERROR(r.IntOr("axis", &p->axis, 1));
  QT_RETURN_IF_ERROR(r.IntOr("num_axes", &p->num_axes, 1));
  return r.IntOr("bias_term", &p->bias_term, 0);
}
void WriteScale(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<ScaleParams>(params);
  for (int v : {p.axis, p.num_axes, p.bias_term}) w.Int(v);
}

Status CheckScale(const Graph& g, const Layer& l) {
  QT_RETURN_IF_ERROR(CheckOneInOneOut(g, l));
  if (!FindResource<ScaleResource>(g, l)) return MissingResource(l, "scale");
  return Status::Ok();
}
Status CheckBatchNorm(const Graph& g, const Layer& l) {
  QT_RETURN_IF_ERROR(CheckOneInOneOut(g, l));
  if (!FindResource<BatchNormResource>(g, l)) return MissingResource(l, "batch norm");
  return Status::Ok();
}

class AffineExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const int channels = ctx.in_dims[0].size() > 1 ? ctx.in_dims[0][1] : 1;
    if (ctx.layer.type == LayerType::kBatchNorm) {
      const auto* r = FindResource<BatchNormResource>(ctx);
      if (!r) return Status::InvalidArgument("no batch norm resource");
      scale_ = r->scale.ToFloat();
      bias_ = r->bias.ToFloat();
    } else {
      const auto* r = FindResource<ScaleResource>(ctx);
      if (!r) return Status::InvalidArgument("no scale resource");
      scale_ = r->scale.ToFloat();
      if (r->bias_term) bias_ = r->bias.ToFloat();
    }
    // A single value is shared by every channel.
    if (scale_.size() == 1) scale_.assign(channels, scale_[0]);
    if (bias_.size() == 1) bias_.assign(channels, bias_[0]);
    if (static_cast<int>(scale_.size()) != channels || (!bias_.empty() && static_cast<int>(bias_.size()) != channels)) {
      return Status::InvalidArgument("has " + std::to_string(scale_.size()) + " per-channel values for " +
                                     std::to_string(channels) + " channels");
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const Tensor& x = *in[0];
    ChannelAffineFp32(x.data.data(), out[0]->data.data(), x.batch(), x.channels(), x.spatial(), scale_.data(),
                      bias_.empty() ? nullptr : bias_.data());
    return Status::Ok();
  }

 private:
  std::vector<float> scale_, bias_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<AffineExec>(); }

}  // namespace

const LayerKind& ScaleKind() {
  static const LayerKind kind{"Scale", {}, 16, false, DefaultOf<ScaleParams>, ParseScale, WriteScale, CheckScale,
                              InferSame, CreateFp32, nullptr};
  return kind;
}

// TNN's "BatchNormCxx" (alias "BatchNormalization") holds the folded per-channel scale and bias.
const LayerKind& BatchNormKind() {
  static const LayerKind kind{"BatchNormCxx", {"BatchNormalization"}, 2, true, NoParams, ParseNothing,
                              WriteNothing, CheckBatchNorm, InferSame, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
