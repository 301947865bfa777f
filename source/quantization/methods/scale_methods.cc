#include "quantization/methods/scale_methods.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qt {

const char* BlobMethodName(BlobMethod m) {
  switch (m) {
    case BlobMethod::kMinMax: return "Min-Max";
    case BlobMethod::kKl: return "KL";
    case BlobMethod::kAsymMinMax: return "asymmetric Min-Max";
    case BlobMethod::kAciqGauss: return "ACIQ-Gauss";
    case BlobMethod::kAciqLaplace: return "ACIQ-Laplace";
    case BlobMethod::kMse: return "MSE";
  }
  return "?";
}

const char* WeightMethodName(WeightMethod m) {
  switch (m) {
    case WeightMethod::kMinMax: return "Min-Max";
    case WeightMethod::kAdmm: return "ADMM";
    case WeightMethod::kAsymMinMax: return "asymmetric Min-Max";
  }
  return "?";
}

Status ParseBlobMethod(int id, BlobMethod* m) {
  switch (id) {
    case 0: *m = BlobMethod::kMinMax; return Status::Ok();
    case 2: *m = BlobMethod::kKl; return Status::Ok();
    case 3: *m = BlobMethod::kAsymMinMax; return Status::Ok();
    case 4: *m = BlobMethod::kAciqGauss; return Status::Ok();
    case 5: *m = BlobMethod::kAciqLaplace; return Status::Ok();
    case 6: *m = BlobMethod::kMse; return Status::Ok();
    default:
      return Status::InvalidArgument("-b " + std::to_string(id) +
                                     " is not a blob method (0 Min-Max, 2 KL, 3 asymmetric Min-Max, 4 ACIQ-Gauss, "
                                     "5 ACIQ-Laplace, 6 MSE; 1 ADMM is for weights only)");
  }
}

Status ParseWeightMethod(int id, WeightMethod* m) {
  switch (id) {
    case 0: *m = WeightMethod::kMinMax; return Status::Ok();
    case 1: *m = WeightMethod::kAdmm; return Status::Ok();
    case 3: *m = WeightMethod::kAsymMinMax; return Status::Ok();
    default:
      return Status::InvalidArgument("-w " + std::to_string(id) +
                                     " is not a weight method (0 Min-Max, 1 ADMM, 3 asymmetric Min-Max)");
  }
}

bool IsTnnBlobMethod(BlobMethod m) { return m != BlobMethod::kMse; }

int MseThresholdBin(const std::vector<double>& h) {
  const int bins = static_cast<int>(h.size());
  int best = bins;
  double best_err = -1;
  for (int t = std::min(128, bins); t <= bins; ++t) {
    const double step = t / 127.0;
    double err = 0;
    for (int i = 0; i < bins; ++i) {
      if (h[i] == 0) continue;
      const double centre = i + 0.5;
      const double q = std::min(std::round(centre / step) * step, static_cast<double>(t));
      err += h[i] * (centre - q) * (centre - q);
    }
    if (best_err < 0 || err < best_err) {
      best_err = err;
      best = t;
    }
  }
  return best;
}

