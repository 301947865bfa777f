#pragma once

#include <cstdint>
#include <vector>

#include "core/base/status.h"
#include "core/base/tensor.h"

namespace qt {

// Statistics of one blob over the calibration set, collected in two streaming passes (ranges, then
// histograms) so that memory does not grow with the number of inputs. "Channels" are dim 1, or a single merged
// channel for per-tensor blobs. Counts are kept as integers; TNN's float histogram (bins start at 1e-7 and grow
// by 1.0f) is reproduced from them exactly when a method reads it, since it depends only on the count.
class TnnBlobStatistics {
 public:
  static constexpr int kBins = 2048;

  // `channels` of the blob (dim 1), `spatial` = product of dims 2.. (H·W), `merged` for one per-tensor channel.
  TnnBlobStatistics(int channels, int64_t spatial, bool merged);

  int channels() const { return static_cast<int>(min_.size()); }
  bool merged() const { return merged_; }
  int64_t spatial() const { return spatial_; }
  int blob_channels() const { return blob_channels_; }

  // Pass 1: per channel min/max over every batch item; per image (batch 0) mean and mean |x| per channel,
  // averaged over images as TNN's running average does.
  void UpdateRange(const Tensor& t);
  // Between the passes: bin width per channel from the range; channels with max |x| <= 1e-5 are invalid.
  void PrepareHistograms();
  // Pass 2: counts of |x| per bin (exact zeros skipped).
  void UpdateHistogram(const Tensor& t);

  float min(int c) const { return min_[c]; }
  float max(int c) const { return max_[c]; }
  float max_abs(int c) const;
  bool valid(int c) const { return valid_[c] != 0; }
  float interval(int c) const { return interval_[c]; }
  float mean_abs(int c) const { return mean_abs_[c]; }
  const std::vector<uint64_t>& counts(int c) const { return counts_[c]; }
  // TNN's float histogram: 1e-7 plus `count` float additions of 1.0 per bin.
  std::vector<float> TnnHistogram(int c) const;

 private:
  int blob_channels_;
  int64_t spatial_;
  bool merged_;
  std::vector<float> min_, max_, mean_abs_, interval_;
  std::vector<int> images_;
  std::vector<uint8_t> valid_;
  std::vector<std::vector<uint64_t>> counts_;
};

}  // namespace qt
