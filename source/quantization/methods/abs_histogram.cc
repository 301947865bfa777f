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

AbsHistogram::AbsHistogram(int bins) : bins_(bins) {}

void AbsHistogram::GrowTo(int exponent) {
  if (!has_range_) {
    exponent_ = exponent;
    has_range_ = true;
    counts_.assign(bins_, 0);
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
  // Bin indices are computed a block at a time in a loop that vectorises, then counted into two interleaved local
  // histograms (runs of values in one bin, zeros or small values after a ReLU, would otherwise chain every
  // increment on the previous store; two 32-bit tables of 4096 bins still fit the L1 cache). Zeros land in bin 0
  // without a branch and are taken out at the end. A call adds fewer than 2^32 values per bin, so local counts
  // cannot wrap.
  constexpr int kBlock = 256;
  const int b = bins();
  thread_local std::vector<uint32_t> local;
  local.assign(static_cast<size_t>(2) * b, 0);
  uint32_t* l0 = local.data();
  uint32_t* l1 = l0 + b;
  int32_t idx[kBlock];
  uint64_t zeros = 0;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int m = static_cast<int>(std::min<int64_t>(kBlock, n - start));
    const float* p = x + start;
    uint32_t z = 0;
    for (int i = 0; i < m; ++i) {
      const float a = std::fabs(p[i]);
      z += a == 0.f;
      const int bin = static_cast<int>(a * inv_width);
      idx[i] = bin < last ? bin : last;
    }
    zeros += z;
    int i = 0;
    for (; i + 2 <= m; i += 2) {
      ++l0[idx[i]];
      ++l1[idx[i + 1]];
    }
    if (i < m) ++l0[idx[i]];
  }
  uint64_t* c = counts_.data();
  for (int k = 0; k < b; ++k) c[k] += uint64_t{l0[k]} + l1[k];
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
  bins_ = static_cast<int>(counts.size());
  counts_ = std::move(counts);
  exponent_ = exponent;
  has_range_ = true;
}

}  // namespace qt
