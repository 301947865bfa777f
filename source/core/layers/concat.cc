// Concat along any axis: float, and int8 (per-tensor requantization or TNN's per-channel byte copy).
#include "core/layers/axis_layers.h"
#include "core/layers/layer.h"

namespace qt {
namespace {

Status Check(const Graph&, const Layer& l) {
  QT_RETURN_IF_ERROR(RequireInputs(l, 1, SIZE_MAX));
  return RequireOutputs(l, 1);
}

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  const int axis = NormalizeAxis(l.Params<AxisParams>().axis, x.size());
  if (axis < 0 || axis >= static_cast<int>(x.size())) {
    return Status::InvalidArgument("layer '" + l.name + "': concat axis out of range for " + DimsToString(x));
  }
  Dims o = x;
  for (size_t i = 1; i < in.size(); ++i) {
    bool ok = in[i].size() == x.size();
    for (size_t d = 0; ok && d < x.size(); ++d) ok = static_cast<int>(d) == axis || in[i][d] == x[d];
    if (!ok) {
      return Status::InvalidArgument("layer '" + l.name + "': cannot concatenate " + DimsToString(x) + " and " +
                                     DimsToString(in[i]) + " along axis " + std::to_string(axis));
    }
    o[axis] += in[i][axis];
  }
  out->assign(1, o);
  return Status::Ok();
}

class ConcatExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    axis_ = NormalizeAxis(ctx.layer.Params<AxisParams>().axis, ctx.in_dims[0].size());
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    std::vector<const float*> ptrs;
    std::vector<Dims> dims;
    for (const Tensor* t : in) {
      ptrs.push_back(t->data.data());
      dims.push_back(t->dims);
    }
    ConcatFp32(ptrs, dims, axis_, out[0]->data.data());
    return Status::Ok();
  }

 private:
  int axis_ = 1;
};

class ConcatInt8Exec : public LayerExec {
 public:
  bool is_int8() const override { return true; }
  Status Prepare(const LayerContext& ctx) override {
    axis_ = NormalizeAxis(ctx.layer.Params<AxisParams>().axis, ctx.in_dims[0].size());
    return Status::Ok();
  }
  Status ForwardInt8(const std::vector<const Int8Tensor*>& in, const std::vector<Int8Tensor*>& out) override {
    ConcatInt8(in, axis_, out[0]);
    return Status::Ok();
  }

 private:
  int axis_ = 1;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<ConcatExec>(); }
std::unique_ptr<LayerExec> CreateInt8(const Layer&) { return std::make_unique<ConcatInt8Exec>(); }

}  // namespace

const LayerKind& ConcatKind() {
  static const LayerKind kind{"Concat", {}, 8, true, DefaultOf<AxisParams>, ParseAxisParams, WriteAxisParams,
                              Check, Infer, CreateFp32, CreateInt8};
  return kind;
}

}  // namespace qt
