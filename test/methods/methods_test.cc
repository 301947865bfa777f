#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "quantization/methods/abs_histogram.h"
#include "quantization/methods/blob_stats.h"
#include "quantization/methods/scale_methods.h"
#include "quantization/methods/tnn_blob_statistics.h"

namespace qt {
namespace {

TnnBlobStatistics Collect(const std::vector<Tensor>& inputs, bool merged, bool histograms = true) {
  const Tensor& t0 = inputs[0];
  TnnBlobStatistics s(t0.channels(), t0.spatial(), merged);
  for (const auto& t : inputs) s.UpdateRange(t);
  s.PrepareHistograms();
  if (histograms) {
    for (const auto& t : inputs) s.UpdateHistogram(t);
  }
  return s;
}

Tensor Uniform(Dims dims, float lo, float hi) {
  Tensor t(dims);
  for (int64_t i = 0; i < t.count(); ++i) t.data[i] = lo + (hi - lo) * static_cast<float>(i) / (t.count() - 1);
  return t;
}

// Blob methods read statistics from two sources: TNN's exact two-pass statistics (--compat tnn) and the streaming
// one-pass statistics of the default mode. Every method test runs on both.
enum class Source { kTnn, kStreaming };

Status Scales(const std::vector<Tensor>& inputs, bool merged, BlobMethod method, Source source, ScaleResult* r,
              const std::string& blob = "x") {
  if (source == Source::kTnn) return ComputeTnnBlobScale(Collect(inputs, merged), method, blob, r);
  StatsRequest request;
  request.tensor_hist = request.channel_hist = true;
  BlobStats s(inputs[0].channels(), inputs[0].spatial(), request);
  std::vector<double> means;
  for (const auto& t : inputs) {
    s.Update(t, &means);
    s.AddMeans(means);
  }
  return ComputeBlobScale(s, merged, method, blob, r);
}

class BlobMethodsTest : public ::testing::TestWithParam<Source> {};
INSTANTIATE_TEST_SUITE_P(BothSources, BlobMethodsTest, ::testing::Values(Source::kTnn, Source::kStreaming),
                         [](const auto& info) { return info.param == Source::kTnn ? "Tnn" : "Streaming"; });

TEST_P(BlobMethodsTest, MinMaxOnKnownRanges) {
  // Channel 0 spans [-2, 1], channel 1 [0, 4]. TNN stores max·2047.5/2048/127; the default is max/127.
  Tensor t({1, 2, 1, 2});
  t.data = {-2.f, 1.f, 0.f, 4.f};
  const float factor = GetParam() == Source::kTnn ? 2047.5f / 2048 : 1.f;
  ScaleResult r;
  ASSERT_TRUE(Scales({t}, false, BlobMethod::kMinMax, GetParam(), &r).ok());
  EXPECT_FLOAT_EQ(r.scale[0], 2.f * factor / 127);
  EXPECT_FLOAT_EQ(r.scale[1], 4.f * factor / 127);
  ASSERT_TRUE(Scales({t}, true, BlobMethod::kMinMax, GetParam(), &r).ok());
  ASSERT_EQ(r.scale.size(), 1u);
  EXPECT_FLOAT_EQ(r.scale[0], 4.f * factor / 127);
}

TEST_P(BlobMethodsTest, KlClipsBelowAFarOutlier) {
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.f, 1.f);
  Tensor t({1, 1, 100, 100});
  for (auto& v : t.data) v = g(rng);
  t.data[0] = 60.f;  // one far outlier sets max |x|
  ScaleResult kl, mm;
  ASSERT_TRUE(Scales({t}, true, BlobMethod::kKl, GetParam(), &kl).ok());
  ASSERT_TRUE(Scales({t}, true, BlobMethod::kMinMax, GetParam(), &mm).ok());
  const float threshold = kl.scale[0] * 127;
  EXPECT_LT(threshold, 10.f);  // well below the outlier, above the bulk of a unit Gaussian
  EXPECT_GT(threshold, 2.5f);
  EXPECT_LT(kl.scale[0], mm.scale[0] / 5);
}

TEST_P(BlobMethodsTest, KlOnUniformDataKeepsTheFullRange) {
  ScaleResult r;
  ASSERT_TRUE(Scales({Uniform({1, 1, 64, 64}, 0.f, 1.f)}, true, BlobMethod::kKl, GetParam(), &r).ok());
  EXPECT_GT(r.scale[0] * 127, 0.9f);  // nothing to clip in a flat distribution
}

TEST_P(BlobMethodsTest, AciqMatchesClosedForms) {
  Tensor t = Uniform({1, 2, 10, 10}, -3.f, 3.f);
  ScaleResult g, l;
  ASSERT_TRUE(Scales({t}, false, BlobMethod::kAciqGauss, GetParam(), &g).ok());
  ASSERT_TRUE(Scales({t}, false, BlobMethod::kAciqLaplace, GetParam(), &l).ok());
  const double c = 0.5 * 0.35 * (1 + std::sqrt(M_PI * std::log(4.0)));
  for (int ch = 0; ch < 2; ++ch) {
    double max_abs = 0, mean_abs = 0;
    for (int i = 0; i < 100; ++i) {
      max_abs = std::max<double>(max_abs, std::fabs(t.data[ch * 100 + i]));
      mean_abs += std::fabs(t.data[ch * 100 + i]);
    }
    const double sd = max_abs * 2 * c / std::sqrt(2 * std::log(100.0));
    EXPECT_NEAR(g.scale[ch], 3.92403714 * sd / 127, 1e-6);
    EXPECT_NEAR(l.scale[ch], 9.89675982 * (mean_abs / 100) / 127, 1e-5);
  }
}

TEST_P(BlobMethodsTest, AsymmetricZeroPointAfterRelu) {
  ScaleResult r;
  ASSERT_TRUE(Scales({Uniform({1, 1, 4, 4}, 0.f, 5.f)}, true, BlobMethod::kAsymMinMax, GetParam(), &r).ok());
  EXPECT_FLOAT_EQ(r.scale[0], 5.f / 254);
  EXPECT_EQ(r.zero_point[0], -127);  // a non-negative blob uses the whole [-127, 127] code range
}

TEST_P(BlobMethodsTest, AllZeroBlob) {
  Tensor zero({1, 2, 2, 2}, 0.f);
  ScaleResult r;
  ASSERT_TRUE(Scales({zero}, false, BlobMethod::kMinMax, GetParam(), &r, "dead").ok());
  EXPECT_EQ(r.scale, (std::vector<float>{0.f, 0.f}));
  const Status st = Scales({zero}, true, BlobMethod::kMinMax, GetParam(), &r, "dead");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'dead'"), std::string::npos);
}

TEST(KlMethodTest, FastCurveMatchesTheDirectTranscription) {
  // Histograms with a long tail, a bimodal shape, a spike, and a flat one; every bin floored like TNN's.
  std::mt19937 rng(21);
  std::vector<std::vector<double>> cases;
  for (int shape = 0; shape < 4; ++shape) {
    std::vector<double> h(2048, 1e-7);
    for (int n = 0; n < 20000; ++n) {
      double x = 0;
      switch (shape) {
        case 0: x = std::exponential_distribution<double>(1.0)(rng) * 150; break;
        case 1: x = (n % 2 ? 300 : 1200) + std::normal_distribution<double>(0, 60)(rng); break;
        case 2: x = n % 10 ? 40 : std::uniform_real_distribution<double>(0, 2047)(rng); break;
        default: x = std::uniform_real_distribution<double>(0, 2047)(rng); break;
      }
      h[std::min(2047, std::max(0, static_cast<int>(x)))] += 1;
    }
    cases.push_back(h);
  }
  for (size_t c = 0; c < cases.size(); ++c) {
    const auto fast = KlDivergences(cases[c]), ref = KlDivergencesRef(cases[c]);
    ASSERT_EQ(fast.size(), ref.size());
    // Prefix sums subtract nearby partial sums of the normalized histogram: the curves agree to ~1e-6 relative,
    // far below the KL differences between neighbouring thresholds, and pick the same threshold. (TNN's own float
    // search can pick another one: its float sums drift by more than that.)
    double worst = 0;
    size_t best_fast = 0, best_ref = 0;
    for (size_t i = 0; i < fast.size(); ++i) {
      worst = std::max(worst, std::fabs(fast[i] - ref[i]) / (1 + std::fabs(ref[i])));
      if (fast[i] < fast[best_fast]) best_fast = i;
      if (ref[i] < ref[best_ref]) best_ref = i;
    }
    std::cout << "case " << c << ": max relative |fast - ref| = " << worst << std::endl;
    EXPECT_LT(worst, 1e-6) << "case " << c;
    EXPECT_EQ(best_fast, best_ref) << "case " << c;
    EXPECT_EQ(KlThresholdBinFast(cases[c]), static_cast<int>(best_ref) + 128);
  }
}

TEST(KlMethodTest, VectorCurveMatchesTheScalarOneAndPicksTheSameThreshold) {
  // Shapes of real blobs: ReLU tails of every length, spikes at zero, a few values on a long empty range (most
  // bins only TNN's floor), channels of a handful of values; and the flat and bimodal extremes.
  std::mt19937 rng(5);
  for (int c = 0; c < 60; ++c) {
    std::vector<double> h(2048, 1e-7);
    const int values = c % 3 == 0 ? 30 : 5000;
    const double tail = 5 + 400.0 * (c % 7) / 6;
    for (int n = 0; n < values; ++n) {
      double x = 0;
      switch (c % 4) {
        case 0: x = std::exponential_distribution<double>(1.0)(rng) * tail; break;
        case 1: x = n % 5 ? 0 : std::uniform_real_distribution<double>(0, 2047)(rng); break;
        case 2: x = (n % 2 ? tail : 4 * tail) + std::normal_distribution<double>(0, 20)(rng); break;
        default: x = std::uniform_real_distribution<double>(0, 2047)(rng); break;
      }
      h[std::min(2047, std::max(0, static_cast<int>(x)))] += 1;
    }
    const auto fast = KlDivergences(h), plain = KlDivergencesScalar(h);
    ASSERT_EQ(fast.size(), plain.size());
    size_t best_fast = 0, best_plain = 0;
    for (size_t i = 0; i < fast.size(); ++i) {
      EXPECT_LE(std::fabs(fast[i] - plain[i]), 1e-12 * (1 + std::fabs(plain[i]))) << "case " << c << " i " << i;
      if (fast[i] < fast[best_fast]) best_fast = i;
      if (plain[i] < plain[best_plain]) best_plain = i;
    }
    EXPECT_EQ(best_fast, best_plain) << "case " << c;
  }
}

TEST(KlMethodTest, VectorLogarithmIsWithinTwoUlpOfStdLog) {
  // Powers of two and their neighbours, values around 1 (where ln is smallest), and random mantissas over the
  // whole exponent range of positive normal doubles.
  std::vector<double> x;
  for (int e = -1020; e <= 1020; e += 3) {
    const double p = std::ldexp(1.0, e);
    x.insert(x.end(), {p, std::nextafter(p, 0.0), std::nextafter(p, 1e300), p * 1.4142135623730951, p * 0.7071067811865476});
  }
  for (double d = -1e-3; d <= 1e-3; d += 1.7e-5) x.push_back(1 + d);
  std::mt19937_64 rng(9);
  for (int n = 0; n < 20000; ++n) {
    x.push_back(std::ldexp(std::uniform_real_distribution<double>(1, 2)(rng),
                           std::uniform_int_distribution<int>(-1000, 1000)(rng)));
  }
  std::vector<double> y(x.size());
  LogOfEach(x.data(), static_cast<int64_t>(x.size()), y.data());
  for (size_t i = 0; i < x.size(); ++i) {
    const double ref = std::log(x[i]);
    const double ulp = std::nextafter(std::fabs(ref), 1e300) - std::fabs(ref);
    EXPECT_LE(std::fabs(y[i] - ref), 2 * ulp) << std::hexfloat << x[i];
  }
}

TEST(RoundingTest, RoundHalfAwayEqualsStdRoundOnEveryFloatPattern) {
  // Every 97th bit pattern (all exponents, both signs, NaN and Inf excluded) and the halves around each integer.
  int64_t checked = 0;
  for (uint64_t bits = 0; bits <= 0xffffffffull; bits += 97) {
    float x;
    const uint32_t b = static_cast<uint32_t>(bits);
    std::memcpy(&x, &b, 4);
    if (!std::isfinite(x)) continue;
    ASSERT_EQ(RoundHalfAway(x), std::round(x)) << x;
    ++checked;
  }
  for (int i = -1000; i <= 1000; ++i) {
    for (float x : {i + 0.5f, std::nextafter(i + 0.5f, 0.f), std::nextafter(i + 0.5f, 1e9f), i - 0.5f}) {
      ASSERT_EQ(RoundHalfAway(x), std::round(x)) << x;
    }
  }
  EXPECT_GT(checked, 40000000);
}

TEST(MseMethodTest, ClipsAnOutlierAndKeepsAFlatRange) {
  // One outlier at 60 among a million unit-Gaussian values: keeping it would coarsen the step for all of them
  // ((60/127)²/12 each, ~18600 in all), clipping it costs (60 − T)² once, so MSE clips below it. Among only ten
  // thousand values the same outlier is worth keeping.
  std::mt19937 rng(9);
  std::normal_distribution<float> g(0.f, 1.f);
  Tensor big({1, 1, 1000, 1000}), small({1, 1, 100, 100});
  for (auto& v : big.data) v = g(rng);
  for (auto& v : small.data) v = g(rng);
  big.data[0] = small.data[0] = 60.f;
  ScaleResult r;
  ASSERT_TRUE(Scales({big}, true, BlobMethod::kMse, Source::kStreaming, &r).ok());
  EXPECT_LT(r.scale[0] * 127, 10.f);
  EXPECT_GT(r.scale[0] * 127, 4.f);
  ASSERT_TRUE(Scales({small}, true, BlobMethod::kMse, Source::kStreaming, &r).ok());
  EXPECT_GT(r.scale[0] * 127, 50.f);
  // Flat data has no tail worth clipping.
  ASSERT_TRUE(Scales({Uniform({1, 1, 64, 64}, 0.f, 1.f)}, true, BlobMethod::kMse, Source::kStreaming, &r).ok());
  EXPECT_GT(r.scale[0] * 127, 0.95f);
  // The search itself: all mass in bin 10 of 256 → clipping at bin 10·127/126.5-ish costs nothing; any t whose
  // grid puts a level on the centre is optimal, and t never exceeds the histogram.
  std::vector<double> h(256, 0.0);
  h[10] = 100;
  const int t_bins = MseThresholdBin(h);
  EXPECT_GE(t_bins, 128);
  EXPECT_LE(t_bins, 256);
}

// Eight thresholds per vector against one at a time: the same error bits for every threshold, so the same choice.
// Histograms sparse and dense, of 2048 bins and of fewer than the 128 every search starts at, with integer counts
// that tie and centres that fall on half a rounding step.
TEST(MseTest, VectorLanesEqualTheScalarTwin) {
  std::mt19937 rng(21);
  int differing = 0, searches = 0;
  for (int bins : {100, 128, 129, 300, 2048}) {
    for (int density : {1, 5, 50, 100}) {
      for (int rep = 0; rep < 6; ++rep) {
        std::vector<double> h(bins, 0.0);
        for (int i = 0; i < bins; ++i) {
          if (static_cast<int>(rng() % 100) < density) h[i] = rep % 2 ? static_cast<double>(rng() % 7) : 1e3 / (i + 1);
        }
        std::vector<int> ts;
        for (int t = 1; t <= bins; t += 1 + static_cast<int>(rng() % 5)) ts.push_back(t);
        const auto fast = MseErrors(h, ts, true), slow = MseErrors(h, ts, false);
        for (size_t k = 0; k < ts.size(); ++k) differing += fast[k] != slow[k];
        ++searches;
        EXPECT_EQ(MseThresholdBin(h), MseThresholdBinReference(h)) << bins << " bins, density " << density;
      }
    }
  }
  EXPECT_EQ(differing, 0) << "of the errors of " << searches << " histograms";
}

TEST(AbsHistogramTest, OrderAndSplitDoNotChangeTheCounts) {
  std::mt19937 rng(11);
  std::lognormal_distribution<float> d(0.f, 2.f);
  std::vector<float> v(5000);
  for (auto& x : v) x = d(rng) * (rng() % 2 ? 1.f : -1.f);
  v[17] = 0.f;  // exact zeros are not counted
  auto max_abs = [](const float* p, size_t n) {
    float m = 0.f;
    for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(p[i]));
    return m;
  };
  AbsHistogram all(256);
  all.Add(v.data(), v.size(), max_abs(v.data(), v.size()));
  // The same values in ascending chunks (the range grows many times) split over two histograms.
  std::vector<float> sorted = v;
  std::sort(sorted.begin(), sorted.end(), [](float a, float b) { return std::fabs(a) < std::fabs(b); });
  AbsHistogram a(256), b(256);
  for (size_t i = 0; i < sorted.size(); i += 100) {
    AbsHistogram& h = (i / 100) % 2 ? a : b;
    h.Add(sorted.data() + i, 100, max_abs(sorted.data() + i, 100));
  }
  a.Merge(b);
  EXPECT_EQ(a.exponent(), all.exponent());
  EXPECT_EQ(a.counts(), all.counts());
  uint64_t total = 0;
  for (uint64_t c : all.counts()) total += c;
  EXPECT_EQ(total, v.size() - 1);
}

