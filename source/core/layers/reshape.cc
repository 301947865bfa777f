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
  if (p->reshape_type != 0) return Status::Unsupported("Reshape with reshape_type 1 (NHWC) is not supported");
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
  for (size_t j = 0; j < p.shape.size(); ++j) {
    const size_t i = p.axis + j;
    const int s = p.shape[j];
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

}  // namespace

const LayerKind& ReshapeKind() {
  static const LayerKind kind{"Reshape", {}, 9, false, DefaultOf<ReshapeParams>, Parse, Write, CheckOneInOneOut,
                              Infer, CreateCopyExec, nullptr};
  return kind;
}

}  // namespace qt
