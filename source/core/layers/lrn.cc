// LRN across channels: y = x / (bias + alpha/size · Σ x²)^beta over a window of channels around each one, as
// TNN's NAIVE layer (4-D, across channels only) and Caffe's ACROSS_CHANNELS compute it.
#include "core/layers/lrn.h"

#include "core/kernels/tensor_ops_fp32.h"
#include "core/layers/layer.h"

namespace qt {
namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<LrnLayerParams>(*params);
  QT_RETURN_IF_ERROR(r.Float("alpha", &p->alpha));
  QT_RETURN_IF_ERROR(r.Float("beta", &p->beta));
  QT_RETURN_IF_ERROR(r.Float("bias", &p->bias));
  return r.Int("size", &p->size);
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<LrnLayerParams>(params);
  w.Float(p.alpha);
  w.Float(p.beta);
  w.Float(p.bias);
  w.Int(p.size);
}

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  QT_RETURN_IF_ERROR(Require4D(l, in[0]));
  const int size = l.Params<LrnLayerParams>().size;
  if (size < 1 || size > 4096) {
    return Status::InvalidArgument(LayerWhere(l) + ": size " + std::to_string(size) + " must be in [1, 4096]");
  }
  out->assign(1, in[0]);
  return Status::Ok();
}

// The kernel's parameters for TNN's window. TNN spans (size−1)/2 channels on each side (integer division), so an
// even size has a window of size−1 channels while the sum is still scaled by alpha/size: that is the kernel's
// window of size−1 with alpha·(size−1)/size (equal up to the rounding of that product).
LrnParams KernelParams(const LrnLayerParams& p) {
  LrnParams k;
  k.region = LrnRegion::kAcrossChannels;
  k.beta = p.beta;
  k.k = p.bias;
  k.size = p.size;
  k.alpha = p.alpha;
  if (p.size % 2 == 0) {
    k.size = p.size - 1;
    k.alpha = static_cast<float>(static_cast<double>(p.alpha) * (p.size - 1) / p.size);
  }
  return k;
}

class LrnExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    params_ = KernelParams(ctx.layer.Params<LrnLayerParams>());
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    LrnFp32(params_, in[0]->data.data(), out[0]->data.data(), in[0]->dims);
    return Status::Ok();
  }

 private:
  LrnParams params_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<LrnExec>(); }

}  // namespace

const LayerKind& LrnKind() {
  static const LayerKind kind{"LRN", {}, 12, false, DefaultOf<LrnLayerParams>, Parse, Write, CheckOneInOneOut, Infer,
                              CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
