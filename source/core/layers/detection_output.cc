// DetectionOutput (Caffe-SSD): decodes the location predictions against the priors, runs per-class NMS and keeps
// the best detections. Inputs: loc [N, P·L·4] (L = 1 with share_location, else num_classes), conf [N, P·classes]
// already softmaxed, priors [1, 2, P·4, ...] from PriorBox; any shapes with those counts per image.
#include "core/layers/detection_output.h"

#include <algorithm>

#include "core/kernels/detection_fp32.h"
#include "core/layers/layer.h"

namespace qt {

Status DetectionOutputKernelParams(const DetectionOutputLayerParams& p, DetectionOutputParams* k) {
  *k = DetectionOutputParams{};
  k->num_classes = p.num_classes;
  k->share_location = p.share_location != 0;
  k->background_label_id = p.background_label_id;
  k->nms_threshold = p.nms_threshold;
  k->top_k = p.top_k;
  k->keep_top_k = p.keep_top_k;
  k->confidence_threshold = p.confidence_threshold;
  k->code_type = p.code_type == 1   ? BoxCodeType::kCorner
                 : p.code_type == 2 ? BoxCodeType::kCenterSize
                                    : BoxCodeType::kCornerSize;
  k->variance_encoded_in_target = p.variance_encoded_in_target != 0;
  k->eta = p.eta;
  if (p.eta == 0.f) {
    if (p.nms_threshold > 0.5f) {
      return Status::Unsupported("DetectionOutput eta 0 with nms_threshold " + FormatFloat(p.nms_threshold) +
                                 " > 0.5 (TNN then suppresses every box that overlaps a kept one at all)");
    }
    k->eta = 1.f;
  }
  if (p.num_classes < 1) {
    return Status::InvalidArgument("DetectionOutput num_classes " + std::to_string(p.num_classes) + " must be >= 1");
  }
  if (p.keep_top_k < -1 || p.top_k < -1) {
    return Status::InvalidArgument("DetectionOutput keep_top_k " + std::to_string(p.keep_top_k) + " and top_k " +
                                   std::to_string(p.top_k) + " must be >= -1");
  }
  if (!(k->eta > 0.f && k->eta <= 1.f)) {
    return Status::InvalidArgument("DetectionOutput eta " + FormatFloat(p.eta) + " must be in (0, 1]");
  }
  if (!(p.nms_threshold >= 0.f)) {
    return Status::InvalidArgument("DetectionOutput nms_threshold " + FormatFloat(p.nms_threshold) + " must be >= 0");
  }
  return Status::Ok();
}

int DetectionOutputRowsPerImage(const DetectionOutputLayerParams& p, int num_priors) {
  if (p.keep_top_k > -1) return std::max(p.keep_top_k, 1);
  const int classes = p.num_classes - (p.background_label_id >= 0 && p.background_label_id < p.num_classes ? 1 : 0);
  const int per_class = p.top_k > -1 ? std::min(p.top_k, num_priors) : num_priors;
  return std::max(classes * per_class, 1);
}

int DetectionOutputValidRows(const Tensor& out) {
  const int rows = static_cast<int>(out.data.size() / 7);
  int n = 0;
  while (n < rows && out.data[static_cast<size_t>(n) * 7] != -1.f) ++n;
  return n;
}

namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<DetectionOutputLayerParams>(*params);
  QT_RETURN_IF_ERROR(r.IntOr("num_classes", &p->num_classes, 0));
  QT_RETURN_IF_ERROR(r.IntOr("share_location", &p->share_location, 0));
  QT_RETURN_IF_ERROR(r.IntOr("background_label_id", &p->background_label_id, 0));
  QT_RETURN_IF_ERROR(r.IntOr("variance_encoded_in_target", &p->variance_encoded_in_target, 0));
  QT_RETURN_IF_ERROR(r.IntOr("code_type", &p->code_type, 0));
  QT_RETURN_IF_ERROR(r.IntOr("keep_top_k", &p->keep_top_k, 0));
  QT_RETURN_IF_ERROR(r.FloatOr("confidence_threshold", &p->confidence_threshold, 0.f));
  QT_RETURN_IF_ERROR(r.FloatOr("nms_threshold", &p->nms_threshold, 0.f));
  QT_RETURN_IF_ERROR(r.IntOr("top_k", &p->top_k, 0));
  return r.FloatOr("eta", &p->eta, 0.f);
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<DetectionOutputLayerParams>(params);
  w.Int(p.num_classes);
  w.Int(p.share_location);
  w.Int(p.background_label_id);
  w.Int(p.variance_encoded_in_target);
  w.Int(p.code_type);
  w.Int(p.keep_top_k);
  w.Float(p.confidence_threshold);
  w.Float(p.nms_threshold);
  w.Int(p.top_k);
  w.Float(p.eta);
}

