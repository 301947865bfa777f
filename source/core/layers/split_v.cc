// SplitV: one input cut into slices along an axis.
#include "core/layers/split_v.h"

#include "core/layers/layer.h"

namespace qt {

Status SplitVSlices(const SplitVParams& p, size_t outputs, int axis_size, std::vector<int>* slices) {
  if (p.slices.empty()) {
    if (outputs == 0 || axis_size % static_cast<int>(outputs) != 0) {
      return Status::InvalidArgument("SplitV without slices cannot split " + std::to_string(axis_size) +
                                     " evenly into " + std::to_string(outputs) + " outputs");
    }
    slices->assign(outputs, axis_size / static_cast<int>(outputs));
    return Status::Ok();
  }
  if (p.slices.size() != outputs) {
    return Status::InvalidArgument("SplitV has " + std::to_string(p.slices.size()) + " slices for " +
                                   std::to_string(outputs) + " outputs");
  }
  *slices = p.slices;
  return Status::Ok();
}

namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<SplitVParams>(*params);
  QT_RETURN_IF_ERROR(r.Int("axis", &p->axis));
  // Older converters write the axis alone; TNN then splits evenly among the outputs (no slices).
  if (r.AtEnd()) return Status::Ok();
  int count = 0;
  QT_RETURN_IF_ERROR(r.Count("slice_count", &count, 0, 4096));
  p->slices.assign(count, 0);
  for (int i = 0; i < count; ++i) QT_RETURN_IF_ERROR(r.Int("slice", &p->slices[i]));
  return Status::Ok();
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<SplitVParams>(params);
  w.Int(p.axis);
  w.Int(static_cast<int>(p.slices.size()));
  for (int v : p.slices) w.Int(v);
}

Status Check(const Graph&, const Layer& l) { return RequireInputs(l, 1, 1); }

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  const auto& p = l.Params<SplitVParams>();
  const int axis = NormalizeAxis(p.axis, x.size());
  if (axis < 0 || axis >= static_cast<int>(x.size())) {
    return Status::InvalidArgument("layer '" + l.name + "': SplitV axis " + std::to_string(p.axis) +
                                   " is out of range for " + DimsToString(x));
  }
  std::vector<int> slices;
  QT_RETURN_IF_ERROR(SplitVSlices(p, l.outputs.size(), x[axis], &slices).WithContext("layer '" + l.name + "'"));
  int sum = 0;
  out->clear();
  for (int s : slices) {
    Dims o = x;
    o[axis] = s;
    sum += s;
    out->push_back(o);
  }
  if (sum != x[axis]) {
    return Status::InvalidArgument("layer '" + l.name + "': SplitV slices sum to " + std::to_string(sum) +
                                   " but the axis has " + std::to_string(x[axis]));
  }
  return Status::Ok();
}

class SplitExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<SplitVParams>();
    axis_ = NormalizeAxis(p.axis, ctx.in_dims[0].size());
    return SplitVSlices(p, ctx.out_dims.size(), ctx.in_dims[0][axis_], &slices_);
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    std::vector<float*> ptrs;
    for (Tensor* t : out) ptrs.push_back(t->data.data());
    SplitFp32(in[0]->data.data(), in[0]->dims, axis_, ptrs, slices_);
    return Status::Ok();
  }

 private:
  int axis_ = 1;
  std::vector<int> slices_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<SplitExec>(); }

}  // namespace

const LayerKind& SplitVKind() {
  static const LayerKind kind{"SplitV", {}, 153, false, DefaultOf<SplitVParams>, Parse, Write, Check, Infer,
                              CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
