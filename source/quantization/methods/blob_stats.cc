#include "quantization/methods/blob_stats.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

namespace qt {

float ChannelStats::max_abs() const { return seen() ? std::max(std::fabs(min), std::fabs(max)) : 0.f; }

BlobStats::BlobStats(int channels, int64_t spatial, const StatsRequest& request)
    : request_(request),
      spatial_(spatial),
      tensor_(request.tensor_hist ? StatsRequest::kTensorBins : 0),
      channels_(channels, ChannelStats(request.channel_hist ? StatsRequest::kChannelBins : 0)) {}

namespace {

constexpr int kLanes = 16;

// Folds the 16 lanes in a fixed order, so both versions below give identical results.
void FoldLanes(const float* lo, const float* hi, const float* sum, float* mn, float* mx, double* abs_sum) {
  double s = 0;
  for (int k = 0; k < kLanes; ++k) {
    *mn = lo[k] < *mn ? lo[k] : *mn;
    *mx = hi[k] > *mx ? hi[k] : *mx;
    s += sum[k];
  }
  *abs_sum = s;
}

}  // namespace

void RangeAndAbsSumReference(const float* p, int64_t n, float* mn, float* mx, double* abs_sum) {
  float lo[kLanes], hi[kLanes], sum[kLanes];
  for (int k = 0; k < kLanes; ++k) {
    lo[k] = std::numeric_limits<float>::infinity();
    hi[k] = -lo[k];
    sum[k] = 0.f;
  }
  for (int64_t i = 0; i < n; ++i) {
    const int k = static_cast<int>(i % kLanes);
    const float v = p[i];
    lo[k] = v < lo[k] ? v : lo[k];
    hi[k] = v > hi[k] ? v : hi[k];
    sum[k] += std::fabs(v);
  }
  FoldLanes(lo, hi, sum, mn, mx, abs_sum);
}

namespace {

// RangeAndAbsSum's 16 lanes, carried from block to block of one run of values.
class RangeLanes {
 public:
  // GCC/Clang vector types of 8 lanes, two per 16-lane step (lanes 0-7 and 8-15): one register each with AVX2 or
  // AVX-512, two with SSE. A single 16-lane type is one register with AVX-512 only; below that GCC lowered it
  // to scalar code through the stack, a fifth of a calibration's time on an AVX2 machine.
  typedef float V __attribute__((vector_size(32)));
  typedef int32_t I __attribute__((vector_size(32)));
  static_assert(kLanes == 16, "two 8-lane halves");

  // Values [p, p + n) where n is a multiple of 16.
  void AddWhole(const float* p, int64_t n) {
    const I abs_bits = I{} + 0x7fffffff;
    for (int64_t i = 0; i < n; i += kLanes) {
      V a, b;
      std::memcpy(&a, p + i, sizeof(a));
      std::memcpy(&b, p + i + 8, sizeof(b));
      lo0_ = a < lo0_ ? a : lo0_;
      hi0_ = a > hi0_ ? a : hi0_;
      sum0_ += reinterpret_cast<V>(reinterpret_cast<I>(a) & abs_bits);
      lo1_ = b < lo1_ ? b : lo1_;
      hi1_ = b > hi1_ ? b : hi1_;
      sum1_ += reinterpret_cast<V>(reinterpret_cast<I>(b) & abs_bits);
    }
  }

  // The last n < 16 values of the run, then the lanes folded into the caller's min and max and the sum.
  void Finish(const float* p, int64_t n, float* mn, float* mx, double* abs_sum) const {
    float l[kLanes], h[kLanes], s[kLanes];
    std::memcpy(l, &lo0_, sizeof(lo0_));
    std::memcpy(l + 8, &lo1_, sizeof(lo1_));
    std::memcpy(h, &hi0_, sizeof(hi0_));
    std::memcpy(h + 8, &hi1_, sizeof(hi1_));
    std::memcpy(s, &sum0_, sizeof(sum0_));
    std::memcpy(s + 8, &sum1_, sizeof(sum1_));
    for (int k = 0; k < n; ++k) {
      const float v = p[k];
      l[k] = v < l[k] ? v : l[k];
      h[k] = v > h[k] ? v : h[k];
      s[k] += std::fabs(v);
    }
    FoldLanes(l, h, s, mn, mx, abs_sum);
  }