// Values that stress the fast path: runs of zeros and of one bin (as after a ReLU), exact bin edges, denormals,
// negative values and a NaN, in lengths around the vector width and both sides of the local-table threshold.
std::vector<float> HardValues(size_t n, uint32_t seed, bool with_nan) {
  std::mt19937 rng(seed);
  std::lognormal_distribution<float> d(-1.f, 2.f);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    switch (rng() % 8) {
      case 0:
      case 1:
        v[i] = 0.f;
        break;
      case 2:
        v[i] = i > 0 ? v[i - 1] : 1.f;
        break;
      case 3:
        v[i] = std::ldexp(static_cast<float>(rng() % 64), -4);  // bin edges of every level
        break;
      case 4:
        v[i] = std::numeric_limits<float>::denorm_min() * static_cast<float>(rng() % 100);
        break;
      default:
        v[i] = d(rng) * (rng() % 2 ? 1.f : -1.f);
    }
  }
  if (with_nan && n > 3) v[n / 3] = std::numeric_limits<float>::quiet_NaN();
  return v;
}

TEST(AbsHistogramTest, AddEqualsTheReferenceTwin) {
  for (size_t n : {0, 1, 15, 16, 17, 100, 511, 512, 513, 1000, 4095, 8192, 20000}) {
    for (bool with_nan : {false, true}) {
      const std::vector<float> v = HardValues(n, static_cast<uint32_t>(n) + with_nan, with_nan);
      float m = 0.f;
      for (float x : v) m = std::fabs(x) > m ? std::fabs(x) : m;
      for (int bins : {256, 2048, 4096}) {
        AbsHistogram fast(bins), ref(bins);
        fast.Add(v.data(), static_cast<int64_t>(n), m);
        ref.AddReference(v.data(), static_cast<int64_t>(n), m);
        // A second call at a larger range exercises counting into a grown histogram.
        fast.Add(v.data(), static_cast<int64_t>(n), 3 * m);
        ref.AddReference(v.data(), static_cast<int64_t>(n), 3 * m);
        EXPECT_EQ(fast.exponent(), ref.exponent()) << n << " values, " << bins << " bins";
        EXPECT_EQ(fast.counts(), ref.counts()) << n << " values, " << bins << " bins, nan " << with_nan;
      }
    }
  }
}

