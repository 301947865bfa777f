#include "quantization/methods/tnn_blob_statistics.h"

#include <algorithm>
#include <cmath>

namespace qt {

TnnBlobStatistics::TnnBlobStatistics(int channels, int64_t spatial, bool merged)
    : blob_channels_(channels), spatial_(spatial), merged_(merged) {
  const int n = merged ? 1 : channels;
  // TNN's initial range is [1e6, -1e6]: a blob whose values all lie inside it keeps those bounds.
  min_.assign(n, 1e6f);
  max_.assign(n, -1e6f);
  mean_abs_.assign(n, 0.f);
  interval_.assign(n, 0.f);
  images_.assign(n, 0);
  valid_.assign(n, 0);
  counts_.assign(n, std::vector<uint64_t>(kBins, 0));
}

float TnnBlobStatistics::max_abs(int c) const { return std::max(std::fabs(min_[c]), std::fabs(max_[c])); }

void TnnBlobStatistics::UpdateRange(const Tensor& t) {
  const int batch = t.batch();
  for (int b = 0; b < batch; ++b) {
    for (int c = 0; c < blob_channels_; ++c) {
      const int idx = merged_ ? 0 : c;
      const float* p = t.data.data() + (int64_t{b} * blob_channels_ + c) * spatial_;
      if (b == 0) {
        float sum_abs = 0.f;
        for (int64_t i = 0; i < spatial_; ++i) sum_abs += std::fabs(p[i]);
        const int k = images_[idx];
        mean_abs_[idx] = (mean_abs_[idx] * k + sum_abs / spatial_) / (k + 1);
        images_[idx] = k + 1;
      }
      float lo = min_[idx], hi = max_[idx];
      for (int64_t i = 0; i < spatial_; ++i) {
        lo = std::min(lo, p[i]);
        hi = std::max(hi, p[i]);
      }
      min_[idx] = lo;
      max_[idx] = hi;
    }
  }
}

void TnnBlobStatistics::PrepareHistograms() {
  for (int c = 0; c < channels(); ++c) {
    const float m = max_abs(c);
    valid_[c] = m > 0.00001;
    interval_[c] = valid_[c] ? static_cast<float>(kBins) / m : 0.f;
    std::fill(counts_[c].begin(), counts_[c].end(), 0);
  }
}

void TnnBlobStatistics::UpdateHistogram(const Tensor& t) {
  const int batch = t.batch();
  for (int b = 0; b < batch; ++b) {
    for (int c = 0; c < blob_channels_; ++c) {
      const int idx = merged_ ? 0 : c;
      if (!valid_[idx]) continue;
      const float* p = t.data.data() + (int64_t{b} * blob_channels_ + c) * spatial_;
      const float interval = interval_[idx];
      uint64_t* counts = counts_[idx].data();
      for (int64_t i = 0; i < spatial_; ++i) {
        if (p[i] == 0) continue;
        const int bin = std::min(static_cast<int>(std::fabs(p[i]) * interval), kBins - 1);
        ++counts[bin];
      }
    }
  }
}

std::vector<float> TnnBlobStatistics::TnnHistogram(int c) const {
  std::vector<float> h(kBins);
  for (int i = 0; i < kBins; ++i) {
    uint64_t n = counts_[c][i];
    float f = 1.0e-7f;
    // Until the value is integral each +1.0f rounds; after that it is exact up to 2^24, where it saturates.
    while (n > 0 && f != std::floor(f)) {
      f += 1.0f;
      --n;
    }
    const double exact = static_cast<double>(f) + static_cast<double>(n);
    h[i] = static_cast<float>(std::min(exact, 16777216.0));
  }
  return h;
}

}  // namespace qt
