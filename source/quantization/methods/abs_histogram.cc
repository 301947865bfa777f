#include "quantization/methods/abs_histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace qt {
namespace {

// The smallest e with max_abs < 2^e.
int ExponentAbove(float max_abs) {
  int e = 0;
  std::frexp(max_abs, &e);  // max_abs = m·2^e with m in [0.5, 1)
  return e;
}

}  // namespace

AbsHistogram::AbsHistogram(int bins) : counts_(bins, 0) {}

void AbsHistogram::GrowTo(int exponent) {
  if (!has_range_) {
    exponent_ = exponent;
    has_range_ = true;
    return;
  }
  if (exponent <= exponent_) return;
  const int shift = std::min(exponent - exponent_, 31);
  const int b = bins();
  std::vector<uint64_t> merged(b, 0);
  for (int i = 0; i < b; ++i) merged[i >> shift] += counts_[i];
  counts_ = std::move(merged);
  exponent_ = exponent;
}

void AbsHistogram::Add(const float* x, int64_t n, float max_abs) {
  if (!(max_abs > 0.f)) return;
  GrowTo(ExponentAbove(max_abs));
  // bins / 2^e is a power of two: the product below is exact, so a value's bin is floor(|x|·bins / 2^e).
  const float inv_width = std::ldexp(static_cast<float>(bins()), -exponent_);
  const int last = bins() - 1;
  // Four interleaved local histograms: runs of values in one bin (zeros, small values after a ReLU) would
  // otherwise chain every increment on the previous store. Zeros land in bin 0 without a branch and are taken
  // out at the end. A call adds fewer than 2^32 values per bin, so local 32-bit counts cannot wrap.
  constexpr int kWays = 4;
  const int b = bins();
  thread_local std::vector<uint32_t> local;
  local.assign(static_cast<size_t>(kWays) * b, 0);
  uint32_t* l = local.data();
  uint64_t zeros = 0;
  int64_t i = 0;
  for (; i + kWays <= n; i += kWays) {
    for (int w = 0; w < kWays; ++w) {
      const float a = std::fabs(x[i + w]);
      zeros += a == 0.f;
      const int bin = static_cast<int>(a * inv_width);
      ++l[w * b + (bin < last ? bin : last)];
    }
  }
  for (; i < n; ++i) {
    const float a = std::fabs(x[i]);
    zeros += a == 0.f;
    const int bin = static_cast<int>(a * inv_width);
    ++l[bin < last ? bin : last];
  }
  uint64_t* c = counts_.data();
  for (int k = 0; k < b; ++k) c[k] += uint64_t{l[k]} + l[b + k] + l[2 * b + k] + l[3 * b + k];
  c[0] -= zeros;
}

void AbsHistogram::Merge(const AbsHistogram& other) {
  if (other.empty()) return;
  if (empty()) {
    *this = other;
    return;
  }
  AbsHistogram o = other;
  const int e = std::max(exponent_, o.exponent_);
  GrowTo(e);
  o.GrowTo(e);
  for (int i = 0; i < bins(); ++i) counts_[i] += o.counts_[i];
}

std::vector<double> AbsHistogram::Resample(float max_abs, int bins) const {
  std::vector<double> out(bins, 0.0);
  if (empty() || !(max_abs > 0.f)) return out;
  const double src_width = std::ldexp(1.0, exponent_) / this->bins();
  const double dst_width = static_cast<double>(max_abs) / bins;
  for (int i = 0; i < this->bins(); ++i) {
    if (counts_[i] == 0) continue;
    const double lo = i * src_width, hi = lo + src_width;
    const double n = counts_[i];
    if (lo >= max_abs) {
      out[bins - 1] += n;
      continue;
    }
    const double end = std::min(hi, static_cast<double>(max_abs));
    int j = std::min(static_cast<int>(lo / dst_width), bins - 1);
    double pos = lo;
    while (pos < end && j < bins) {
      const double edge = j == bins - 1 ? end : std::min(end, (j + 1) * dst_width);
      if (edge > pos) out[j] += n * (edge - pos) / src_width;
      pos = std::max(pos, edge);
      ++j;
    }
    if (hi > max_abs) out[bins - 1] += n * (hi - max_abs) / src_width;
  }
  return out;
}

void AbsHistogram::Assign(int exponent, std::vector<uint64_t> counts) {
  counts_ = std::move(counts);
  exponent_ = exponent;
  has_range_ = true;
}

}  // namespace qt
