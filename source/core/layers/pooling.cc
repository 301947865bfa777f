// Pooling (max and average, global, TNN/Caffe/TF padding): float and int8 execution.
#include "core/layers/pooling.h"

#include <cmath>

#include "core/layers/layer.h"

namespace qt {

Status PoolGeometry(const PoolParams& p, int in_h, int in_w, WindowGeometry* g, int* kernel_h, int* kernel_w) {
  if (p.is_adaptive) return Status::Unsupported("adaptive pooling is not supported");
  const int kh = p.kernel_h == 0 ? in_h : p.kernel_h;
  const int kw = p.kernel_w == 0 ? in_w : p.kernel_w;
  *kernel_h = kh;
  *kernel_w = kw;
  if (p.pad_type == -1) {
    // TNN: ceil or floor of the Caffe formula, then the bottom/right pads are whatever the last window needs
    // (never negative).
    const float fh = static_cast<float>(in_h + 2 * p.pad_h - kh) / static_cast<float>(p.stride_h) + 1;
    const float fw = static_cast<float>(in_w + 2 * p.pad_w - kw) / static_cast<float>(p.stride_w) + 1;
    g->out_h = static_cast<int>(p.ceil_mode ? std::ceil(fh) : std::floor(fh));
    g->out_w = static_cast<int>(p.ceil_mode ? std::ceil(fw) : std::floor(fw));
    g->pad_top = p.pad_h;
    g->pad_left = p.pad_w;
    g->pad_bottom = std::max(0, (g->out_h - 1) * p.stride_h + kh - in_h - p.pad_h);
    g->pad_right = std::max(0, (g->out_w - 1) * p.stride_w + kw - in_w - p.pad_w);
  } else {
    TfWindow(p.pad_type, in_h, kh, p.stride_h, &g->out_h, &g->pad_top, &g->pad_bottom);
    TfWindow(p.pad_type, in_w, kw, p.stride_w, &g->out_w, &g->pad_left, &g->pad_right);
  }
  if (g->out_h < 1 || g->out_w < 1) {
    return Status::InvalidArgument("pooling window " + std::to_string(kh) + "x" + std::to_string(kw) +
                                   " does not fit the " + std::to_string(in_h) + "x" + std::to_string(in_w) + " input");
  }
  return Status::Ok();
}

Status MakePool2dParams(const PoolParams& p, const Dims& in, bool count_include_pad, Pool2dParams* out) {
  WindowGeometry g;
  int kh = 0, kw = 0;
  QT_RETURN_IF_ERROR(PoolGeometry(p, in[2], in[3], &g, &kh, &kw));
  *out = Pool2dParams{in[0], in[1], in[2], in[3], g.out_h, g.out_w, kh, kw, p.stride_h, p.stride_w,
                      g.pad_top, g.pad_left, g.pad_bottom, g.pad_right,
                      p.pool_type == 0 ? PoolType::kMax : PoolType::kAvg, count_include_pad};
  return Status::Ok();
}

namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<PoolParams>(*params);
  QT_RETURN_IF_ERROR(r.Int("pool_type", &p->pool_type));
  QT_RETURN_IF_ERROR(r.Int("kernel_h", &p->kernel_h));
  QT_RETURN_IF_ERROR(r.Int("kernel_w", &p->kernel_w));
  QT_RETURN_IF_ERROR(r.Int("stride_h", &p->stride_h));
  QT_RETURN_IF_ERROR(r.Int("stride_w", &p->stride_w));
  QT_RETURN_IF_ERROR(r.Int("pad_h", &p->pad_h));
  QT_RETURN_IF_ERROR(r.Int("pad_w", &p->pad_w));
  QT_RETURN_IF_ERROR(r.IntOr("kernel_index_h", &p->kernel_index_h, -1));
  QT_RETURN_IF_ERROR(r.IntOr("kernel_index_w", &p->kernel_index_w, -1));
  if (p->kernel_index_w == -1) p->kernel_index_w = p->kernel_index_h;
  QT_RETURN_IF_ERROR(r.IntOr("pad_type", &p->pad_type, 0));
  QT_RETURN_IF_ERROR(r.IntOr("ceil_mode", &p->ceil_mode, 0));
  QT_RETURN_IF_ERROR(r.IntOr("is_adaptive", &p->is_adaptive, 0));
  QT_RETURN_IF_ERROR(r.IntOr("output_h", &p->output_h, 0));
  QT_RETURN_IF_ERROR(r.IntOr("output_w", &p->output_w, 0));
  if (p->pool_type != 0 && p->pool_type != 1) {
    return Status::ParseError("pool_type " + std::to_string(p->pool_type) + " is not 0 (max) or 1 (average)");
  }
  if (p->kernel_h < 0 || p->kernel_w < 0 || p->stride_h < 1 || p->stride_w < 1 || p->pad_h < 0 || p->pad_w < 0) {
    return Status::ParseError("pooling kernel and pads must be >= 0 and strides >= 1");
  }
  if (p->pad_type < -1 || p->pad_type > 1) {
    return Status::ParseError("pad_type " + std::to_string(p->pad_type) + " is not -1, 0 or 1");
  }
  return Status::Ok();
}

// TNN's own writer swaps output_h/output_w (tnn_format.md §F.12); we write them in the order they are read.
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<PoolParams>(params);
  for (int v : {p.pool_type, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.kernel_index_h,
                p.kernel_index_w, p.pad_type, p.ceil_mode, p.is_adaptive, p.output_h, p.output_w}) {
    w.Int(v);
  }
}

Status Check(const Graph& g, const Layer& l) { return CheckOneInOneOut(g, l); }

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  QT_RETURN_IF_ERROR(Require4D(l, x));
  WindowGeometry g;
  int kh = 0, kw = 0;
  QT_RETURN_IF_ERROR(PoolGeometry(l.Params<PoolParams>(), x[2], x[3], &g, &kh, &kw)
                         .WithContext("layer '" + l.name + "'"));
  out->assign(l.outputs.size(), Dims{x[0], x[1], g.out_h, g.out_w});
  return Status::Ok();
}

class PoolExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<PoolParams>();
    QT_RETURN_IF_ERROR(MakePool2dParams(p, ctx.in_dims[0], true, &pp_));
    // Caffe's average divisor counts the symmetric pad, not the extra bottom/right rows ceil mode adds.
    if (p.pad_type == -1) {
      pp_.pad_bottom = p.pad_h;
      pp_.pad_right = p.pad_w;
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    Pool2dFp32(pp_, in[0]->data.data(), out[0]->data.data());
    return Status::Ok();
  }

 private:
  Pool2dParams pp_;
};

class PoolInt8Exec : public LayerExec {
 public:
  bool is_int8() const override { return true; }
  Status Prepare(const LayerContext& ctx) override {
    return MakePool2dParams(ctx.layer.Params<PoolParams>(), ctx.in_dims[0], false, &pp_);
  }
  Status ForwardInt8(const std::vector<const Int8Tensor*>& in, const std::vector<Int8Tensor*>& out) override {
    Pool2dInt8(pp_, in[0]->data.data(), out[0]->data.data());
    return Status::Ok();
  }

 private:
  Pool2dParams pp_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<PoolExec>(); }
std::unique_ptr<LayerExec> CreateInt8(const Layer&) { return std::make_unique<PoolInt8Exec>(); }

}  // namespace

const LayerKind& PoolingKind() {
  static const LayerKind kind{"Pooling", {}, 4, true, DefaultOf<PoolParams>, Parse, Write, Check, Infer,
                              CreateFp32, CreateInt8};
  return kind;
}

}  // namespace qt