TEST(BlobStatsTest, RangeAndAbsSumEqualsTheReferenceTwin) {
  for (size_t n = 0; n < 70; ++n) {
    for (bool with_nan : {false, true}) {
      const std::vector<float> v = HardValues(n + 3000 * with_nan, static_cast<uint32_t>(n), with_nan);
      float mn0 = 0.5f, mx0 = 0.25f, mn1 = mn0, mx1 = mx0;  // folded into what the caller had
      double s0 = 0, s1 = 0;
      RangeAndAbsSum(v.data(), static_cast<int64_t>(v.size()), &mn0, &mx0, &s0);
      RangeAndAbsSumReference(v.data(), static_cast<int64_t>(v.size()), &mn1, &mx1, &s1);
      EXPECT_EQ(mn0, mn1) << v.size();
      EXPECT_EQ(mx0, mx1) << v.size();
      if (with_nan) {
        EXPECT_TRUE(std::isnan(s0) && std::isnan(s1)) << v.size();
      } else {
        EXPECT_EQ(s0, s1) << v.size();
      }
    }
  }
}

TEST(AbsHistogramTest, ResampleKeepsTheMassInPlace) {
  // 1000 values spread evenly over [0, 3): the range grows to [0, 4), so the top quarter of the bins is empty.
  std::vector<float> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 3.f * (i + 0.5f) / v.size();
  AbsHistogram h(512);
  h.Add(v.data(), v.size(), 3.f);
  EXPECT_EQ(h.exponent(), 2);
  const std::vector<double> r = h.Resample(3.f, 100);
  double total = 0;
  for (double x : r) total += x;
  EXPECT_NEAR(total, 1000.0, 1e-6);
  for (double x : r) EXPECT_NEAR(x, 10.0, 1.5);  // 10 per bin, up to source-bin granularity
}

