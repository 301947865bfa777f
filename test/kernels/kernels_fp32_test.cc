#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include "core/base/parallel.h"
#include "core/kernels/gemm_fp32_isa.h"
#include "core/kernels/kernels_fp32.h"

namespace qt {
namespace {

std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::string Describe(const Conv2dParams& p) {
  std::ostringstream s;
  s << "N" << p.batch << " C" << p.in_c << " " << p.in_h << "x" << p.in_w << " -> OC" << p.out_c << " " << p.out_h
    << "x" << p.out_w << " k" << p.kernel_h << "x" << p.kernel_w << " s" << p.stride_h << "," << p.stride_w << " p"
    << p.pad_top << "," << p.pad_left << " d" << p.dilation_h << "," << p.dilation_w << " g" << p.group << " act"
    << static_cast<int>(p.activation);
  return s.str();
}

Conv2dParams MakeConv(int n, int c, int h, int w, int oc, int kh, int kw, int s, int pad, int dil, int group,
                      Activation act, int pad_extra = 0) {
  Conv2dParams p{n, c, h, w, oc, 0, 0, kh, kw, s, s, pad, pad, dil, dil, group, act};
  p.out_h = (h + 2 * pad + pad_extra - ((kh - 1) * dil + 1)) / s + 1;
  p.out_w = (w + 2 * pad + pad_extra - ((kw - 1) * dil + 1)) / s + 1;
  return p;
}

// Curated shapes: 1x1 (the direct layout), 3x3 stride 1/2, grouped, depthwise, dilated, odd sizes, batch 2,
// kernel larger than the input with padding, asymmetric (SAME-style) extra padding, few and many output channels.
// Then shapes aimed at the fast path's edges: SqueezeNet's layers at reduced size (1x1 squeeze/expand, 3x3 pad 1,
// the 3-channel stride-2 stem, which takes the phase planes), grid widths around the 32-column tile, output
// channel counts that are not a multiple of the row tile, a tiny output under a large kernel (the im2col layout),
// a strided 1x1 (im2col), depthwise 1x1 and strided, a depthwise channel multiplier, and stride 3 with an extra
// right pad (a phase plane whose only column is padding).
std::vector<Conv2dParams> ConvCases() {
  return {
      MakeConv(1, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, Activation::kNone),
      MakeConv(1, 16, 7, 9, 32, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(2, 5, 11, 6, 7, 3, 3, 2, 1, 1, 1, Activation::kRelu6),
      MakeConv(1, 8, 10, 10, 8, 3, 3, 1, 1, 1, 8, Activation::kRelu),
      MakeConv(1, 8, 9, 9, 16, 3, 3, 2, 0, 1, 4, Activation::kNone),
      MakeConv(1, 4, 12, 12, 6, 3, 3, 1, 2, 2, 1, Activation::kNone),
      MakeConv(1, 2, 3, 3, 3, 5, 5, 1, 2, 1, 1, Activation::kNone),
      MakeConv(1, 3, 13, 13, 64, 3, 3, 2, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 6, 8, 8, 5, 3, 3, 2, 0, 1, 1, Activation::kNone, 1),
      MakeConv(2, 32, 6, 6, 32, 3, 3, 1, 1, 1, 32, Activation::kRelu6),
      MakeConv(1, 64, 14, 14, 16, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 16, 14, 14, 64, 3, 3, 1, 1, 1, 1, Activation::kRelu),
      // Depthwise on the plane kernels: 3x3 and 5x5, stride 1 and 2, odd sizes, rows of one to several vectors
      // with partial ones, channel counts that are not a multiple of anything, a dilated window.
      MakeConv(1, 13, 17, 23, 13, 3, 3, 1, 1, 1, 13, Activation::kRelu6),
      MakeConv(1, 20, 18, 35, 20, 3, 3, 2, 1, 1, 20, Activation::kRelu),
      MakeConv(2, 7, 9, 40, 7, 5, 5, 1, 2, 1, 7, Activation::kNone),
      MakeConv(1, 24, 15, 15, 24, 5, 5, 2, 2, 1, 24, Activation::kRelu6),
      MakeConv(1, 5, 3, 5, 5, 3, 3, 1, 1, 1, 5, Activation::kNone),
      MakeConv(1, 9, 33, 70, 9, 3, 3, 1, 1, 1, 9, Activation::kRelu),
      MakeConv(1, 6, 12, 12, 6, 3, 3, 1, 2, 2, 6, Activation::kNone),
      MakeConv(1, 11, 9, 9, 11, 7, 7, 1, 3, 1, 11, Activation::kNone),
      MakeConv(1, 3, 23, 23, 16, 3, 3, 2, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 24, 5, 31, 24, 3, 3, 1, 1, 1, 1, Activation::kNone),
      MakeConv(1, 12, 4, 33, 13, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
      MakeConv(1, 40, 7, 7, 20, 3, 3, 1, 1, 1, 1, Activation::kNone),
      MakeConv(1, 8, 7, 7, 10, 7, 7, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 16, 9, 9, 24, 1, 1, 2, 0, 1, 1, Activation::kNone),
      MakeConv(1, 6, 9, 11, 6, 1, 1, 1, 0, 1, 6, Activation::kNone),
      MakeConv(1, 6, 9, 11, 6, 3, 3, 2, 1, 1, 6, Activation::kRelu),
      MakeConv(1, 4, 8, 8, 8, 3, 3, 1, 1, 1, 4, Activation::kRelu6),
      MakeConv(1, 8, 5, 5, 9, 3, 3, 1, 4, 3, 1, Activation::kNone),
      MakeConv(1, 3, 45, 45, 16, 3, 3, 2, 1, 1, 1, Activation::kRelu),
      MakeConv(1, 2, 4, 2, 3, 3, 3, 3, 0, 1, 1, Activation::kNone, 1),
      // Depthwise on the grid kernel (AVX-512): MobileNetV2's planes (112 wide, stride 1 and TF's SAME stride 2
      // with the pad at the bottom and right only), 7x7 and 14x14 planes whose vectors span two or three grid
      // rows, a 5x5 stride-2 window with an odd total pad, a 1x1 plane under a 3x3 window, a row narrower than
      // the window's span.
      MakeConv(1, 3, 112, 112, 3, 3, 3, 1, 1, 1, 3, Activation::kRelu6),
      MakeConv(1, 5, 112, 112, 5, 3, 3, 2, 0, 1, 5, Activation::kRelu6, 1),
      MakeConv(1, 17, 7, 7, 17, 3, 3, 1, 1, 1, 17, Activation::kRelu6),
      MakeConv(1, 9, 14, 14, 9, 3, 3, 2, 0, 1, 9, Activation::kNone, 1),
      MakeConv(1, 4, 16, 16, 4, 5, 5, 2, 1, 1, 4, Activation::kRelu, 1),
      MakeConv(1, 3, 1, 1, 3, 3, 3, 1, 1, 1, 3, Activation::kNone),
      MakeConv(2, 3, 6, 2, 3, 5, 5, 1, 2, 1, 3, Activation::kRelu),
      // Depthwise on the pair kernel (two channels per vector, outputs at most 8 wide): an odd channel count at
      // batch 2 (a pair spanning the two images), 8x8 (blocks of 8 rows), 5x9 and 3x3 planes (blocks of 4, the
      // last partial), stride 2 with pad 1 onto 7x7, and stride 2 onto 8 columns (past the pair's reach: the grid
      // kernel).
      MakeConv(2, 5, 7, 7, 5, 3, 3, 1, 1, 1, 5, Activation::kRelu),
      MakeConv(1, 6, 8, 8, 6, 3, 3, 1, 1, 1, 6, Activation::kNone),
      MakeConv(1, 7, 9, 5, 7, 3, 3, 1, 1, 1, 7, Activation::kRelu6),
      MakeConv(1, 4, 5, 5, 4, 3, 3, 1, 0, 1, 4, Activation::kNone),
      MakeConv(1, 11, 13, 13, 11, 3, 3, 2, 1, 1, 11, Activation::kRelu),
      MakeConv(1, 4, 15, 15, 4, 3, 3, 2, 1, 1, 4, Activation::kRelu6),
      // And on the twin kernel (two channels, each in its own vectors, outputs 9 to 14 wide, 15 at stride 2): 14x14
      // with an odd channel count, SAME stride 2 from 28x28 at batch 2, 11x13 (blocks of 4, the last partial),
      // stride 2 onto 15 columns, and onto 16 (past the twin's reach: the grid kernel).
      MakeConv(1, 7, 14, 14, 7, 3, 3, 1, 1, 1, 7, Activation::kRelu6),
      MakeConv(2, 3, 28, 28, 3, 3, 3, 2, 0, 1, 3, Activation::kRelu6, 1),
      MakeConv(1, 5, 11, 13, 5, 3, 3, 1, 1, 1, 5, Activation::kNone),
      MakeConv(1, 4, 29, 29, 4, 3, 3, 2, 1, 1, 4, Activation::kRelu),
      MakeConv(1, 3, 31, 31, 3, 3, 3, 2, 1, 1, 3, Activation::kNone),
      // One output column (the GEMV path): a classifier as a 1x1 convolution with MobileNetV2's 1001 outputs
      // (eight-block groups and a tail; 256 inputs, as 1280 sequential float products exceed the direct
      // tolerance on every path), a row count off the row tile, groups, a 3x3 window on a 3x3 input, batch 2.
      MakeConv(2, 256, 1, 1, 1001, 1, 1, 1, 0, 1, 1, Activation::kNone),
      MakeConv(1, 300, 1, 1, 37, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 64, 1, 1, 64, 1, 1, 1, 0, 1, 4, Activation::kRelu6),
      MakeConv(1, 16, 3, 3, 20, 3, 3, 1, 0, 1, 1, Activation::kNone),
      // MobileNetV2's 7x7 1x1 layers at reduced depth: a grid of 49 columns, whose last tile has 17 (16 in a
      // vector, the last in the 8-row extra vector), with row counts off the row tile.
      MakeConv(1, 40, 7, 7, 21, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
      MakeConv(1, 24, 7, 7, 8, 1, 1, 1, 0, 1, 1, Activation::kNone),
      // 1x1 layers on the output-channel tiles (AVX-512; 32 output rows x 7 columns): 7x7, 7x8, 2x7, 1x7 and 14x14
      // planes, several row blocks, batch 2, one input channel.
      MakeConv(1, 40, 7, 7, 64, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
      MakeConv(1, 16, 7, 8, 96, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(2, 24, 2, 7, 32, 1, 1, 1, 0, 1, 1, Activation::kNone),
      MakeConv(1, 1, 1, 7, 32, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 12, 14, 14, 64, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
  };
}

float MaxRelDiff(const std::vector<float>& a, const std::vector<float>& b) {
  float worst = 0.f;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]) / (1.f + std::fabs(b[i])));
  return worst;
}

float MaxAbs(const std::vector<float>& v) {
  float m = 0.f;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

// The Winograd path's bound: |fast − ref| <= 1e-4 · (|ref| + S), S = max|in| · max|w| · sqrt(in_c / group); the
// worst ratio |fast − ref| / (|ref| + S) is returned.
// Why this form and order: with inputs and weights spread over [−X, X] and [−W, W] (uniform here), an output is a
// sum of 9·icg products of standard deviation X·W/3, so its natural scale is S = X·W·sqrt(icg). F(4x4, 3x3)'s
// rounding error is a multiple of S set by the transforms' magnitudes (Bᵀ's rows sum to up to 10 in absolute
// value, so a 6x6 patch grows by up to 100; Aᵀ's last row sums to 19), independent of the data's scale and
// growing with sqrt(icg) like S. A float32 simulation of these transforms (the test data's distributions, 1 to 512
// input channels, input amplitudes 1 and 10) put the worst ratio at 0.7e-5 to 2.3e-5; the direct path's
// (1 + |ref|) form instead grows from 0.8e-5 to 3.3e-4 over the same range, and with the amplitude. 1e-4 keeps a
// margin of 4x over that worst case, while a wrong coefficient or a lost channel or tile errs by a large fraction
// of S (above 1e-2). For [−1, 1] data and one input channel S = 1: the lead's 1e-4 · (1 + |ref|).
float WinogradErrorRatio(const std::vector<float>& fast, const std::vector<float>& ref, float scale) {
  float worst = 0.f;
  for (size_t i = 0; i < fast.size(); ++i) {
    worst = std::max(worst, std::fabs(fast[i] - ref[i]) / (std::fabs(ref[i]) + scale));
  }
  return worst;
}
constexpr float kWinogradTolerance = 1e-4f;
constexpr float kDirectTolerance = 1e-5f;

// Whether `fast` is within the tolerance of the path that computed it.
::testing::AssertionResult MatchesReference(const Conv2dParams& p, ConvAlgo algo, const std::vector<float>& in,
                                            const std::vector<float>& w, const std::vector<float>& fast,
                                            const std::vector<float>& ref) {
  float err = 0.f, tol = 0.f;
  if (algo == ConvAlgo::kWinograd) {
    err = WinogradErrorRatio(fast, ref, MaxAbs(in) * MaxAbs(w) * std::sqrt(static_cast<float>(p.in_c / p.group)));
    tol = kWinogradTolerance;
  } else {
    err = MaxRelDiff(fast, ref);
    tol = kDirectTolerance;
  }
  if (err < tol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << ConvAlgoName(algo) << " error " << err << " >= " << tol;
}

TEST(ConvFp32Test, EveryIsaMatchesReferenceOnCuratedShapes) {
  for (const Fp32Isa isa : SupportedFp32Isas()) {
    uint32_t seed = 1;
    for (const auto& p : ConvCases()) {
      const auto in = Random(size_t{1} * p.batch * p.in_c * p.in_h * p.in_w, seed++);
      const auto w = Random(size_t{1} * p.out_c * (p.in_c / p.group) * p.kernel_h * p.kernel_w, seed++);
      const auto b = Random(p.out_c, seed++);
      std::vector<float> ref(size_t{1} * p.batch * p.out_c * p.out_h * p.out_w, 7.f), fast(ref.size(), -7.f);
      Conv2dFp32Ref(p, in.data(), w.data(), b.data(), ref.data());
      ConvFp32 conv;
      conv.Init(p, w.data(), b.data(), isa, ConvAlgo::kDirect);
      ASSERT_EQ(conv.isa(), isa);
      ASSERT_EQ(conv.algo(), ConvAlgo::kDirect);
      conv.Run(in.data(), fast.data());
      EXPECT_LT(MaxRelDiff(fast, ref), kDirectTolerance) << Describe(p) << " " << Fp32IsaName(isa);
      // The path the layer takes by default, with that path's tolerance.
      ConvFp32 chosen;
      chosen.Init(p, w.data(), b.data(), isa);
      EXPECT_EQ(chosen.algo(), ChooseConvAlgo(p, isa)) << Describe(p);
      std::fill(fast.begin(), fast.end(), -7.f);
      chosen.Run(in.data(), fast.data());
      EXPECT_TRUE(MatchesReference(p, chosen.algo(), in, w, fast, ref)) << Describe(p) << " " << Fp32IsaName(isa);
    }
  }
}

// The plain twin of the depthwise grid kernels' contract: output (oy, ox) is Σ_t w[t]·x in tap order from 0, each
// step one fused multiply-add (a pad's x is 0), + bias, then the activation.
void DepthwiseGridRef(const Fp32DepthwiseGrid& d) {
  for (int64_t oy = 0; oy < d.out_h; ++oy) {
    for (int64_t ox = 0; ox < d.out_w; ++ox) {
      float acc = 0.f;
      for (int ky = 0; ky < d.kernel; ++ky) {
        for (int kx = 0; kx < d.kernel; ++kx) {
          const int64_t iy = oy * d.stride + ky - d.pad_top, ix = ox * d.stride + kx - d.pad_left;
          const bool inside = iy >= 0 && iy < d.in_h && ix >= 0 && ix < d.in_w;
          acc = std::fma(d.w[ky * d.kernel + kx], inside ? d.in[iy * d.in_w + ix] : 0.f, acc);
        }
      }
      float v = acc + d.bias;
      if (d.activation >= 1) v = std::max(v, 0.f);
      if (d.activation == 2) v = std::min(v, 6.f);
      d.out[oy * d.out_w + ox] = v;
    }
  }
}

// The two-channel kernels, pairs (two channels per vector, outputs at most 8 wide) and twins (each channel in its
// own vectors, at most 14 wide, 15 at stride 2), give every output bit for bit as the one-channel grid kernel and
// the plain twin give it. Pairs: MobileNetV2's 7x7 planes (stride 1 pad 1; TF's SAME stride 2 from 14x14, pad at
// the bottom and right; stride 2 pad 1 from 13x13), 8x8, odd sizes whose blocks end partial, a 1x1 plane, rows
// narrower than the window, pads larger than the input. Twins: MobileNetV2's 14x14 planes (stride 1 pad 1, SAME
// stride 2 from 28x28), 15 columns at stride 2, odd sizes, no pad, a pad of 2. Each activation. Outputs outside
// the plane stay untouched.
TEST(ConvFp32Test, DepthwisePairsMatchOneChannelKernelBitForBit) {
  if (BestFp32Isa() != Fp32Isa::kAvx512) GTEST_SKIP() << "the grid kernels run on AVX-512";
  struct Shape {
    int in_h, in_w, stride, pad_top, pad_left, out_h, out_w, activation;
  };
  const std::vector<Shape> shapes = {
      {7, 7, 1, 1, 1, 7, 7, 2},    {14, 14, 2, 0, 0, 7, 7, 2}, {13, 13, 2, 1, 1, 7, 7, 1}, {8, 8, 1, 1, 1, 8, 8, 0},
      {9, 5, 1, 1, 1, 9, 5, 2},    {5, 5, 1, 0, 0, 3, 3, 1},   {1, 1, 1, 1, 1, 1, 1, 0},   {6, 2, 1, 1, 1, 6, 2, 1},
      {3, 3, 1, 2, 2, 5, 5, 0},    {11, 4, 2, 1, 1, 6, 2, 2},  {15, 13, 2, 1, 1, 8, 7, 0}, {7, 7, 1, 0, 1, 5, 7, 1},
      {14, 14, 1, 1, 1, 14, 14, 2}, {28, 28, 2, 0, 0, 14, 14, 2}, {29, 29, 2, 1, 1, 15, 15, 1},
      {11, 13, 1, 1, 1, 11, 13, 0}, {10, 12, 1, 0, 0, 8, 10, 1},  {27, 25, 2, 1, 1, 14, 13, 0},
      {3, 12, 1, 2, 2, 5, 14, 2},   {9, 9, 1, 1, 1, 9, 9, 1},
  };
  uint32_t seed = 900;
  for (const Shape& s : shapes) {
    const bool pairs = DepthwiseGridPairApplies(3, s.stride, s.out_w);
    ASSERT_TRUE(pairs || DepthwiseGridTwinApplies(3, s.stride, s.out_w));
    const int64_t in_hw = int64_t{s.in_h} * s.in_w, out_hw = int64_t{s.out_h} * s.out_w;
    const auto in = Random(static_cast<size_t>(2 * in_hw), seed++);
    const auto w = Random(18, seed++), b = Random(2, seed++);
    Fp32DepthwiseGrid d[2];
    std::vector<float> ref(static_cast<size_t>(2 * out_hw)), one(ref.size(), 7.f), pair(ref.size() + 16, -7.f);
    std::vector<float> scratch;
    for (int c = 0; c < 2; ++c) {
      Fp32DepthwiseGrid& g = d[c];
      g.in = in.data() + c * in_hw;
      g.in_h = s.in_h;
      g.in_w = s.in_w;
      g.kernel = 3;
      g.stride = s.stride;
      g.pad_top = s.pad_top;
      g.pad_left = s.pad_left;
      g.rows = DepthwiseGridRows(s.out_w);
      g.hq = (s.out_h + g.rows - 1) / g.rows * g.rows + 2 / s.stride;
      g.wq = s.out_w + 2 / s.stride;
      g.w = w.data() + 9 * c;
      g.bias = b[c];
      g.activation = s.activation;
      g.out_h = s.out_h;
      g.out_w = s.out_w;
      scratch.resize(static_cast<size_t>(DepthwiseGridScratchFloats(g)));
      g.planes = scratch.data();
      g.out = ref.data() + c * out_hw;
      DepthwiseGridRef(g);
      g.out = one.data() + c * out_hw;
      DepthwiseGridAvx512(g);
      // The pair's outputs sit apart, with a gap that must stay untouched.
      g.out = pair.data() + c * (out_hw + 16);
    }
    pairs ? DepthwiseGridPairAvx512(d[0], d[1]) : DepthwiseGridTwinAvx512(d[0], d[1]);
    std::ostringstream what;
    what << (pairs ? "pair " : "twin ") << s.in_h << "x" << s.in_w << " s" << s.stride << " p" << s.pad_top << ","
         << s.pad_left << " -> " << s.out_h << "x" << s.out_w << " act" << s.activation;
    EXPECT_EQ(one, ref) << what.str();
    const std::vector<float> first(pair.begin(), pair.begin() + out_hw);
    const std::vector<float> gap(pair.begin() + out_hw, pair.begin() + out_hw + 16);
    const std::vector<float> second(pair.begin() + out_hw + 16, pair.end());
    EXPECT_EQ(first, std::vector<float>(ref.begin(), ref.begin() + out_hw)) << what.str();
    EXPECT_EQ(second, std::vector<float>(ref.begin() + out_hw, ref.end())) << what.str();
    EXPECT_EQ(gap, std::vector<float>(16, -7.f)) << what.str();
  }
  EXPECT_FALSE(DepthwiseGridPairApplies(3, 1, 9));
  EXPECT_FALSE(DepthwiseGridPairApplies(3, 2, 8));
  EXPECT_FALSE(DepthwiseGridPairApplies(5, 1, 7));
  EXPECT_FALSE(DepthwiseGridTwinApplies(3, 1, 15));
  EXPECT_FALSE(DepthwiseGridTwinApplies(3, 2, 16));
  EXPECT_FALSE(DepthwiseGridTwinApplies(5, 1, 14));
}

// The one-channel grid kernel gives every output bit for bit as the plain twin, under every activation, and leaves
// the floats past the plane untouched: stride-1 rows whose vector count is odd (112 columns: 4 x 2 blocks, the last
// vector in 8 x 1 blocks; 70, 40), even (56, 64, 28) and one (9), 3x3 and 5x5, 3x3 stride 2 onto 56 and 28 columns
// (blocks of 2 x 4 and 4 x 2 vectors sharing the column past each vector), onto 29 (pad 1 on both sides of 57), onto
// 80, 72 and 128 (4 x 2 blocks after the 2 x 4 ones, an odd vector past them, two 2 x 4 blocks), 5x5 stride 2,
// pads of 0, 1 and 2, TF's SAME pad at the bottom and right, heights that leave the last block of rows partial
// (1 to 3 of 4 rows) and a single row.
TEST(ConvFp32Test, DepthwiseGridMatchesPlainTwinBitForBit) {
  const std::vector<Fp32Isa> isas = SupportedFp32Isas();
  const bool avx512 = std::count(isas.begin(), isas.end(), Fp32Isa::kAvx512) > 0;
  const bool avx2 = std::count(isas.begin(), isas.end(), Fp32Isa::kAvx2) > 0;
  if (!avx512 && !avx2) GTEST_SKIP() << "the grid kernels run on AVX-512 and AVX2";
  struct Shape {
    int kernel, in_h, in_w, stride, pad_top, pad_left, out_h, out_w, activation;
  };
  const std::vector<Shape> shapes = {
      {3, 21, 112, 1, 1, 1, 21, 112, 2}, {3, 9, 70, 1, 1, 1, 9, 70, 1},    {5, 11, 40, 1, 2, 2, 11, 40, 0},
      {3, 13, 56, 1, 1, 1, 13, 56, 2},   {5, 6, 64, 1, 2, 2, 6, 64, 1},    {3, 5, 9, 1, 1, 1, 5, 9, 0},
      {3, 23, 112, 2, 0, 0, 11, 56, 2},  {3, 17, 56, 2, 1, 1, 9, 28, 1},   {5, 19, 45, 2, 2, 2, 10, 23, 0},
      {3, 28, 28, 1, 1, 1, 28, 28, 2},   {3, 10, 35, 1, 0, 0, 8, 33, 1},   {3, 7, 50, 1, 2, 2, 9, 52, 0},
      {3, 1, 40, 1, 1, 1, 1, 40, 2},     {3, 13, 57, 2, 1, 1, 7, 29, 2},   {3, 6, 96, 2, 0, 0, 3, 48, 1},
      {3, 56, 56, 2, 0, 0, 28, 28, 2},   {3, 2, 33, 2, 1, 1, 1, 17, 0},    {3, 9, 160, 2, 1, 1, 5, 80, 1},
      {3, 7, 256, 2, 0, 0, 3, 128, 2},   {3, 5, 143, 2, 1, 1, 3, 72, 0},
  };
  uint32_t seed = 1100;
  for (const Shape& s : shapes) {
    const auto in = Random(static_cast<size_t>(s.in_h) * s.in_w, seed++);
    const auto w = Random(static_cast<size_t>(s.kernel) * s.kernel, seed++), b = Random(1, seed++);
    Fp32DepthwiseGrid g;
    g.in = in.data();
    g.in_h = s.in_h;
    g.in_w = s.in_w;
    g.kernel = s.kernel;
    g.stride = s.stride;
    g.pad_top = s.pad_top;
    g.pad_left = s.pad_left;
    g.w = w.data();
    g.bias = b[0];
    g.out_h = s.out_h;
    g.out_w = s.out_w;
    std::vector<float> scratch;
    if (avx512) {
      g.rows = DepthwiseGridRows(s.out_w);
      const int span = (s.kernel - 1) / s.stride;
      g.hq = (s.out_h + g.rows - 1) / g.rows * g.rows + span;
      g.wq = s.out_w + span;
      scratch.resize(static_cast<size_t>(DepthwiseGridScratchFloats(g)));
      g.planes = scratch.data();
    }
    for (const int activation : {s.activation, (s.activation + 1) % 3, (s.activation + 2) % 3}) {
      g.activation = activation;
      // A vector of floats past the plane, which must stay as they are.
      const size_t plane = static_cast<size_t>(s.out_h) * s.out_w;
      std::vector<float> ref(plane + 16, -7.f), fast(ref.size(), -7.f);
      g.out = ref.data();
      DepthwiseGridRef(g);
      for (const Fp32Isa isa : {Fp32Isa::kAvx512, Fp32Isa::kAvx2}) {
        if (isa == Fp32Isa::kAvx512 ? !avx512 : !avx2 || s.kernel != 3) continue;
        std::fill(fast.begin(), fast.end(), -7.f);
        g.out = fast.data();
        if (isa == Fp32Isa::kAvx512) {
          DepthwiseGridAvx512(g);
        } else {
          DepthwiseGridAvx2(g);
        }
        EXPECT_EQ(fast, ref) << s.kernel << "x" << s.kernel << " " << s.in_h << "x" << s.in_w << " s" << s.stride
                             << " p" << s.pad_top << "," << s.pad_left << " -> " << s.out_h << "x" << s.out_w
                             << " act " << activation << " " << Fp32IsaName(isa);
      }
    }
  }
}

// Depthwise layers on the grid kernel through ConvFp32 give every output bit for bit as the plain twin computes it
// channel by channel, at 1 and 2 threads: MobileNetV2's 112x112 to 7x7 layers at reduced depth (3x3 stride 1 pad
// 1; TF's SAME stride 2, pad at the bottom and right only), stride 2 pad 1 onto an odd width, batch 2.
TEST(ConvFp32Test, DepthwiseGridLayersMatchPlainTwinAtEveryThreadCount) {
  if (BestFp32Isa() != Fp32Isa::kAvx512 && BestFp32Isa() != Fp32Isa::kAvx2) {
    GTEST_SKIP() << "the grid kernels run on AVX-512 and AVX2";
  }
  const std::vector<Conv2dParams> shapes = {
      MakeConv(1, 5, 112, 112, 5, 3, 3, 1, 1, 1, 5, Activation::kRelu6),
      MakeConv(1, 6, 112, 112, 6, 3, 3, 2, 0, 1, 6, Activation::kRelu6, 1),
      MakeConv(1, 7, 56, 56, 7, 3, 3, 1, 1, 1, 7, Activation::kRelu6),
      MakeConv(1, 4, 56, 56, 4, 3, 3, 2, 0, 1, 4, Activation::kRelu, 1),
      MakeConv(2, 9, 28, 28, 9, 3, 3, 1, 1, 1, 9, Activation::kNone),
      MakeConv(1, 3, 45, 45, 3, 3, 3, 2, 1, 1, 3, Activation::kRelu6),
      // The two-channel kernels: 14x14 (twins, an odd channel count), SAME stride 2 from 28x28 (twins), 7x7 at
      // batch 2 (pairs, one spanning the two images).
      MakeConv(1, 7, 14, 14, 7, 3, 3, 1, 1, 1, 7, Activation::kRelu6),
      MakeConv(1, 6, 28, 28, 6, 3, 3, 2, 0, 1, 6, Activation::kRelu, 1),
      MakeConv(2, 5, 7, 7, 5, 3, 3, 1, 1, 1, 5, Activation::kRelu6),
  };
  uint32_t seed = 1200;
  for (const Conv2dParams& p : shapes) {
    const int64_t in_hw = int64_t{p.in_h} * p.in_w, out_hw = int64_t{p.out_h} * p.out_w;
    const auto in = Random(static_cast<size_t>(p.batch * p.in_c * in_hw), seed++);
    const auto w = Random(static_cast<size_t>(p.out_c * 9), seed++), b = Random(p.out_c, seed++);
    std::vector<float> ref(static_cast<size_t>(p.batch * p.out_c * out_hw));
    for (int n = 0; n < p.batch; ++n) {
      for (int c = 0; c < p.out_c; ++c) {
        Fp32DepthwiseGrid g;
        g.in = in.data() + (int64_t{n} * p.in_c + c) * in_hw;
        g.in_h = p.in_h;
        g.in_w = p.in_w;
        g.kernel = 3;
        g.stride = p.stride_h;
        g.pad_top = p.pad_top;
        g.pad_left = p.pad_left;
        g.w = w.data() + c * 9;
        g.bias = b[c];
        g.activation = p.activation == Activation::kRelu6 ? 2 : p.activation == Activation::kRelu ? 1 : 0;
        g.out_h = p.out_h;
        g.out_w = p.out_w;
        g.out = ref.data() + (int64_t{n} * p.out_c + c) * out_hw;
        DepthwiseGridRef(g);
      }
    }
    ConvFp32 conv;
    conv.Init(p, w.data(), b.data());
    for (int threads : {1, 2}) {
      SetNumThreads(threads);
      std::vector<float> fast(ref.size(), -7.f);
      conv.Run(in.data(), fast.data());
      EXPECT_EQ(fast, ref) << Describe(p) << ", " << threads << " threads";
    }
  }
}

// 1x1 layers whose outputs are few and a multiple of 7 (ChannelTile14Avx512 and ChannelTileAvx512: 32 output
// channels x 14 columns per tile, a last one of 7 columns for an odd multiple of 7) and, for contrast, others on
// the 8x32 tile give every output bit for bit as the plain twin of the GEMM's contract computes it: Σ_k w·x from 0
// in k order, each step one fused multiply-add, + bias, then the activation; at 1 and 2 threads. MobileNetV2's 7x7
// and 14x14 layers at reduced depth (49 and 196 columns, 32 to 128 outputs), 7, 14, 21, 28, 35, 56 and 63
// columns, one input channel, K = 300, batch 2, no bias; 64, 112 (a multiple of 16) and 210 columns (not channel
// tiles); output channel counts that are not a multiple of 32.
TEST(ConvFp32Test, ChannelTilesMatchFmaTwinBitForBit) {
  if (BestFp32Isa() != Fp32Isa::kAvx512) GTEST_SKIP() << "the output-channel tiles run on AVX-512";
  const std::vector<Conv2dParams> shapes = {
      MakeConv(1, 160, 7, 7, 96, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
      MakeConv(1, 96, 7, 7, 32, 1, 1, 1, 0, 1, 1, Activation::kNone),
      MakeConv(1, 40, 7, 7, 128, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(2, 300, 2, 7, 64, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
      MakeConv(1, 1, 4, 7, 32, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 33, 8, 7, 64, 1, 1, 1, 0, 1, 1, Activation::kNone),
      MakeConv(1, 50, 8, 8, 64, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
      MakeConv(1, 50, 9, 7, 32, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 24, 14, 14, 64, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
      MakeConv(1, 24, 16, 7, 32, 1, 1, 1, 0, 1, 1, Activation::kNone),
      MakeConv(1, 24, 15, 14, 32, 1, 1, 1, 0, 1, 1, Activation::kNone),
      MakeConv(1, 24, 3, 7, 64, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
      MakeConv(2, 17, 5, 7, 32, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      // Weight prefetches issued inside the tiles: one tile per row block, so more lines than k steps (7 columns,
      // three blocks); an 8x32 GEMM of several weight chunks (K = 1100: chunks of three row blocks).
      MakeConv(1, 20, 1, 7, 96, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 1100, 8, 8, 40, 1, 1, 1, 0, 1, 1, Activation::kNone),
      // Output channels that are not a multiple of 32 (the last row block through a scratch tile): SqueezeNet's
      // conv10 at reduced depth (1000 outputs on 14x14), 33 and 63 outputs on 7x7, 40 on an odd multiple of 7
      // (the last block's last tile of 7 columns), batch 2.
      MakeConv(1, 64, 14, 14, 1000, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 48, 7, 7, 33, 1, 1, 1, 0, 1, 1, Activation::kNone),
      MakeConv(1, 48, 7, 7, 63, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
      MakeConv(2, 21, 3, 7, 40, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      // A last block of 16 rows (SqueezeNet's fire6/fire7 squeeze: 48 outputs on 14x14, the 16-row tile) and of 18
      // (50 outputs: the whole 32-row tile).
      MakeConv(1, 256, 14, 14, 48, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 40, 14, 14, 50, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
  };
  uint32_t seed = 1000;
  for (const Conv2dParams& p : shapes) {
    const int64_t hw = int64_t{p.out_h} * p.out_w;
    const auto in = Random(static_cast<size_t>(p.batch * p.in_c * hw), seed++);
    const auto w = Random(static_cast<size_t>(p.out_c * p.in_c), seed++), b = Random(p.out_c, seed++);
    const bool with_bias = p.in_c != 33;
    std::vector<float> ref(static_cast<size_t>(p.batch * p.out_c * hw));
    for (int n = 0; n < p.batch; ++n) {
      for (int o = 0; o < p.out_c; ++o) {
        for (int64_t j = 0; j < hw; ++j) {
          float acc = 0.f;
          for (int k = 0; k < p.in_c; ++k) acc = std::fma(w[o * p.in_c + k], in[(n * p.in_c + k) * hw + j], acc);
          float v = acc + (with_bias ? b[o] : 0.f);
          if (p.activation != Activation::kNone) v = std::max(v, 0.f);
          if (p.activation == Activation::kRelu6) v = std::min(v, 6.f);
          ref[(n * p.out_c + o) * hw + j] = v;
        }
      }
    }
    ConvFp32 conv;
    conv.Init(p, w.data(), with_bias ? b.data() : nullptr);
    for (int threads : {1, 2}) {
      SetNumThreads(threads);
      std::vector<float> fast(ref.size(), -7.f);
      conv.Run(in.data(), fast.data());
      EXPECT_EQ(fast, ref) << Describe(p) << ", " << threads << " threads";
    }
  }
}

// Convolutions on the 8x32 tile give every output bit for bit as the plain twin of the packed GEMM's contract
// computes it: Σ over (c, ky, kx) in that order from 0 of w·x, each step one fused multiply-add (a pad's x is 0),
// + bias, then the activation; at 1 and 2 threads, under every activation, with and without a bias. 1x1 layers
// whose tiles are full (64 and 256 columns; MobileNetV2's expansions of K = 16 and 24), end in a tail of more than
// 16 columns (40), of at most 16 (24), of 17 (49 columns, the extra vector) or have a row count off the row tile
// (20: a partial row block); 3x3 stride-2 stems on the shifted planes (TF's SAME pad at the bottom and right, and
// pad 1), whose tiles straddle grid rows or lie inside one.
TEST(ConvFp32Test, EightByThirtyTwoTileMatchesFmaTwinBitForBit) {
  if (BestFp32Isa() != Fp32Isa::kAvx512) GTEST_SKIP() << "checks the AVX-512 tile";
  const std::vector<Conv2dParams> shapes = {
      MakeConv(1, 16, 8, 8, 96, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
      MakeConv(1, 24, 16, 16, 48, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
      MakeConv(1, 7, 5, 8, 24, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(2, 12, 4, 6, 16, 1, 1, 1, 0, 1, 1, Activation::kNone),
      MakeConv(1, 40, 7, 7, 16, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
      MakeConv(1, 9, 8, 8, 20, 1, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 3, 30, 30, 32, 3, 3, 2, 0, 1, 1, Activation::kRelu6, 1),
      MakeConv(1, 3, 17, 17, 16, 3, 3, 2, 1, 1, 1, Activation::kRelu),
  };
  uint32_t seed = 1300;
  for (const Conv2dParams& p : shapes) {
    const int64_t in_hw = int64_t{p.in_h} * p.in_w, out_hw = int64_t{p.out_h} * p.out_w;
    const int taps = p.kernel_h * p.kernel_w;
    const auto in = Random(static_cast<size_t>(p.batch * p.in_c * in_hw), seed++);
    const auto w = Random(static_cast<size_t>(p.out_c * p.in_c * taps), seed++), b = Random(p.out_c, seed++);
    for (const int activation : {0, 1, 2}) {
      for (const bool with_bias : {true, false}) {
        Conv2dParams q = p;
        q.activation = activation == 2 ? Activation::kRelu6 : activation == 1 ? Activation::kRelu : Activation::kNone;
        std::vector<float> ref(static_cast<size_t>(p.batch * p.out_c * out_hw));
        for (int n = 0; n < p.batch; ++n) {
          for (int o = 0; o < p.out_c; ++o) {
            for (int oy = 0; oy < p.out_h; ++oy) {
              for (int ox = 0; ox < p.out_w; ++ox) {
                float acc = 0.f;
                for (int c = 0; c < p.in_c; ++c) {
                  for (int ky = 0; ky < p.kernel_h; ++ky) {
                    for (int kx = 0; kx < p.kernel_w; ++kx) {
                      const int iy = oy * p.stride_h + ky - p.pad_top, ix = ox * p.stride_w + kx - p.pad_left;
                      const bool inside = iy >= 0 && iy < p.in_h && ix >= 0 && ix < p.in_w;
                      const float x = inside ? in[(int64_t{n} * p.in_c + c) * in_hw + iy * p.in_w + ix] : 0.f;
                      acc = std::fma(w[(int64_t{o} * p.in_c + c) * taps + ky * p.kernel_w + kx], x, acc);
                    }
                  }
                }
                float v = acc + (with_bias ? b[o] : 0.f);
                if (activation >= 1) v = std::max(v, 0.f);
                if (activation == 2) v = std::min(v, 6.f);
                ref[(int64_t{n} * p.out_c + o) * out_hw + oy * p.out_w + ox] = v;
              }
            }
          }
        }
        ConvFp32 conv;
        conv.Init(q, w.data(), with_bias ? b.data() : nullptr, Fp32Isa::kAvx512, ConvAlgo::kDirect);
        for (int threads : {1, 2}) {
          SetNumThreads(threads);
          std::vector<float> fast(ref.size(), -7.f);
          conv.Run(in.data(), fast.data());
          EXPECT_EQ(fast, ref) << Describe(q) << ", bias " << with_bias << ", " << threads << " threads";
        }
      }
    }
  }
}

// A 1x1 convolution and the depthwise one after it, fused (RunWithDepthwise), give exactly what the two Runs give,
// and with a 1x1 projection after them what the three give, at 1 and 2 threads: MobileNetV2's expand + depthwise
// pairs at reduced size (stride 1 pad 1, TF's SAME stride 2 with the pad at the bottom, stride 2 pad 1), 5x5
// stride 1 and 2, planes tall and wide enough for several strips (the first and last with pad rows, middle ones
// sharing rows with the strip before, which one thread keeps and two compute each), batch 2 (a strip of the second
// image after the last of the first), no activation, and 3x3 stride-2 stems as the first convolution.
TEST(ConvFp32Test, ExpandThenDepthwiseFusedMatchesTwoRuns) {
  const bool avx2 = BestFp32Isa() == Fp32Isa::kAvx2;
  if (BestFp32Isa() != Fp32Isa::kAvx512 && !avx2) GTEST_SKIP() << "the fused path runs on AVX-512 and AVX2";
  struct Pair {
    Conv2dParams expand, dw;
  };
  auto pair = [](int n, int c, int h, int w, int e, int k, int s, int pad, int extra, Activation a1, Activation a2) {
    return Pair{MakeConv(n, c, h, w, e, 1, 1, 1, 0, 1, 1, a1), MakeConv(n, e, h, w, e, k, k, s, pad, 1, e, a2, extra)};
  };
  const std::vector<Pair> pairs = {
      pair(1, 8, 60, 90, 64, 3, 1, 1, 0, Activation::kRelu6, Activation::kRelu6),
      pair(1, 5, 89, 91, 36, 3, 2, 0, 1, Activation::kRelu6, Activation::kRelu6),
      pair(1, 6, 80, 72, 60, 3, 2, 1, 0, Activation::kRelu, Activation::kNone),
      pair(1, 4, 77, 83, 49, 5, 1, 2, 0, Activation::kNone, Activation::kRelu),
      pair(1, 4, 81, 79, 47, 5, 2, 2, 0, Activation::kRelu6, Activation::kRelu6),
      pair(1, 16, 90, 100, 64, 3, 1, 1, 0, Activation::kRelu6, Activation::kRelu6),
      pair(1, 16, 112, 112, 96, 3, 2, 0, 1, Activation::kRelu6, Activation::kRelu6),
      pair(2, 3, 70, 90, 80, 5, 2, 2, 0, Activation::kNone, Activation::kNone),
      // A 3x3 stride-2 stem on the shifted planes as the first convolution (batch 1): MobileNetV2's with TF's
      // SAME pad and a 3x3 stride-1 depthwise layer, and one with pad 1, odd sizes and a stride-2 depthwise one.
      Pair{MakeConv(1, 3, 224, 224, 32, 3, 3, 2, 0, 1, 1, Activation::kRelu6, 1),
           MakeConv(1, 32, 112, 112, 32, 3, 3, 1, 1, 1, 32, Activation::kRelu6)},
      Pair{MakeConv(1, 3, 161, 181, 40, 3, 3, 2, 1, 1, 1, Activation::kRelu),
           MakeConv(1, 40, 81, 91, 40, 3, 3, 2, 0, 1, 40, Activation::kNone, 1)},
  };
  uint32_t seed = 800;
  for (const Pair& pr : pairs) {
    const Conv2dParams &e = pr.expand, &d = pr.dw;
    if (avx2 && d.kernel_h != 3) continue;  // the AVX2 grid kernel takes 3x3 windows
    const auto in = Random(size_t{1} * e.batch * e.in_c * e.in_h * e.in_w, seed++);
    const auto we = Random(size_t{1} * e.out_c * e.in_c * e.kernel_h * e.kernel_w, seed++);
    const auto be = Random(e.out_c, seed++);
    const auto wd = Random(size_t{1} * d.out_c * d.kernel_h * d.kernel_w, seed++), bd = Random(d.out_c, seed++);
    ConvFp32 expand, dw;
    expand.Init(e, we.data(), be.data());
    dw.Init(d, wd.data(), bd.data());
    ASSERT_TRUE(expand.FusesWithDepthwise(dw)) << Describe(e) << " / " << Describe(d);
    std::vector<float> mid(size_t{1} * e.batch * e.out_c * e.out_h * e.out_w);
    std::vector<float> two(size_t{1} * d.batch * d.out_c * d.out_h * d.out_w, 7.f), fused(two.size(), -7.f);
    expand.Run(in.data(), mid.data());
    dw.Run(mid.data(), two.data());
    // And a projection after the depthwise one (13 outputs: not a multiple of the row tile).
    const Conv2dParams q = MakeConv(d.batch, d.out_c, d.out_h, d.out_w, 13, 1, 1, 1, 0, 1, 1, Activation::kNone);
    const auto wq = Random(size_t{1} * q.out_c * q.in_c, seed++), bq = Random(q.out_c, seed++);
    ConvFp32 project;
    project.Init(q, wq.data(), bq.data());
    ASSERT_TRUE(ConvFp32::FusesAfterDepthwise(dw, project)) << Describe(q);
    std::vector<float> three(size_t{1} * q.batch * q.out_c * q.out_h * q.out_w, 7.f), fused3(three.size(), -7.f);
    project.Run(two.data(), three.data());
    for (int threads : {1, 2}) {
      SetNumThreads(threads);
      std::fill(fused.begin(), fused.end(), -7.f);
      expand.RunWithDepthwise(dw, in.data(), fused.data());
      EXPECT_EQ(fused, two) << Describe(e) << " / " << Describe(d) << ", " << threads << " threads";
      std::fill(fused3.begin(), fused3.end(), -7.f);
      expand.RunWithDepthwise(dw, in.data(), fused3.data(), &project);
      EXPECT_EQ(fused3, three) << Describe(e) << " / " << Describe(d) << " / " << Describe(q) << ", " << threads
                               << " threads";
    }
  }
  // Not fused: a strided 1x1, a grouped one, a depthwise window the grid kernel does not take (7x7), an
  // intermediate of 1 MB or less.
  ConvFp32 strided, grouped, dw3, dw7, dw3_small, plain, small;
  const auto w = Random(64 * 64 * 49, 1), b = Random(64, 2);
  strided.Init(MakeConv(1, 8, 192, 128, 64, 1, 1, 2, 0, 1, 1, Activation::kNone), w.data(), b.data());
  grouped.Init(MakeConv(1, 8, 96, 64, 64, 1, 1, 1, 0, 1, 2, Activation::kNone), w.data(), b.data());
  plain.Init(MakeConv(1, 8, 96, 64, 64, 1, 1, 1, 0, 1, 1, Activation::kNone), w.data(), b.data());
  dw3.Init(MakeConv(1, 64, 96, 64, 64, 3, 3, 1, 1, 1, 64, Activation::kNone), w.data(), b.data());
  dw7.Init(MakeConv(1, 64, 96, 64, 64, 7, 7, 1, 3, 1, 64, Activation::kNone), w.data(), b.data());
  EXPECT_TRUE(plain.FusesWithDepthwise(dw3));
  EXPECT_FALSE(strided.FusesWithDepthwise(dw3));
  EXPECT_FALSE(grouped.FusesWithDepthwise(dw3));
  EXPECT_FALSE(plain.FusesWithDepthwise(dw7));
  small.Init(MakeConv(1, 8, 32, 64, 64, 1, 1, 1, 0, 1, 1, Activation::kNone), w.data(), b.data());
  dw3_small.Init(MakeConv(1, 64, 32, 64, 64, 3, 3, 1, 1, 1, 64, Activation::kNone), w.data(), b.data());
  EXPECT_FALSE(small.FusesWithDepthwise(dw3_small));
  // A projection that is strided, or reads another shape, is not fused.
  ConvFp32 project_strided, project_other;
  project_strided.Init(MakeConv(1, 64, 96, 64, 16, 1, 1, 2, 0, 1, 1, Activation::kNone), w.data(), b.data());
  project_other.Init(MakeConv(1, 64, 32, 64, 16, 1, 1, 1, 0, 1, 1, Activation::kNone), w.data(), b.data());
  EXPECT_FALSE(ConvFp32::FusesAfterDepthwise(dw3, project_strided));
  EXPECT_FALSE(ConvFp32::FusesAfterDepthwise(dw3, project_other));
  // Nor one on the output-channel tiles (AVX-512), whose weights are packed in blocks of 32 rows (7x7 planes).
  if (!avx2) {
    ConvFp32 dw3_7x7, project_7x7;
    dw3_7x7.Init(MakeConv(1, 64, 7, 7, 64, 3, 3, 1, 1, 1, 64, Activation::kNone), w.data(), b.data());
    project_7x7.Init(MakeConv(1, 64, 7, 7, 32, 1, 1, 1, 0, 1, 1, Activation::kNone), w.data(), b.data());
    EXPECT_FALSE(ConvFp32::FusesAfterDepthwise(dw3_7x7, project_7x7));
  }
}

// A convolution and the 3x3 stride-2 max pooling after it, fused (RunWithMaxPool), give exactly what Run and
// Pool2dFp32 give, at 1 and 2 threads: SqueezeNet's 3-channel stride-2 stem with ReLU (the shifted phase planes),
// a 3x3 stride-1 pad-1 convolution (shifted, stride 1) with ReLU6, a 1x1 one on the input itself with output
// channels off the row tile and odd sizes, batch 2; the pooled height is not a multiple of the strip, and with one
// thread the strips of a run carry their shared row. Poolings with a window outside the input or another window
// are not fused.
TEST(ConvFp32Test, ConvThenMaxPoolFusedMatchesTwoRuns) {
  if (BestFp32Isa() != Fp32Isa::kAvx512) GTEST_SKIP() << "the fused path runs on AVX-512";
  const std::vector<Conv2dParams> convs = {MakeConv(1, 3, 131, 133, 64, 3, 3, 2, 0, 1, 1, Activation::kRelu),
                                           MakeConv(1, 5, 61, 57, 80, 3, 3, 1, 1, 1, 1, Activation::kRelu6),
                                           MakeConv(2, 8, 63, 67, 75, 1, 1, 1, 0, 1, 1, Activation::kNone)};
  uint32_t seed = 900;
  for (const Conv2dParams& p : convs) {
    const auto in = Random(size_t{1} * p.batch * p.in_c * p.in_h * p.in_w, seed++);
    const auto w = Random(size_t{1} * p.out_c * p.in_c * p.kernel_h * p.kernel_w, seed++);
    const auto b = Random(p.out_c, seed++);
    Pool2dParams q{p.batch, p.out_c, p.out_h, p.out_w, (p.out_h - 3) / 2 + 1, (p.out_w - 3) / 2 + 1, 3, 3, 2, 2,
                   0, 0, 0, 0, PoolType::kMax, true};
    ConvFp32 conv;
    conv.Init(p, w.data(), b.data(), Fp32Isa::kAvx512, ConvAlgo::kDirect);
    ASSERT_TRUE(conv.FusesWithMaxPool(q)) << Describe(p);
    std::vector<float> mid(size_t{1} * p.batch * p.out_c * p.out_h * p.out_w);
    std::vector<float> two(size_t{1} * p.batch * p.out_c * q.out_h * q.out_w, 7.f);
    conv.Run(in.data(), mid.data());
    Pool2dFp32(q, mid.data(), two.data());
    for (int threads : {1, 2}) {
      SetNumThreads(threads);
      std::vector<float> fused(two.size(), -7.f);
      conv.RunWithMaxPool(q, in.data(), fused.data());
      EXPECT_EQ(fused, two) << Describe(p) << ", " << threads << " threads";
    }
    Pool2dParams padded = q;
    padded.pad_top = padded.pad_left = 1;
    EXPECT_FALSE(conv.FusesWithMaxPool(padded));
    Pool2dParams ceil = q;
    ceil.out_w += 1;
    EXPECT_FALSE(conv.FusesWithMaxPool(ceil));
    Pool2dParams average = q;
    average.type = PoolType::kAvg;
    EXPECT_FALSE(conv.FusesWithMaxPool(average));
  }
  SetNumThreads(2);
}

// A 1x1 convolution on the output-channel tiles and the global average pooling after it, fused
// (RunWithGlobalAverage), give exactly what Run and Pool2dFp32 give, at 1 and 2 threads: SqueezeNet's conv10 (1000
// channels, a last block of 8 rows, on 14x14 with ReLU), 64 channels on 7x14 with ReLU6, and batch 2 without an
// activation. Planes of 7x7 (a 7-column tile), a window short of the plane and a convolution off the channel tiles
// are not fused.
TEST(ConvFp32Test, ConvThenGlobalAverageFusedMatchesTwoRuns) {
  if (BestFp32Isa() != Fp32Isa::kAvx512) GTEST_SKIP() << "the fused path runs on AVX-512";
  const std::vector<Conv2dParams> convs = {MakeConv(1, 512, 14, 14, 1000, 1, 1, 1, 0, 1, 1, Activation::kRelu),
                                           MakeConv(1, 40, 7, 14, 64, 1, 1, 1, 0, 1, 1, Activation::kRelu6),
                                           MakeConv(2, 24, 14, 14, 48, 1, 1, 1, 0, 1, 1, Activation::kNone)};
  uint32_t seed = 950;
  for (const Conv2dParams& p : convs) {
    const auto in = Random(size_t{1} * p.batch * p.in_c * p.in_h * p.in_w, seed++);
    const auto w = Random(size_t{1} * p.out_c * p.in_c, seed++);
    const auto b = Random(p.out_c, seed++);
    Pool2dParams q{p.batch, p.out_c, p.out_h, p.out_w, 1, 1, p.out_h, p.out_w, 1, 1,
                   0, 0, 0, 0, PoolType::kAvg, true};
    ConvFp32 conv;
    conv.Init(p, w.data(), b.data(), Fp32Isa::kAvx512, ConvAlgo::kDirect);
    ASSERT_TRUE(conv.FusesWithGlobalAverage(q)) << Describe(p);
    std::vector<float> mid(size_t{1} * p.batch * p.out_c * p.out_h * p.out_w);
    std::vector<float> two(size_t{1} * p.batch * p.out_c, 7.f);
    conv.Run(in.data(), mid.data());
    Pool2dFp32(q, mid.data(), two.data());
    for (int threads : {1, 2}) {
      SetNumThreads(threads);
      std::vector<float> fused(two.size(), -7.f);
      conv.RunWithGlobalAverage(q, in.data(), fused.data());
      EXPECT_EQ(fused, two) << Describe(p) << ", " << threads << " threads";
    }
    Pool2dParams window = q;
    window.kernel_w -= 1;
    EXPECT_FALSE(conv.FusesWithGlobalAverage(window));
    Pool2dParams max = q;
    max.type = PoolType::kMax;
    EXPECT_FALSE(conv.FusesWithGlobalAverage(max));
  }
  const Conv2dParams p7 = MakeConv(1, 32, 7, 7, 64, 1, 1, 1, 0, 1, 1, Activation::kRelu);
  const auto w = Random(size_t{64} * 32, 990), b = Random(64, 991);
  ConvFp32 conv7;
  conv7.Init(p7, w.data(), b.data(), Fp32Isa::kAvx512, ConvAlgo::kDirect);
  EXPECT_FALSE(conv7.FusesWithGlobalAverage(
      Pool2dParams{1, 64, 7, 7, 1, 1, 7, 7, 1, 1, 0, 0, 0, 0, PoolType::kAvg, true}));
  const Conv2dParams p3 = MakeConv(1, 8, 14, 14, 64, 3, 3, 1, 1, 1, 1, Activation::kRelu);
  const auto w3 = Random(size_t{64} * 8 * 9, 992);
  ConvFp32 conv3;
  conv3.Init(p3, w3.data(), b.data(), Fp32Isa::kAvx512, ConvAlgo::kDirect);
  EXPECT_FALSE(conv3.FusesWithGlobalAverage(
      Pool2dParams{1, 64, 14, 14, 1, 1, 14, 14, 1, 1, 0, 0, 0, 0, PoolType::kAvg, true}));
  SetNumThreads(2);
}

TEST(ConvFp32Test, FreeFunctionMatchesReference) {
  uint32_t seed = 50;
  for (const auto& p : ConvCases()) {
    const auto in = Random(size_t{1} * p.batch * p.in_c * p.in_h * p.in_w, seed++);
    const auto w = Random(size_t{1} * p.out_c * (p.in_c / p.group) * p.kernel_h * p.kernel_w, seed++);
    std::vector<float> ref(size_t{1} * p.batch * p.out_c * p.out_h * p.out_w, 7.f), fast(ref.size(), -7.f);
    Conv2dFp32Ref(p, in.data(), w.data(), nullptr, ref.data());
    Conv2dFp32(p, in.data(), w.data(), nullptr, fast.data());
    EXPECT_TRUE(MatchesReference(p, ChooseConvAlgo(p, BestFp32Isa()), in, w, fast, ref)) << Describe(p);
  }
}

// Shapes for the Winograd path (3x3, stride 1, one group): tile grids with partial tiles at the right and bottom
// (odd sizes), groups of 16 tiles that span several tile rows (narrow outputs, down to one tile per row and a
// 1x1 output) or cross a row in the middle (more than 16 tiles per row), several tile blocks and output-channel
// blocks, several passes over super-blocks of tiles (V of 64 or 130 channels over more than 64 tiles exceeds its
// 1 MB), padding 1 and 0 and a SAME-style extra bottom/right pad, batch 2, ReLU and ReLU6, channel counts that are
// not multiples of the vector width or of any micro-kernel's row tile, SqueezeNet's fire2, fire4, fire6 and fire8
// expand layers, and inputs of amplitude 10 (the bound scales with the data).
struct WinogradCase {
  Conv2dParams p;
  float amplitude = 1.f;
};
std::vector<WinogradCase> WinogradCases() {
  return {
      {MakeConv(1, 5, 11, 13, 7, 3, 3, 1, 1, 1, 1, Activation::kNone)},
      {MakeConv(1, 8, 10, 9, 12, 3, 3, 1, 0, 1, 1, Activation::kRelu6)},
      {MakeConv(2, 12, 9, 17, 20, 3, 3, 1, 1, 1, 1, Activation::kRelu)},
      {MakeConv(1, 17, 23, 29, 33, 3, 3, 1, 1, 1, 1, Activation::kRelu6)},
      {MakeConv(1, 9, 6, 70, 10, 3, 3, 1, 1, 1, 1, Activation::kNone)},
      {MakeConv(1, 8, 37, 3, 16, 3, 3, 1, 1, 1, 1, Activation::kRelu)},
      {MakeConv(1, 3, 3, 3, 5, 3, 3, 1, 0, 1, 1, Activation::kNone)},
      {MakeConv(1, 8, 8, 8, 9, 3, 3, 1, 0, 1, 1, Activation::kNone, 1)},
      {MakeConv(2, 7, 40, 36, 37, 3, 3, 1, 1, 1, 1, Activation::kRelu)},
      {MakeConv(1, 64, 40, 36, 40, 3, 3, 1, 1, 1, 1, Activation::kRelu6)},
      {MakeConv(2, 130, 34, 35, 20, 3, 3, 1, 1, 1, 1, Activation::kNone)},
      {MakeConv(1, 16, 14, 14, 64, 3, 3, 1, 1, 1, 1, Activation::kRelu)},
      {MakeConv(1, 16, 56, 56, 64, 3, 3, 1, 1, 1, 1, Activation::kRelu)},
      {MakeConv(1, 32, 28, 28, 128, 3, 3, 1, 1, 1, 1, Activation::kRelu)},
      {MakeConv(1, 48, 14, 14, 192, 3, 3, 1, 1, 1, 1, Activation::kRelu)},
      {MakeConv(1, 64, 14, 14, 256, 3, 3, 1, 1, 1, 1, Activation::kRelu)},
      {MakeConv(1, 24, 5, 31, 24, 3, 3, 1, 1, 1, 1, Activation::kNone), 10.f},
      {MakeConv(1, 40, 7, 7, 20, 3, 3, 1, 1, 1, 1, Activation::kRelu6), 10.f},
  };
}

TEST(ConvFp32Test, WinogradMatchesReferenceOnEveryIsaAndThreadCount) {
  for (const Fp32Isa isa : SupportedFp32Isas()) {
    uint32_t seed = 400;
    for (const auto& [p, amplitude] : WinogradCases()) {
      auto in = Random(size_t{1} * p.batch * p.in_c * p.in_h * p.in_w, seed++);
      for (float& x : in) x *= amplitude;
      const auto w = Random(size_t{1} * p.out_c * p.in_c * 9, seed++);
      auto b = Random(p.out_c, seed++);
      for (float& x : b) x *= amplitude;
      std::vector<float> ref(size_t{1} * p.batch * p.out_c * p.out_h * p.out_w, 7.f);
      Conv2dFp32Ref(p, in.data(), w.data(), b.data(), ref.data());
      ConvFp32 conv;
      conv.Init(p, w.data(), b.data(), isa, ConvAlgo::kWinograd);
      ASSERT_EQ(conv.algo(), ConvAlgo::kWinograd) << Describe(p);
      std::vector<float> one(ref.size(), -7.f), two(ref.size(), 7.f);
      SetNumThreads(1);
      conv.Run(in.data(), one.data());
      SetNumThreads(2);
      conv.Run(in.data(), two.data());
      EXPECT_TRUE(MatchesReference(p, ConvAlgo::kWinograd, in, w, one, ref)) << Describe(p) << " " << Fp32IsaName(isa);
      EXPECT_EQ(one, two) << Describe(p) << " " << Fp32IsaName(isa);
    }
  }
}

// The bound is not loose enough to pass a broken transform: the same outputs with one input channel's
// contribution missing fail it.
TEST(ConvFp32Test, WinogradBoundRejectsALostChannel) {
  const Conv2dParams p = MakeConv(1, 16, 14, 14, 64, 3, 3, 1, 1, 1, 1, Activation::kNone);
  const auto in = Random(size_t{1} * p.in_c * p.in_h * p.in_w, 7), w = Random(size_t{1} * p.out_c * p.in_c * 9, 8);
  std::vector<float> ref(size_t{1} * p.out_c * p.out_h * p.out_w), fast(ref.size());
  Conv2dFp32Ref(p, in.data(), w.data(), nullptr, ref.data());
  auto lost = in;
  std::fill(lost.begin() + 5 * p.in_h * p.in_w, lost.begin() + 6 * p.in_h * p.in_w, 0.f);
  ConvFp32 conv;
  conv.Init(p, w.data(), nullptr, BestFp32Isa(), ConvAlgo::kWinograd);
  conv.Run(lost.data(), fast.data());
  EXPECT_FALSE(MatchesReference(p, ConvAlgo::kWinograd, in, w, fast, ref));
  conv.Run(in.data(), fast.data());
  EXPECT_TRUE(MatchesReference(p, ConvAlgo::kWinograd, in, w, fast, ref));
}

TEST(ConvFp32Test, WinogradOnlyWhereItApplies) {
  // Strided, dilated, grouped and non-3x3 windows take the direct path even when Winograd is asked for.
  for (const auto& p : {MakeConv(1, 16, 14, 14, 32, 3, 3, 2, 1, 1, 1, Activation::kNone),
                        MakeConv(1, 16, 14, 14, 32, 3, 3, 1, 2, 2, 1, Activation::kNone),
                        MakeConv(1, 16, 14, 14, 32, 3, 3, 1, 1, 1, 2, Activation::kNone),
                        MakeConv(1, 16, 14, 14, 32, 1, 1, 1, 0, 1, 1, Activation::kNone),
                        MakeConv(1, 16, 14, 14, 32, 5, 5, 1, 2, 1, 1, Activation::kNone)}) {
    EXPECT_FALSE(WinogradApplies(p)) << Describe(p);
    const auto w = Random(size_t{1} * p.out_c * (p.in_c / p.group) * p.kernel_h * p.kernel_w, 9);
    ConvFp32 conv;
    conv.Init(p, w.data(), nullptr, BestFp32Isa(), ConvAlgo::kWinograd);
    EXPECT_EQ(conv.algo(), ConvAlgo::kDirect) << Describe(p);
    EXPECT_EQ(ChooseConvAlgo(p, BestFp32Isa()), ConvAlgo::kDirect) << Describe(p);
  }
  // The rule's edges (conv_winograd.cc): fewer than 16 tiles, fewer than 16 input or 32 output channels.
  for (const auto& p : {MakeConv(1, 64, 7, 7, 64, 3, 3, 1, 1, 1, 1, Activation::kNone),
                        MakeConv(1, 64, 12, 12, 64, 3, 3, 1, 1, 1, 1, Activation::kNone),
                        MakeConv(1, 8, 27, 27, 64, 3, 3, 1, 1, 1, 1, Activation::kNone),
                        MakeConv(1, 64, 27, 27, 16, 3, 3, 1, 1, 1, 1, Activation::kNone)}) {
    EXPECT_TRUE(WinogradApplies(p));
    EXPECT_EQ(ChooseConvAlgo(p, Fp32Isa::kAvx512), ConvAlgo::kDirect) << Describe(p);
    EXPECT_EQ(ChooseConvAlgo(p, Fp32Isa::kAvx2), ConvAlgo::kDirect) << Describe(p);
  }
  EXPECT_EQ(ChooseConvAlgo(MakeConv(1, 16, 13, 13, 32, 3, 3, 1, 1, 1, 1, Activation::kNone), Fp32Isa::kAvx512),
            ConvAlgo::kWinograd);
  // SqueezeNet's 3x3 expand layers take Winograd with AVX-512 and AVX2 transforms; the portable ones never win.
  for (const auto& p : {MakeConv(1, 16, 56, 56, 64, 3, 3, 1, 1, 1, 1, Activation::kRelu),
                        MakeConv(1, 32, 28, 28, 128, 3, 3, 1, 1, 1, 1, Activation::kRelu),
                        MakeConv(1, 48, 14, 14, 192, 3, 3, 1, 1, 1, 1, Activation::kRelu),
                        MakeConv(1, 64, 14, 14, 256, 3, 3, 1, 1, 1, 1, Activation::kRelu)}) {
    EXPECT_TRUE(WinogradApplies(p));
    for (const Fp32Isa isa : SupportedFp32Isas()) {
      const bool vector = isa == Fp32Isa::kAvx512 || isa == Fp32Isa::kAvx2;
      EXPECT_EQ(ChooseConvAlgo(p, isa), vector ? ConvAlgo::kWinograd : ConvAlgo::kDirect)
          << Describe(p) << " " << Fp32IsaName(isa);
    }
  }
}

TEST(ConvFp32Test, ResultsDoNotDependOnThreadCount) {
  for (const Fp32Isa isa : SupportedFp32Isas()) {
    uint32_t seed = 100;
    for (const auto& p : ConvCases()) {
      const auto in = Random(size_t{1} * p.batch * p.in_c * p.in_h * p.in_w, seed++);
      const auto w = Random(size_t{1} * p.out_c * (p.in_c / p.group) * p.kernel_h * p.kernel_w, seed++);
      std::vector<float> one(size_t{1} * p.batch * p.out_c * p.out_h * p.out_w), two(one.size());
      ConvFp32 conv;
      conv.Init(p, w.data(), nullptr, isa);
      SetNumThreads(1);
      conv.Run(in.data(), one.data());
      SetNumThreads(2);
      conv.Run(in.data(), two.data());
      EXPECT_EQ(one, two) << Describe(p) << " " << Fp32IsaName(isa);
    }
  }
}

// Every fp32 micro-kernel this CPU runs, straight through its Fp32Gemm contract, against a plain GEMM in double:
// row counts that end inside a row tile, column counts below, at and past the column tile, grids with discarded
// columns (grid_w > out_w) and without, bias or none, each activation. Outputs outside the valid ones (discarded
// grid columns, rows past m, the gap between rows) must stay untouched.
TEST(Fp32MicroKernelTest, EveryKernelMatchesPlainGemm) {
  std::vector<const Fp32MicroKernel*> kernels = {&Fp32MicroKernelScalar()};
#if defined(__x86_64__) || defined(__i386__)
  for (const Fp32Isa isa : SupportedFp32Isas()) {
    if (isa == Fp32Isa::kAvx2) kernels.push_back(&Fp32MicroKernelAvx2());
    if (isa == Fp32Isa::kAvx512) {
      kernels.push_back(&Fp32MicroKernelAvx512());
      kernels.push_back(&Fp32MicroKernelAvx512Narrow());
    }
  }
#endif
  constexpr float kUntouched = 12345.f;
  uint32_t seed = 600;
  for (const Fp32MicroKernel* mk : kernels) {
    for (const int64_t m : {int64_t{mk->mr} - 1, 2 * int64_t{mk->mr} + 3}) {
      for (const int64_t k : {1, 7, 33}) {
        // 27: a grid of 81 columns, whose last tile on the 32-column kernel has 17 (its one-vector-plus-a-column
        // tail when the grid is contiguous).
        for (const int64_t out_w : {int64_t{5}, int64_t{27}, int64_t{mk->nr}, 2 * int64_t{mk->nr} + 7}) {
          for (const int64_t extra : {0, 2}) {
            const int64_t grid_w = out_w + extra, rows_out = 3, n = rows_out * grid_w;
            const int64_t ldb = n + 3, out_stride = rows_out * out_w + 5;
            const auto a = Random(static_cast<size_t>(m * k), seed++), b = Random(static_cast<size_t>(k * ldb), seed++);
            const auto bias = Random(static_cast<size_t>(m), seed++);
            const int64_t blocks = (m + mk->mr - 1) / mk->mr;
            std::vector<float> packed(static_cast<size_t>(blocks * k * mk->mr), 0.f);
            for (int64_t r = 0; r < m; ++r) {
              for (int64_t kk = 0; kk < k; ++kk) packed[(r / mk->mr) * k * mk->mr + kk * mk->mr + r % mk->mr] = a[r * k + kk];
            }
            std::vector<int64_t> koff(static_cast<size_t>(k));
            for (int64_t kk = 0; kk < k; ++kk) koff[kk] = kk * ldb;
            for (const int activation : {0, 1, 2}) {
              for (const bool with_bias : {false, true}) {
                std::vector<float> out(static_cast<size_t>((m + 1) * out_stride), kUntouched);
                Fp32Gemm g;
                g.a = packed.data();
                g.b = b.data();
                g.koff = koff.data();
                g.k = k;
                g.m = m;
                g.n = n;
                g.bias = with_bias ? bias.data() : nullptr;
                g.activation = activation;
                g.out = out.data();
                g.out_stride = out_stride;
                g.grid_w = grid_w;
                g.out_w = out_w;
                for (int64_t rb = 0; rb < blocks; ++rb) {
                  for (int64_t j0 = 0; j0 < n; j0 += mk->nr) mk->tile(g, rb, j0);
                }
                std::vector<float> expected(out.size(), kUntouched);
                for (int64_t r = 0; r < m; ++r) {
                  for (int64_t j = 0; j < n; ++j) {
                    if (j % grid_w >= out_w) continue;
                    double sum = with_bias ? bias[r] : 0.0;
                    for (int64_t kk = 0; kk < k; ++kk) sum += double{a[r * k + kk]} * b[kk * ldb + j];
                    float v = static_cast<float>(sum);
                    if (activation >= 1) v = std::max(v, 0.f);
                    if (activation == 2) v = std::min(v, 6.f);
                    expected[r * out_stride + (j / grid_w) * out_w + j % grid_w] = v;
                  }
                }
                EXPECT_LT(MaxRelDiff(out, expected), 1e-5f)
                    << mk->name << " m " << m << " k " << k << " out_w " << out_w << " grid_w " << grid_w << " act "
                    << activation << " bias " << with_bias;
              }
            }
          }
        }
      }
    }
  }
}

TEST(ConvFp32Test, HandComputed3x3) {
  // 1x1x4x4 input 0..15, all-ones 3x3 kernel, pad 1: corner = 0+1+4+5, centre (1,1) = sum of rows 0-2, cols 0-2.
  Conv2dParams p = MakeConv(1, 1, 4, 4, 1, 3, 3, 1, 1, 1, 1, Activation::kNone);
  std::vector<float> in(16), w(9, 1.f), out(16);
  for (int i = 0; i < 16; ++i) in[i] = static_cast<float>(i);
  Conv2dFp32(p, in.data(), w.data(), nullptr, out.data());
  EXPECT_EQ(out[0], 10.f);
  EXPECT_EQ(out[5], 0 + 1 + 2 + 4 + 5 + 6 + 8 + 9 + 10);
  EXPECT_EQ(out[15], 10 + 11 + 14 + 15);
}

TEST(DeconvFp32Test, StrideTwoScattersKernel) {
  // One input pixel of value 2 with a 2x2 kernel [1 2; 3 4], stride 2: the output is the scaled kernel.
  Conv2dParams p{1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, 1, Activation::kNone};
  std::vector<float> in = {2.f}, w = {1, 2, 3, 4}, out(4);
  Deconv2dFp32Ref(p, in.data(), w.data(), nullptr, out.data());
  EXPECT_EQ(out, (std::vector<float>{2, 4, 6, 8}));
}

// The row-by-row deconvolution against the scatter reference and TNN's NAIVE deconvolution, bit for bit: the hair
// segmentation model's depthwise 4x4 stride-2 upsampling (pad 1), grouped and full channel mixing, strides 1 to 3,
// kernels smaller and larger than the stride, pads that crop more than a stride, dilation, odd sizes, batch 2 and
// every activation.
TEST(DeconvFp32Test, FastIsBitExactWithReference) {
  struct Case {
    int n, c, h, w, oc, kh, kw, s, pad, dil, group;
    Activation act;
  };
  const std::vector<Case> cases = {
      {1, 6, 16, 16, 6, 4, 4, 2, 1, 1, 6, Activation::kNone},   {1, 2, 9, 13, 2, 4, 4, 2, 1, 1, 2, Activation::kRelu},
      {2, 4, 5, 7, 6, 3, 3, 2, 1, 1, 2, Activation::kRelu6},    {1, 3, 6, 6, 5, 3, 3, 1, 1, 1, 1, Activation::kNone},
      {1, 5, 4, 9, 3, 2, 2, 2, 0, 1, 1, Activation::kRelu},     {1, 2, 7, 5, 4, 5, 3, 3, 2, 1, 1, Activation::kNone},
      {1, 4, 6, 6, 4, 3, 3, 2, 3, 2, 4, Activation::kNone},     {1, 8, 3, 17, 8, 4, 4, 2, 1, 1, 1, Activation::kRelu},
      {1, 1, 1, 1, 1, 2, 2, 2, 0, 1, 1, Activation::kNone},     {1, 3, 8, 8, 3, 1, 1, 2, 0, 1, 3, Activation::kRelu6},
  };
  uint32_t seed = 40;
  for (const Case& c : cases) {
    Conv2dParams p{c.n, c.c, c.h, c.w, c.oc, 0, 0, c.kh, c.kw, c.s, c.s, c.pad, c.pad, c.dil, c.dil, c.group, c.act};
    p.out_h = (c.h - 1) * c.s - 2 * c.pad + (c.kh - 1) * c.dil + 1;
    p.out_w = (c.w - 1) * c.s - 2 * c.pad + (c.kw - 1) * c.dil + 1;
    ASSERT_GT(p.out_h, 0);
    ASSERT_GT(p.out_w, 0);
    const auto in = Random(size_t{1} * c.n * c.c * c.h * c.w, seed++);
    const auto w = Random(size_t{1} * c.c * (c.oc / c.group) * c.kh * c.kw, seed++);
    const auto bias = Random(c.oc, seed++);
    std::vector<float> ref(size_t{1} * c.n * c.oc * p.out_h * p.out_w), fast(ref.size(), -1.f);
    Deconv2dFp32Ref(p, in.data(), w.data(), bias.data(), ref.data());
    for (int threads : {1, 2}) {
      SetNumThreads(threads);
      std::fill(fast.begin(), fast.end(), -1.f);
      Deconv2dFp32(p, in.data(), w.data(), bias.data(), fast.data());
      EXPECT_EQ(fast, ref) << "case " << (&c - cases.data()) << ", " << threads << " threads";
    }
    Deconv2dFp32(p, in.data(), w.data(), nullptr, fast.data());
    Deconv2dFp32Ref(p, in.data(), w.data(), nullptr, ref.data());
    EXPECT_EQ(fast, ref) << "case " << (&c - cases.data()) << " without bias";
    // TNN's NAIVE deconvolution (cpu_deconv_layer_acc.cc @ f0cb081): each output gathers, from its bias, the
    // products of its input channels, rows and columns in ascending order, each product rounded before the sum.
    Deconv2dFp32(p, in.data(), w.data(), bias.data(), fast.data());
    for (int n = 0; n < c.n; ++n) {
      for (int oc = 0; oc < c.oc; ++oc) {
        const int ocg = c.oc / c.group, icg = c.c / c.group, g = oc / ocg;
        for (int oy = 0; oy < p.out_h; ++oy) {
          for (int ox = 0; ox < p.out_w; ++ox) {
            float sum = bias[oc];
            for (int ic = g * icg; ic < (g + 1) * icg; ++ic) {
              for (int ky = c.kh - 1; ky >= 0; --ky) {
                const int ty = oy + c.pad - ky * c.dil;
                if (ty < 0 || ty % c.s != 0 || ty / c.s >= c.h) continue;
                for (int kx = c.kw - 1; kx >= 0; --kx) {
                  const int tx = ox + c.pad - kx * c.dil;
                  if (tx < 0 || tx % c.s != 0 || tx / c.s >= c.w) continue;
                  volatile float product = in[((size_t{1} * n * c.c + ic) * c.h + ty / c.s) * c.w + tx / c.s] *
                                           w[((size_t{1} * ic * ocg + oc % ocg) * c.kh + ky) * c.kw + kx];
                  sum = sum + product;
                }
              }
            }
            const float tnn = c.act == Activation::kRelu    ? std::max(sum, 0.f)
                              : c.act == Activation::kRelu6 ? std::min(std::max(sum, 0.f), 6.f)
                                                            : sum;
            ASSERT_EQ(fast[((size_t{1} * n * c.oc + oc) * p.out_h + oy) * p.out_w + ox], tnn)
                << "case " << (&c - cases.data()) << " output " << oc << "," << oy << "," << ox;
          }
        }
      }
    }
  }
  SetNumThreads(1);
}

TEST(PoolFp32Test, FastMatchesReferenceAndCaffeAverageDivisor) {
  // 3x3 average, stride 2, pad 1 on 4x4 (ceil mode gives 3x3 outputs): Caffe divides the corner window by the
  // padded window size clipped to in + pad, i.e. 4 at (0,0) and 2x... as computed by hand below.
  Pool2dParams p{1, 1, 4, 4, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, PoolType::kAvg, true};
  std::vector<float> in(16, 1.f), ref(9), fast(9);
  Pool2dFp32Ref(p, in.data(), ref.data());
  Pool2dFp32(p, in.data(), fast.data());
  EXPECT_EQ(ref, fast);
  EXPECT_FLOAT_EQ(ref[0], 4.f / 9.f);  // window rows -1..1, cols -1..1: 4 real ones over 9 padded cells
  EXPECT_FLOAT_EQ(ref[8], 1.f / 4.f);  // window rows 3..4 (clipped at in + pad = 5), 2x2 cells, 1 real one
  p.count_include_pad = false;
  Pool2dFp32Ref(p, in.data(), ref.data());
  EXPECT_FLOAT_EQ(ref[0], 1.f);
  p.type = PoolType::kMax;
  std::vector<float> ramp(16);
  for (int i = 0; i < 16; ++i) ramp[i] = static_cast<float>(i);
  Pool2dFp32(p, ramp.data(), fast.data());
  EXPECT_EQ(fast[0], 5.f);
  EXPECT_EQ(fast[8], 15.f);
}

// Curated pooling shapes: SqueezeNet's 3x3 stride 2 in ceil mode (113 -> 56), 2x2 stride 2, 3x3 stride 1 pad 1,
// a kernel larger than the input, a global window, odd sizes, pad 2 with a 2x2 kernel (the first window lies
// entirely in the padding), and 3x3 stride 2 on short rows with an odd flat offset (pad 1, even width) and on long
// rows (the fast path's whole-plane and per-row forms), and a global window on 37 planes (two blocks of 16 and a
// remainder); 3x3 stride 2 on SqueezeNet's 55x55 and 27x27, and on rows of 1, 2, 16, 17, 33 inner windows and of 32
// with a pad (the AVX-512 row kernel's full and partial vectors of 16 windows). Max pooling is exact and the fast
// average sums every plane in the reference's order: fast and reference agree bit for bit.
TEST(PoolFp32Test, FastIsExactOnCuratedShapes) {
  auto make = [](int c, int h, int w, int k, int s, int pad, PoolType type) {
    Pool2dParams p{1, c, h, w, 0, 0, k, k, s, s, pad, pad, pad, pad, type, true};
    p.out_h = (h + 2 * pad - k + s - 1) / s + 1;  // ceil mode
    p.out_w = (w + 2 * pad - k + s - 1) / s + 1;
    p.pad_bottom = (p.out_h - 1) * s + k - h - pad;
    p.pad_right = (p.out_w - 1) * s + k - w - pad;
    return p;
  };
  uint32_t seed = 300;
  for (const PoolType type : {PoolType::kMax, PoolType::kAvg}) {
    for (const auto& p : {make(3, 113, 113, 3, 2, 0, type), make(2, 8, 8, 2, 2, 0, type), make(4, 7, 9, 3, 1, 1, type),
                          make(2, 3, 3, 5, 1, 2, type), make(3, 6, 5, 6, 1, 0, type), make(2, 11, 13, 3, 2, 1, type),
                          make(2, 5, 4, 2, 1, 2, type), make(2, 12, 10, 3, 2, 1, type), make(2, 9, 150, 3, 2, 0, type),
                          make(37, 7, 7, 7, 1, 0, type), make(2, 55, 55, 3, 2, 0, type), make(2, 27, 27, 3, 2, 0, type),
                          make(1, 3, 3, 3, 2, 0, type), make(2, 6, 5, 3, 2, 0, type), make(2, 6, 34, 3, 2, 0, type),
                          make(2, 6, 35, 3, 2, 0, type), make(2, 7, 67, 3, 2, 0, type), make(2, 7, 67, 3, 2, 1, type),
                          make(3, 64, 64, 2, 2, 0, type), make(2, 9, 71, 2, 2, 0, type), make(2, 10, 34, 2, 2, 0, type),
                          make(2, 6, 33, 2, 2, 1, type), make(2, 4, 96, 2, 2, 0, type)}) {
      const auto in = Random(size_t{1} * p.channels * p.in_h * p.in_w, seed++);
      std::vector<float> ref(size_t{1} * p.channels * p.out_h * p.out_w, 7.f), fast(ref.size(), -7.f);
      Pool2dFp32Ref(p, in.data(), ref.data());
      Pool2dFp32(p, in.data(), fast.data());
      EXPECT_EQ(fast, ref) << p.in_h << "x" << p.in_w << " k" << p.kernel_h << " s" << p.stride_h << " pad "
                           << p.pad_top << (type == PoolType::kMax ? " max" : " avg");
    }
  }
}

TEST(InnerProductFp32Test, FastMatchesReferenceAndThreads) {
  for (auto [m, k, n] : std::vector<std::tuple<int, int, int>>{{1, 800, 500}, {3, 17, 10}, {2, 1000, 33}}) {
    const InnerProductParams2 p{m, k, n};
    const auto in = Random(size_t(m) * k, 5), w = Random(size_t(n) * k, 6), b = Random(n, 7);
    std::vector<float> ref(size_t(m) * n), one(ref.size()), two(ref.size());
    InnerProductFp32Ref(p, in.data(), w.data(), b.data(), ref.data());
    SetNumThreads(1);
    InnerProductFp32(p, in.data(), w.data(), b.data(), one.data());
    SetNumThreads(2);
    InnerProductFp32(p, in.data(), w.data(), b.data(), two.data());
    EXPECT_LT(MaxRelDiff(one, ref), 1e-5f) << m << "x" << k << "x" << n;
    EXPECT_EQ(one, two);
  }
}

TEST(ElementwiseFp32Test, Activations) {
  std::vector<float> x = {-7.f, -1.f, 0.f, 0.5f, 3.f, 8.f}, y(6);
  ReluFp32(x.data(), y.data(), 6);
  EXPECT_EQ(y, (std::vector<float>{0, 0, 0, 0.5f, 3, 8}));
  ClipFp32(x.data(), y.data(), 6, 0.f, 6.f);
  EXPECT_EQ(y, (std::vector<float>{0, 0, 0, 0.5f, 3, 6}));
  HardSwishFp32(x.data(), y.data(), 6, 1.f / 6.f, 0.5f);
  EXPECT_FLOAT_EQ(y[1], -1.f * (1.f / 3.f));
  EXPECT_EQ(y[0], 0.f);
  EXPECT_EQ(y[5], 8.f);
  HardSigmoidFp32(x.data(), y.data(), 6, 0.2f, 0.5f);
  EXPECT_FLOAT_EQ(y[3], 0.6f);
  SigmoidFp32(x.data(), y.data(), 6);
  EXPECT_FLOAT_EQ(y[2], 0.5f);
  std::vector<float> slopes = {0.1f, 0.2f};
  std::vector<float> px = {-1, 2, -1, 2}, py(4);
  PReluFp32(px.data(), py.data(), 1, 2, 2, slopes.data(), false);
  EXPECT_EQ(py, (std::vector<float>{-0.1f, 2, -0.2f, 2}));
}

TEST(BinaryFp32Test, Broadcasting) {
  // [2,3] + [3] and [2,1,2] * [1,3,1].
  std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {10, 20, 30}, out(6);
  BinaryFp32(BinaryOp::kAdd, a.data(), {2, 3}, b.data(), {3}, out.data(), {2, 3});
  EXPECT_EQ(out, (std::vector<float>{11, 22, 33, 14, 25, 36}));
  std::vector<float> c = {1, 2, 3, 4}, d = {1, 10, 100}, o(12);
  BinaryFp32(BinaryOp::kMul, c.data(), {2, 1, 2}, d.data(), {1, 3, 1}, o.data(), {2, 3, 2});
  EXPECT_EQ(o, (std::vector<float>{1, 2, 10, 20, 100, 200, 3, 4, 30, 40, 300, 400}));
  BinaryFp32(BinaryOp::kSub, b.data(), {1}, a.data(), {6}, out.data(), {6});
  EXPECT_EQ(out, (std::vector<float>{9, 8, 7, 6, 5, 4}));
}

TEST(ShapeOpsFp32Test, ConcatSplitPermuteSoftmaxPad) {
  std::vector<float> a = {1, 2, 3, 4}, b = {5, 6}, out(6);
  ConcatFp32({a.data(), b.data()}, {{1, 2, 2}, {1, 1, 2}}, 1, out.data());
  EXPECT_EQ(out, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  std::vector<float> s1(4), s2(2);
  SplitFp32(out.data(), {1, 3, 2}, 1, {s1.data(), s2.data()}, {2, 1});
  EXPECT_EQ(s1, a);
  EXPECT_EQ(s2, b);
  std::vector<float> t = {1, 2, 3, 4, 5, 6}, tp(6);
  PermuteFp32(t.data(), {2, 3}, {1, 0}, tp.data());
  EXPECT_EQ(tp, (std::vector<float>{1, 4, 2, 5, 3, 6}));
  std::vector<float> sm(6);
  SoftmaxFp32(t.data(), sm.data(), {1, 3, 2}, 1);
  EXPECT_NEAR(sm[0] + sm[2] + sm[4], 1.f, 1e-6f);
  EXPECT_GT(sm[4], sm[2]);
  std::vector<float> row = {1, 2, 3}, padded(7);
  PadParams4d pr{0, 0, 2, 2, 0, 0, PadMode::kReflect, 0.f};
  PadFp32(row.data(), {1, 1, 1, 3}, pr, padded.data());
  EXPECT_EQ(padded, (std::vector<float>{3, 2, 1, 2, 3, 2, 1}));
  pr.mode = PadMode::kEdge;
  PadFp32(row.data(), {1, 1, 1, 3}, pr, padded.data());
  EXPECT_EQ(padded, (std::vector<float>{1, 1, 1, 2, 3, 3, 3}));
  pr.mode = PadMode::kConstant;
  pr.value = -1.f;
  PadFp32(row.data(), {1, 1, 1, 3}, pr, padded.data());
  EXPECT_EQ(padded, (std::vector<float>{-1, -1, 1, 2, 3, -1, -1}));
}

TEST(ShapeOpsFp32Test, PadEqualsItsReferenceTwin) {
  struct Case {
    Dims dims;
    PadParams4d pads;
  };
  const std::vector<Case> cases = {
      {{1, 24, 64, 64}, {0, 0, 0, 0, 0, 4, PadMode::kConstant, 0.f}},  // BlazeFace's channel pads
      {{1, 3, 7, 5}, {1, 2, 3, 1, 0, 0, PadMode::kConstant, -2.5f}},
      {{2, 3, 7, 5}, {2, 1, 1, 3, 1, 2, PadMode::kConstant, 1.f}},
      {{1, 2, 6, 5}, {3, 2, 4, 4, 0, 0, PadMode::kReflect, 0.f}},
      {{1, 2, 1, 1}, {2, 1, 2, 3, 0, 0, PadMode::kReflect, 0.f}},
      {{1, 2, 6, 5}, {3, 2, 7, 1, 0, 0, PadMode::kEdge, 0.f}},
      {{1, 4, 3, 9}, {0, 0, 0, 0, 2, 2, PadMode::kConstant, 0.f}},
  };
  for (const auto& c : cases) {
    std::vector<float> in(static_cast<size_t>(c.dims[0]) * c.dims[1] * c.dims[2] * c.dims[3]);
    for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i % 17) - 8.f;
    const auto& p = c.pads;
    const size_t out_size = static_cast<size_t>(c.dims[0]) * (c.dims[1] + p.pad_c_begin + p.pad_c_end) *
                            (c.dims[2] + p.pad_top + p.pad_bottom) * (c.dims[3] + p.pad_left + p.pad_right);
    std::vector<float> ref(out_size), out(out_size, 99.f);
    PadFp32Ref(in.data(), c.dims, p, ref.data());
    for (int threads : {1, 2}) {
      SetNumThreads(threads);
      PadFp32(in.data(), c.dims, p, out.data());
      EXPECT_EQ(out, ref) << DimsToString(c.dims) << " mode " << static_cast<int>(p.mode) << ", " << threads
                          << " threads";
    }
  }
  SetNumThreads(2);
}

// The channel Pad, the Add and the ReLU in one pass against PadFp32Ref, BinaryFp32Ref and ReluFp32 one after the
// other: BlazeFace's widening (4 zero channels after 24, 64x64), channels before and after with a non-zero
// constant, batch 2, the pad as either operand, with and without the ReLU; values of both signs around the
// constant, so the ReLU and the sums see zeros and negative zeros.
TEST(ShapeOpsFp32Test, AddOfAChannelPadEqualsPadThenAddThenRelu) {
  struct Case {
    Dims dims;
    int c_begin, c_end;
    float value;
  };
  const std::vector<Case> cases = {
      {{1, 24, 64, 64}, 0, 4, 0.f}, {{2, 3, 7, 5}, 2, 1, 0.5f}, {{1, 5, 1, 3}, 3, 0, -1.f}};
  for (const auto& c : cases) {
    const PadParams4d p{0, 0, 0, 0, c.c_begin, c.c_end, PadMode::kConstant, c.value};
    const Dims out_dims{c.dims[0], c.dims[1] + c.c_begin + c.c_end, c.dims[2], c.dims[3]};
    std::vector<float> x = Random(static_cast<size_t>(DimsCount(c.dims)), 31);
    std::vector<float> z = Random(static_cast<size_t>(DimsCount(out_dims)), 32);
    for (size_t i = 0; i < z.size(); i += 7) z[i] = -c.value;  // sums of exactly zero on the padded channels
    std::vector<float> padded(z.size());
    PadFp32Ref(x.data(), c.dims, p, padded.data());
    for (const bool pad_first : {false, true}) {
      for (const bool relu : {false, true}) {
        std::vector<float> ref(z.size());
        if (pad_first) {
          BinaryFp32Ref(BinaryOp::kAdd, padded.data(), out_dims, z.data(), out_dims, ref.data(), out_dims);
        } else {
          BinaryFp32Ref(BinaryOp::kAdd, z.data(), out_dims, padded.data(), out_dims, ref.data(), out_dims);
        }
        if (relu) ReluFp32(ref.data(), ref.data(), static_cast<int64_t>(ref.size()));
        for (int threads : {1, 2}) {
          SetNumThreads(threads);
          std::vector<float> out(z.size(), 99.f);
          AddChannelPaddedFp32(z.data(), x.data(), c.dims, p, pad_first, relu, out.data());
          EXPECT_EQ(std::memcmp(out.data(), ref.data(), out.size() * sizeof(float)), 0)
              << DimsToString(c.dims) << " pad_first " << pad_first << " relu " << relu << ", " << threads
              << " threads";
        }
      }
    }
  }
  SetNumThreads(2);
}

TEST(ResizeFp32Test, NearestAndBilinear) {
  std::vector<float> in = {0, 1, 2, 3}, out(16);
  ResizeParams p{1, 1, 2, 2, 4, 4, ResizeMode::kNearest, false};
  ResizeFp32(p, in.data(), out.data());
  EXPECT_EQ(out[0], 0.f);
  EXPECT_EQ(out[3], 1.f);
  EXPECT_EQ(out[15], 3.f);
  p.mode = ResizeMode::kLinear;
  p.align_corners = true;
  std::vector<float> lin(9);
  p.out_h = p.out_w = 3;
  ResizeFp32(p, in.data(), lin.data());
  EXPECT_FLOAT_EQ(lin[4], 1.5f);
  EXPECT_FLOAT_EQ(lin[1], 0.5f);
}

// The run-wise loop against the element-wise reference, bit for bit: same shapes (one run), a scalar on either
// side, per-channel and per-row broadcasts, an inner dimension of 1 broadcast against a longer one, rank 1 to 5,
// every operation.
TEST(BinaryFp32Test, MatchesReferenceOnCuratedShapes) {
  struct Case {
    Dims a, b, out;
  };
  const std::vector<Case> cases = {
      {{1, 24, 56, 56}, {1, 24, 56, 56}, {1, 24, 56, 56}}, {{1, 3, 5, 7}, {1}, {1, 3, 5, 7}},
      {{1}, {2, 3, 5}, {2, 3, 5}},                         {{1, 8, 1, 1}, {1, 8, 6, 5}, {1, 8, 6, 5}},
      {{2, 1, 4}, {3, 1}, {2, 3, 4}},                      {{4, 1}, {1, 7}, {4, 7}},
      {{5, 1, 3, 1, 2}, {1, 4, 1, 6, 1}, {5, 4, 3, 6, 2}}, {{9}, {9}, {9}},
  };
  uint32_t seed = 900;
  for (const Case& c : cases) {
    const auto a = Random(static_cast<size_t>(DimsCount(c.a)), seed++);
    auto b = Random(static_cast<size_t>(DimsCount(c.b)), seed++);
    for (auto& v : b) v = v == 0.f ? 0.5f : v;
    for (BinaryOp op : {BinaryOp::kAdd, BinaryOp::kSub, BinaryOp::kMul, BinaryOp::kDiv, BinaryOp::kMax}) {
      std::vector<float> ref(static_cast<size_t>(DimsCount(c.out)), 7.f), fast(ref.size(), -7.f);
      BinaryFp32Ref(op, a.data(), c.a, b.data(), c.b, ref.data(), c.out);
      BinaryFp32(op, a.data(), c.a, b.data(), c.b, fast.data(), c.out);
      EXPECT_EQ(fast, ref) << "op " << static_cast<int>(op) << " out " << DimsToString(c.out);
    }
  }
}

TEST(BinaryFp32Test, MaximumBroadcasts) {
  std::vector<float> a = {1, -2, 3, -4, 5, -6}, b = {0, 2, -5}, out(6);
  BinaryFp32(BinaryOp::kMax, a.data(), {2, 3}, b.data(), {3}, out.data(), {2, 3});
  EXPECT_EQ(out, (std::vector<float>{1, 2, 3, 0, 5, -5}));
}

}  // namespace
}  // namespace qt
