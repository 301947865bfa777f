#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "quantization/quantizer/lane_sums.h"

namespace qt {
namespace {

// The plain twin: term i into lane i % 32 with one fused multiply-add each, the lanes folded in halves.
template <typename Term>
double PlainLaneSum(size_t n, const Term& term) {
  double lane[32] = {};
  for (size_t i = 0; i < n; ++i) {
    double u, w;
    term(i, &u, &w);
    lane[i % 32] = std::fma(u, w, lane[i % 32]);
  }
  for (size_t width = 16; width > 0; width /= 2) {
    for (size_t l = 0; l < width; ++l) lane[l] += lane[l + width];
  }
  return lane[0];
}

// Lengths around the 32-term step (empty, a tail only, whole steps, steps and a tail), values over a wide range of
// magnitudes: every sum equals the plain twin's bit for bit and the exact sum to 1e-12 relative.
TEST(LaneSumsTest, EqualThePlainTwinBitForBit) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> mant(-1.f, 1.f);
  std::uniform_int_distribution<int> expo(-20, 20);
  for (size_t n : {0, 1, 7, 31, 32, 33, 64, 95, 1000, 4097}) {
    std::vector<float> a(n), b(n);
    std::vector<double> x(n), y(n);
    for (size_t i = 0; i < n; ++i) {
      a[i] = std::ldexp(mant(rng), expo(rng));
      b[i] = std::ldexp(mant(rng), expo(rng));
      x[i] = std::ldexp(static_cast<double>(mant(rng)), expo(rng)) + 1e-9 * mant(rng);
      y[i] = std::ldexp(static_cast<double>(mant(rng)), expo(rng));
    }
    const double squares = PlainLaneSum(n, [&](size_t i, double* u, double* w) { *u = *w = a[i]; });
    const double distance =
        PlainLaneSum(n, [&](size_t i, double* u, double* w) { *u = *w = static_cast<double>(a[i]) - b[i]; });
    const double dot = PlainLaneSum(n, [&](size_t i, double* u, double* w) {
      *u = x[i];
      *w = y[i];
    });
    EXPECT_EQ(SumOfSquares(a.data(), n), squares) << n;
    EXPECT_EQ(SquaredDistance(a.data(), b.data(), n), distance) << n;
    EXPECT_EQ(Dot(x.data(), y.data(), n), dot) << n;
    long double exact = 0;
    for (size_t i = 0; i < n; ++i) exact += static_cast<long double>(a[i]) * a[i];
    EXPECT_NEAR(squares, static_cast<double>(exact), 1e-12 * static_cast<double>(exact)) << n;
  }
}

}  // namespace
}  // namespace qt
