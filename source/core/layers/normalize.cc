// Normalize: x divided by its L2 norm over the channels at each position (or, across_spatial, over C·H·W of each
// image). The SSD formula, x / sqrt(Σx² + epsilon) (NormalizeFp32); TNN divides by max(sqrt(Σx²), epsilon)
// instead, which differs only for norms within a few epsilon of 0 (epsilon is 1e-12 by default, Caffe's 1e-10).
// TNN's NAIVE layer refuses across_spatial; this one computes it as Caffe does.
#include "core/layers/normalize.h"

#include "core/kernels/detection_fp32.h"
#include "core/layers/layer.h"

namespace qt {
namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<NormalizeLayerParams>(*params);
  QT_RETURN_IF_ERROR(r.IntOr("across_spatial", &p->across_spatial, 0));
  QT_RETURN_IF_ERROR(r.FloatOr("epsilon", &p->epsilon, 1e-12f));
  QT_RETURN_IF_ERROR(r.IntOr("channel_shared", &p->channel_shared, 1));
  QT_RETURN_IF_ERROR(r.IntOr("axis", &p->axis, 1));
  return r.IntOr("p", &p->p, 2);
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<NormalizeLayerParams>(params);
  w.Int(p.across_spatial);
  w.Float(p.epsilon);
  w.Int(p.channel_shared);
  w.Int(p.axis);
  w.Int(p.p);
}

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const auto& p = l.Params<NormalizeLayerParams>();
  // TNN also has p = 1 and the max/min norms (p = INT_MAX/INT_MIN); the SSD kernel is the L2 norm.
  if (p.axis != 1 || p.p != 2) {
    return Status::Unsupported(LayerWhere(l) + ": axis " + std::to_string(p.axis) + " and p " +
                               std::to_string(p.p) + " (only the L2 norm over the channels, axis 1 and p 2)");
  }
  if (!(p.epsilon >= 0.f)) return Status::InvalidArgument(LayerWhere(l) + ": epsilon must be >= 0");
  if (in[0].size() < 2) {
    return Status::InvalidArgument(LayerWhere(l) + " needs an input with a channel axis, got " +
                                   DimsToString(in[0]));
  }
  out->assign(1, in[0]);
  return Status::Ok();
}

class NormalizeExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<NormalizeLayerParams>();
    params_.across_spatial = p.across_spatial != 0;
    params_.channel_shared = true;  // no scale here: a Caffe scale is the Mul after this layer
    params_.eps = p.epsilon;
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    return NormalizeFp32(params_, in[0]->data.data(), in[0]->dims, nullptr, out[0]->data.data());
  }

 private:
  NormalizeParams params_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<NormalizeExec>(); }

}  // namespace

const LayerKind& NormalizeKind() {
  static const LayerKind kind{"Normalize", {}, 45, false, DefaultOf<NormalizeLayerParams>, Parse, Write,
                              CheckOneInOneOut, Infer, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
