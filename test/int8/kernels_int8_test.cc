#include <array>
#include <cmath>
#include <random>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include "core/base/parallel.h"
#include "core/int8/gemm_int8_isa.h"
#include "core/int8/kernels_int8.h"
#include "core/kernels/conv_plan.h"
#include "core/runtime/reformat.h"

namespace qt {
namespace {

std::vector<int8_t> RandomInt8(size_t n, uint32_t seed, int lo = -128, int hi = 127) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

std::vector<int32_t> RandomInt32(size_t n, uint32_t seed, int lo, int hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::string Describe(const Conv2dParams& p, bool asym) {
  std::ostringstream s;
  s << "N" << p.batch << " C" << p.in_c << " " << p.in_h << "x" << p.in_w << " -> OC" << p.out_c << " " << p.out_h
    << "x" << p.out_w << " k" << p.kernel_h << "x" << p.kernel_w << " s" << p.stride_h << " p" << p.pad_top << ","
    << p.pad_left << " d" << p.dilation_h << " g" << p.group << " act" << static_cast<int>(p.activation)
    << (asym ? " asymmetric" : " symmetric");
  return s.str();
}

Conv2dParams MakeConv(int n, int c, int h, int w, int oc, int k, int s, int pad, int dil, int group, Activation act,
                      int pad_extra = 0) {
  Conv2dParams p{n, c, h, w, oc, 0, 0, k, k, s, s, pad, pad, dil, dil, group, act};
  p.out_h = (h + 2 * pad + pad_extra - ((k - 1) * dil + 1)) / s + 1;
  p.out_w = (w + 2 * pad + pad_extra - ((k - 1) * dil + 1)) / s + 1;
  return p;
}

// Curated shapes: pointwise (the direct GEMM operand), 3x3 with pads, strides, groups, depthwise, dilation,
// a kernel larger than the input, SAME-style extra padding, batch 2. Then shapes aimed at the fast path's edges:
// SqueezeNet's layers at reduced size, grid widths around the 32-column tile, channel counts that are not a
// multiple of the k-group (4 or 2) or of the row tile, the 3-channel stride-2 stem (phase planes when large
// enough), a tiny output under a large kernel and a strided 1x1 (im2col), depthwise 1x1 and strided, and stride 3
// with an extra right pad (a phase plane whose only column is padding).
std::vector<Conv2dParams> ConvCases() {
  return {
      MakeConv(1, 3, 8, 8, 4, 3, 1, 1, 1, 1, Activation::kNone),
      MakeConv(1, 16, 7, 9, 32, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(2, 5, 11, 6, 7, 3, 2, 1, 1, 1, Activation::kRelu6),
      MakeConv(1, 8, 10, 10, 8, 3, 1, 1, 1, 8, Activation::kRelu),
      MakeConv(1, 8, 9, 9, 16, 3, 2, 0, 1, 4, Activation::kNone),
      MakeConv(1, 4, 12, 12, 6, 3, 1, 2, 2, 1, Activation::kNone),
      MakeConv(1, 2, 3, 3, 3, 5, 1, 2, 1, 1, Activation::kRelu6),
      MakeConv(1, 3, 13, 13, 64, 3, 2, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 6, 8, 8, 5, 3, 2, 0, 1, 1, Activation::kNone, 1),
      MakeConv(2, 32, 6, 6, 32, 3, 1, 1, 1, 32, Activation::kRelu6),
      MakeConv(1, 64, 5, 5, 48, 1, 1, 0, 1, 1, Activation::kNone),
      MakeConv(1, 64, 14, 14, 16, 1, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 16, 14, 14, 64, 3, 1, 1, 1, 1, Activation::kRelu),
      MakeConv(1, 24, 5, 31, 24, 3, 1, 1, 1, 1, Activation::kNone),
      MakeConv(1, 13, 4, 33, 13, 1, 1, 0, 1, 1, Activation::kRelu6),
      MakeConv(1, 7, 7, 7, 20, 3, 1, 1, 1, 1, Activation::kNone),
      MakeConv(1, 3, 45, 45, 16, 3, 2, 1, 1, 1, Activation::kRelu),
      MakeConv(1, 8, 7, 7, 10, 7, 1, 0, 1, 1, Activation::kRelu),
      MakeConv(1, 16, 9, 9, 24, 1, 2, 0, 1, 1, Activation::kNone),
      MakeConv(1, 6, 9, 11, 6, 1, 1, 0, 1, 6, Activation::kNone),
      MakeConv(1, 6, 9, 11, 6, 3, 2, 1, 1, 6, Activation::kRelu),
      MakeConv(1, 2, 4, 2, 3, 3, 3, 0, 1, 1, Activation::kNone, 1),
      // Depthwise on the plane kernel: 3x3 and 5x5, stride 1 and 2, odd sizes, channel counts that are not a
      // multiple of anything, grids of one to several 128-column steps, a dilated window, a 3x5 input.
      MakeConv(1, 13, 17, 23, 13, 3, 1, 1, 1, 13, Activation::kRelu6),
      MakeConv(1, 20, 18, 35, 20, 3, 2, 1, 1, 20, Activation::kRelu),
      MakeConv(2, 7, 9, 40, 7, 5, 1, 2, 1, 7, Activation::kNone),
      MakeConv(1, 24, 15, 15, 24, 5, 2, 2, 1, 24, Activation::kRelu6),
      MakeConv(1, 5, 3, 5, 5, 3, 1, 1, 1, 5, Activation::kRelu6),
      MakeConv(1, 9, 33, 70, 9, 3, 1, 1, 1, 9, Activation::kRelu),
      MakeConv(1, 6, 12, 12, 6, 3, 1, 2, 2, 6, Activation::kNone),
      MakeConv(1, 17, 7, 7, 17, 3, 1, 1, 1, 17, Activation::kRelu6, 1),
      // Depthwise planes built by the micro-kernel (VNNI): MobileNetV2's 112-wide stride-1 plane and TF's SAME
      // stride 2 (pad at the bottom and right only), 14 -> 7, rows of more than one 64-byte vector of phase
      // columns (150 wide, stride 2), an odd left pad under a 5x5 stride-2 window, a 1x1 plane under 3x3.
      MakeConv(1, 3, 112, 112, 3, 3, 1, 1, 1, 3, Activation::kRelu6),
      MakeConv(1, 4, 112, 112, 4, 3, 2, 0, 1, 4, Activation::kRelu6, 1),
      MakeConv(1, 9, 14, 14, 9, 3, 2, 0, 1, 9, Activation::kNone, 1),
      MakeConv(1, 3, 9, 150, 3, 3, 2, 1, 1, 3, Activation::kRelu),
      MakeConv(1, 5, 40, 40, 5, 5, 2, 1, 1, 5, Activation::kRelu6, 1),
      MakeConv(1, 3, 1, 1, 3, 3, 1, 1, 1, 3, Activation::kNone),
      // Depthwise on small planes, which take the shifted layout (not im2col) whatever its discarded columns:
      // BlazeFace's 8x8 blocks (96 channels) and its stride-2 windows after a bottom/right Pad (pads 0), 4x4 and
      // 2x2 planes under 3x3 and 5x5 windows.
      MakeConv(1, 96, 8, 8, 96, 3, 1, 1, 1, 96, Activation::kNone),
      MakeConv(1, 88, 18, 18, 88, 3, 2, 0, 1, 88, Activation::kNone),
      MakeConv(1, 10, 4, 4, 10, 5, 1, 2, 1, 10, Activation::kRelu),
      MakeConv(1, 6, 2, 2, 6, 3, 2, 1, 1, 6, Activation::kRelu6),
      // Grids of at most 64 columns run two channels per call (VNNI): an odd channel count over a batch of two
      // (pairs across the images, one channel left over), MobileNetV2's 14 -> 7 stride-2 and 7x7 windows.
      MakeConv(2, 7, 7, 7, 7, 3, 1, 1, 1, 7, Activation::kRelu),
      MakeConv(1, 11, 14, 14, 11, 3, 2, 1, 1, 11, Activation::kRelu6),
      MakeConv(1, 12, 7, 7, 12, 3, 1, 1, 1, 12, Activation::kRelu6),
      // 3x3 planes read straight from the input (VNNI, zero points 0): 14x14 in blocks of 7 rows with an odd
      // channel count, TF's SAME 28 -> 14 over a batch of two, the widest rows (15 outputs at stride 2, 14 at
      // stride 1 without pads), and rows of 7 in blocks of 4 with a remainder.
      MakeConv(1, 9, 14, 14, 9, 3, 1, 1, 1, 9, Activation::kRelu6),
      MakeConv(2, 5, 28, 28, 5, 3, 2, 0, 1, 5, Activation::kNone, 1),
      MakeConv(1, 4, 30, 29, 4, 3, 2, 1, 1, 4, Activation::kRelu),
      MakeConv(1, 3, 16, 16, 3, 3, 1, 0, 1, 3, Activation::kNone),
      MakeConv(1, 3, 11, 9, 3, 3, 1, 0, 1, 3, Activation::kRelu),
      // 5x5 on the same path: BlazeFace's 16x16 planes and its 32 -> 16 stride-2 window after a bottom/right Pad,
      // and a stride-2 row of 70 outputs (a strip of four vectors and one of one).
      MakeConv(1, 5, 16, 16, 5, 5, 1, 2, 1, 5, Activation::kRelu),
      MakeConv(1, 4, 35, 35, 4, 5, 2, 0, 1, 4, Activation::kNone),
      MakeConv(1, 3, 9, 140, 3, 5, 2, 2, 1, 3, Activation::kRelu6),
  };
}

// Requantization parameters spanning saturation: multipliers chosen so that |acc|·m reaches past ±127.
Int8Requant MakeRequant(int out_c, int in_c, bool asym, Activation act, uint32_t seed) {
  Int8Requant r;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> m(1e-4f, 4e-3f);
  r.multiplier.resize(out_c);
  for (auto& x : r.multiplier) x = m(rng);
  if (out_c > 1) r.multiplier[1] = 0.f;  // an output channel whose scale was 0
  r.out_zero = asym ? RandomInt8(out_c, seed + 1, -20, 20) : std::vector<int8_t>(out_c, 0);
  r.relu6_max = RandomInt8(out_c, seed + 2, 20, 127);
  r.in_zero = asym ? RandomInt8(in_c, seed + 3, -127, -100) : std::vector<int8_t>(in_c, 0);
  r.weight_zero = asym ? RandomInt8(out_c, seed + 4, -5, 5) : std::vector<int8_t>(out_c, 0);
  r.activation = act;
  return r;
}

TEST(Float2Int8Test, MatchesTnnRounding) {
  EXPECT_EQ(Float2Int8(0.f), 0);
  EXPECT_EQ(Float2Int8(0.5f), 1);
  EXPECT_EQ(Float2Int8(-0.5f), -1);
  EXPECT_EQ(Float2Int8(1.49f), 1);
  EXPECT_EQ(Float2Int8(-2.5f), -3);
  // TNN adds 0.5 in float: the largest float below 0.5 rounds up to 1 in that addition.
  EXPECT_EQ(Float2Int8(std::nextafter(0.5f, 0.f)), 1);
  EXPECT_EQ(Float2Int8(126.6f), 127);
  EXPECT_EQ(Float2Int8(1e9f), 127);
  EXPECT_EQ(Float2Int8(-127.6f), -128);
  EXPECT_EQ(Float2Int8(-1e9f), -128);
  EXPECT_EQ(Float2Int8(INFINITY), 127);
}

TEST(RequantizeInt8Test, ActivationsFollowTnn) {
  Int8Requant r;
  r.multiplier = {0.5f};
  r.out_zero = {3};
  r.relu6_max = {12};
  r.activation = Activation::kNone;
  EXPECT_EQ(RequantizeInt8(-9, 0, r), Float2Int8(-4.5f + 3));  // -4.5 + 3 = -1.5 → -2
  r.activation = Activation::kRelu;
  EXPECT_EQ(RequantizeInt8(-9, 0, r), 3);   // max(0, ·) before the zero point
  r.activation = Activation::kRelu6;
  EXPECT_EQ(RequantizeInt8(100, 0, r), 12);  // clamped to relu6_max, zero point ignored
  EXPECT_EQ(RequantizeInt8(-100, 0, r), 0);
  EXPECT_EQ(RequantizeInt8(9, 0, r), 5);     // 4.5 → 5
}

TEST(ConvInt8Test, HandComputed) {
  // 1x1x3x3 input, 2x2 kernel, stride 1, no pad: out = Σ x·w over each window, multiplier 1.
  const Conv2dParams p = MakeConv(1, 1, 3, 3, 1, 2, 1, 0, 1, 1, Activation::kNone);
  const std::vector<int8_t> in = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w = {1, 0, 0, -1};
  const std::vector<int32_t> bias = {10};
  Int8Requant r;
  r.multiplier = {1.f};
  r.out_zero = {0};
  r.relu6_max = {127};
  r.in_zero = {0};
  r.weight_zero = {0};
  std::vector<int8_t> ref(4), fast(4);
  Conv2dInt8Ref(p, in.data(), w.data(), bias.data(), r, ref.data());
  ConvInt8 conv;
  conv.Init(p, w.data(), bias.data(), r);
  conv.Run(in.data(), fast.data());
  EXPECT_EQ(ref, (std::vector<int8_t>{6, 6, 6, 6}));  // x[i] - x[i+4] = -4, + 10
  EXPECT_EQ(fast, ref);
  // With an input zero point of 1 and a pad of 1, padded taps contribute (zp − zp)·w = 0.
  const Conv2dParams padded = MakeConv(1, 1, 3, 3, 1, 2, 1, 1, 1, 1, Activation::kNone);
  r.in_zero = {1};
  std::vector<int8_t> ref2(16), fast2(16);
  Conv2dInt8Ref(padded, in.data(), w.data(), nullptr, r, ref2.data());
  conv.Init(padded, w.data(), nullptr, r);
  conv.Run(in.data(), fast2.data());
  EXPECT_EQ(ref2[0], -(1 - 1));  // only tap (1,1)·(-1) sees x = 1 → (1 − 1)·(−1) = 0
  EXPECT_EQ(ref2[15], 9 - 1);    // only tap (0,0) sees x = 9
  EXPECT_EQ(fast2, ref2);
}

TEST(ConvInt8Test, EveryIsaIsBitExactWithReference) {
  for (const Int8Isa isa : SupportedInt8Isas()) {
    uint32_t seed = 1;
    for (const bool asym : {false, true}) {
      for (const auto& p : ConvCases()) {
        const auto in = RandomInt8(size_t{1} * p.batch * p.in_c * p.in_h * p.in_w, seed++);
        const auto w =
            RandomInt8(size_t{1} * p.out_c * (p.in_c / p.group) * p.kernel_h * p.kernel_w, seed++, -127, 127);
        const auto bias = RandomInt32(p.out_c, seed++, -5000, 5000);
        const Int8Requant r = MakeRequant(p.out_c, p.in_c, asym, p.activation, seed++);
        std::vector<int8_t> ref(size_t{1} * p.batch * p.out_c * p.out_h * p.out_w, 99), fast(ref.size(), -99);
        Conv2dInt8Ref(p, in.data(), w.data(), bias.data(), r, ref.data());
        ConvInt8 conv;
        conv.Init(p, w.data(), bias.data(), r, isa);
        ASSERT_EQ(conv.isa(), isa);
        for (int threads : {1, 2}) {
          SetNumThreads(threads);
          std::fill(fast.begin(), fast.end(), -99);
          conv.Run(in.data(), fast.data());
          EXPECT_EQ(fast, ref) << Describe(p, asym) << ", " << threads << " threads, " << Int8IsaName(isa);
        }
        // The multipliers saturate some outputs and not others: the comparison covers both regimes. (A single
        // product per output cannot saturate: (128·127 + 5000)·4e-3 < 127.)
        const int k = p.in_c / p.group * p.kernel_h * p.kernel_w;
        if (!asym && p.activation == Activation::kNone && k > 1) {
          EXPECT_TRUE(std::count(ref.begin(), ref.end(), 127) + std::count(ref.begin(), ref.end(), -128) > 0 ||
                      ref.size() < 50)
              << Describe(p, asym);
        }
      }
    }
  }
}

// The micro-kernels' phase-plane builders write, byte for byte, what BuildPlanes writes for one depthwise
// channel (pads holding a non-zero input zero point), and nothing before the planes.
TEST(ConvInt8Test, PhasePlanesMatchBuildPlanes) {
#if defined(__x86_64__)
  if (BestInt8Isa() != Int8Isa::kAvx512Vnni) GTEST_SKIP() << "no AVX-512 VNNI";
  const Int8MicroKernel& mk = Int8MicroKernelAvx512Vnni();
  uint32_t seed = 700;
  for (const auto& p : {MakeConv(1, 1, 112, 112, 1, 3, 1, 1, 1, 1, Activation::kNone),
                        MakeConv(1, 1, 112, 112, 1, 3, 2, 0, 1, 1, Activation::kNone, 1),
                        MakeConv(1, 1, 9, 150, 1, 3, 2, 1, 1, 1, Activation::kNone),
                        MakeConv(1, 1, 40, 40, 1, 5, 2, 1, 1, 1, Activation::kNone, 1),
                        MakeConv(1, 1, 30, 30, 1, 5, 1, 2, 1, 1, Activation::kNone),
                        MakeConv(1, 1, 1, 1, 1, 3, 1, 1, 1, 1, Activation::kNone),
                        MakeConv(1, 1, 3, 70, 1, 3, 2, 1, 1, 1, Activation::kNone),
                        // Rows of more than 32 vectors: the masks are worked out per row there.
                        MakeConv(1, 1, 3, 2100, 1, 3, 1, 1, 1, 1, Activation::kNone),
                        MakeConv(1, 1, 3, 4200, 1, 3, 2, 1, 1, 1, Activation::kNone)}) {
    const ConvPlan plan = PlanConv(p, 16);
    ASSERT_EQ(plan.layout, ConvPlan::Layout::kShifted) << Describe(p, false);
    const auto in = RandomInt8(size_t{1} * p.in_h * p.in_w, seed++);
    const int8_t pad = -117;
    std::vector<int8_t> ref(static_cast<size_t>(plan.plane), 55);
    BuildPlanes<int8_t>(p, plan, in.data(), &pad, 0, 1, ref.data());
    constexpr int64_t kGuard = 64;
    std::vector<int8_t> fast(static_cast<size_t>(kGuard + plan.plane + kPhasePlanesOverrun), 66);
    Int8PhasePlanes pp;
    pp.in = in.data();
    pp.in_h = p.in_h;
    pp.in_w = p.in_w;
    pp.stride = p.stride_h;
    pp.pad_top = p.pad_top;
    pp.pad_left = p.pad_left;
    pp.hq = plan.hq;
    pp.wq = plan.wq;
    pp.pad = pad;
    pp.dst = fast.data() + kGuard;
    mk.phase_planes(pp);
    EXPECT_EQ(std::vector<int8_t>(fast.begin() + kGuard, fast.begin() + kGuard + plan.plane), ref)
        << Describe(p, false);
    EXPECT_EQ(std::count(fast.begin(), fast.begin() + kGuard, 66), kGuard) << Describe(p, false);
  }
#else
  GTEST_SKIP() << "x86 only";
#endif
}

// Both depthwise kernels that read the input planes directly (zero points 0) against the reference, one channel at
// a time: the float-lane kernel of the VNNI micro-kernel (3x3), which ConvInt8 keeps for small planes where the
// CPU has VBMI, and the vpdpbusd one (VBMI; 3x3 and 5x5). Rows of 8 to 112 outputs, so that strips of three, two
// and one vectors and partial vectors all occur, heights that leave a partial block of four rows, pads of 0 to 2,
// TF's SAME stride 2 (pad at the bottom and right only), inputs narrower than a vector's window, every activation,
// an output zero point, and multipliers that saturate.
TEST(ConvInt8Test, DirectDepthwiseKernelsAreBitExactWithReference) {
#if defined(__x86_64__)
  if (BestInt8Isa() != Int8Isa::kAvx512Vnni) GTEST_SKIP() << "no AVX-512 VNNI";
  struct Case {
    int h, w, stride, pad, pad_extra;
  };
  const std::vector<Case> cases = {{9, 9, 1, 1, 0},     {7, 10, 1, 0, 0},   {13, 17, 1, 1, 0}, {6, 33, 1, 1, 0},
                                   {5, 48, 1, 0, 0},    {11, 49, 1, 1, 0},  {96, 96, 1, 1, 0}, {3, 112, 1, 1, 0},
                                   {19, 19, 2, 1, 0},   {28, 28, 2, 0, 1},  {9, 66, 2, 1, 0},  {14, 97, 2, 0, 1},
                                   {112, 112, 2, 0, 1}, {10, 130, 2, 1, 0}, {2, 20, 1, 1, 0},  {1, 40, 2, 1, 0},
                                   {8, 8, 1, 2, 0},     {16, 16, 1, 2, 0},  {32, 32, 2, 0, 1}, {64, 70, 1, 2, 0},
                                   {35, 35, 2, 2, 0},   {4, 4, 1, 2, 0},    {7, 7, 1, 1, 0},   {14, 14, 2, 0, 1},
                                   {6, 5, 1, 0, 0},     {12, 9, 2, 1, 0}};
  uint32_t seed = 900;
  for (const int k : {3, 5}) {
    for (const Case& c : cases) {
      for (const Activation act : {Activation::kNone, Activation::kRelu, Activation::kRelu6}) {
        const Conv2dParams p = MakeConv(1, 1, c.h, c.w, 1, k, c.stride, c.pad, 1, 1, act, c.pad_extra);
        if (p.out_h < 1 || p.out_w < 1) continue;
        const std::string what = Describe(p, false);
        // Two channels with their own input, weights, bias and requantization: the kernels take them in pairs.
        std::vector<int8_t> in[2], w[2], ref[2];
        std::vector<int32_t> bias[2];
        Int8DepthwiseDirect d[2];
        for (int ch = 0; ch < 2; ++ch) {
          in[ch] = RandomInt8(size_t{1} * c.h * c.w, seed++);
          w[ch] = RandomInt8(size_t{1} * k * k, seed++, -127, 127);
          bias[ch] = RandomInt32(1, seed++, -5000, 5000);
          Int8Requant r = MakeRequant(1, 1, false, act, seed++);
          r.out_zero = {static_cast<int8_t>(act == Activation::kNone ? -7 + ch : 5 - ch)};
          ref[ch].resize(size_t{1} * p.out_h * p.out_w);
          Conv2dInt8Ref(p, in[ch].data(), w[ch].data(), bias[ch].data(), r, ref[ch].data());
          d[ch].in = in[ch].data();
          d[ch].w = w[ch].data();
          d[ch].row_add = bias[ch][0];
          d[ch].multiplier = r.multiplier[0];
          d[ch].out_zero = r.out_zero[0];
          d[ch].relu6_max = r.relu6_max[0];
          d[ch].activation = static_cast<int>(act);
          d[ch].stride = c.stride;
          d[ch].kernel = k;
          d[ch].in_h = p.in_h;
          d[ch].in_w = p.in_w;
          d[ch].out_h = p.out_h;
          d[ch].out_w = p.out_w;
          d[ch].pad_top = p.pad_top;
          d[ch].pad_left = p.pad_left;
        }
        using Kernel = void (*)(const Int8DepthwiseDirect&, const Int8DepthwiseDirect*);
        auto check = [&](Kernel kernel, const char* name) {
          for (const bool pair : {false, true}) {
            std::vector<int8_t> out[2];
            for (int ch = 0; ch < 2; ++ch) {
              out[ch].assign(ref[ch].size() + 64, 66);
              d[ch].out = out[ch].data();
            }
            kernel(d[0], pair ? &d[1] : nullptr);
            for (int ch = 0; ch < (pair ? 2 : 1); ++ch) {
              EXPECT_EQ(std::vector<int8_t>(out[ch].begin(), out[ch].begin() + ref[ch].size()), ref[ch])
                  << what << ", " << name << (pair ? ", pair, channel " : ", alone, channel ") << ch;
              EXPECT_EQ(std::count(out[ch].begin() + ref[ch].size(), out[ch].end(), 66), 64)
                  << what << ", " << name << ": wrote past the plane";
            }
            if (!pair) {
              EXPECT_EQ(std::count(out[1].begin(), out[1].end(), 66), out[1].size()) << what << ", " << name;
            }
          }
        };
        if (k == 3) check(Int8MicroKernelAvx512Vnni().depthwise_direct, "float lanes");
        if (CpuHasVbmi()) check(DepthwiseDirectAvx512Vbmi, "vpdpbusd");
      }
    }
  }
#else
  GTEST_SKIP() << "x86 only";
#endif
}

TEST(ConvInt8Test, ApproximatesTheFloatConvolution) {
  // Quantize a float conv's inputs and weights by hand; the int8 result dequantized must be within one output
  // step (plus the rounding carried in from inputs and weights) of the float result.
  const Conv2dParams p = MakeConv(1, 4, 6, 6, 3, 3, 1, 1, 1, 1, Activation::kNone);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> xf(4 * 36), wf(3 * 4 * 9);
  for (auto& v : xf) v = d(rng);
  for (auto& v : wf) v = d(rng) * 0.5f;
  const float sx = 1.f / 127, sw = 0.5f / 127, so = 6.f / 127;
  std::vector<int8_t> xq(xf.size()), wq(wf.size());
  for (size_t i = 0; i < xf.size(); ++i) xq[i] = Float2Int8(xf[i] / sx);
  for (size_t i = 0; i < wf.size(); ++i) wq[i] = Float2Int8(wf[i] / sw);
  std::vector<float> ref(3 * 36);
  Conv2dFp32Ref(p, xf.data(), wf.data(), nullptr, ref.data());
  Int8Requant r;
  r.multiplier.assign(3, sx * sw / so);
  r.out_zero.assign(3, 0);
  r.relu6_max.assign(3, 127);
  r.in_zero.assign(4, 0);
  r.weight_zero.assign(3, 0);
  ConvInt8 conv;
  conv.Init(p, wq.data(), nullptr, r);
  std::vector<int8_t> out(ref.size());
  conv.Run(xq.data(), out.data());
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(out[i] * so, ref[i], 1.5f * so) << i;
}

TEST(InnerProductInt8Test, EveryIsaIsBitExactWithReference) {
  for (const Int8Isa isa : SupportedInt8Isas()) {
    uint32_t seed = 500;
    for (const bool asym : {false, true}) {
      for (const auto& shape : std::vector<InnerProductParams2>{
               {1, 10, 3}, {1, 512, 1000}, {3, 37, 17}, {2, 1, 5}, {5, 130, 9}, {1, 800, 500}, {40, 6, 11},
               {1, 19200, 4}, {1, 1152, 256}, {1, 67, 9}, {1, 65, 8}, {1, 1, 1}}) {
        const auto in = RandomInt8(size_t{1} * shape.m * shape.k, seed++);
        const auto w = RandomInt8(size_t{1} * shape.n * shape.k, seed++, -127, 127);
        const auto bias = RandomInt32(shape.n, seed++, -3000, 3000);
        const Int8Requant r = MakeRequant(shape.n, shape.k, asym, Activation::kNone, seed++);
        std::vector<int8_t> ref(size_t{1} * shape.m * shape.n), fast(ref.size());
        InnerProductInt8Ref(shape, in.data(), w.data(), bias.data(), r, ref.data());
        InnerProductInt8 fc;
        fc.Init(shape, w.data(), bias.data(), r, isa);
        ASSERT_EQ(fc.isa(), isa);
        for (int threads : {1, 2}) {
          SetNumThreads(threads);
          std::fill(fast.begin(), fast.end(), -99);
          fc.Run(in.data(), fast.data());
          EXPECT_EQ(fast, ref) << shape.m << "x" << shape.k << " -> " << shape.n << (asym ? " asymmetric" : "")
                               << ", " << threads << " threads, " << Int8IsaName(isa);
        }
      }
    }
  }
}

TEST(GemmInt8Test, EveryIsaMatchesReference) {
  for (const Int8Isa isa : SupportedInt8Isas()) {
    uint32_t seed = 900;
    for (const auto& mnk : std::vector<std::array<int, 3>>{
             {1, 1, 1}, {7, 13, 5}, {32, 64, 27}, {3, 1000, 129}, {9, 33, 2}, {17, 70, 64}}) {
      const auto a = RandomInt8(size_t{1} * mnk[0] * mnk[2], seed++);
      const auto b = RandomInt8(size_t{1} * mnk[2] * mnk[1], seed++);
      std::vector<int32_t> ref(size_t{1} * mnk[0] * mnk[1], 1), fast(ref.size(), 2);
      GemmInt8Ref(mnk[0], mnk[1], mnk[2], a.data(), b.data(), ref.data(), mnk[1]);
      for (int threads : {1, 2}) {
        SetNumThreads(threads);
        std::fill(fast.begin(), fast.end(), 2);
        GemmInt8(mnk[0], mnk[1], mnk[2], a.data(), b.data(), fast.data(), mnk[1], isa);
        EXPECT_EQ(fast, ref) << mnk[0] << "x" << mnk[1] << "x" << mnk[2] << ", " << threads << " threads, "
                             << Int8IsaName(isa);
      }
    }
  }
}

TEST(GemmInt8Test, ExtremeValuesDoNotSaturate) {
  // −128·−128 summed over 64 terms: a 16-bit pairwise sum (vpmaddubsw) would saturate at 32767.
  const int m = 3, n = 20, k = 64;
  std::vector<int8_t> a(m * k, -128), b(k * n, -128);
  for (int i = 0; i < n; ++i) b[i] = 127;  // row 0 of B: 127·−128 terms in column sums
  std::vector<int32_t> ref(m * n), fast(m * n);
  GemmInt8Ref(m, n, k, a.data(), b.data(), ref.data(), n);
  EXPECT_EQ(ref[0], 63 * 16384 - 127 * 128);
  for (const Int8Isa isa : SupportedInt8Isas()) {
    GemmInt8(m, n, k, a.data(), b.data(), fast.data(), n, isa);
    EXPECT_EQ(fast, ref) << Int8IsaName(isa);
  }
}

Int8Tensor MakeInt8(Dims dims, std::vector<int8_t> data, std::vector<float> scales, std::vector<int8_t> zps = {}) {
  Int8Tensor t;
  t.dims = std::move(dims);
  t.data = std::move(data);
  t.scales = std::move(scales);
  t.zero_points = zps.empty() ? std::vector<int8_t>(t.scales.size(), 0) : std::move(zps);
  return t;
}

TEST(AddInt8Test, DequantizesAddsAndRequantizes) {
  const Int8Tensor a = MakeInt8({1, 1, 1, 3}, {10, -20, 127}, {0.5f});
  const Int8Tensor b = MakeInt8({1, 1, 1, 3}, {4, 4, 127}, {0.25f}, {2});
  Int8Tensor out = MakeInt8({1, 1, 1, 3}, {0, 0, 0}, {1.f}, {-1});
  AddInt8Ref({&a, &b}, &out);
  // 5 + 0.5 = 5.5 → +(-1) = 4.5 → 5; -10 + 0.5 - 1 = -10.5 → -11; 63.5 + 31.25 - 1 = 93.75 → 94
  EXPECT_EQ(out.data, (std::vector<int8_t>{5, -11, 94}));
}

// Curated Adds: FaceMesh's unfused Add (32x48x48, per tensor, operands of different scales), per-channel scales
// with zero points and a channel whose output scale is 0, planes that are not a multiple of 16 and a 2-D blob,
// values that saturate; three inputs take the reference.
TEST(AddInt8Test, FastIsBitExactWithReference) {
  uint32_t seed = 1000;
  struct Case {
    Dims dims;
    std::vector<float> sa, sb, so;
    std::vector<int8_t> za, zb, zo;
  };
  const std::vector<Case> cases = {
      {{1, 32, 48, 48}, {0.031f}, {0.027f}, {0.041f}, {}, {}, {}},
      {{2, 3, 5, 7}, {0.02f, 0.5f, 0.03f}, {0.05f, 0.01f, 0.07f}, {0.04f, 0.f, 0.003f}, {3, -5, 0}, {0, 7, -2},
       {1, 0, -9}},
      {{3, 37}, {0.1f}, {0.2f}, {0.05f}, {-3}, {4}, {2}},
  };
  for (const Int8Isa isa : SupportedInt8Isas()) {
    for (const Case& c : cases) {
      const size_t n = static_cast<size_t>(DimsCount(c.dims));
      const Int8Tensor a = MakeInt8(c.dims, RandomInt8(n, seed++), c.sa, c.za);
      const Int8Tensor b = MakeInt8(c.dims, RandomInt8(n, seed++), c.sb, c.zb);
      Int8Tensor ref = MakeInt8(c.dims, std::vector<int8_t>(n, 99), c.so, c.zo);
      AddInt8Ref({&a, &b}, &ref);
      EXPECT_GT(std::count(ref.data.begin(), ref.data.end(), 127), 0) << DimsToString(c.dims);
      for (int threads : {1, 2}) {
        SetNumThreads(threads);
        Int8Tensor fast = MakeInt8(c.dims, std::vector<int8_t>(n, -99), c.so, c.zo);
        AddInt8({&a, &b}, &fast, isa);
        EXPECT_EQ(fast.data, ref.data) << DimsToString(c.dims) << ", " << threads << " threads, " << Int8IsaName(isa);
        AddInt8Ref({&a, &b, &a}, &ref);
        AddInt8({&a, &b, &a}, &fast, isa);
        EXPECT_EQ(fast.data, ref.data) << DimsToString(c.dims) << ", three inputs";
        AddInt8Ref({&a, &b}, &ref);
      }
    }
  }
}

TEST(ConcatInt8Test, PerTensorRequantizesPerChannelCopies) {
  const Int8Tensor a = MakeInt8({1, 1, 1, 2}, {100, -100}, {0.1f});
  const Int8Tensor b = MakeInt8({1, 1, 1, 2}, {7, 8}, {0.2f});
  Int8Tensor out = MakeInt8({1, 2, 1, 2}, {0, 0, 0, 0}, {0.2f});
  ConcatInt8Ref({&a, &b}, 1, &out);
  EXPECT_EQ(out.data, (std::vector<int8_t>{50, -50, 7, 8}));
  // One per-channel input: TNN copies the bytes (the scales are assumed to line up channel by channel).
  const Int8Tensor c = MakeInt8({1, 1, 1, 2}, {7, 8}, {0.2f, 0.3f});
  ConcatInt8Ref({&a, &c}, 1, &out);
  EXPECT_EQ(out.data, (std::vector<int8_t>{100, -100, 7, 8}));
}

TEST(PoolInt8Test, MaxStartsAtMinus127AndAverageTruncates) {
  Pool2dParams p{1, 1, 2, 2, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0, PoolType::kMax, false};
  const std::vector<int8_t> low = {-128, -128, -128, -128};
  int8_t out = 0;
  Pool2dInt8Ref(p, low.data(), &out);
  EXPECT_EQ(out, -127);
  const std::vector<int8_t> mixed = {-5, 3, 9, -128};
  Pool2dInt8Ref(p, mixed.data(), &out);
  EXPECT_EQ(out, 9);
  p.type = PoolType::kAvg;
  Pool2dInt8Ref(p, mixed.data(), &out);
  EXPECT_EQ(out, (-5 + 3 + 9 - 128) / 4);  // -121 / 4 = -30 (C truncation)
}

// Curated pooling shapes as in the fp32 test (SqueezeNet's 3x3 stride 2 ceil mode, 2x2 stride 2, 3x3 pad 1, a
// kernel larger than the input, a global window, odd sizes), plus windows clipped away entirely: ceil mode past
// the input and a pad of 2 with a 2x2 kernel; and 3x3 stride 2 on short rows with an odd flat offset and on
// rows over 128 bytes (the fast path's whole-plane and per-row forms); 2x2 stride 2 on the row kernel: BlazeFace's
// 64x64 planes, rows of more than one 32-output step, odd sizes in ceil mode and pads (border windows clipped).
// Inputs span [−128, 127] so the −127 start matters.
TEST(PoolInt8Test, FastIsBitExactOnCuratedShapes) {
  auto make = [](int c, int h, int w, int k, int s, int pad, int extra, PoolType type) {
    Pool2dParams p{1, c, h, w, 0, 0, k, k, s, s, pad, pad, pad, pad, type, false};
    p.out_h = (h + 2 * pad + extra - k + s - 1) / s + 1;
    p.out_w = (w + 2 * pad + extra - k + s - 1) / s + 1;
    return p;
  };
  uint32_t seed = 700;
  for (const Int8Isa isa : SupportedInt8Isas()) {
    for (const PoolType type : {PoolType::kMax, PoolType::kAvg}) {
      for (const auto& p : {make(3, 113, 113, 3, 2, 0, 0, type), make(2, 8, 8, 2, 2, 0, 0, type),
                            make(4, 7, 9, 3, 1, 1, 0, type), make(2, 3, 3, 5, 1, 2, 0, type),
                            make(3, 6, 5, 6, 1, 0, 0, type), make(2, 11, 13, 3, 2, 1, 0, type),
                            make(2, 5, 4, 2, 1, 2, 0, type), make(2, 6, 6, 2, 2, 0, 3, type),
                            make(2, 12, 10, 3, 2, 1, 0, type), make(2, 9, 150, 3, 2, 0, 0, type),
                            make(28, 64, 64, 2, 2, 0, 0, type), make(3, 7, 150, 2, 2, 0, 0, type),
                            make(2, 9, 67, 2, 2, 0, 1, type), make(2, 10, 66, 2, 2, 1, 0, type),
                            make(2, 2, 2, 2, 2, 0, 0, type)}) {
        const auto in = RandomInt8(size_t{1} * p.channels * p.in_h * p.in_w, seed++);
        std::vector<int8_t> ref(size_t{1} * p.channels * p.out_h * p.out_w, 99), fast(ref.size(), -99);
        Pool2dInt8Ref(p, in.data(), ref.data());
        for (int threads : {1, 2}) {
          SetNumThreads(threads);
          Pool2dInt8(p, in.data(), fast.data(), isa);
          EXPECT_EQ(fast, ref) << p.in_h << "x" << p.in_w << " k" << p.kernel_h << " s" << p.stride_h << " pad "
                               << p.pad_top << (type == PoolType::kMax ? " max" : " avg") << ", " << threads
                               << " threads, " << Int8IsaName(isa);
        }
      }
    }
  }
}

// MaxPool2dInt8 is the float max pooling of the bytes' values, quantized: on the curated max shapes above (clipped
// and empty windows included), bytes spanning [−128, 127] dequantized with a positive scale and zero point, pooled
// by Pool2dFp32 and quantized again, give its bytes on every ISA at 1 and 2 threads.
TEST(PoolInt8Test, MaxPool2dInt8IsTheQuantizedFloatPooling) {
  auto make = [](int c, int h, int w, int k, int s, int pad, int extra) {
    Pool2dParams p{1, c, h, w, 0, 0, k, k, s, s, pad, pad, pad, pad, PoolType::kMax, false};
    p.out_h = (h + 2 * pad + extra - k + s - 1) / s + 1;
    p.out_w = (w + 2 * pad + extra - k + s - 1) / s + 1;
    return p;
  };
  uint32_t seed = 750;
  for (const Int8Isa isa : SupportedInt8Isas()) {
    for (const auto& p : {make(3, 113, 113, 3, 2, 0, 0), make(2, 8, 8, 2, 2, 0, 0), make(4, 7, 9, 3, 1, 1, 0),
                          make(2, 3, 3, 5, 1, 2, 0), make(2, 5, 4, 2, 1, 2, 0), make(2, 6, 6, 2, 2, 0, 3),
                          make(2, 9, 67, 2, 2, 0, 1), make(2, 10, 66, 2, 2, 1, 0), make(28, 64, 64, 2, 2, 0, 0),
                          make(10, 5, 5, 2, 2, 0, 1)}) {
      const Dims in_dims{1, p.channels, p.in_h, p.in_w}, out_dims{1, p.channels, p.out_h, p.out_w};
      const Int8Tensor q = MakeInt8(in_dims, RandomInt8(static_cast<size_t>(DimsCount(in_dims)), seed++), {0.037f},
                                    {5});
      Tensor f, pooled(out_dims);
      DequantizeTensor(q, &f);
      Pool2dFp32(p, f.data.data(), pooled.data.data());
      Int8Tensor want;
      QuantizeTensor(pooled, BlobScale{{0.037f}, {5}}, &want);
      std::vector<int8_t> got(want.data.size(), 99);
      for (int threads : {1, 2}) {
        SetNumThreads(threads);
        MaxPool2dInt8(p, q.data.data(), got.data(), isa);
        EXPECT_EQ(got, want.data) << p.in_h << "x" << p.in_w << " k" << p.kernel_h << " s" << p.stride_h << " pad "
                                  << p.pad_top << ", " << threads << " threads, " << Int8IsaName(isa);
      }
    }
  }
}

TEST(ConcatInt8Test, FastIsBitExactWithReference) {
  // Per-tensor inputs with the output's scale (an identity map), another scale with zero points (requantized),
  // batch 2 (several outer blocks) and a long axis (several parallel blocks); then a per-channel input (copies).
  uint32_t seed = 800;
  auto tensor = [&](Dims dims, std::vector<float> scales, std::vector<int8_t> zps) {
    return MakeInt8(dims, RandomInt8(static_cast<size_t>(DimsCount(dims)), seed++), std::move(scales), std::move(zps));
  };
  for (int threads : {1, 2}) {
    for (Int8Isa isa : SupportedInt8Isas()) {
      SetNumThreads(threads);
      const Int8Tensor a = tensor({2, 3, 70, 90}, {0.05f}, {0});
      const Int8Tensor b = tensor({2, 2, 70, 90}, {0.031f}, {-7});
      const Int8Tensor c = tensor({2, 1, 70, 90}, {0.013f}, {4});
      Int8Tensor ref = MakeInt8({2, 6, 70, 90}, std::vector<int8_t>(2 * 6 * 70 * 90, 0), {0.05f}, {0});
      Int8Tensor fast = ref;
      ConcatInt8Ref({&a, &b, &c}, 1, &ref);
      ConcatInt8({&a, &b, &c}, 1, &fast, isa);
      EXPECT_EQ(fast.data, ref.data) << threads << " threads, " << Int8IsaName(isa);
      EXPECT_TRUE(std::equal(a.data.begin(), a.data.begin() + 3 * 70 * 90, ref.data.begin()));  // identity map
      const Int8Tensor d = tensor({2, 2, 70, 90}, {0.1f, 0.2f}, {0, 0});
      Int8Tensor ref2 = MakeInt8({2, 5, 70, 90}, std::vector<int8_t>(2 * 5 * 70 * 90, 0), {0.05f}, {0});
      Int8Tensor fast2 = ref2;
      ConcatInt8Ref({&a, &d}, 1, &ref2);
      ConcatInt8({&a, &d}, 1, &fast2, isa);
      EXPECT_EQ(fast2.data, ref2.data) << threads << " threads, " << Int8IsaName(isa);
    }
  }
}

// Curated pads: BlazeFace's channel pad (24 -> 28, new channels at the end) and its bottom/right pad of 2 before a
// stride-2 window, both between per-tensor scales that differ; the same scales (a copy) with pads on every side;
// per-channel scales and zero points with a zero output scale, channel pads on both ends and a non-zero
// constant; reflect and edge on rows wider than one 64-byte step; batch 2. With PReLU slopes: FaceMesh's PReLU
// (one shared slope, no pads), per-channel slopes with per-channel scales, a PReLU before a Pad.
TEST(PadInt8Test, FastIsBitExactWithReference) {
  struct Case {
    Dims dims;
    PadParams4d p;
    std::vector<float> in_scale, out_scale;
    std::vector<int8_t> in_zero, out_zero;
    std::vector<float> slopes;
  };
  const std::vector<Case> cases = {
      {{1, 24, 16, 16}, {0, 0, 0, 0, 0, 4, PadMode::kConstant, 0.f}, {0.043f}, {0.051f}, {}, {}, {}},
      {{1, 16, 48, 48}, {}, {0.043f}, {0.029f}, {}, {}, {0.25f}},
      {{2, 3, 5, 6}, {}, {0.01f, 0.03f, 0.2f}, {0.02f, 0.f, 0.011f}, {3, -2, 0}, {1, 0, -5}, {0.1f, -0.7f, 1.5f}},
      {{1, 3, 5, 66}, {1, 0, 2, 1, 1, 1, PadMode::kConstant, 0.f}, {0.05f}, {0.02f}, {}, {}, {0.3f, 0.f, 2.f}},
      {{1, 28, 64, 64}, {0, 2, 0, 2, 0, 0, PadMode::kConstant, 0.f}, {0.0371f}, {0.0293f}, {}, {}, {}},
      {{1, 5, 7, 9}, {1, 2, 3, 1, 0, 0, PadMode::kConstant, 0.f}, {0.02f}, {0.02f}, {}, {}, {}},
      {{2, 3, 5, 6}, {1, 1, 2, 0, 1, 2, PadMode::kConstant, 0.75f}, {0.01f, 0.03f, 0.2f},
       {0.02f, 0.f, 0.011f, 0.05f, 0.01f, 0.3f}, {3, -2, 0}, {1, 0, -5, 7, 0, 2}, {}},
      {{1, 4, 6, 150}, {2, 3, 4, 5, 2, 1, PadMode::kReflect, 0.f}, {0.1f}, {0.07f}, {-3}, {4}, {}},
      {{1, 3, 4, 70}, {1, 0, 3, 2, 1, 1, PadMode::kEdge, 0.f}, {0.05f, 0.04f, 0.03f},
       {0.05f, 0.06f, 0.04f, 0.03f, 0.09f}, {}, {}, {}},
  };
  uint32_t seed = 900;
  for (const Int8Isa isa : SupportedInt8Isas()) {
    for (const Case& c : cases) {
      const PadParams4d& p = c.p;
      const Dims out_dims{c.dims[0], c.dims[1] + p.pad_c_begin + p.pad_c_end, c.dims[2] + p.pad_top + p.pad_bottom,
                          c.dims[3] + p.pad_left + p.pad_right};
      const Int8Tensor in = MakeInt8(c.dims, RandomInt8(static_cast<size_t>(DimsCount(c.dims)), seed++), c.in_scale,
                                     c.in_zero);
      Int8Tensor ref = MakeInt8(out_dims, std::vector<int8_t>(static_cast<size_t>(DimsCount(out_dims)), 99),
                                c.out_scale, c.out_zero);
      PadInt8Ref(in, p, &ref, c.slopes);
      PadInt8 pad;
      pad.Init(c.dims, p, c.in_scale, c.in_zero, c.out_scale, c.out_zero, c.slopes, isa);
      for (int threads : {1, 2}) {
        SetNumThreads(threads);
        std::vector<int8_t> fast(ref.data.size(), -99);
        pad.Run(in.data.data(), fast.data());
        EXPECT_EQ(fast, ref.data) << DimsToString(c.dims) << " -> " << DimsToString(out_dims) << ", " << threads
                                  << " threads, " << Int8IsaName(isa);
      }
    }
  }
}

TEST(ReluInt8Test, ClampsNegativesToZero) {
  const std::vector<int8_t> in = {-128, -1, 0, 1, 127};
  std::vector<int8_t> out(5);
  ReluInt8Ref(in.data(), out.data(), 5);
  EXPECT_EQ(out, (std::vector<int8_t>{0, 0, 0, 1, 127}));
}

}  // namespace
}  // namespace qt

namespace qt {
namespace {

// TNN's fused 1x1 convolution + Add, worked out from NaiveConvBias: one output channel, two input channels,
// weights {2, -1}, bias 3, multiplier 0.1, add_scale 0.5.
TEST(ConvAddInt8Test, HandComputedFusionOrders) {
  const Conv2dParams p{1, 2, 1, 3, 1, 1, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, Activation::kNone};
  const std::vector<int8_t> in = {10, -20, 7, /* channel 1 */ 4, 5, -3};
  const std::vector<int8_t> w = {2, -1};
  const std::vector<int32_t> bias = {3};
  const std::vector<int8_t> add = {-30, 11, 100};
  Int8Requant r;
  r.multiplier = {0.1f};
  r.out_zero = {0};
  r.relu6_max = {60};
  r.in_zero = {0, 0};
  r.weight_zero = {0};
  r.add_scale = {0.5f};
  r.add_zero = {0};
  r.fusion = ConvAddFusion::kAddThenActivation;
  std::vector<int8_t> out(3);
  // acc = {2·10 − 4 + 3, 2·(−20) − 5 + 3, 2·7 + 3 + 3} = {19, −42, 20}; ·0.1 = {1.9, −4.2, 2.0}
  // + add·0.5 = {−15, 5.5, 50} → {−13.1, 1.3, 52} → {−13, 1, 52}
  ConvAddInt8Ref(p, in.data(), w.data(), bias.data(), r, add.data(), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{-13, 1, 52}));
  r.activation = Activation::kRelu;  // the ReLU after the Add: max(0, ·) before rounding
  ConvAddInt8Ref(p, in.data(), w.data(), bias.data(), r, add.data(), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{0, 1, 52}));
  r.fusion = ConvAddFusion::kActivationThenAdd;  // the convolution's ReLU first: {1.9, 0, 2.0} + add
  ConvAddInt8Ref(p, in.data(), w.data(), bias.data(), r, add.data(), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{-13, 6, 52}));
  r.activation = Activation::kRelu6;  // TNN returns before adding the operand: clamp(round(acc·m), 0, 60)
  ConvAddInt8Ref(p, in.data(), w.data(), bias.data(), r, add.data(), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{2, 0, 2}));
}