int KlThresholdBin(std::vector<float> distribute) {
  const int bins = static_cast<int>(distribute.size());
  const int target = 128;
  int threshold = target;
  float sum = 0;
  for (float n : distribute) sum += n;
  for (float& n : distribute) n /= sum;

  float kl_min = 1e6f;
  float after = 0.0f;
  for (int i = target; i < bins; ++i) after += distribute[i];
  std::vector<float> ref, quantized(target), expanded;
  for (int i = target; i < bins; ++i) {
    ref.assign(distribute.begin(), distribute.begin() + i);
    ref[i - 1] += after;
    after -= distribute[i];

    std::fill(quantized.begin(), quantized.end(), 0.f);
    const float width = static_cast<float>(i) / static_cast<float>(target);
    for (int j = 0; j < target; ++j) {
      const float start = j * width;
      const float end = start + width;
      const int left_upper = static_cast<int>(std::ceil(start));
      if (left_upper > start) quantized[j] += (left_upper - start) * distribute[left_upper - 1];
      const int right_lower = static_cast<int>(std::floor(end));
      if (right_lower < end) quantized[j] += (end - right_lower) * distribute[right_lower];
      for (int k = left_upper; k < right_lower; ++k) quantized[j] += distribute[k];
    }

    expanded.assign(i, 0.f);
    for (int j = 0; j < target; ++j) {
      const float start = j * width;
      const float end = start + width;
      float count = 0;
      const int left_upper = static_cast<int>(std::ceil(start));
      float left_scale = 0.0f;
      if (left_upper > start) {
        left_scale = left_upper - start;
        if (distribute[left_upper - 1] != 0) count += left_scale;
      }
      const int right_lower = static_cast<int>(std::floor(end));
      float right_scale = 0.0f;
      if (right_lower < end) {
        right_scale = end - right_lower;
        if (distribute[right_lower] != 0) count += right_scale;
      }
      for (int k = left_upper; k < right_lower; ++k) {
        if (distribute[k] != 0) count += 1;
      }
      if (count == 0) continue;
      const float value = quantized[j] / count;
      if (left_upper > start && distribute[left_upper - 1] != 0) expanded[left_upper - 1] += value * left_scale;
      if (right_lower < end && distribute[right_lower] != 0) expanded[right_lower] += value * right_scale;
      for (int k = left_upper; k < right_lower; ++k) {
        if (distribute[k] != 0) expanded[k] += value;
      }
    }

    float kl = 0.0f;
    for (int k = 0; k < i; ++k) {
      if (ref[k] != 0) kl += expanded[k] == 0 ? 1.0f : ref[k] * std::log(ref[k] / expanded[k]);
    }
    if (kl < kl_min) {
      kl_min = kl;
      threshold = i;
    }
  }
  return threshold;
}

namespace {

constexpr int kKlBins = 2048;

// What a blob scale method reads about one channel (or one merged blob).
struct ChannelView {
  float min = 0, max = 0;
  float max_abs = 0;
  double mean_abs = 0;
  int64_t values_per_image = 0;  // N of ACIQ-Gauss
};

// The methods that need no histogram. KL is handled by the callers, which own their histograms.
Status RangeScale(const ChannelView& v, BlobMethod method, const std::string& blob, float* scale, int8_t* zp) {
  *zp = 0;
  switch (method) {
    case BlobMethod::kMinMax:
      *scale = v.max_abs / 127.0f;
      return Status::Ok();
    case BlobMethod::kAsymMinMax: {
      const float lo = std::min(0.f, v.min), hi = std::max(0.f, v.max);
      if (lo == hi) return Status::InvalidArgument("blob '" + blob + "' is constant: no asymmetric range");
      *scale = (hi - lo) / 254.0f;
      const float inv = 1 / *scale;
      *zp = static_cast<int8_t>(127 - static_cast<int>(std::round(hi * inv)));
      return Status::Ok();
    }
    case BlobMethod::kAciqGauss: {
      const double gaussian_const = (0.5 * 0.35) * (1 + std::sqrt(3.14159265358979323846 * std::log(4)));
      const double sd = (v.max_abs * 2 * gaussian_const) / std::sqrt(2 * std::log(static_cast<double>(v.values_per_image)));
      const float alpha = static_cast<float>(static_cast<float>(3.92403714) * sd);
      *scale = alpha / 127.0f;
      return Status::Ok();
    }
    case BlobMethod::kAciqLaplace: {
      const float alpha = static_cast<float>(static_cast<float>(9.89675982) * static_cast<float>(v.mean_abs));
      *scale = alpha / 127.0f;
      return Status::Ok();
    }
    case BlobMethod::kKl:
    case BlobMethod::kMse:
      break;
  }
  return Status::Internal("blob method without a range formula");
}

// TNN's final step for histogram methods: the threshold bin t of `interval` bins per unit → scale.
float ThresholdScale(int t, float interval) {
  return static_cast<float>((static_cast<float>(t) + 0.5) / interval / 127.0);
}

Status InvalidBlob(const std::string& blob) {
  return Status::InvalidArgument("blob '" + blob + "' is all zero (max |x| <= 1e-5) on the calibration set, so it has "
                                 "no per-tensor scale; use per-channel blobs (-t 0) or other inputs");
}

}  // namespace

