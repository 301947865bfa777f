// The axis param line of Concat, Softmax and Flatten.
#include "core/layers/axis_layers.h"
#include "core/layers/layer.h"

namespace qt {

Status ParseAxisParams(ParamReader& r, LayerParams* params) {
  return r.IntOr("axis", &std::get<AxisParams>(*params).axis, 1);
}
void WriteAxisParams(const LayerParams& params, ParamWriter& w) { w.Int(std::get<AxisParams>(params).axis); }

}  // namespace qt
