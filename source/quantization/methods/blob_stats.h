#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "core/base/tensor.h"
#include "quantization/methods/abs_histogram.h"

namespace qt {

// Statistics of one channel of a blob (or of the whole blob) over the calibration set, collected in one
// streaming pass. Everything but mean_abs_sum merges exactly in any order; mean_abs_sum is added by the caller
// in image order, so the statistics are identical whatever the number of threads.
struct ChannelStats {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  double mean_abs_sum = 0;  // Σ over images of that image's mean |x| (batch item 0, as TNN's ACIQ)
  int64_t images = 0;
  AbsHistogram hist;        // empty when not collected

  explicit ChannelStats(int bins = 0) : hist(bins) {}
  float max_abs() const;
  double mean_abs() const { return images > 0 ? mean_abs_sum / images : 0.0; }
  bool seen() const { return min <= max; }
};

// Which histograms to collect: of the whole tensor (per-tensor KL), of every channel (per-channel KL), or both
// (statistics saved for reuse with any merge type). Ranges and means are always collected.
struct StatsRequest {
  bool tensor_hist = false;
  bool channel_hist = false;
  static constexpr int kTensorBins = 4096;
  static constexpr int kChannelBins = 2048;
};

// min and max (folded into *mn, *mx) and Σ|x| of n values, summed in 16 float lanes (value i in lane i mod 16)
// that are then added in lane order, so the result depends on nothing but the values. NaN never wins a comparison:
// it leaves min/max alone but makes the sum NaN, which is how callers detect it. The reference twin is the plain
// loop the fast one is tested against.
void RangeAndAbsSum(const float* p, int64_t n, float* mn, float* mx, double* abs_sum);
void RangeAndAbsSumReference(const float* p, int64_t n, float* mn, float* mx, double* abs_sum);

// Streaming statistics of one NCHW blob: per channel (dim 1) and for the whole tensor.
class BlobStats {
 public:
  BlobStats() = default;
  BlobStats(int channels, int64_t spatial, const StatsRequest& request);

  int channels() const { return static_cast<int>(channels_.size()); }
  int64_t spatial() const { return spatial_; }
  const StatsRequest& request() const { return request_; }
  const ChannelStats& tensor() const { return tensor_; }
  const ChannelStats& channel(int c) const { return channels_[c]; }
  ChannelStats& mutable_tensor() { return tensor_; }
  ChannelStats& mutable_channel(int c) { return channels_[c]; }

  // One input's values of the blob: ranges and histograms. The mean |x| of batch item 0 per channel and then
  // for the whole tensor (channels + 1 values) go to `means`, for AddMeans in image order; each channel's largest
  // |x| of this input to `channel_max` when given (what AddChannelHistograms takes).
  void Update(const Tensor& t, std::vector<double>* means, std::vector<float>* channel_max = nullptr);
  // Counts one input's values into the channel histograms alone, given each channel's largest |x| in it: for
  // histograms kept apart from the ranges (one copy shared by the threads of a calibration pass).
  void AddChannelHistograms(const Tensor& t, const std::vector<float>& channel_max);
  // Moves the channel histograms of `from` (statistics of the same blob) here; they then count as collected.
  void TakeChannelHistograms(BlobStats* from);
  // A copy without the channel histograms (the ranges, means and whole-tensor histogram).
  BlobStats WithoutChannelHistograms() const;
  void AddMeans(const std::vector<double>& means);
  // Ranges and histograms of statistics collected on other inputs (means are added separately).
  void Merge(const BlobStats& other);

  // The statistics of the concatenation of `parts` along the channel axis, exactly as Update would collect them
  // on the concatenated blob (up to the rounding of the whole-tensor mean): channels are the parts' channels in
  // order; ranges combine; histograms merge exactly. Parts must share the spatial size and the request.
  static BlobStats ConcatChannels(const std::vector<const BlobStats*>& parts);

 private:
  StatsRequest request_;
  int64_t spatial_ = 0;
  ChannelStats tensor_;
  std::vector<ChannelStats> channels_;
};

}  // namespace qt