TEST(ConvAddInt8Test, EveryIsaIsBitExactWithReference) {
  uint32_t seed = 900;
  for (const auto& shape : std::vector<std::array<int, 5>>{{1, 16, 7, 9, 32}, {2, 5, 3, 4, 7}, {1, 64, 14, 14, 24},
                                                           {1, 3, 1, 1, 5}, {1, 33, 5, 13, 17}}) {
    Conv2dParams p{shape[0], shape[1], shape[2], shape[3], shape[4], shape[2], shape[3], 1, 1, 1, 1, 0, 0, 1, 1, 1,
                   Activation::kNone};
    for (bool asym : {false, true}) {
      for (ConvAddFusion f : {ConvAddFusion::kAddThenActivation, ConvAddFusion::kActivationThenAdd}) {
        for (Activation act : {Activation::kNone, Activation::kRelu, Activation::kRelu6}) {
          const int64_t out_n = int64_t{p.batch} * p.out_c * p.out_h * p.out_w;
          const auto in = RandomInt8(size_t{1} * p.batch * p.in_c * p.in_h * p.in_w, seed++);
          const auto w = RandomInt8(size_t{1} * p.out_c * p.in_c, seed++, -127, 127);
          const auto bias = RandomInt32(p.out_c, seed++, -5000, 5000);
          const auto add = RandomInt8(out_n, seed++);
          Int8Requant r = MakeRequant(p.out_c, p.in_c, asym, act, seed++);
          r.fusion = f;
          std::mt19937 rng(seed++);
          std::uniform_real_distribution<float> a(0.05f, 2.f);
          r.add_scale.resize(p.out_c);
          for (auto& x : r.add_scale) x = a(rng);
          r.add_zero = asym ? RandomInt8(p.out_c, seed++, -10, 10) : std::vector<int8_t>(p.out_c, 0);
          std::vector<int8_t> ref(out_n), fast(out_n, 99);
          ConvAddInt8Ref(p, in.data(), w.data(), bias.data(), r, add.data(), ref.data());
          for (Int8Isa isa : SupportedInt8Isas()) {
            std::fill(fast.begin(), fast.end(), 99);
            ConvAddInt8(p, in.data(), w.data(), bias.data(), r, add.data(), fast.data(), isa);
            ASSERT_EQ(fast, ref) << Describe(p, asym) << " fusion " << static_cast<int>(f) << " " << Int8IsaName(isa);
          }
        }
      }
    }
  }
}

