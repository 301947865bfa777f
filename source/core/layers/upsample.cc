// Upsample (nearest, bilinear) by scales or to an output size.
#include "core/layers/upsample.h"

#include <cmath>

#include "core/layers/layer.h"

namespace qt {
namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<UpsampleParams>(*params);
  QT_RETURN_IF_ERROR(r.Int("mode", &p->mode));
  QT_RETURN_IF_ERROR(r.Float("scale_h", &p->scale_h));
  QT_RETURN_IF_ERROR(r.Float("scale_w", &p->scale_w));
  QT_RETURN_IF_ERROR(r.IntOr("align_corners", &p->align_corners, 0));
  QT_RETURN_IF_ERROR(r.IntOr("output_h", &p->output_h, 0));
  QT_RETURN_IF_ERROR(r.IntOr("output_w", &p->output_w, 0));
  if (p->mode != 1 && p->mode != 2) {
    return Status::Unsupported("Upsample mode " + std::to_string(p->mode) + " (only 1 nearest and 2 bilinear)");
  }
  if (p->output_h < 0 || p->output_w < 0 || ((p->output_h == 0 || p->output_w == 0) &&
                                              (p->scale_h <= 0.f || p->scale_w <= 0.f))) {
    return Status::ParseError("Upsample needs positive scales or output sizes");
  }
  return Status::Ok();
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<UpsampleParams>(params);
  w.Int(p.mode);
  w.Float(p.scale_h);
  w.Float(p.scale_w);
  w.Int(p.align_corners);
  w.Int(p.output_h);
  w.Int(p.output_w);
}

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
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

class UpsampleExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<UpsampleParams>();
    const Dims& in = ctx.in_dims[0];
    const Dims& o = ctx.out_dims[0];
    rp_ = ResizeParams{in[0], in[1], in[2], in[3], o[2], o[3],
                       p.mode == 1 ? ResizeMode::kNearest : ResizeMode::kLinear, p.align_corners != 0};
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    ResizeFp32(rp_, in[0]->data.data(), out[0]->data.data());
    return Status::Ok();
  }

 private:
  ResizeParams rp_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<UpsampleExec>(); }

}  // namespace

const LayerKind& UpsampleKind() {
  static const LayerKind kind{"Upsample", {}, 149, true, DefaultOf<UpsampleParams>, Parse, Write, CheckOneInOneOut,
                              Infer, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
