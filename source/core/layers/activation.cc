// Elementwise activations without weights: ReLU (also int8), ReLU6, Clip, Sigmoid, Tanh, HardSwish, HardSigmoid.
#include "core/layers/activation.h"

#include <algorithm>

#include "core/layers/layer.h"

namespace qt {
namespace {

Status ParseClip(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<ClipParams>(*params);
  QT_RETURN_IF_ERROR(r.Float("min", &p->min));
  QT_RETURN_IF_ERROR(r.Float("max", &p->max));
  if (p->min > p->max) return Status::ParseError("clip min " + FormatFloat(p->min) + " > max " + FormatFloat(p->max));
  return Status::Ok();
}
void WriteClip(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<ClipParams>(params);
  w.Float(p.min);
  w.Float(p.max);
}

// The defaults differ by type (HardSwish alpha 1/6, HardSigmoid 0.2) and are already in *params.
Status ParseHard(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<HardActivationParams>(*params);
  QT_RETURN_IF_ERROR(r.FloatOr("alpha", &p->alpha, p->alpha));
  return r.FloatOr("beta", &p->beta, 0.5f);
}
void WriteHard(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<HardActivationParams>(params);
  w.Float(p.alpha);
  w.Float(p.beta);
}
LayerParams HardSwishDefaults() { return HardActivationParams{1.f / 6.f, 0.5f}; }
LayerParams HardSigmoidDefaults() { return HardActivationParams{0.2f, 0.5f}; }

class UnaryExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    type_ = ctx.layer.type;
    if (type_ == LayerType::kClip) clip_ = ctx.layer.Params<ClipParams>();
    if (type_ == LayerType::kHardSwish || type_ == LayerType::kHardSigmoid) {
      hard_ = ctx.layer.Params<HardActivationParams>();
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const float* x = in[0]->data.data();
    float* y = out[0]->data.data();
    const int64_t n = in[0]->count();
    switch (type_) {
      case LayerType::kRelu: ReluFp32(x, y, n); break;
      case LayerType::kRelu6: ClipFp32(x, y, n, 0.f, 6.f); break;
      case LayerType::kClip: ClipFp32(x, y, n, clip_.min, clip_.max); break;
      case LayerType::kSigmoid: SigmoidFp32(x, y, n); break;
      case LayerType::kTanh: TanhFp32(x, y, n); break;
      case LayerType::kHardSwish: HardSwishFp32(x, y, n, hard_.alpha, hard_.beta); break;
      case LayerType::kHardSigmoid: HardSigmoidFp32(x, y, n, hard_.alpha, hard_.beta); break;
      default: std::copy(x, x + n, y); break;
    }
    return Status::Ok();
  }

 private:
  LayerType type_ = LayerType::kRelu;
  ClipParams clip_;
  HardActivationParams hard_;
};

// ReLU on int8 values: the input and output share one scale (the quantizer merges them, tnn_format.md §D.7).
class ReluInt8Exec : public LayerExec {
 public:
  bool is_int8() const override { return true; }
  Status Prepare(const LayerContext&) override { return Status::Ok(); }
  Status ForwardInt8(const std::vector<const Int8Tensor*>& in, const std::vector<Int8Tensor*>& out) override {
    ReluInt8Ref(in[0]->data.data(), out[0]->data.data(), in[0]->count());
    return Status::Ok();
  }
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<UnaryExec>(); }
std::unique_ptr<LayerExec> CreateReluInt8(const Layer&) { return std::make_unique<ReluInt8Exec>(); }

}  // namespace

const LayerKind& ReluKind() {
  static const LayerKind kind{"ReLU", {"Relu"}, 5, true, NoParams, ParseNothing, WriteNothing, CheckOneInOneOut,
                              InferSame, CreateFp32, CreateReluInt8};
  return kind;
}
const LayerKind& Relu6Kind() {
  static const LayerKind kind{"ReLU6", {"Relu6"}, 125, false, NoParams, ParseNothing, WriteNothing,
                              CheckOneInOneOut, InferSame, CreateFp32, nullptr};
  return kind;
}
const LayerKind& ClipKind() {
  static const LayerKind kind{"Clip", {}, 171, false, DefaultOf<ClipParams>, ParseClip, WriteClip,
                              CheckOneInOneOut, InferSame, CreateFp32, nullptr};
  return kind;
}
const LayerKind& SigmoidKind() {
  static const LayerKind kind{"Sigmoid", {}, 23, true, NoParams, ParseNothing, WriteNothing, CheckOneInOneOut,
                              InferSame, CreateFp32, nullptr};
  return kind;
}
const LayerKind& TanhKind() {
  static const LayerKind kind{"Tanh", {}, 39, false, NoParams, ParseNothing, WriteNothing, CheckOneInOneOut,
                              InferSame, CreateFp32, nullptr};
  return kind;
}
const LayerKind& HardSwishKind() {
  static const LayerKind kind{"HardSwish", {}, 173, false, HardSwishDefaults, ParseHard, WriteHard,
                              CheckOneInOneOut, InferSame, CreateFp32, nullptr};
  return kind;
}
const LayerKind& HardSigmoidKind() {
  static const LayerKind kind{"HardSigmoid", {}, 172, false, HardSigmoidDefaults, ParseHard, WriteHard,
                              CheckOneInOneOut, InferSame, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
