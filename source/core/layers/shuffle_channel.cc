// ShuffleChannel (ShuffleNet): the channels viewed as [group][C/group], transposed. Output channel j·group + i is
// input channel i·(C/group) + j, as TNN's NAIVE layer and Caffe's ShuffleChannel compute it.
#include "core/layers/shuffle_channel.h"

#include "core/kernels/tensor_ops_fp32.h"
#include "core/layers/layer.h"

namespace qt {
namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<ShuffleChannelParams>(*params);
  return r.IntOr("group", &p->group, 1);
}
void Write(const LayerParams& params, ParamWriter& w) { w.Int(std::get<ShuffleChannelParams>(params).group); }

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  const int group = l.Params<ShuffleChannelParams>().group;
  if (x.size() < 2) return Status::InvalidArgument(LayerWhere(l) + " needs an input with channels, got " + DimsToString(x));
  // TNN only asserts this (a no-op in release builds); a group that does not divide the channels is refused here.
  if (group < 1 || x[1] % group != 0) {
    return Status::InvalidArgument(LayerWhere(l) + ": group " + std::to_string(group) + " must divide the " +
                                   std::to_string(x[1]) + " channels");
  }
  out->assign(1, x);
  return Status::Ok();
}

class ShuffleChannelExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    group_ = ctx.layer.Params<ShuffleChannelParams>().group;
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const Dims& d = in[0]->dims;
    ShuffleChannelFp32(in[0]->data.data(), out[0]->data.data(), d[0], d[1], DimsCount(d, 2), group_);
    return Status::Ok();
  }

 private:
  int group_ = 1;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) {
  return std::make_unique<ShuffleChannelExec>();
}

}  // namespace

const LayerKind& ShuffleChannelKind() {
  static const LayerKind kind{"ShuffleChannel", {}, 63, false, DefaultOf<ShuffleChannelParams>, Parse, Write,
                              CheckOneInOneOut, Infer, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
