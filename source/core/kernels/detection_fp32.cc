#include "core/kernels/detection_fp32.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>

namespace qt {

// ---- PriorBox --------------------------------------------------------------------------------------------------

std::vector<float> PriorBoxAspectRatios(const PriorBoxParams& p) {
  std::vector<float> ratios = {1.f};
  for (float r : p.aspect_ratios) {
    bool seen = false;
    for (float q : ratios) seen = seen || std::fabs(r - q) < 1e-6;
    if (seen) continue;
    ratios.push_back(r);
    if (p.flip) ratios.push_back(static_cast<float>(1. / r));
  }
  return ratios;
}

int PriorBoxNumPriors(const PriorBoxParams& p) {
  return static_cast<int>(PriorBoxAspectRatios(p).size() * p.min_sizes.size() + p.max_sizes.size());
}

namespace {

Status CheckPriorBoxParams(const PriorBoxParams& p, int feature_h, int feature_w, int image_h, int image_w) {
  if (p.min_sizes.empty()) return Status::InvalidArgument("PriorBox: min_size must be given at least once");
  for (float s : p.min_sizes) {
    if (!(s > 0.f)) return Status::InvalidArgument("PriorBox: min_size " + std::to_string(s) + " must be > 0");
  }
  if (!p.max_sizes.empty()) {
    if (p.max_sizes.size() != p.min_sizes.size()) {
      return Status::InvalidArgument("PriorBox: " + std::to_string(p.max_sizes.size()) + " max_size values for " +
                                     std::to_string(p.min_sizes.size()) + " min_size values; need one each");
    }
    for (size_t i = 0; i < p.max_sizes.size(); ++i) {
      if (!(p.max_sizes[i] > p.min_sizes[i])) {
        return Status::InvalidArgument("PriorBox: max_size " + std::to_string(p.max_sizes[i]) +
                                       " must be larger than min_size " + std::to_string(p.min_sizes[i]));
      }
    }
  }
  for (float r : p.aspect_ratios) {
    if (!(r > 0.f)) return Status::InvalidArgument("PriorBox: aspect_ratio " + std::to_string(r) + " must be > 0");
  }
  if (p.variances.size() != 0 && p.variances.size() != 1 && p.variances.size() != 4) {
    return Status::InvalidArgument("PriorBox: " + std::to_string(p.variances.size()) +
                                   " variance values; need 0, 1 or 4");
  }
  for (float v : p.variances) {
    if (!(v > 0.f)) return Status::InvalidArgument("PriorBox: variance " + std::to_string(v) + " must be > 0");
  }
  if (feature_h <= 0 || feature_w <= 0) {
    return Status::InvalidArgument("PriorBox: feature map " + std::to_string(feature_h) + "x" +
                                   std::to_string(feature_w) + " must not be empty");
  }
  if (p.img_h < 0 || p.img_w < 0) return Status::InvalidArgument("PriorBox: img_h/img_w must be >= 0");
  if ((p.img_h == 0 || p.img_w == 0) && (image_h <= 0 || image_w <= 0)) {
    return Status::InvalidArgument("PriorBox: no img_h/img_w and the image input is " + std::to_string(image_h) +
                                   "x" + std::to_string(image_w));
  }
  if (p.step_h < 0.f || p.step_w < 0.f) return Status::InvalidArgument("PriorBox: step_h/step_w must be >= 0");
  return Status::Ok();
}

}  // namespace

Status PriorBoxFp32(const PriorBoxParams& p, int feature_h, int feature_w, int image_h, int image_w, float* out) {
  QT_RETURN_IF_ERROR(CheckPriorBoxParams(p, feature_h, feature_w, image_h, image_w));
  const std::vector<float> ratios = PriorBoxAspectRatios(p);
  const int num_priors = PriorBoxNumPriors(p);
  // Caffe takes both image sizes (and both steps) from the inputs as soon as either parameter is 0.
  const bool own_image = p.img_h != 0 && p.img_w != 0;
  const int img_h = own_image ? p.img_h : image_h;
  const int img_w = own_image ? p.img_w : image_w;
  const bool own_step = p.step_h != 0.f && p.step_w != 0.f;
  const float step_h = own_step ? p.step_h : static_cast<float>(img_h) / feature_h;
  const float step_w = own_step ? p.step_w : static_cast<float>(img_w) / feature_w;
  auto size_of = [&](float s) { return p.truncate_sizes ? std::trunc(s) : s; };

  // Caffe's arithmetic: float centres and box sides, the halving and the division in double.
  const int64_t dim = int64_t{feature_h} * feature_w * num_priors * 4;
  float* box = out;
  auto add_box = [&](float cx, float cy, float bw, float bh) {
    *box++ = static_cast<float>((cx - bw / 2.) / img_w);
    *box++ = static_cast<float>((cy - bh / 2.) / img_h);
    *box++ = static_cast<float>((cx + bw / 2.) / img_w);
    *box++ = static_cast<float>((cy + bh / 2.) / img_h);
  };
  for (int h = 0; h < feature_h; ++h) {
    for (int w = 0; w < feature_w; ++w) {
      const float cx = (w + p.offset) * step_w;
      const float cy = (h + p.offset) * step_h;
      for (size_t s = 0; s < p.min_sizes.size(); ++s) {
        const float min_size = size_of(p.min_sizes[s]);
        add_box(cx, cy, min_size, min_size);
        if (!p.max_sizes.empty()) {
          const float side = static_cast<float>(std::sqrt(double{min_size} * size_of(p.max_sizes[s])));
          add_box(cx, cy, side, side);
        }
        for (float r : ratios) {
          if (std::fabs(r - 1.) < 1e-6) continue;
          const double root = std::sqrt(double{r});
          add_box(cx, cy, static_cast<float>(min_size * root), static_cast<float>(min_size / root));
        }
      }
    }
  }
  if (p.clip) {
    for (int64_t i = 0; i < dim; ++i) out[i] = std::min(std::max(out[i], 0.f), 1.f);
  }
  float* var = out + dim;
  if (p.variances.size() == 4) {
    for (int64_t i = 0; i < dim; ++i) var[i] = p.variances[i % 4];
  } else {
    std::fill(var, var + dim, p.variances.empty() ? 0.1f : p.variances[0]);
  }
  return Status::Ok();
}

// ---- DetectionOutput -------------------------------------------------------------------------------------------

namespace {

// Caffe's NormalizedBBox with its cached size: BBoxSize, 0 for an inverted box, else width·height.
struct Box {
  float xmin = 0.f, ymin = 0.f, xmax = 0.f, ymax = 0.f, size = 0.f;
};

Box MakeBox(float xmin, float ymin, float xmax, float ymax) {
  Box b{xmin, ymin, xmax, ymax, 0.f};
  if (!(xmax < xmin || ymax < ymin)) b.size = (xmax - xmin) * (ymax - ymin);
  return b;
}

// Caffe's JaccardOverlap on normalised boxes: disjoint or touching boxes overlap 0; the union uses the cached
// sizes, so an inverted box counts as size 0.
float JaccardOverlap(const Box& a, const Box& b) {
  if (b.xmin > a.xmax || b.xmax < a.xmin || b.ymin > a.ymax || b.ymax < a.ymin) return 0.f;
  const float iw = std::min(a.xmax, b.xmax) - std::max(a.xmin, b.xmin);
  const float ih = std::min(a.ymax, b.ymax) - std::max(a.ymin, b.ymin);
  if (!(iw > 0.f && ih > 0.f)) return 0.f;
  const float inter = iw * ih;
  return inter / (a.size + b.size - inter);
}

// bbox_util.cpp's DecodeBBox with clip_bbox false. `prior` and `var` point at 4 floats; `v` is the prediction.
Status DecodeBox(const DetectionOutputParams& p, int index, const float* prior, const float* var, const float* v,
                 Box* out) {
  float d[4];
  if (!p.variance_encoded_in_target) {
    for (int k = 0; k < 4; ++k) d[k] = var[k] * v[k];
  } else {
    for (int k = 0; k < 4; ++k) d[k] = v[k];
  }
  if (p.code_type == BoxCodeType::kCorner) {
    *out = MakeBox(prior[0] + d[0], prior[1] + d[1], prior[2] + d[2], prior[3] + d[3]);
    return Status::Ok();
  }
  const float pw = prior[2] - prior[0];
  const float ph = prior[3] - prior[1];
  if (!(pw > 0.f && ph > 0.f)) {
    return Status::InvalidArgument("DetectionOutput: prior " + std::to_string(index) + " is " + std::to_string(pw) +
                                   "x" + std::to_string(ph) +
                                   "; CENTER_SIZE and CORNER_SIZE need width and height > 0");
  }
  if (p.code_type == BoxCodeType::kCornerSize) {
    *out = MakeBox(prior[0] + d[0] * pw, prior[1] + d[1] * ph, prior[2] + d[2] * pw, prior[3] + d[3] * ph);
    return Status::Ok();
  }
  const float pcx = static_cast<float>((prior[0] + prior[2]) / 2.);
  const float pcy = static_cast<float>((prior[1] + prior[3]) / 2.);
  const float cx = d[0] * pw + pcx;
  const float cy = d[1] * ph + pcy;
  const float w = std::exp(d[2]) * pw;
  const float h = std::exp(d[3]) * ph;
  *out = MakeBox(static_cast<float>(cx - w / 2.), static_cast<float>(cy - h / 2.), static_cast<float>(cx + w / 2.),
                 static_cast<float>(cy + h / 2.));
  return Status::Ok();
}

// ApplyNMSFast: the kept indices in descending score order.
std::vector<int> NmsFast(const DetectionOutputParams& p, const std::vector<Box>& boxes, const float* scores,
                         int stride) {
  std::vector<std::pair<float, int>> cand;
  for (int i = 0; i < static_cast<int>(boxes.size()); ++i) {
    const float s = scores[int64_t{i} * stride];
    if (s > p.confidence_threshold) cand.emplace_back(s, i);
  }
  std::stable_sort(cand.begin(), cand.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (p.top_k > -1 && p.top_k < static_cast<int>(cand.size())) cand.resize(p.top_k);
  std::vector<int> kept;
  float threshold = p.nms_threshold;
  for (const auto& c : cand) {
    bool keep = true;
    for (size_t k = 0; k < kept.size() && keep; ++k) {
      keep = JaccardOverlap(boxes[c.second], boxes[kept[k]]) <= threshold;
    }
    if (!keep) continue;
    kept.push_back(c.second);
    if (p.eta < 1.f && threshold > 0.5f) threshold *= p.eta;
  }
  return kept;
}

Status CheckDetectionOutputParams(const DetectionOutputParams& p, int batch, int num_priors) {
  if (p.num_classes <= 0) {
    return Status::InvalidArgument("DetectionOutput: num_classes " + std::to_string(p.num_classes) + " must be > 0");
  }
  if (batch <= 0 || num_priors < 0) {
    return Status::InvalidArgument("DetectionOutput: batch " + std::to_string(batch) + " and num_priors " +
                                   std::to_string(num_priors) + " must be > 0 and >= 0");
  }
  if (!(p.nms_threshold >= 0.f)) {
    return Status::InvalidArgument("DetectionOutput: nms_threshold " + std::to_string(p.nms_threshold) +
                                   " must be >= 0");
  }
  if (!(p.eta > 0.f && p.eta <= 1.f)) {
    return Status::InvalidArgument("DetectionOutput: eta " + std::to_string(p.eta) + " must be in (0, 1]");
  }
  switch (p.code_type) {
    case BoxCodeType::kCorner:
    case BoxCodeType::kCenterSize:
    case BoxCodeType::kCornerSize:
      return Status::Ok();
  }
  return Status::InvalidArgument("DetectionOutput: code_type " + std::to_string(static_cast<int>(p.code_type)) +
                                 " is not CORNER (1), CENTER_SIZE (2) or CORNER_SIZE (3)");
}

}  // namespace

Status DetectionOutputFp32(const DetectionOutputParams& p, int batch, int num_priors, const float* loc,
                           const float* conf, const float* priors, std::vector<DetectionRow>* rows) {
  QT_RETURN_IF_ERROR(CheckDetectionOutputParams(p, batch, num_priors));
  rows->clear();
  const int loc_classes = p.share_location ? 1 : p.num_classes;
  const float* variances = priors + int64_t{num_priors} * 4;
  std::vector<std::vector<Box>> boxes(loc_classes, std::vector<Box>(num_priors));
  for (int n = 0; n < batch; ++n) {
    const float* loc_n = loc + int64_t{n} * num_priors * loc_classes * 4;
    const float* conf_n = conf + int64_t{n} * num_priors * p.num_classes;
    for (int c = 0; c < loc_classes; ++c) {
      if (!p.share_location && c == p.background_label_id) continue;
      for (int i = 0; i < num_priors; ++i) {
        QT_RETURN_IF_ERROR(DecodeBox(p, i, priors + int64_t{i} * 4, variances + int64_t{i} * 4,
                                     loc_n + (int64_t{i} * loc_classes + c) * 4, &boxes[c][i]));
      }
    }

    std::map<int, std::vector<int>> kept;  // label -> prior indices, in output order
    size_t num_det = 0;
    for (int c = 0; c < p.num_classes; ++c) {
      if (c == p.background_label_id) continue;
      kept[c] = NmsFast(p, boxes[p.share_location ? 0 : c], conf_n + c, p.num_classes);
      num_det += kept[c].size();
    }
    if (p.keep_top_k > -1 && num_det > static_cast<size_t>(p.keep_top_k)) {
      std::vector<std::pair<float, std::pair<int, int>>> all;
      for (const auto& [label, indices] : kept) {
        for (int i : indices) all.push_back({conf_n[int64_t{i} * p.num_classes + label], {label, i}});
      }
      std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      all.resize(p.keep_top_k);
      kept.clear();
      for (const auto& a : all) kept[a.second.first].push_back(a.second.second);
    }

    for (const auto& [label, indices] : kept) {
      const std::vector<Box>& label_boxes = boxes[p.share_location ? 0 : label];
      for (int i : indices) {
        const Box& b = label_boxes[i];
        rows->push_back({static_cast<float>(n), static_cast<float>(label), conf_n[int64_t{i} * p.num_classes + label],
                         b.xmin, b.ymin, b.xmax, b.ymax});
      }
    }
  }
  return Status::Ok();
}

std::vector<DetectionRow> DetectionOutputEmptyRows(int batch) {
  std::vector<DetectionRow> rows(std::max(batch, 0));
  for (int n = 0; n < batch; ++n) rows[n] = {static_cast<float>(n), -1.f, -1.f, -1.f, -1.f, -1.f, -1.f};
  return rows;
}

// ---- Normalize -------------------------------------------------------------------------------------------------

Status NormalizeFp32(const NormalizeParams& p, const float* in, const Dims& dims, const float* scale, float* out) {
  if (dims.size() < 2) {
    return Status::InvalidArgument("Normalize: input " + DimsToString(dims) + " needs at least 2 dims (N, C)");
  }
  for (int d : dims) {
    if (d <= 0) return Status::InvalidArgument("Normalize: input " + DimsToString(dims) + " has an empty dim");
  }
  const int batch = dims[0], channels = dims[1];
  const int64_t spatial = DimsCount(dims, 2);
  const int64_t per_image = int64_t{channels} * spatial;
  auto scale_of = [&](int c) { return scale == nullptr ? 1.f : scale[p.channel_shared ? 0 : c]; };
  // Sums in double: Caffe's BLAS sums in float in an order of its own, so only the rounding of the sum differs.
  for (int n = 0; n < batch; ++n) {
    const float* x = in + n * per_image;
    float* y = out + n * per_image;
    if (p.across_spatial) {
      double sum = 0.;
      for (int64_t i = 0; i < per_image; ++i) sum += double{x[i]} * x[i];
      const float norm = static_cast<float>(std::sqrt(sum + p.eps));
      // Caffe scales by the inverse norm here (caffe_cpu_scale) and divides by it in the per-position case.
      const float inv = static_cast<float>(1. / norm);
      for (int c = 0; c < channels; ++c) {
        const float s = scale_of(c);
        for (int64_t i = c * spatial; i < (c + 1) * spatial; ++i) y[i] = x[i] * inv * s;
      }
    } else {
      for (int64_t i = 0; i < spatial; ++i) {
        double sum = 0.;
        for (int c = 0; c < channels; ++c) sum += double{x[c * spatial + i]} * x[c * spatial + i];
        const float norm = static_cast<float>(std::sqrt(sum + p.eps));
        for (int c = 0; c < channels; ++c) y[c * spatial + i] = x[c * spatial + i] / norm * scale_of(c);
      }
    }
  }
  return Status::Ok();
}

}  // namespace qt