TEST(BlobStatsTest, SplitInputsMergeToTheSameStatistics) {
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.f, 2.f);
  std::vector<Tensor> inputs(6, Tensor({1, 3, 5, 4}));
  for (auto& t : inputs) {
    for (auto& x : t.data) x = g(rng);
  }
  StatsRequest req;
  req.tensor_hist = req.channel_hist = true;
  BlobStats one(3, 20, req), even(3, 20, req), odd(3, 20, req);
  std::vector<double> m;
  for (size_t i = 0; i < inputs.size(); ++i) {
    one.Update(inputs[i], &m);
    one.AddMeans(m);
    (i % 2 ? odd : even).Update(inputs[i], &m);
    even.AddMeans(m);  // means are added in input order, whoever computed them
  }
  even.Merge(odd);
  for (int c = -1; c < 3; ++c) {
    const ChannelStats& x = c < 0 ? one.tensor() : one.channel(c);
    const ChannelStats& y = c < 0 ? even.tensor() : even.channel(c);
    EXPECT_EQ(x.min, y.min);
    EXPECT_EQ(x.max, y.max);
    EXPECT_EQ(x.mean_abs_sum, y.mean_abs_sum);
    EXPECT_EQ(x.images, y.images);
    EXPECT_EQ(x.hist.counts(), y.hist.counts());
  }
}

