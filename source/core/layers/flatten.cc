// Flatten: dims from `axis` on folded into one.
#include "core/layers/axis_layers.h"
#include "core/layers/copy_exec.h"

namespace qt {
namespace {

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  const int axis = NormalizeAxis(l.Params<AxisParams>().axis, x.size());
  if (axis < 0 || axis > static_cast<int>(x.size())) {
    return Status::InvalidArgument("layer '" + l.name + "': flatten axis out of range");
  }
  Dims o(x.begin(), x.begin() + axis);
  o.push_back(static_cast<int>(DimsCount(x, axis)));
  out->assign(1, o);
  return Status::Ok();
}

}  // namespace

const LayerKind& FlattenKind() {
  static const LayerKind kind{"Flatten", {}, 10, false, DefaultOf<AxisParams>, ParseAxisParams, WriteAxisParams,
                              CheckOneInOneOut, Infer, CreateCopyExec, nullptr};
  return kind;
}

}  // namespace qt
