// Pooling1D: the 2-D pooling kernels on a height-1 plane, with TNN's 1-D geometry (pooling_1d_layer.cc).
#include "core/layers/pooling1d.h"

#include <cmath>

#include "core/layers/layer.h"
#include "core/layers/pooling.h"

namespace qt {
namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<Pool1dParams>(*params);
  QT_RETURN_IF_ERROR(r.Int("pool_type", &p->pool_type));
  QT_RETURN_IF_ERROR(r.Int("kernel", &p->kernel));
  QT_RETURN_IF_ERROR(r.Int("stride", &p->stride));
  QT_RETURN_IF_ERROR(r.Int("pad", &p->pad));
  QT_RETURN_IF_ERROR(r.IntOr("kernel_index_h", &p->kernel_index_h, -1));
  QT_RETURN_IF_ERROR(r.IntOr("kernel_index_w", &p->kernel_index_w, -1));
  QT_RETURN_IF_ERROR(r.IntOr("pad_type", &p->pad_type, 0));
  QT_RETURN_IF_ERROR(r.IntOr("ceil_mode", &p->ceil_mode, 0));
  if (p->pool_type != 0 && p->pool_type != 1) {
    return Status::ParseError("pool_type " + std::to_string(p->pool_type) + " is not 0 (max) or 1 (average)");
  }
  if (p->kernel < 0 || p->stride < 1 || p->pad < 0) {
    return Status::ParseError("pooling kernel and pad must be >= 0 and the stride >= 1");
  }
  if (p->pad_type < -1 || p->pad_type > 1) {
    return Status::ParseError("pad_type " + std::to_string(p->pad_type) + " is not -1, 0 or 1");
  }
  return Status::Ok();
}

void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<Pool1dParams>(params);
  for (int v : {p.pool_type, p.kernel, p.stride, p.pad, p.kernel_index_h, p.kernel_index_w, p.pad_type,
                p.ceil_mode}) {
    w.Int(v);
  }
}

struct Geometry1d {
  int kernel = 0, out = 0, pad_begin = 0, pad_end = 0;
};

Status Geometry(const Pool1dParams& p, int len, Geometry1d* g) {
  g->kernel = p.kernel == 0 ? len : p.kernel;
  const int k = g->kernel, s = p.stride;
  if (p.pad_type == -1) {
    // Explicit pads follow the 2-D rule along W of a height-1 plane.
    PoolParams p2;
    p2.kernel_h = 1;
    p2.kernel_w = p.kernel;
    p2.stride_w = p.stride;
    p2.pad_w = p.pad;
    p2.pad_type = -1;
    p2.ceil_mode = p.ceil_mode;
    WindowGeometry w;
    int kh = 0, kw = 0;
    QT_RETURN_IF_ERROR(PoolGeometry(p2, 1, len, &w, &kh, &kw));
    g->out = w.out_w;
    g->pad_begin = w.pad_left;
    g->pad_end = w.pad_right;
    return Status::Ok();
  }
  // SAME honours ceil_mode and the begin pad is ceil(along / stride) ("align with pytorch", TNN says).
  if (p.pad_type == 0) {
    g->out = p.ceil_mode ? (len + s - 1) / s : len / s;
  } else {
    g->out = static_cast<int>(std::ceil(static_cast<float>(len - k + 1) / static_cast<float>(s)));
  }
  const int along = (g->out - 1) * s + k - len;
  g->pad_begin = static_cast<int>(std::ceil(static_cast<float>(along) / static_cast<float>(s)));
  g->pad_end = along - g->pad_begin;
  if (g->out < 1 || g->pad_begin < 0 || g->pad_end < 0) {
    return Status::InvalidArgument("1-D pooling window " + std::to_string(k) + " does not fit the length " +
                                   std::to_string(len));
  }
  return Status::Ok();
}

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  if (x.size() != 3) {
    return Status::InvalidArgument(LayerWhere(l) + " needs an N x C x L input, got " + DimsToString(x));
  }
  Geometry1d g;
  QT_RETURN_IF_ERROR(Geometry(l.Params<Pool1dParams>(), x[2], &g).WithContext("layer '" + l.name + "'"));
  out->assign(l.outputs.size(), Dims{x[0], x[1], g.out});
  return Status::Ok();
}

class Pool1dExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<Pool1dParams>();
    const Dims& in = ctx.in_dims[0];
    Geometry1d g;
    QT_RETURN_IF_ERROR(Geometry(p, in[2], &g));
    // As the 2-D layer: Caffe's average divisor counts the explicit pad, not the extra end a ceil adds.
    pp_ = Pool2dParams{in[0], in[1], 1, in[2], 1, g.out, 1, g.kernel, 1, p.stride, 0, g.pad_begin, 0,
                       p.pad_type == -1 ? p.pad : g.pad_end, p.pool_type == 0 ? PoolType::kMax : PoolType::kAvg,
                       true};
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    Pool2dFp32(pp_, in[0]->data.data(), out[0]->data.data());
    return Status::Ok();
  }

 private:
  Pool2dParams pp_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<Pool1dExec>(); }

}  // namespace

const LayerKind& Pooling1DKind() {
  static const LayerKind kind{"Pooling1D", {}, 204, false, DefaultOf<Pool1dParams>, Parse, Write, CheckOneInOneOut,
                              Infer, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
