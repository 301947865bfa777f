// Reductions over axes: ReduceMean, ReduceMax, ReduceMin, ReduceSum (tnn_layers.md §2.16), run by ReduceFp32.
#include "core/layers/reduce.h"

#include "core/kernels/tensor_ops_fp32.h"
#include "core/layers/layer.h"

namespace qt {
namespace {

// TNN's line: keep_dims, then every remaining token is an axis (no count).
Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<ReduceParams>(*params);
  QT_RETURN_IF_ERROR(r.Int("keep_dims", &p->keep_dims));
  p->axes.clear();
  while (!r.AtEnd()) {
    int axis = 0;
    QT_RETURN_IF_ERROR(r.Int("axis", &axis));
    p->axes.push_back(axis);
  }
  return Status::Ok();
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<ReduceParams>(params);
  w.Int(p.keep_dims);
  for (int a : p.axes) w.Int(a);
}

// The reduced axes, non-negative and ascending; no axes in the params means all of them.
Status Axes(const Layer& l, const Dims& in, std::vector<int>* axes) {
  const auto& p = l.Params<ReduceParams>();
  std::vector<int64_t> listed(p.axes.begin(), p.axes.end());
  if (listed.empty()) {
    for (size_t a = 0; a < in.size(); ++a) listed.push_back(static_cast<int64_t>(a));
  }
  return NormalizeAxes(listed, static_cast<int>(in.size()), axes).WithContext(LayerWhere(l));
}

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  std::vector<int> axes;
  QT_RETURN_IF_ERROR(Axes(l, in[0], &axes));
  out->assign(1, ReduceOutputDims(in[0], axes, l.Params<ReduceParams>().keep_dims != 0));
  return Status::Ok();
}

ReduceOp OpOf(LayerType type) {
  switch (type) {
    case LayerType::kReduceMax: return ReduceOp::kMax;
    case LayerType::kReduceMin: return ReduceOp::kMin;
    case LayerType::kReduceSum: return ReduceOp::kSum;
    default: return ReduceOp::kMean;
  }
}

class ReduceExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    op_ = OpOf(ctx.layer.type);
    return Axes(ctx.layer, ctx.in_dims[0], &axes_);
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    ReduceFp32(op_, in[0]->data.data(), in[0]->dims, axes_, out[0]->data.data());
    return Status::Ok();
  }

 private:
  ReduceOp op_ = ReduceOp::kMean;
  std::vector<int> axes_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<ReduceExec>(); }

}  // namespace

const LayerKind& ReduceMeanKind() {
  static const LayerKind kind{"ReduceMean", {}, 169, false, DefaultOf<ReduceParams>, Parse, Write, CheckOneInOneOut,
                              Infer, CreateFp32, nullptr};
  return kind;
}
const LayerKind& ReduceMaxKind() {
  static const LayerKind kind{"ReduceMax", {}, 177, false, DefaultOf<ReduceParams>, Parse, Write, CheckOneInOneOut,
                              Infer, CreateFp32, nullptr};
  return kind;
}
const LayerKind& ReduceMinKind() {
  static const LayerKind kind{"ReduceMin", {}, 192, false, DefaultOf<ReduceParams>, Parse, Write, CheckOneInOneOut,
                              Infer, CreateFp32, nullptr};
  return kind;
}
const LayerKind& ReduceSumKind() {
  static const LayerKind kind{"ReduceSum", {"Reduce_Sum"}, 133, false, DefaultOf<ReduceParams>, Parse, Write,
                              CheckOneInOneOut, Infer, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
