// Broadcasting binary layers: Add (also int8), Sub, Mul, Div, Maximum, with two input blobs or one blob and a
// constant operand from the layer resource.
#include "core/layers/binary.h"

#include <algorithm>

#include "core/layers/layer.h"

namespace qt {

Status BroadcastShapes(const Dims& a, const Dims& b, Dims* out) {
  const size_t n = std::max(a.size(), b.size());
  Dims o(n, 1);
  for (size_t i = 0; i < n; ++i) {
    const int da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      return Status::InvalidArgument("shapes " + DimsToString(a) + " and " + DimsToString(b) + " do not broadcast");
    }
    o[i] = da == 1 ? db : da;
  }
  *out = o;
  return Status::Ok();
}

Status ResolveConstantDims(const RawBuffer& constant, const Dims& other, Dims* dims) {
  const int64_t n = constant.count();
  if (!constant.dims().empty()) {
    Dims d(constant.dims().begin(), constant.dims().end());
    if (DimsCount(d) != n) {
      return Status::InvalidArgument("constant dims " + DimsToString(d) + " do not match its " + std::to_string(n) +
                                     " values");
    }
    *dims = d;
    return Status::Ok();
  }
  const int c = other.size() > 1 ? other[1] : 1;
  const int h = other.size() > 2 ? other[2] : 1;
  const int w = other.size() > 3 ? other[3] : 1;
  if (n == 1) {
    *dims = Dims{1};
  } else if (n == c) {
    *dims = Dims{1, c, 1, 1};
  } else if (n == static_cast<int64_t>(c) * h * w) {
    *dims = Dims{1, c, h, w};
  } else if (n == w) {
    *dims = Dims{1, 1, 1, w};
  } else if (n == static_cast<int64_t>(h) * w) {
    *dims = Dims{1, 1, h, w};
  } else {
    return Status::InvalidArgument("constant of " + std::to_string(n) + " values has no dims and does not broadcast to " +
                                   DimsToString(other));
  }
  return Status::Ok();
}

namespace {

// TNN reads any integer here and tests only `== 0` (the constant is the left operand); its converters write -1
// for two input blobs. The value is kept as read so that a rewritten file says the same.
Status Parse(ParamReader& r, LayerParams* params) {
  return r.IntOr("weight_input_index", &std::get<BinaryParams>(*params).weight_input_index, 1);
}
void Write(const LayerParams& params, ParamWriter& w) { w.Int(std::get<BinaryParams>(params).weight_input_index); }

Status Check(const Graph& g, const Layer& l) {
  QT_RETURN_IF_ERROR(RequireInputs(l, 1, 2));
  QT_RETURN_IF_ERROR(RequireOutputs(l, 1));
  if (l.inputs.size() == 1 && !FindResource<BinaryResource>(g, l)) return MissingResource(l, "constant");
  return Status::Ok();
}

Status Infer(const Graph& graph, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  Dims other;
  if (in.size() >= 2) {
    other = in[1];
  } else {
    const auto* r = FindResource<BinaryResource>(graph, l);
    if (!r) return Status::InvalidArgument("layer '" + l.name + "' has one input and no constant operand");
    QT_RETURN_IF_ERROR(ResolveConstantDims(r->element, x, &other).WithContext("layer '" + l.name + "'"));
  }
  Dims o;
  QT_RETURN_IF_ERROR(BroadcastShapes(x, other, &o).WithContext("layer '" + l.name + "'"));
  out->assign(1, o);
  return Status::Ok();
}

BinaryOp OpOf(LayerType type) {
  switch (type) {
    case LayerType::kAdd: return BinaryOp::kAdd;
    case LayerType::kSub: return BinaryOp::kSub;
    case LayerType::kMul: return BinaryOp::kMul;
    case LayerType::kMaximum: return BinaryOp::kMax;
    default: return BinaryOp::kDiv;
  }
}

class BinaryExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    op_ = OpOf(ctx.layer.type);
    out_dims_ = ctx.out_dims[0];
    if (ctx.layer.inputs.size() == 1) {
      const auto* r = FindResource<BinaryResource>(ctx);
      if (!r) return Status::InvalidArgument("no constant operand");
      constant_ = r->element.ToFloat();
      QT_RETURN_IF_ERROR(ResolveConstantDims(r->element, ctx.in_dims[0], &constant_dims_));
      constant_first_ = ctx.layer.Params<BinaryParams>().weight_input_index == 0;
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const Tensor& a = *in[0];
    if (in.size() == 2) {
      BinaryFp32(op_, a.data.data(), a.dims, in[1]->data.data(), in[1]->dims, out[0]->data.data(), out_dims_);
    } else if (constant_first_) {
      BinaryFp32(op_, constant_.data(), constant_dims_, a.data.data(), a.dims, out[0]->data.data(), out_dims_);
    } else {
      BinaryFp32(op_, a.data.data(), a.dims, constant_.data(), constant_dims_, out[0]->data.data(), out_dims_);
    }
    return Status::Ok();
  }

 private:
  BinaryOp op_ = BinaryOp::kAdd;
  Dims out_dims_, constant_dims_;
  std::vector<float> constant_;
  bool constant_first_ = false;
};

class AddInt8Exec : public LayerExec {
 public:
  bool is_int8() const override { return true; }
  Status Prepare(const LayerContext& ctx) override {
    if (ctx.layer.inputs.size() != 2) {
      return Status::Unsupported("an int8 Add needs two input blobs (a constant operand stays float)");
    }
    if (ctx.in_dims[0] != ctx.in_dims[1]) {
      return Status::Unsupported("int8 Add of different shapes " + DimsToString(ctx.in_dims[0]) + " and " +
                                 DimsToString(ctx.in_dims[1]) + " (TNN's int8 kernel does not broadcast)");
    }
    return Status::Ok();
  }
  Status ForwardInt8(const std::vector<const Int8Tensor*>& in, const std::vector<Int8Tensor*>& out) override {
    AddInt8(in, out[0]);
    return Status::Ok();
  }
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<BinaryExec>(); }
std::unique_ptr<LayerExec> CreateAddInt8(const Layer&) { return std::make_unique<AddInt8Exec>(); }

}  // namespace

const LayerKind& AddKind() {
  static const LayerKind kind{"Add", {}, 38, true, DefaultOf<BinaryParams>, Parse, Write, Check, Infer, CreateFp32,
                              CreateAddInt8};
  return kind;
}
const LayerKind& SubKind() {
  static const LayerKind kind{"Sub", {}, 108, false, DefaultOf<BinaryParams>, Parse, Write, Check, Infer,
                              CreateFp32, nullptr};
  return kind;
}
const LayerKind& MulKind() {
  static const LayerKind kind{"Mul", {}, 42, false, DefaultOf<BinaryParams>, Parse, Write, Check, Infer,
                              CreateFp32, nullptr};
  return kind;
}
const LayerKind& DivKind() {
  static const LayerKind kind{"Div", {}, 175, false, DefaultOf<BinaryParams>, Parse, Write, Check, Infer,
                              CreateFp32, nullptr};
  return kind;
}
const LayerKind& MaximumKind() {
  static const LayerKind kind{"Maximum", {}, 137, false, DefaultOf<BinaryParams>, Parse, Write, Check, Infer,
                              CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