// Large blobs are counted in the pass that takes their ranges, at the range the histogram already has, and
// counted again when an input reaches beyond it: the statistics must be those of the plain twins whichever way an
// input went. Inputs alternate below and beyond the running range; planes of 4099 values end on a partial vector.
TEST(BlobStatsTest, UpdateEqualsTheReferenceTwins) {
  StatsRequest req;
  req.tensor_hist = true;
  const int channels = 3;
  const int64_t spatial = 4099;
  BlobStats stats(channels, spatial, req);
  AbsHistogram ref(StatsRequest::kTensorBins);
  float run_min = std::numeric_limits<float>::infinity(), run_max = -run_min;
  std::vector<double> m;
  for (int input = 0; input < 6; ++input) {
    Tensor t({1, channels, 1, spatial});
    const std::vector<float> v = HardValues(t.data.size(), 40u + input, false);
    const float stretch = input % 2 ? 0.25f : static_cast<float>(1 + input);
    for (size_t i = 0; i < v.size(); ++i) t.data[i] = v[i] * stretch;
    stats.Update(t, &m);
    float top = 0.f;
    for (int c = 0; c < channels; ++c) {
      float cmn = std::numeric_limits<float>::infinity(), cmx = -cmn;
      double s = 0;
      RangeAndAbsSumReference(t.data.data() + c * spatial, spatial, &cmn, &cmx, &s);
      EXPECT_EQ(m[c], s / spatial) << "input " << input << ", channel " << c;
      run_min = std::min(run_min, cmn);
      run_max = std::max(run_max, cmx);
      top = std::max({top, std::fabs(cmn), std::fabs(cmx)});
    }
    ref.AddReference(t.data.data(), t.count(), top);
    EXPECT_EQ(stats.tensor().min, run_min);
    EXPECT_EQ(stats.tensor().max, run_max);
    EXPECT_EQ(stats.tensor().hist.exponent(), ref.exponent()) << "input " << input;
    EXPECT_EQ(stats.tensor().hist.counts(), ref.counts()) << "input " << input;
  }
}