Status ComputeTnnBlobScale(const TnnBlobStatistics& s, BlobMethod method, const std::string& blob,
                           ScaleResult* result) {
  const int n = s.channels();
  result->scale.assign(n, 0.f);
  result->zero_point.assign(n, 0);
  for (int c = 0; c < n; ++c) {
    if (!s.valid(c)) {
      if (s.merged()) return InvalidBlob(blob);
      continue;
    }
    if (method == BlobMethod::kMinMax || method == BlobMethod::kKl) {
      const int t = method == BlobMethod::kMinMax ? TnnBlobStatistics::kBins - 1 : KlThresholdBin(s.TnnHistogram(c));
      result->scale[c] = ThresholdScale(t, s.interval(c));
      continue;
    }
    ChannelView v;
    v.min = s.min(c);
    v.max = s.max(c);
    v.max_abs = s.max_abs(c);
    v.mean_abs = s.mean_abs(c);
    v.values_per_image = s.merged() ? s.spatial() * s.blob_channels() : s.spatial();
    QT_RETURN_IF_ERROR(RangeScale(v, method, blob, &result->scale[c], &result->zero_point[c]));
  }
  return Status::Ok();
}

Status ComputeBlobScale(const BlobStats& stats, bool merged, BlobMethod method, const std::string& blob,
                        ScaleResult* result) {
  const int n = merged ? 1 : stats.channels();
  result->scale.assign(n, 0.f);
  result->zero_point.assign(n, 0);
  for (int c = 0; c < n; ++c) {
    const ChannelStats& cs = merged ? stats.tensor() : stats.channel(c);
    const float max_abs = cs.max_abs();
    if (!std::isfinite(max_abs)) {
      return Status::InvalidArgument("blob '" + blob + "' holds Inf or NaN on the calibration set");
    }
    if (!(max_abs > 0.00001f)) {
      if (merged) return InvalidBlob(blob);
      continue;
    }
    if (method == BlobMethod::kMse) {
      if (cs.hist.empty()) return Status::Internal("blob '" + blob + "': MSE needs a histogram that was not collected");
      // The threshold t counts bins: values beyond t bins clip.
      const int t = MseThresholdBin(cs.hist.Resample(max_abs, kKlBins));
      result->scale[c] = static_cast<float>(static_cast<double>(max_abs) * t / kKlBins / 127.0);
      continue;
    }
    if (method == BlobMethod::kKl) {
      if (cs.hist.empty()) return Status::Internal("blob '" + blob + "': KL needs a histogram that was not collected");
      // TNN floors every bin at 1e-7 so that no bin is empty; the same floor keeps its KL expansion uniform here.
      const std::vector<double> h = cs.hist.Resample(max_abs, kKlBins);
      std::vector<float> hist(kKlBins);
      for (int i = 0; i < kKlBins; ++i) hist[i] = static_cast<float>(h[i] + 1e-7);
      result->scale[c] = ThresholdScale(KlThresholdBin(hist), static_cast<float>(kKlBins) / max_abs);
      continue;
    }
    ChannelView v;
    v.min = cs.min;
    v.max = cs.max;
    v.max_abs = max_abs;
    v.mean_abs = cs.mean_abs();
    v.values_per_image = merged ? stats.spatial() * stats.channels() : stats.spatial();
    QT_RETURN_IF_ERROR(RangeScale(v, method, blob, &result->scale[c], &result->zero_point[c]));
  }
  return Status::Ok();
}

