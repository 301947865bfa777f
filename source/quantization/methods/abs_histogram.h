#pragma once

#include <cstdint>
#include <vector>

namespace qt {

// Histogram of |x| over [0, 2^e) in a fixed number of equal bins, for a range that is not known in advance. When a
// value at or beyond 2^e arrives, e grows and neighbouring bins merge (2 → 1 per step). Bin edges are multiples of
// a power of two, so binning at a coarse level and merging fine bins give the same counts exactly: the result
// depends only on the values seen, never on their order or on how the work was split between threads, and two
// histograms merge exactly. Exact zeros are not counted (TNN skips them too).
class AbsHistogram {
 public:
  explicit AbsHistogram(int bins = 2048);

  int bins() const { return bins_; }
  bool empty() const { return !has_range_; }
  // The range is [0, 2^exponent()); meaningless while empty().
  int exponent() const { return exponent_; }
  // bins() counts, or none while empty(): the storage is taken when the first value arrives, so histograms that
  // never receive one (dead channels, statistics read without them) cost nothing.
  const std::vector<uint64_t>& counts() const { return counts_; }

  // Counts |x| of n values whose largest |x| is max_abs (the caller has it from the range statistics).
  void Add(const float* x, int64_t n, float max_abs);
  // The same counts, one value at a time in double precision: the plain twin Add is tested against.
  void AddReference(const float* x, int64_t n, float max_abs);
  void Merge(const AbsHistogram& other);

  // Counts taken block by block at the histogram's current range into local tables, so that a caller can read each
  // block once for its other statistics and for the counts while the block is in the L1 cache. Commit then adds
  // exactly what Add(values, max_abs) would, provided no value reached the current range's end (max_abs, which the
  // caller has from its range, tells); otherwise it adds nothing and returns false, and the caller counts again
  // with Add. Needs a non-empty histogram that is not changed while the tally is open.
  class Tally {
   public:
    explicit Tally(const AbsHistogram& h);
    void Add(const float* x, int64_t n);
    bool Commit(AbsHistogram* h, float max_abs);

   private:
    int exponent_;
    float inv_width_;
    std::vector<uint32_t> local_;  // two interleaved tables of bins() counts
  };

  // Counts over [0, max_abs] in `bins` equal bins, as fractional counts: each source bin is split in proportion
  // to its overlap with the target bins; mass beyond max_abs (only the values equal to it) goes to the last bin.
  std::vector<double> Resample(float max_abs, int bins) const;

  // Restores a histogram read from a statistics file.
  void Assign(int exponent, std::vector<uint64_t> counts);

 private:
  void GrowTo(int exponent);

  int bins_;
  bool has_range_ = false;
  int exponent_ = 0;
  std::vector<uint64_t> counts_;
};

}  // namespace qt
