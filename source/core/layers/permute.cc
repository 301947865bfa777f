// Permute: any order of the axes.
#include "core/layers/permute.h"

#include <algorithm>

#include "core/layers/layer.h"

namespace qt {
namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<PermuteParams>(*params);
  int rank = 0;
  QT_RETURN_IF_ERROR(r.Count("rank", &rank, 1, 6));
  p->order.assign(rank, 0);
  std::vector<bool> seen(6, false);
  for (int i = 0; i < rank; ++i) {
    QT_RETURN_IF_ERROR(r.Int("order", &p->order[i]));
    // A shorter order than the tensor's rank is TNN's too: the axes it leaves out follow in increasing order.
    if (p->order[i] < 0 || p->order[i] >= 6 || seen[p->order[i]]) {
      return Status::ParseError("permute order repeats an axis or names one outside [0, 5]");
    }
    seen[p->order[i]] = true;
  }
  return Status::Ok();
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<PermuteParams>(params);
  w.Int(static_cast<int>(p.order.size()));
  for (int v : p.order) w.Int(v);
}

// TNN appends the axes an order leaves out, in increasing order (permute_layer.cc).
Status FullOrder(const Layer& l, size_t rank, std::vector<int>* order) {
  *order = l.Params<PermuteParams>().order;
  for (int a = 0; a < static_cast<int>(rank); ++a) {
    if (std::find(order->begin(), order->end(), a) == order->end()) order->push_back(a);
  }
  if (order->size() != rank) {
    return Status::InvalidArgument("layer '" + l.name + "': permute order has " + std::to_string(order->size()) +
                                   " axes but the input has rank " + std::to_string(rank));
  }
  return Status::Ok();
}

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  std::vector<int> order;
  QT_RETURN_IF_ERROR(FullOrder(l, x.size(), &order));
  Dims o(x.size());
  for (size_t i = 0; i < x.size(); ++i) o[i] = x[order[i]];
  out->assign(1, o);
  return Status::Ok();
}

class PermuteExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    return FullOrder(ctx.layer, ctx.in_dims[0].size(), &order_);
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    PermuteFp32(in[0]->data.data(), in[0]->dims, order_, out[0]->data.data());
    return Status::Ok();
  }

 private:
  std::vector<int> order_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<PermuteExec>(); }

}  // namespace

const LayerKind& PermuteKind() {
  static const LayerKind kind{"Permute", {}, 32, false, DefaultOf<PermuteParams>, Parse, Write, CheckOneInOneOut,
                              Infer, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
