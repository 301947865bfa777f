// Reshape with TNN's rule: dims before `axis` kept, then one dim per shape entry (0 copies, one -1 inferred).
#include "core/layers/reshape.h"

#include "core/layers/copy_exec.h"

namespace qt {
namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<ReshapeParams>(*params);
  QT_RETURN_IF_ERROR(r.Int("axis", &p->axis));
  QT_RETURN_IF_ERROR(r.Int("num_axes", &p->num_axes));
  int rank = 0;
  QT_RETURN_IF_ERROR(r.Count("rank", &rank, 1, 6));
  p->shape.assign(rank, 0);
  for (int i = 0; i < rank; ++i) QT_RETURN_IF_ERROR(r.Int("shape", &p->shape[i]));
  QT_RETURN_IF_ERROR(r.IntOr("reshape_type", &p->reshape_type, 0));
  if (p->reshape_type != 0 && p->reshape_type != 1) {
    return Status::ParseError("reshape_type " + std::to_string(p->reshape_type) + " is not 0 (NCHW) or 1 (NHWC)");
  }
  if (p->num_axes < -1 || p->num_axes > rank) {
    return Status::ParseError("num_axes " + std::to_string(p->num_axes) + " is not -1 or in [0, " +
                              std::to_string(rank) + "]");
  }
  return Status::Ok();
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<ReshapeParams>(params);
  w.Int(p.axis);
  w.Int(p.num_axes);
  w.Int(static_cast<int>(p.shape.size()));
  for (int v : p.shape) w.Int(v);
  w.Int(p.reshape_type);
}

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  const auto& p = l.Params<ReshapeParams>();
  if (p.axis < 0 || p.axis > static_cast<int>(x.size())) {
    return Status::InvalidArgument("layer '" + l.name + "': reshape axis out of range");
  }
  Dims o(x.begin(), x.begin() + p.axis);
  int infer = -1;
  // TNN's rule: num_axes -1 means every entry; entries past num_axes are 1 whatever they say.
  const size_t used = p.num_axes < 0 ? p.shape.size() : static_cast<size_t>(p.num_axes);
  for (size_t j = 0; j < p.shape.size(); ++j) {
    const size_t i = p.axis + j;
    const int s = j < used ? p.shape[j] : 1;
    if (s == -1) {
      if (infer >= 0) return Status::InvalidArgument("layer '" + l.name + "': reshape has two -1 dims");
      infer = static_cast<int>(i);
      o.push_back(1);
    } else if (s == 0) {
      if (i >= x.size()) return Status::InvalidArgument("layer '" + l.name + "': reshape 0 past input rank");
      o.push_back(x[i]);
    } else if (s > 0) {
      o.push_back(s);
    } else {
      return Status::InvalidArgument("layer '" + l.name + "': reshape dim " + std::to_string(s));
    }
  }
  const int64_t total = DimsCount(x);
  if (infer >= 0) {
    const int64_t rest = DimsCount(o);
    if (rest == 0 || total % rest != 0) {
      return Status::InvalidArgument("layer '" + l.name + "': cannot reshape " + DimsToString(x) + " to " +
                                     DimsToString(o) + " with one inferred dim");
    }
    o[infer] = static_cast<int>(total / rest);
  }
  if (DimsCount(o) != total) {
    return Status::InvalidArgument("layer '" + l.name + "': cannot reshape " + DimsToString(x) + " (" +
                                   std::to_string(total) + " values) to " + DimsToString(o));
  }
  out->assign(1, o);
  return Status::Ok();
}

// reshape_type 1 (TensorFlow's NHWC order, TNN's cpu_reshape_layer_acc): the input is read in NHWC order and the
// values are laid out as the NHWC form of the output, then returned to NCHW. Dims are padded with 1s to 4-D.
class NhwcReshapeExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    in_ = Pad4(ctx.in_dims[0]);
    out_ = Pad4(ctx.out_dims[0]);
    if (ctx.in_dims[0].size() > 4 || ctx.out_dims[0].size() > 4) {
      return Status::Unsupported("an NHWC reshape (reshape_type 1) of more than 4 dims");
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    std::vector<float> nhwc(in[0]->data.size());
    PermuteFp32(in[0]->data.data(), in_, {0, 2, 3, 1}, nhwc.data());
    PermuteFp32(nhwc.data(), Dims{out_[0], out_[2], out_[3], out_[1]}, {0, 3, 1, 2}, out[0]->data.data());
    return Status::Ok();
  }

 private:
  static Dims Pad4(Dims d) {
    while (d.size() < 4) d.push_back(1);
    return d;
  }
  Dims in_, out_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer& l, const Fp32Options& o) {
  if (l.Params<ReshapeParams>().reshape_type == 1) return std::make_unique<NhwcReshapeExec>();
  return CreateCopyExec(l, o);
}

}  // namespace

const LayerKind& ReshapeKind() {
  static const LayerKind kind{"Reshape", {}, 9, false, DefaultOf<ReshapeParams>, Parse, Write, CheckOneInOneOut,
                              Infer, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