TEST(BlobStatisticsTest, TnnFloatHistogramSaturatesLikeFloatAdds) {
  Tensor t({1, 1, 1, 3});
  t.data = {1.f, 1.f, 1.f};
  auto s = Collect({t}, true);
  const auto h = s.TnnHistogram(0);
  float f = 1.0e-7f;
  for (int i = 0; i < 3; ++i) f += 1.0f;
  EXPECT_EQ(h[TnnBlobStatistics::kBins - 1], f);
  EXPECT_EQ(h[0], 1.0e-7f);
}

double SquaredError(const std::vector<float>& w, const std::vector<int8_t>& q, float s) {
  double e = 0;
  for (size_t i = 0; i < w.size(); ++i) e += (w[i] - q[i] * s) * (w[i] - q[i] * s);
  return e;
}

TEST(WeightMethodsTest, AdmmIsNoWorseThanMinMax) {
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.f, 1.f);
  std::cauchy_distribution<float> heavy(0.f, 0.1f);
  for (int kind = 0; kind < 2; ++kind) {
    std::vector<float> w(4 * 512);
    for (auto& v : w) v = kind == 0 ? g(rng) : std::max(-5.f, std::min(5.f, heavy(rng)));
    std::vector<int8_t> q_mm, q_admm, zp;
    std::vector<float> s_mm, s_admm;
    ASSERT_TRUE(QuantizeWeights(w.data(), 4, 512, WeightMethod::kMinMax, false, &q_mm, &s_mm, &zp).ok());
    ASSERT_TRUE(QuantizeWeights(w.data(), 4, 512, WeightMethod::kAdmm, false, &q_admm, &s_admm, &zp).ok());
    for (int c = 0; c < 4; ++c) {
      std::vector<float> wc(w.begin() + c * 512, w.begin() + (c + 1) * 512);
      std::vector<int8_t> qm(q_mm.begin() + c * 512, q_mm.begin() + (c + 1) * 512);
      std::vector<int8_t> qa(q_admm.begin() + c * 512, q_admm.begin() + (c + 1) * 512);
      EXPECT_LE(SquaredError(wc, qa, s_admm[c]), SquaredError(wc, qm, s_mm[c]) * 1.0001) << "kind " << kind;
    }
  }
}