Status QuantizeWeights(const float* w, int channels, int64_t count, WeightMethod method, bool tnn_compat,
                       std::vector<int8_t>* q, std::vector<float>* scales, std::vector<int8_t>* zero_points) {
  q->assign(channels * count, 0);
  scales->assign(channels, 0.f);
  zero_points->assign(channels, 0);
  for (int c = 0; c < channels; ++c) {
    const float* ws = w + c * count;
    int8_t* qs = q->data() + c * count;
    const auto mm = std::minmax_element(ws, ws + count);
    switch (method) {
      case WeightMethod::kMinMax: {
        const float max_abs = std::max(std::fabs(*mm.first), std::fabs(*mm.second));
        (*scales)[c] = max_abs / 127.0f;
        const float inv = max_abs != 0 ? 1 / (*scales)[c] : 1.0f;
        for (int64_t i = 0; i < count; ++i) {
          qs[i] = static_cast<int8_t>(std::min(127, std::max(-127, static_cast<int>(std::round(ws[i] * inv)))));
        }
        break;
      }
      case WeightMethod::kAdmm: {
        float max = 0;
        for (int64_t i = 0; i < count; ++i) max = std::max(max, std::fabs(ws[i]));
        float scale = static_cast<float>(max / (127 * 1.25));
        const float bound = 127.f, eps = 1e-9f;
        std::vector<int8_t> prev;
        for (int iter = 0; iter < 1000; ++iter) {
          for (int64_t i = 0; i < count; ++i) {
            qs[i] = static_cast<int8_t>(std::min(bound, std::max(-bound, std::roundf(ws[i] / (scale + eps)))));
          }
          float sum1 = 0, sum2 = 0;
          for (int64_t i = 0; i < count; ++i) {
            sum1 += ws[i] * qs[i];
            sum2 += qs[i] * qs[i];
          }
          scale = sum1 / (sum2 + eps);
          // q is a function of the scale and the scale a function of q: once q repeats, nothing changes.
          if (!tnn_compat) {
            if (prev.size() == static_cast<size_t>(count) && std::equal(prev.begin(), prev.end(), qs)) break;
            prev.assign(qs, qs + count);
          }
        }
        (*scales)[c] = scale;
        if (!tnn_compat) {
          // Alternating updates only descend from their start (20% clipped), which on light-tailed weights is
          // a worse local minimum than no clipping at all: keep Min-Max's result when its error is lower.
          const float max_abs = std::max(std::fabs(*mm.first), std::fabs(*mm.second));
          const float mm_scale = max_abs / 127.0f;
          const float inv = max_abs != 0 ? 1 / mm_scale : 1.0f;
          double err_admm = 0, err_mm = 0;
          std::vector<int8_t> mm_q(count);
          for (int64_t i = 0; i < count; ++i) {
            mm_q[i] = static_cast<int8_t>(std::min(127, std::max(-127, static_cast<int>(std::round(ws[i] * inv)))));
            const double da = ws[i] - static_cast<double>(qs[i]) * scale, dm = ws[i] - static_cast<double>(mm_q[i]) * mm_scale;
            err_admm += da * da;
            err_mm += dm * dm;
          }
          if (err_mm < err_admm) {
            std::copy(mm_q.begin(), mm_q.end(), qs);
            (*scales)[c] = mm_scale;
          }
        }
        break;
      }
      case WeightMethod::kAsymMinMax: {
        const float lo = std::min(0.f, *mm.first), hi = std::max(0.f, *mm.second);
        if (lo == hi) {
          if (tnn_compat) return Status::InvalidArgument("an all-zero weight slice has no asymmetric range");
          break;
        }
        (*scales)[c] = (hi - lo) / 254.0f;
        const float inv = 1 / (*scales)[c];
        const int8_t zp = static_cast<int8_t>(127 - static_cast<int>(std::round(hi * inv)));
        (*zero_points)[c] = zp;
        for (int64_t i = 0; i < count; ++i) {
          const int v = static_cast<int>(std::round(ws[i] * inv)) + zp;
          qs[i] = static_cast<int8_t>(std::min(127, std::max(-127, v)));
        }
        break;
      }
    }
  }
  return Status::Ok();
}

int32_t QuantizeBias(float bias, float weight_scale, bool tnn_compat) {
  if (weight_scale == 0) return 0;
  const float v = bias / weight_scale;
  const double r = tnn_compat ? std::trunc(static_cast<double>(v)) : std::round(static_cast<double>(v));
  return static_cast<int32_t>(std::min<double>(std::max<double>(r, std::numeric_limits<int32_t>::min()),
                                               std::numeric_limits<int32_t>::max()));
}

}  // namespace qt
