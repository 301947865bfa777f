#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "quantization/methods/blob_statistics.h"
#include "quantization/methods/scale_methods.h"

namespace qt {
namespace {

BlobStatistics Collect(const std::vector<Tensor>& inputs, bool merged, bool histograms = true) {
  const Tensor& t0 = inputs[0];
  BlobStatistics s(t0.channels(), t0.spatial(), merged);
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

TEST(BlobMethodsTest, MinMaxOnKnownRanges) {
  // Channel 0 spans [-2, 1], channel 1 [0, 4].
  Tensor t({1, 2, 1, 2});
  t.data = {-2.f, 1.f, 0.f, 4.f};
  auto s = Collect({t}, false);
  ScaleResult r;
  ASSERT_TRUE(ComputeBlobScale(s, BlobMethod::kMinMax, false, "x", &r).ok());
  EXPECT_FLOAT_EQ(r.scale[0], 2.f / 127);
  EXPECT_FLOAT_EQ(r.scale[1], 4.f / 127);
  ASSERT_TRUE(ComputeBlobScale(s, BlobMethod::kMinMax, true, "x", &r).ok());
  EXPECT_FLOAT_EQ(r.scale[0], static_cast<float>(2.0 * 2047.5 / 2048 / 127));  // TNN's factor
  auto merged = Collect({t}, true);
  ASSERT_TRUE(ComputeBlobScale(merged, BlobMethod::kMinMax, false, "x", &r).ok());
  ASSERT_EQ(r.scale.size(), 1u);
  EXPECT_FLOAT_EQ(r.scale[0], 4.f / 127);
}

TEST(BlobMethodsTest, KlClipsBelowAFarOutlier) {
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.f, 1.f);
  Tensor t({1, 1, 100, 100});
  for (auto& v : t.data) v = g(rng);
  t.data[0] = 60.f;  // one far outlier sets max |x|
  auto s = Collect({t}, true);
  ScaleResult kl, mm;
  ASSERT_TRUE(ComputeBlobScale(s, BlobMethod::kKl, true, "x", &kl).ok());
  ASSERT_TRUE(ComputeBlobScale(s, BlobMethod::kMinMax, true, "x", &mm).ok());
  const float threshold = kl.scale[0] * 127;
  EXPECT_LT(threshold, 10.f);  // well below the outlier, above the bulk of a unit Gaussian
  EXPECT_GT(threshold, 2.5f);
  EXPECT_LT(kl.scale[0], mm.scale[0] / 5);
}

TEST(BlobMethodsTest, KlOnUniformDataKeepsTheFullRange) {
  auto s = Collect({Uniform({1, 1, 64, 64}, 0.f, 1.f)}, true);
  ScaleResult r;
  ASSERT_TRUE(ComputeBlobScale(s, BlobMethod::kKl, true, "x", &r).ok());
  EXPECT_GT(r.scale[0] * 127, 0.9f);  // nothing to clip in a flat distribution
}

TEST(BlobMethodsTest, AciqMatchesClosedForms) {
  Tensor t = Uniform({1, 2, 10, 10}, -3.f, 3.f);
  auto s = Collect({t}, false, false);
  ScaleResult g, l;
  ASSERT_TRUE(ComputeBlobScale(s, BlobMethod::kAciqGauss, true, "x", &g).ok());
  ASSERT_TRUE(ComputeBlobScale(s, BlobMethod::kAciqLaplace, true, "x", &l).ok());
  const double c = 0.5 * 0.35 * (1 + std::sqrt(M_PI * std::log(4.0)));
  for (int ch = 0; ch < 2; ++ch) {
    const double sd = s.max_abs(ch) * 2 * c / std::sqrt(2 * std::log(100.0));
    EXPECT_NEAR(g.scale[ch], 3.92403714 * sd / 127, 1e-6);
    double mean_abs = 0;
    for (int i = 0; i < 100; ++i) mean_abs += std::fabs(t.data[ch * 100 + i]);
    EXPECT_NEAR(l.scale[ch], 9.89675982 * (mean_abs / 100) / 127, 1e-5);
  }
}

TEST(BlobMethodsTest, AsymmetricZeroPointAfterRelu) {
  auto s = Collect({Uniform({1, 1, 4, 4}, 0.f, 5.f)}, true, false);
  ScaleResult r;
  ASSERT_TRUE(ComputeBlobScale(s, BlobMethod::kAsymMinMax, true, "x", &r).ok());
  EXPECT_FLOAT_EQ(r.scale[0], 5.f / 254);
  EXPECT_EQ(r.zero_point[0], -127);  // a non-negative blob uses the whole [-127, 127] code range
}

TEST(BlobMethodsTest, AllZeroBlob) {
  Tensor zero({1, 2, 2, 2}, 0.f);
  ScaleResult r;
  auto per_channel = Collect({zero}, false);
  ASSERT_TRUE(ComputeBlobScale(per_channel, BlobMethod::kMinMax, true, "dead", &r).ok());
  EXPECT_EQ(r.scale, (std::vector<float>{0.f, 0.f}));
  auto per_tensor = Collect({zero}, true);
  Status st = ComputeBlobScale(per_tensor, BlobMethod::kMinMax, true, "dead", &r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'dead'"), std::string::npos);
}

TEST(BlobStatisticsTest, TnnFloatHistogramSaturatesLikeFloatAdds) {
  Tensor t({1, 1, 1, 3});
  t.data = {1.f, 1.f, 1.f};
  auto s = Collect({t}, true);
  const auto h = s.TnnHistogram(0);
  float f = 1.0e-7f;
  for (int i = 0; i < 3; ++i) f += 1.0f;
  EXPECT_EQ(h[BlobStatistics::kBins - 1], f);
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