 private:
  static constexpr float kInf = std::numeric_limits<float>::infinity();
  V lo0_ = V{} + kInf, hi0_ = V{} - kInf, sum0_ = V{};
  V lo1_ = lo0_, hi1_ = hi0_, sum1_ = sum0_;
};

// One plane's range and Σ|x| as RangeAndAbsSum gives them, its values also counted into `tally` when there is one:
// block by block, so that the counting reads each block from the L1 cache.
void ScanPlane(const float* p, int64_t n, AbsHistogram::Tally* tally, float* mn, float* mx, double* abs_sum) {
  constexpr int64_t kBlock = 2048;
  const int64_t whole = n / kLanes * kLanes;
  RangeLanes lanes;
  for (int64_t start = 0; start < whole; start += kBlock) {
    const int64_t len = std::min(kBlock, whole - start);
    lanes.AddWhole(p + start, len);
    if (tally) tally->Add(p + start, len);
  }
  lanes.Finish(p + whole, n - whole, mn, mx, abs_sum);
  if (tally && n > whole) tally->Add(p + whole, n - whole);
}

}  // namespace

void RangeAndAbsSum(const float* p, int64_t n, float* mn, float* mx, double* abs_sum) {
  ScanPlane(p, n, nullptr, mn, mx, abs_sum);
}

void BlobStats::AddChannelHistograms(const Tensor& t, const std::vector<float>& channel_max) {
  const int channels = this->channels();
  const int batch = static_cast<int>(t.count() / (int64_t{channels} * spatial_));
  for (int c = 0; c < channels; ++c) {
    for (int b = 0; b < batch; ++b) {
      channels_[c].hist.Add(t.data.data() + (int64_t{b} * channels + c) * spatial_, spatial_, channel_max[c]);
    }
  }
}

void BlobStats::TakeChannelHistograms(BlobStats* from) {
  for (int c = 0; c < channels(); ++c) channels_[c].hist = std::move(from->channels_[c].hist);
  request_.channel_hist = true;
}

BlobStats BlobStats::WithoutChannelHistograms() const {
  BlobStats out;
  out.request_ = request_;
  out.request_.channel_hist = false;
  out.spatial_ = spatial_;
  out.tensor_ = tensor_;
  out.channels_.resize(channels_.size());
  for (size_t c = 0; c < channels_.size(); ++c) {
    ChannelStats& d = out.channels_[c];
    const ChannelStats& from = channels_[c];
    d.min = from.min;
    d.max = from.max;
    d.mean_abs_sum = from.mean_abs_sum;
    d.images = from.images;
  }
  return out;
}

void BlobStats::Update(const Tensor& t, std::vector<double>* means, std::vector<float>* channel_max) {
  const int channels = this->channels();
  const int batch = static_cast<int>(t.count() / (int64_t{channels} * spatial_));
  means->assign(channels + 1, 0.0);
  std::vector<float> lo(channels), hi(channels);
  // Once the tensor histogram has a range, a large blob is counted in the same pass as its ranges (one read of
  // its values instead of two); the count is taken again only when this input reaches beyond that range.
  std::optional<AbsHistogram::Tally> tally;
  if (request_.tensor_hist && !tensor_.hist.empty() && t.count() >= 2 * int64_t{tensor_.hist.bins()}) {
    tally.emplace(tensor_.hist);
  }
  AbsHistogram::Tally* counts = tally ? &*tally : nullptr;
  double total_abs = 0;
  for (int c = 0; c < channels; ++c) {
    float mn = std::numeric_limits<float>::infinity(), mx = -mn;
    for (int b = 0; b < batch; ++b) {
      double s = 0;
      ScanPlane(t.data.data() + (int64_t{b} * channels + c) * spatial_, spatial_, counts, &mn, &mx, &s);
      if (b == 0) {
        (*means)[c] = spatial_ > 0 ? s / spatial_ : 0.0;
        total_abs += s;
      }
    }
    lo[c] = mn;
    hi[c] = mx;
    ChannelStats& cs = channels_[c];
    cs.min = std::min(cs.min, mn);
    cs.max = std::max(cs.max, mx);
    tensor_.min = std::min(tensor_.min, mn);
    tensor_.max = std::max(tensor_.max, mx);
  }
  (*means)[channels] = channels * spatial_ > 0 ? total_abs / (channels * spatial_) : 0.0;

  if (request_.channel_hist || channel_max) {
    std::vector<float> own;
    std::vector<float>& m = channel_max ? *channel_max : own;
    m.resize(channels);
    for (int c = 0; c < channels; ++c) m[c] = std::max(std::fabs(lo[c]), std::fabs(hi[c]));
    if (request_.channel_hist) AddChannelHistograms(t, m);
  }
  if (request_.tensor_hist) {
    float m = 0.f;
    for (int c = 0; c < channels; ++c) m = std::max({m, std::fabs(lo[c]), std::fabs(hi[c])});
    if (!tally || !tally->Commit(&tensor_.hist, m)) tensor_.hist.Add(t.data.data(), t.count(), m);
  }
}

void BlobStats::AddMeans(const std::vector<double>& means) {
  for (int c = 0; c < channels(); ++c) {
    channels_[c].mean_abs_sum += means[c];
    ++channels_[c].images;
  }
  tensor_.mean_abs_sum += means[channels()];
  ++tensor_.images;
}

namespace {

void MergeRange(ChannelStats* into, const ChannelStats& from) {
  into->min = std::min(into->min, from.min);
  into->max = std::max(into->max, from.max);
  into->hist.Merge(from.hist);
}

}  // namespace

void BlobStats::Merge(const BlobStats& other) {
  MergeRange(&tensor_, other.tensor_);
  for (int c = 0; c < channels(); ++c) MergeRange(&channels_[c], other.channels_[c]);
}

BlobStats BlobStats::ConcatChannels(const std::vector<const BlobStats*>& parts) {
  int channels = 0;
  for (const BlobStats* p : parts) channels += p->channels();
  BlobStats out(channels, parts[0]->spatial_, parts[0]->request_);
  int c = 0;
  for (const BlobStats* p : parts) {
    for (int k = 0; k < p->channels(); ++k) out.channels_[c++] = p->channels_[k];
    MergeRange(&out.tensor_, p->tensor_);
    // The whole-tensor mean of an input is the channel-count-weighted mean of the parts' means.
    out.tensor_.mean_abs_sum += p->tensor_.mean_abs_sum * p->channels() / channels;
    out.tensor_.images = p->tensor_.images;
  }
  return out;
}

}  // namespace qt
