// Elementwise math layers: Exp, Log, Sqrt, Abs, Neg, Elu, Softplus, Swish, Power. One float executor
// (UnaryFp32); none has an int8 kernel, so a quantized graph keeps them float.
#include "core/layers/unary.h"

#include "core/kernels/tensor_ops_fp32.h"
#include "core/layers/layer.h"

namespace qt {
namespace {

Status ParseElu(ParamReader& r, LayerParams* params) {
  return r.FloatOr("alpha", &std::get<EluParams>(*params).alpha, 1.f);
}
void WriteElu(const LayerParams& params, ParamWriter& w) { w.Float(std::get<EluParams>(params).alpha); }

Status ParsePower(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<PowerParams>(*params);
  QT_RETURN_IF_ERROR(r.FloatOr("exponent", &p->exponent, 1.f));
  QT_RETURN_IF_ERROR(r.FloatOr("scale", &p->scale, 1.f));
  return r.FloatOr("shift", &p->shift, 0.f);
}
void WritePower(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<PowerParams>(params);
  w.Float(p.exponent);
  w.Float(p.scale);
  w.Float(p.shift);
}

UnaryOp OpOf(LayerType type) {
  switch (type) {
    case LayerType::kExp: return UnaryOp::kExp;
    case LayerType::kLog: return UnaryOp::kLog;
    case LayerType::kSqrt: return UnaryOp::kSqrt;
    case LayerType::kAbs: return UnaryOp::kAbs;
    case LayerType::kNeg: return UnaryOp::kNeg;
    case LayerType::kElu: return UnaryOp::kElu;
    case LayerType::kSoftplus: return UnaryOp::kSoftplus;
    case LayerType::kSwish: return UnaryOp::kSwish;
    default: return UnaryOp::kPower;
  }
}

class MathExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    op_ = OpOf(ctx.layer.type);
    if (ctx.layer.type == LayerType::kElu) params_.alpha = ctx.layer.Params<EluParams>().alpha;
    if (ctx.layer.type == LayerType::kPower) {
      const auto& p = ctx.layer.Params<PowerParams>();
      params_.power = p.exponent;
      params_.scale = p.scale;
      params_.shift = p.shift;
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    UnaryFp32(op_, in[0]->data.data(), out[0]->data.data(), in[0]->count(), params_);
    return Status::Ok();
  }

 private:
  UnaryOp op_ = UnaryOp::kExp;
  UnaryParams params_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<MathExec>(); }

LayerKind Plain(const char* name, int id) {
  return LayerKind{name, {}, id, false, NoParams, ParseNothing, WriteNothing, CheckOneInOneOut, InferSame,
                   CreateFp32, nullptr};
}

}  // namespace

const LayerKind& ExpKind() {
  static const LayerKind kind = Plain("Exp", 141);
  return kind;
}
const LayerKind& LogKind() {
  static const LayerKind kind = Plain("Log", 184);
  return kind;
}
const LayerKind& SqrtKind() {
  static const LayerKind kind = Plain("Sqrt", 130);
  return kind;
}
const LayerKind& AbsKind() {
  static const LayerKind kind = Plain("Abs", 41);
  return kind;
}
const LayerKind& NegKind() {
  static const LayerKind kind = Plain("Neg", 70);
  return kind;
}
const LayerKind& EluKind() {
  static const LayerKind kind{"Elu", {}, 132, false, DefaultOf<EluParams>, ParseElu, WriteElu, CheckOneInOneOut,
                              InferSame, CreateFp32, nullptr};
  return kind;
}
const LayerKind& SoftplusKind() {
  static const LayerKind kind = Plain("Softplus", 174);
  return kind;
}
const LayerKind& SwishKind() {
  static const LayerKind kind = Plain("Swish", 401);
  return kind;
}
const LayerKind& PowerKind() {
  static const LayerKind kind{"Power", {}, 69, false, DefaultOf<PowerParams>, ParsePower, WritePower,
                              CheckOneInOneOut, InferSame, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