// The fused Add on windows whose grid has discarded columns (the epilogue gathers the operand run by run) and on
// grouped layers.
TEST(ConvAddInt8Test, WindowsAndGroupsAreBitExactWithReference) {
  uint32_t seed = 1900;
  for (const auto& p : {MakeConv(1, 8, 9, 11, 12, 3, 1, 1, 1, 1, Activation::kNone),
                        MakeConv(2, 6, 13, 7, 10, 3, 2, 1, 1, 2, Activation::kRelu),
                        MakeConv(1, 16, 20, 37, 16, 3, 1, 1, 1, 4, Activation::kRelu6)}) {
    for (bool asym : {false, true}) {
      for (ConvAddFusion f : {ConvAddFusion::kAddThenActivation, ConvAddFusion::kActivationThenAdd}) {
        const int64_t out_n = int64_t{p.batch} * p.out_c * p.out_h * p.out_w;
        const auto in = RandomInt8(size_t{1} * p.batch * p.in_c * p.in_h * p.in_w, seed++);
        const auto w = RandomInt8(size_t{1} * p.out_c * (p.in_c / p.group) * 9, seed++, -127, 127);
        const auto bias = RandomInt32(p.out_c, seed++, -5000, 5000);
        const auto add = RandomInt8(out_n, seed++);
        Int8Requant r = MakeRequant(p.out_c, p.in_c, asym, p.activation, seed++);
        r.fusion = f;
        r.add_scale.assign(p.out_c, 0.7f);
        r.add_zero = asym ? RandomInt8(p.out_c, seed++, -10, 10) : std::vector<int8_t>(p.out_c, 0);
        std::vector<int8_t> ref(out_n), fast(out_n, 99);
        ConvAddInt8Ref(p, in.data(), w.data(), bias.data(), r, add.data(), ref.data());
        for (Int8Isa isa : SupportedInt8Isas()) {
          std::fill(fast.begin(), fast.end(), 99);
          ConvAddInt8(p, in.data(), w.data(), bias.data(), r, add.data(), fast.data(), isa);
          ASSERT_EQ(fast, ref) << Describe(p, asym) << " fusion " << static_cast<int>(f) << " " << Int8IsaName(isa);
        }
      }
    }
  }
}

}  // namespace
}  // namespace qt

