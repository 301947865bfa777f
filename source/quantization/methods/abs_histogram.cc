#include "quantization/methods/abs_histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

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

void AbsHistogram::AddReference(const float* x, int64_t n, float max_abs) {
  if (!(max_abs > 0.f) || !std::isfinite(max_abs)) return;
  GrowTo(ExponentAbove(max_abs));
  const double width = std::ldexp(1.0, exponent_) / bins();
  for (int64_t i = 0; i < n; ++i) {
    const double a = std::fabs(static_cast<double>(x[i]));
    if (a == 0.0) continue;
    const double q = a / width;  // NaN fails the comparison and, as in Add, goes to the last bin
    ++counts_[q < bins() - 1 ? static_cast<int64_t>(q) : bins() - 1];
  }
}

namespace {

// Bin indices of the non-zero values among x[0, m), packed to the front of idx; returns how many. A NaN lands in
// the last bin instead of outside the table (the caller rejects the blob afterwards): the vector loop compares
// unsigned, its conversion giving INT_MIN, the scalar loop compares the float. Zeros are taken
// out here because after a ReLU they come in long runs, and counting a run into one bin chains every increment on
// the previous store.
int NonZeroBins(const float* x, int m, float inv_width, int last, int32_t* idx) {
  int k = 0;
  int i = 0;
#if defined(__AVX512F__)
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  const __m512 scale = _mm512_set1_ps(inv_width);
  const __m512i top = _mm512_set1_epi32(last);
  for (; i + 16 <= m; i += 16) {
    const __m512 a = _mm512_and_ps(_mm512_loadu_ps(x + i), abs_mask);
    const __mmask16 nz = _mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_NEQ_UQ);
    const __m512i bin = _mm512_min_epu32(_mm512_cvttps_epi32(_mm512_mul_ps(a, scale)), top);
    // Compressed in a register and stored whole (idx has 16 spare entries): AMD's Zen 4 runs the compressing store
    // to memory as a slow microcoded sequence, and this way costs no more elsewhere.
    _mm512_storeu_si512(idx + k, _mm512_maskz_compress_epi32(nz, bin));
    k += __builtin_popcount(nz);
  }
#elif defined(__AVX2__)
  // AVX2 has no compress: a permutation per 8-bit mask moves the selected lanes to the front (8 KB table).
  static const auto kCompress = [] {
    struct Table {
      alignas(32) int32_t lanes[256][8];
    } t{};
    for (int mask = 0; mask < 256; ++mask) {
      int j = 0;
      for (int lane = 0; lane < 8; ++lane) {
        if (mask >> lane & 1) t.lanes[mask][j++] = lane;
      }
    }
    return t;
  }();
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 scale = _mm256_set1_ps(inv_width);
  const __m256i top = _mm256_set1_epi32(last);
  for (; i + 8 <= m; i += 8) {
    const __m256 a = _mm256_and_ps(_mm256_loadu_ps(x + i), abs_mask);
    const int nz = _mm256_movemask_ps(_mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_NEQ_UQ));
    const __m256i bin = _mm256_min_epu32(_mm256_cvttps_epi32(_mm256_mul_ps(a, scale)), top);
    const __m256i perm = _mm256_load_si256(reinterpret_cast<const __m256i*>(kCompress.lanes[nz]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + k), _mm256_permutevar8x32_epi32(bin, perm));
    k += __builtin_popcount(nz);
  }
#endif
  for (; i < m; ++i) {
    const float a = std::fabs(x[i]);
    // Compared as a float first: converting a NaN or a value past INT_MAX to int is undefined in C++ (UBSan), and
    // both belong in the last bin, as in the vector loop.
    const float q = a * inv_width;
    idx[k] = q < static_cast<float>(last) ? static_cast<int32_t>(q) : last;
    k += a != 0.f;
  }
  return k;
}

}  // namespace

void AbsHistogram::Add(const float* x, int64_t n, float max_abs) {
  if (!(max_abs > 0.f) || !std::isfinite(max_abs)) return;
  GrowTo(ExponentAbove(max_abs));
  // bins / 2^e is a power of two: the product is exact, so a value's bin is floor(|x|·bins / 2^e) as in
  // AddReference.
  const float inv_width = std::ldexp(static_cast<float>(bins()), -exponent_);
  const int b = bins();
  constexpr int kBlock = 512;
  int32_t idx[kBlock + 16];
  uint64_t* c = counts_.data();
  if (n < 2 * static_cast<int64_t>(b)) {
    // Few values (a channel of a late layer): clearing and folding local tables would cost more than the counting.
    for (int64_t start = 0; start < n; start += kBlock) {
      const int k = NonZeroBins(x + start, static_cast<int>(std::min<int64_t>(kBlock, n - start)), inv_width, b - 1,
                                idx);
      for (int j = 0; j < k; ++j) ++c[idx[j]];
    }
    return;
  }
  // Values of one bin still come in runs (small activations): two interleaved 32-bit local tables break the chain
  // of increments and, at 4096 bins, still fit the L1 cache.
  Tally tally(*this);
  tally.Add(x, n);
  tally.Commit(this, max_abs);
}

AbsHistogram::Tally::Tally(const AbsHistogram& h)
    : exponent_(h.exponent_),
      inv_width_(std::ldexp(static_cast<float>(h.bins()), -h.exponent_)),
      local_(static_cast<size_t>(2) * h.bins(), 0) {}

void AbsHistogram::Tally::Add(const float* x, int64_t n) {
  constexpr int kBlock = 512;
  int32_t idx[kBlock + 16];
  const int b = static_cast<int>(local_.size() / 2);
  uint32_t* l0 = local_.data();
  uint32_t* l1 = l0 + b;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int k = NonZeroBins(x + start, static_cast<int>(std::min<int64_t>(kBlock, n - start)), inv_width_, b - 1,
                              idx);
    int j = 0;
    for (; j + 2 <= k; j += 2) {
      ++l0[idx[j]];
      ++l1[idx[j + 1]];
    }
    if (j < k) ++l0[idx[j]];
  }
}

bool AbsHistogram::Tally::Commit(AbsHistogram* h, float max_abs) {
  // Add counts nothing for these either.
  if (!(max_abs > 0.f) || !std::isfinite(max_abs)) return true;
  if (ExponentAbove(max_abs) > exponent_) return false;
  // Fewer than 2^32 values per bin between commits (a blob's values of one input), so local counts cannot wrap.
  const int b = h->bins();
  const uint32_t* l0 = local_.data();
  const uint32_t* l1 = l0 + b;
  for (int i = 0; i < b; ++i) h->counts_[i] += uint64_t{l0[i]} + l1[i];
  return true;
}

void AbsHistogram::Merge(const AbsHistogram& other) {
  if (other.empty()) return;
  if (empty()) {
    *this = other;
    return;
  }
  // The other histogram's bins are merged into the common range as GrowTo merges this one's, without a copy.
  const int e = std::max(exponent_, other.exponent_);
  GrowTo(e);
  const int shift = std::min(e - other.exponent_, 31);
  for (int i = 0; i < bins(); ++i) counts_[i >> shift] += other.counts_[i];
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
