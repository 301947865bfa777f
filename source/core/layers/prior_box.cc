// PriorBox (Caffe-SSD): the prior boxes of one feature map and their variances. They depend on shapes only, so
// the executor computes them once in Prepare.
#include "core/layers/prior_box.h"

#include <cmath>

#include "core/kernels/detection_fp32.h"
#include "core/layers/layer.h"

namespace qt {

Status PriorBoxKernelParams(const PriorBoxLayerParams& p, PriorBoxParams* k) {
  *k = PriorBoxParams{};
  k->min_sizes = p.min_sizes;
  k->max_sizes = p.max_sizes;
  k->aspect_ratios = p.aspect_ratios;
  k->flip = false;  // the list is already expanded
  k->clip = p.clip == 1;
  k->variances = p.variances;
  k->img_h = p.img_h;
  k->img_w = p.img_w;
  k->step_h = static_cast<float>(p.step_h);
  k->step_w = static_cast<float>(p.step_w);
  k->offset = p.offset;
  k->truncate_sizes = true;  // TNN's and Caffe's int sizes
  if (PriorBoxAspectRatios(*k) != p.aspect_ratios) {
    std::string list;
    for (float r : p.aspect_ratios) list += (list.empty() ? "" : " ") + FormatFloat(r);
    return Status::Unsupported("PriorBox aspect ratios [" + list +
                               "] are not an expanded list (1 first, no ratio twice), which TNN's runtime assumes");
  }
  if (p.variances.size() != 1 && p.variances.size() != 4) {
    return Status::InvalidArgument("PriorBox has " + std::to_string(p.variances.size()) +
                                   " variances, TNN needs 1 (for all four) or 4");
  }
  return Status::Ok();
}

namespace {

Status ReadFloats(ParamReader& r, const char* count_name, const char* name, std::vector<float>* v) {
  int n = 0;
  QT_RETURN_IF_ERROR(r.Count(count_name, &n, 0, 4096));
  v->assign(n, 0.f);
  for (int i = 0; i < n; ++i) QT_RETURN_IF_ERROR(r.Float(name, &(*v)[i]));
  return Status::Ok();
}

// TNN reads the steps with atoi: a fractional "8.5" (which its own writer can produce) is 8.
Status ReadStep(ParamReader& r, const char* name, int* v) {
  float f = 0.f;
  QT_RETURN_IF_ERROR(r.Float(name, &f));
  if (std::fabs(f) >= 1e9f) return Status::ParseError(std::string("param '") + name + "' is out of range");
  *v = static_cast<int>(f);
  return Status::Ok();
}

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<PriorBoxLayerParams>(*params);
  QT_RETURN_IF_ERROR(ReadFloats(r, "min_size_count", "min_size", &p->min_sizes));
  QT_RETURN_IF_ERROR(ReadFloats(r, "max_size_count", "max_size", &p->max_sizes));
  QT_RETURN_IF_ERROR(r.Int("clip", &p->clip));
  QT_RETURN_IF_ERROR(r.Int("flip", &p->flip));
  QT_RETURN_IF_ERROR(ReadFloats(r, "variance_count", "variance", &p->variances));
  QT_RETURN_IF_ERROR(ReadFloats(r, "aspect_ratio_count", "aspect_ratio", &p->aspect_ratios));
  QT_RETURN_IF_ERROR(r.Int("img_w", &p->img_w));
  QT_RETURN_IF_ERROR(r.Int("img_h", &p->img_h));
  QT_RETURN_IF_ERROR(ReadStep(r, "step_w", &p->step_w));
  QT_RETURN_IF_ERROR(ReadStep(r, "step_h", &p->step_h));
  return r.Float("offset", &p->offset);
}
void WriteFloats(const std::vector<float>& v, ParamWriter& w) {
  w.Int(static_cast<int>(v.size()));
  for (float f : v) w.Float(f);
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<PriorBoxLayerParams>(params);
  WriteFloats(p.min_sizes, w);
  WriteFloats(p.max_sizes, w);
  w.Int(p.clip);
  w.Int(p.flip);
  WriteFloats(p.variances, w);
  WriteFloats(p.aspect_ratios, w);
  w.Int(p.img_w);
  w.Int(p.img_h);
  w.Int(p.step_w);
  w.Int(p.step_h);
  w.Float(p.offset);
}

// Input 0 is the feature map; input 1, the image, is needed only for a size the params leave at 0.
Status Check(const Graph&, const Layer& l) {
  QT_RETURN_IF_ERROR(RequireInputs(l, 1, 2));
  return RequireOutputs(l, 1);
}

// [1, 2, H·W·num_priors·4, 1] as TNN's (Caffe's has no trailing 1): boxes in channel 0, variances in channel 1.
Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const Dims& x = in[0];
  QT_RETURN_IF_ERROR(Require4D(l, x));
  if (in.size() > 1) QT_RETURN_IF_ERROR(Require4D(l, in[1]));
  PriorBoxParams k;
  QT_RETURN_IF_ERROR(PriorBoxKernelParams(l.Params<PriorBoxLayerParams>(), &k).WithContext(LayerWhere(l)));
  const int64_t n = static_cast<int64_t>(x[2]) * x[3] * PriorBoxNumPriors(k) * 4;
  if (n > (1 << 28)) return Status::InvalidArgument(LayerWhere(l) + ": " + std::to_string(n) + " priors are too many");
  out->assign(1, Dims{1, 2, static_cast<int>(n), 1});
  return Status::Ok();
}

class PriorBoxExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    PriorBoxParams k;
    QT_RETURN_IF_ERROR(PriorBoxKernelParams(ctx.layer.Params<PriorBoxLayerParams>(), &k));
    const Dims& x = ctx.in_dims[0];
    const int image_h = ctx.in_dims.size() > 1 ? ctx.in_dims[1][2] : 0;
    const int image_w = ctx.in_dims.size() > 1 ? ctx.in_dims[1][3] : 0;
    priors_.assign(static_cast<size_t>(DimsCount(ctx.out_dims[0])), 0.f);
    return PriorBoxFp32(k, x[2], x[3], image_h, image_w, priors_.data()).WithContext(LayerWhere(ctx.layer));
  }
  Status Forward(const std::vector<const Tensor*>&, const std::vector<Tensor*>& out) override {
    std::copy(priors_.begin(), priors_.end(), out[0]->data.begin());
    return Status::Ok();
  }

 private:
  std::vector<float> priors_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<PriorBoxExec>(); }

}  // namespace

const LayerKind& PriorBoxKind() {
  static const LayerKind kind{"PriorBox", {}, 33, false, DefaultOf<PriorBoxLayerParams>, Parse, Write, Check, Infer,
                              CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