Status Check(const Graph&, const Layer& l) {
  // TNN's 4th and 5th inputs (RefineDet's ARM predictions) are not supported.
  if (l.inputs.size() != 3) {
    return Status::InvalidArgument(LayerWhere(l) + " takes 3 inputs (loc, conf, priors), got " +
                                   std::to_string(l.inputs.size()));
  }
  return RequireOutputs(l, 1);
}

// The geometry both Infer and Prepare need: batch and prior count, checked against the three inputs.
Status Geometry(const Layer& l, const std::vector<Dims>& in, int* batch, int* num_priors) {
  const auto& p = l.Params<DetectionOutputLayerParams>();
  if (in.size() != 3) return Check(Graph{}, l);
  const Dims& priors = in[2];
  if (priors.size() < 3 || priors[1] != 2 || priors[2] % 4 != 0 || DimsCount(priors) != 2LL * priors[0] * priors[2]) {
    return Status::InvalidArgument(LayerWhere(l) + ": priors input " + DimsToString(priors) +
                                   " is not a PriorBox output [1, 2, P·4, 1]");
  }
  *num_priors = priors[2] / 4;
  *batch = in[0].empty() ? 0 : in[0][0];
  const int64_t loc_classes = p.share_location ? 1 : p.num_classes;
  const int64_t want_loc = int64_t{*batch} * *num_priors * loc_classes * 4;
  const int64_t want_conf = int64_t{*batch} * *num_priors * p.num_classes;
  if (*batch < 1 || DimsCount(in[0]) != want_loc || in[1].empty() || in[1][0] != *batch ||
      DimsCount(in[1]) != want_conf) {
    return Status::InvalidArgument(LayerWhere(l) + ": loc " + DimsToString(in[0]) + " and conf " +
                                   DimsToString(in[1]) + " must hold " + std::to_string(want_loc) + " and " +
                                   std::to_string(want_conf) + " values for " + std::to_string(*num_priors) +
                                   " priors and " + std::to_string(p.num_classes) + " classes");
  }
  return Status::Ok();
}

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  const auto& p = l.Params<DetectionOutputLayerParams>();
  DetectionOutputParams k;
  QT_RETURN_IF_ERROR(DetectionOutputKernelParams(p, &k).WithContext(LayerWhere(l)));
  int batch = 0, num_priors = 0;
  QT_RETURN_IF_ERROR(Geometry(l, in, &batch, &num_priors));
  const int64_t rows = int64_t{batch} * DetectionOutputRowsPerImage(p, num_priors);
  if (rows > (1 << 24)) {
    return Status::InvalidArgument(LayerWhere(l) + ": " + std::to_string(rows) +
                                   " output rows are too many (set keep_top_k)");
  }
  out->assign(1, Dims{1, 1, static_cast<int>(rows), 7});
  return Status::Ok();
}

class DetectionOutputExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    QT_RETURN_IF_ERROR(DetectionOutputKernelParams(ctx.layer.Params<DetectionOutputLayerParams>(), &params_)
                           .WithContext(LayerWhere(ctx.layer)));
    where_ = LayerWhere(ctx.layer);
    return Geometry(ctx.layer, ctx.in_dims, &batch_, &num_priors_);
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    std::vector<DetectionRow> rows;
    QT_RETURN_IF_ERROR(DetectionOutputFp32(params_, batch_, num_priors_, in[0]->data.data(), in[1]->data.data(),
                                           in[2]->data.data(), &rows));
    if (rows.empty()) rows = DetectionOutputEmptyRows(batch_);
    std::vector<float>& y = out[0]->data;
    // Padding rows are all -1 (see the header); the row count is an upper bound of what NMS keeps.
    std::fill(y.begin(), y.end(), -1.f);
    if (rows.size() > y.size() / 7) {
      return Status::Internal(where_ + " kept " + std::to_string(rows.size()) +
                              " detections but its output has " + std::to_string(y.size() / 7) + " rows");
    }
    for (size_t i = 0; i < rows.size(); ++i) std::copy(rows[i].begin(), rows[i].end(), y.begin() + i * 7);
    return Status::Ok();
  }

 private:
  DetectionOutputParams params_;
  std::string where_;
  int batch_ = 1, num_priors_ = 0;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) {
  return std::make_unique<DetectionOutputExec>();
}

}  // namespace

const LayerKind& DetectionOutputKind() {
  static const LayerKind kind{"DetectionOutput", {}, 34, false, DefaultOf<DetectionOutputLayerParams>, Parse, Write,
                              Check, Infer, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
