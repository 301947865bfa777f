// MatMul with numpy semantics: two input blobs, or one blob and a constant operand.
#include "core/layers/matmul.h"

#include "core/layers/binary.h"
#include "core/layers/layer.h"

namespace qt {

Status MatMulShape(const Dims& a, const Dims& b, Dims* out) {
  if (a.size() < 2 || b.size() < 2) {
    return Status::Unsupported("MatMul of " + DimsToString(a) + " and " + DimsToString(b) +
                               ": operands of rank 1 are not supported");
  }
  if (a.back() != b[b.size() - 2]) {
    return Status::InvalidArgument("MatMul of " + DimsToString(a) + " and " + DimsToString(b) + ": inner dims " +
                                   std::to_string(a.back()) + " and " + std::to_string(b[b.size() - 2]) +
                                   " differ");
  }
  Dims o;
  QT_RETURN_IF_ERROR(BroadcastShapes(Dims(a.begin(), a.end() - 2), Dims(b.begin(), b.end() - 2), &o)
                         .WithContext("MatMul batch dims"));
  o.push_back(a[a.size() - 2]);
  o.push_back(b.back());
  *out = o;
  return Status::Ok();
}

namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<MatMulParams>(*params);
  QT_RETURN_IF_ERROR(r.IntOr("weight_position", &p->weight_position, -1));
  if (p->weight_position < -1 || p->weight_position > 1) {
    return Status::ParseError("weight_position " + std::to_string(p->weight_position) + " is not -1, 0 or 1");
  }
  return Status::Ok();
}
void Write(const LayerParams& params, ParamWriter& w) { w.Int(std::get<MatMulParams>(params).weight_position); }

Status Check(const Graph& g, const Layer& l) {
  QT_RETURN_IF_ERROR(RequireInputs(l, 1, 2));
  QT_RETURN_IF_ERROR(RequireOutputs(l, 1));
  if (l.inputs.size() != 1) return Status::Ok();
  if (!FindResource<MatMulResource>(g, l)) return MissingResource(l, "MatMul constant operand");
  const int pos = l.Params<MatMulParams>().weight_position;
  if (pos != 0 && pos != 1) {
    return Status::InvalidArgument(LayerWhere(l) + ": one input blob needs weight_position 0 or 1, got " +
                                   std::to_string(pos));
  }
  return Status::Ok();
}

Status Infer(const Graph& graph, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  Dims a = in[0], b;
  if (in.size() >= 2) {
    b = in[1];
  } else {
    const auto* r = FindResource<MatMulResource>(graph, l);
    if (!r) return Status::InvalidArgument("layer '" + l.name + "' has one input and no constant operand");
    const auto& w = r->weight;
    Dims wd(w.dims().begin(), w.dims().end());
    if (DimsCount(wd) != w.count()) {
      return Status::InvalidArgument("layer '" + l.name + "': constant dims " + DimsToString(wd) +
                                     " do not match its " + std::to_string(w.count()) + " values");
    }
    if (l.Params<MatMulParams>().weight_position == 0) {
      b = a;
      a = wd;
    } else {
      b = wd;
    }
  }
  Dims o;
  QT_RETURN_IF_ERROR(MatMulShape(a, b, &o).WithContext("layer '" + l.name + "'"));
  out->assign(1, o);
  return Status::Ok();
}

class MatMulExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    out_dims_ = ctx.out_dims[0];
    a_dims_ = ctx.in_dims[0];
    if (ctx.layer.inputs.size() == 1) {
      const auto* r = FindResource<MatMulResource>(ctx);
      if (!r) return Status::InvalidArgument("no constant operand");
      constant_ = r->weight.ToFloat();
      constant_dims_.assign(r->weight.dims().begin(), r->weight.dims().end());
      constant_first_ = ctx.layer.Params<MatMulParams>().weight_position == 0;
    } else {
      b_dims_ = ctx.in_dims[1];
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const float* x = in[0]->data.data();
    float* y = out[0]->data.data();
    if (in.size() == 2) {
      MatMulFp32(x, a_dims_, in[1]->data.data(), b_dims_, y, out_dims_);
    } else if (constant_first_) {
      MatMulFp32(constant_.data(), constant_dims_, x, a_dims_, y, out_dims_);
    } else {
      MatMulFp32(x, a_dims_, constant_.data(), constant_dims_, y, out_dims_);
    }
    return Status::Ok();
  }

 private:
  Dims a_dims_, b_dims_, out_dims_, constant_dims_;
  std::vector<float> constant_;
  bool constant_first_ = false;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<MatMulExec>(); }

}  // namespace

const LayerKind& MatMulKind() {
  static const LayerKind kind{"MatMul", {}, 105, false, DefaultOf<MatMulParams>, Parse, Write, Check, Infer,
                              CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
