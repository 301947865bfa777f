// Softmax along one axis (TNN's "Softmax" and Caffe-converted "SoftmaxCaffe").
#include "core/layers/axis_layers.h"
#include "core/layers/layer.h"

namespace qt {
namespace {

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const int axis = NormalizeAxis(l.Params<AxisParams>().axis, in[0].size());
  if (axis < 0 || axis >= static_cast<int>(in[0].size())) {
    return Status::InvalidArgument("layer '" + l.name + "': softmax axis out of range for " + DimsToString(in[0]));
  }
  out->assign(1, in[0]);
  return Status::Ok();
}

class SoftmaxExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    axis_ = NormalizeAxis(ctx.layer.Params<AxisParams>().axis, ctx.in_dims[0].size());
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    SoftmaxFp32(in[0]->data.data(), out[0]->data.data(), in[0]->dims, axis_);
    return Status::Ok();
  }

 private:
  int axis_ = 1;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<SoftmaxExec>(); }

}  // namespace

const LayerKind& SoftmaxKind() {
  static const LayerKind kind{"Softmax", {"SoftmaxCaffe"}, 21, false, DefaultOf<AxisParams>, ParseAxisParams,
                              WriteAxisParams, CheckOneInOneOut, Infer, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