TEST(WeightMethodsTest, MinMaxAsymmetricAndBias) {
  std::vector<float> w = {-1.f, 0.5f, 0.25f, 1.f, 0.f, 0.f, 0.f, 0.f};
  std::vector<int8_t> q, zp;
  std::vector<float> s;
  ASSERT_TRUE(QuantizeWeights(w.data(), 2, 4, WeightMethod::kMinMax, true, &q, &s, &zp).ok());
  EXPECT_FLOAT_EQ(s[0], 1.f / 127);
  EXPECT_EQ(q[0], -127);
  EXPECT_EQ(q[1], 64);  // 63.5 rounds half away from zero
  EXPECT_EQ(s[1], 0.f);  // all-zero channel: scale 0, q 0
  EXPECT_EQ(q[4], 0);
  EXPECT_FALSE(QuantizeWeights(w.data(), 2, 4, WeightMethod::kAsymMinMax, true, &q, &s, &zp).ok());
  ASSERT_TRUE(QuantizeWeights(w.data(), 2, 4, WeightMethod::kAsymMinMax, false, &q, &s, &zp).ok());
  EXPECT_FLOAT_EQ(s[0], 2.f / 254);
  EXPECT_EQ(zp[0], 0);
  EXPECT_EQ(QuantizeBias(2.7f, 1.f, true), 2);
  EXPECT_EQ(QuantizeBias(2.7f, 1.f, false), 3);
  EXPECT_EQ(QuantizeBias(-2.5f, 1.f, false), -3);
  EXPECT_EQ(QuantizeBias(1.f, 0.f, false), 0);
  EXPECT_EQ(QuantizeBias(1e30f, 1.f, false), 2147483647);
}

}  // namespace
}  // namespace qt
