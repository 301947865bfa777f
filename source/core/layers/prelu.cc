// PReLU: per-channel (or one shared) negative slope from the layer resource.
#include "core/layers/prelu.h"

#include "core/layers/layer.h"

namespace qt {
namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<PReluParams>(*params);
  QT_RETURN_IF_ERROR(r.IntOr("channel_shared", &p->channel_shared, 0));
  return r.IntOr("has_filler", &p->has_filler, 0);
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<PReluParams>(params);
  w.Int(p.channel_shared);
  w.Int(p.has_filler);
}

Status Check(const Graph& g, const Layer& l) {
  QT_RETURN_IF_ERROR(CheckOneInOneOut(g, l));
  if (!FindResource<PReluResource>(g, l)) return MissingResource(l, "PReLU slope");
  return Status::Ok();
}

class PReluExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const int channels = ctx.in_dims[0].size() > 1 ? ctx.in_dims[0][1] : 1;
    const auto* r = FindResource<PReluResource>(ctx);
    if (!r) return Status::InvalidArgument("no slope");
    slopes_ = r->slope.ToFloat();
    shared_ = ctx.layer.Params<PReluParams>().channel_shared != 0 || slopes_.size() == 1;
    if (!shared_ && static_cast<int>(slopes_.size()) != channels) {
      return Status::InvalidArgument("has " + std::to_string(slopes_.size()) + " per-channel values for " +
                                     std::to_string(channels) + " channels");
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const Tensor& x = *in[0];
    PReluFp32(x.data.data(), out[0]->data.data(), x.batch(), x.channels(), x.spatial(), slopes_.data(), shared_);
    return Status::Ok();
  }

 private:
  bool shared_ = false;
  std::vector<float> slopes_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<PReluExec>(); }

}  // namespace

const LayerKind& PReluKind() {
  static const LayerKind kind{"PReLU", {}, 35, false, DefaultOf<PReluParams>, Parse, Write, Check, InferSame,
                              CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
