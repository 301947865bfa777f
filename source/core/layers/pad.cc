// Pad of H, W and C (constant, reflect, edge).
#include "core/layers/pad.h"

#include <limits>

#include "core/layers/layer.h"

namespace qt {
namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<PadParams>(*params);
  int ignored = 0;
  QT_RETURN_IF_ERROR(r.IntOr("n1", &ignored, 0));
  QT_RETURN_IF_ERROR(r.IntOr("n2", &ignored, 0));
  QT_RETURN_IF_ERROR(r.Int("pad_t", &p->pad_t));
  QT_RETURN_IF_ERROR(r.Int("pad_b", &p->pad_b));
  QT_RETURN_IF_ERROR(r.Int("pad_l", &p->pad_l));
  QT_RETURN_IF_ERROR(r.Int("pad_r", &p->pad_r));
  QT_RETURN_IF_ERROR(r.IntOr("pad_c_begin", &p->pad_c_begin, 0));
  QT_RETURN_IF_ERROR(r.IntOr("pad_c_end", &p->pad_c_end, 0));
  QT_RETURN_IF_ERROR(r.IntOr("type", &p->type, 0));
  QT_RETURN_IF_ERROR(r.FloatOr("value", &p->value, 0.f));
  if (p->type < 0 || p->type > 2) return Status::ParseError("pad type " + std::to_string(p->type) + " is not 0, 1 or 2");
  for (int v : {p->pad_t, p->pad_b, p->pad_l, p->pad_r, p->pad_c_begin, p->pad_c_end}) {
    if (v < 0) return Status::ParseError("negative pads are not supported");
  }
  return Status::Ok();
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<PadParams>(params);
  for (int v : {0, 0, p.pad_t, p.pad_b, p.pad_l, p.pad_r, p.pad_c_begin, p.pad_c_end, p.type}) w.Int(v);
  w.Float(p.value);
}

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  QT_RETURN_IF_ERROR(Require4D(l, x));
  const auto& p = l.Params<PadParams>();
  // Pads come from the file: summed in int64 so that huge ones are an error, not an overflow.
  const int64_t dims[3] = {int64_t{x[1]} + p.pad_c_begin + p.pad_c_end, int64_t{x[2]} + p.pad_t + p.pad_b,
                           int64_t{x[3]} + p.pad_l + p.pad_r};
  for (int64_t d : dims) {
    if (d < 1 || d > std::numeric_limits<int32_t>::max()) {
      return Status::InvalidArgument("layer '" + l.name + "' (Pad): pads give a dimension of " + std::to_string(d) +
                                     " for input " + DimsToString(x));
    }
  }
  out->assign(1, Dims{x[0], static_cast<int>(dims[0]), static_cast<int>(dims[1]), static_cast<int>(dims[2])});
  return Status::Ok();
}

class PadExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    pp_ = ToPadParams4d(ctx.layer.Params<PadParams>());
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    PadFp32(in[0]->data.data(), in[0]->dims, pp_, out[0]->data.data());
    return Status::Ok();
  }

 private:
  PadParams4d pp_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<PadExec>(); }

}  // namespace

PadParams4d ToPadParams4d(const PadParams& p) {
  return PadParams4d{p.pad_t, p.pad_b, p.pad_l, p.pad_r, p.pad_c_begin, p.pad_c_end,
                     p.type == 0 ? PadMode::kConstant : p.type == 1 ? PadMode::kReflect : PadMode::kEdge, p.value};
}

const LayerKind& PadKind() {
  static const LayerKind kind{"Pad", {}, 44, false, DefaultOf<PadParams>, Parse, Write, CheckOneInOneOut, Infer,
                              CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