namespace qt {
namespace {

// TNN's NaiveFC (cpu_inner_product_layer_acc): acc = Σ (q − zp_in)(w − zp_w) + bias, then float(acc)·(ws/s_out),
// + zp_out, float2int8. Two outputs of three inputs, worked out by hand.
TEST(InnerProductInt8Test, HandComputed) {
  const InnerProductParams2 p{1, 3, 2};
  const std::vector<int8_t> in = {10, -4, 7};
  const std::vector<int8_t> w = {2, 1, -3, /* output 1 */ -1, 5, 0};
  const std::vector<int32_t> bias = {11, -7};
  Int8Requant r;
  r.multiplier = {0.25f, 0.1f};
  r.out_zero = {0, 3};
  r.relu6_max = {127, 127};
  r.in_zero = {0, 0, 0};
  r.weight_zero = {0, 0};
  std::vector<int8_t> out(2);
  // acc0 = 20 - 4 - 21 + 11 = 6 → 1.5 → 2; acc1 = -10 - 20 + 0 - 7 = -37 → -3.7 + 3 = -0.7 → -1
  InnerProductInt8Ref(p, in.data(), w.data(), bias.data(), r, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{2, -1}));
  r.in_zero = {2, 2, 2};  // (q - 2): {8, -6, 5}: acc0 = 16 - 6 - 15 + 11 = 6, acc1 = -8 - 30 - 7 = -45 → -4.5 + 3 = -1.5 → -2
  InnerProductInt8Ref(p, in.data(), w.data(), bias.data(), r, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{2, -2}));
}

}  // namespace
}  // namespace qt
