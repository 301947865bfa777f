#include "quantization/methods/blob_stats.h"

#include <algorithm>
#include <cmath>
#include <cstring>

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

void RangeAndAbsSum(const float* p, int64_t n, float* mn, float* mx, double* abs_sum) {
  // GCC/Clang vector types of 8 lanes, two per 16-lane step (lanes 0-7 and 8-15): one register each with AVX2 or
  // AVX-512, two with SSE. A single 16-lane type is one register with AVX-512 only; below that GCC lowered it
  // to scalar code through the stack, a fifth of a calibration's time on an AVX2 machine.
  typedef float V __attribute__((vector_size(32)));
  typedef int32_t I __attribute__((vector_size(32)));
  static_assert(kLanes == 16, "two 8-lane halves");
  const float inf = std::numeric_limits<float>::infinity();
  V lo0 = V{} + inf, hi0 = V{} - inf, sum0 = V{};
  V lo1 = lo0, hi1 = hi0, sum1 = sum0;
  const I abs_bits = I{} + 0x7fffffff;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    V a, b;
    std::memcpy(&a, p + i, sizeof(a));
    std::memcpy(&b, p + i + 8, sizeof(b));
    lo0 = a < lo0 ? a : lo0;
    hi0 = a > hi0 ? a : hi0;
    sum0 += reinterpret_cast<V>(reinterpret_cast<I>(a) & abs_bits);
    lo1 = b < lo1 ? b : lo1;
    hi1 = b > hi1 ? b : hi1;
    sum1 += reinterpret_cast<V>(reinterpret_cast<I>(b) & abs_bits);
  }
  float l[kLanes], h[kLanes], s[kLanes];
  std::memcpy(l, &lo0, sizeof(lo0));
  std::memcpy(l + 8, &lo1, sizeof(lo1));
  std::memcpy(h, &hi0, sizeof(hi0));
  std::memcpy(h + 8, &hi1, sizeof(hi1));
  std::memcpy(s, &sum0, sizeof(sum0));
  std::memcpy(s + 8, &sum1, sizeof(sum1));
  for (int k = 0; i < n; ++i, ++k) {
    const float v = p[i];
    l[k] = v < l[k] ? v : l[k];
    h[k] = v > h[k] ? v : h[k];
    s[k] += std::fabs(v);
  }
  FoldLanes(l, h, s, mn, mx, abs_sum);
}

void BlobStats::Update(const Tensor& t, std::vector<double>* means) {
  const int channels = this->channels();
  const int batch = static_cast<int>(t.count() / (int64_t{channels} * spatial_));
  means->assign(channels + 1, 0.0);
  std::vector<float> lo(channels), hi(channels);
  double total_abs = 0;
  for (int c = 0; c < channels; ++c) {
    float mn = std::numeric_limits<float>::infinity(), mx = -mn;
    for (int b = 0; b < batch; ++b) {
      double s = 0;
      RangeAndAbsSum(t.data.data() + (int64_t{b} * channels + c) * spatial_, spatial_, &mn, &mx, &s);
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

  if (request_.channel_hist) {
    for (int c = 0; c < channels; ++c) {
      const float m = std::max(std::fabs(lo[c]), std::fabs(hi[c]));
      for (int b = 0; b < batch; ++b) {
        channels_[c].hist.Add(t.data.data() + (int64_t{b} * channels + c) * spatial_, spatial_, m);
      }
    }
  }
  if (request_.tensor_hist) {
    float m = 0.f;
    for (int c = 0; c < channels; ++c) m = std::max({m, std::fabs(lo[c]), std::fabs(hi[c])});
    tensor_.hist.Add(t.data.data(), t.count(), m);
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
