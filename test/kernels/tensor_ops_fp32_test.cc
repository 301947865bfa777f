#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/kernels/tensor_ops_fp32.h"

namespace qt {
namespace {

constexpr float kSentinel = -12345.f;
constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> Iota(int64_t n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 0.f);
  return v;
}

// |a − b| <= tol·max(1, |b|); equal infinities and two NaNs match.
bool Close(float a, float b, float tol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= tol * std::max(1.f, std::fabs(b));
}

void ExpectClose(const std::vector<float>& got, const std::vector<float>& want, float tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) EXPECT_PRED3(Close, got[i], want[i], tol) << what << " element " << i;
}

// ---- Strided slice --------------------------------------------------------------------------------------------

TEST(SliceCount, ForwardBackwardAndEmpty) {
  EXPECT_EQ(SliceCount(0, 10, 1), 10);
  EXPECT_EQ(SliceCount(0, 10, 3), 4);  // 0 3 6 9
  EXPECT_EQ(SliceCount(1, 10, 3), 3);  // 1 4 7
  EXPECT_EQ(SliceCount(9, -1, -1), 10);
  EXPECT_EQ(SliceCount(9, -1, -4), 3);  // 9 5 1
  EXPECT_EQ(SliceCount(3, 3, 1), 0);
  EXPECT_EQ(SliceCount(5, 2, 1), 0);
  EXPECT_EQ(SliceCount(2, 5, -1), 0);
}

TEST(NormalizeOnnxSlice, ClampsAsTheSpecSays) {
  const Dims in{20, 10, 5};
  StridedSliceSpec s;
  // Defaults: axes 0.., steps 1; axes not listed are whole.
  ASSERT_TRUE(NormalizeOnnxSlice(in, {0, 0}, {3, 10}, {}, {}, &s).ok());
  EXPECT_EQ(s.begins, (std::vector<int>{0, 0, 0}));
  EXPECT_EQ(s.ends, (std::vector<int>{3, 10, 5}));
  EXPECT_EQ(s.steps, (std::vector<int>{1, 1, 1}));
  EXPECT_EQ(s.out_dims, (Dims{3, 10, 5}));
  // Negative start and end count from the back; negative axes too.
  ASSERT_TRUE(NormalizeOnnxSlice(in, {-3}, {-1}, {-2}, {}, &s).ok());
  EXPECT_EQ(s.begins[1], 7);
  EXPECT_EQ(s.ends[1], 9);
  EXPECT_EQ(s.out_dims, (Dims{20, 2, 5}));
  // INT_MAX / INT64_MAX ends run to the end; a start past the end gives an empty axis.
  ASSERT_TRUE(NormalizeOnnxSlice(in, {1, 1000}, {INT64_MAX, INT_MAX}, {1, 2}, {}, &s).ok());
  EXPECT_EQ(s.out_dims, (Dims{20, 9, 0}));
  // Negative steps: start clamped to dim−1, INT_MIN / INT64_MIN end to −1 (through element 0).
  ASSERT_TRUE(NormalizeOnnxSlice(in, {INT64_MAX, 100}, {INT64_MIN, INT_MIN}, {0, 1}, {-1, -3}, &s).ok());
  EXPECT_EQ(s.begins, (std::vector<int>{19, 9, 0}));
  EXPECT_EQ(s.ends, (std::vector<int>{-1, -1, 5}));
  EXPECT_EQ(s.out_dims, (Dims{20, 4, 5}));  // axis 1: 9 6 3 0
  // Backward with an end below −dim: −dim−5 + dim = −5, clamped to −1.
  ASSERT_TRUE(NormalizeOnnxSlice(in, {-1}, {-15}, {2}, {-2}, &s).ok());
  EXPECT_EQ(s.begins[2], 4);
  EXPECT_EQ(s.ends[2], -1);
  EXPECT_EQ(s.out_dims[2], 3);  // 4 2 0
  // Backward with start below the end: empty.
  ASSERT_TRUE(NormalizeOnnxSlice(in, {1}, {3}, {2}, {-1}, &s).ok());
  EXPECT_EQ(s.out_dims[2], 0);
  // A step longer than the axis takes one element.
  ASSERT_TRUE(NormalizeOnnxSlice(in, {2, -1}, {5, INT64_MIN}, {2, 1}, {INT64_MAX, INT64_MIN}, &s).ok());
  EXPECT_EQ(s.out_dims, (Dims{20, 1, 1}));
  EXPECT_EQ(s.begins[1], 9);
  // A zero-length axis stays empty either way.
  ASSERT_TRUE(NormalizeOnnxSlice({4, 0}, {0, 0}, {4, 10}, {}, {1, -1}, &s).ok());
  EXPECT_EQ(s.out_dims, (Dims{4, 0}));
  ASSERT_TRUE(NormalizeOnnxSlice({4, 0}, {-1, -1}, {INT64_MIN, 10}, {}, {-1, 1}, &s).ok());
  EXPECT_EQ(s.out_dims, (Dims{4, 0}));
}

TEST(NormalizeOnnxSlice, Errors) {
  const Dims in{2, 3};
  StridedSliceSpec s;
  EXPECT_EQ(NormalizeOnnxSlice(in, {0}, {1, 2}, {}, {}, &s).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeOnnxSlice(in, {0}, {1}, {0, 1}, {}, &s).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeOnnxSlice(in, {0}, {1}, {}, {1, 1}, &s).code(), StatusCode::kInvalidArgument);
  const Status bad_axis = NormalizeOnnxSlice(in, {0}, {1}, {2}, {}, &s);
  EXPECT_EQ(bad_axis.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_axis.message().find("axis 2"), std::string::npos) << bad_axis.message();
  EXPECT_EQ(NormalizeOnnxSlice(in, {0}, {1}, {-3}, {}, &s).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeOnnxSlice(in, {0, 0}, {1, 1}, {1, -1}, {}, &s).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeOnnxSlice(in, {0}, {1}, {}, {0}, &s).code(), StatusCode::kInvalidArgument);
}

TEST(StridedSliceFp32, ForwardBackwardAndEmpty) {
  const Dims in_dims{2, 3, 4};
  const std::vector<float> in = Iota(24);
  // [1:2, ::2, 3:0:-2] → element (1, {0, 2}, {3, 1}).
  std::vector<float> out(4, kSentinel);
  StridedSliceFp32(in.data(), in_dims, {1, 0, 3}, {2, 3, 0}, {1, 2, -2}, out.data(), {1, 2, 2});
  EXPECT_EQ(out, (std::vector<float>{15, 13, 23, 21}));
  // Everything reversed.
  out.assign(24, kSentinel);
  StridedSliceFp32(in.data(), in_dims, {1, 2, 3}, {-1, -1, -1}, {-1, -1, -1}, out.data(), in_dims);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(out[i], 23 - i);
  // Identity.
  out.assign(24, kSentinel);
  StridedSliceFp32(in.data(), in_dims, {0, 0, 0}, {2, 3, 4}, {1, 1, 1}, out.data(), in_dims);
  EXPECT_EQ(out, in);
  // An empty axis writes nothing, even with a begin past the end.
  out.assign(1, kSentinel);
  StridedSliceFp32(in.data(), in_dims, {0, 3, 0}, {2, 3, 4}, {1, 1, 1}, out.data(), {2, 0, 4});
  EXPECT_EQ(out[0], kSentinel);
  // Rank 1 and the normalised ONNX spec end to end: x[-1:-5:-2] of 0..9 → 9 7.
  StridedSliceSpec s;
  ASSERT_TRUE(NormalizeOnnxSlice({10}, {-1}, {-5}, {}, {-2}, &s).ok());
  const std::vector<float> v = Iota(10);
  out.assign(2, kSentinel);
  StridedSliceFp32(v.data(), {10}, s.begins, s.ends, s.steps, out.data(), s.out_dims);
  EXPECT_EQ(out, (std::vector<float>{9, 7}));
}

// ---- Gather -----------------------------------------------------------------------------------------------------

TEST(GatherFp32, AxesNegativeIndicesAndShapes) {
  const Dims in_dims{2, 3, 2};
  const std::vector<float> in = Iota(12);
  // Axis 1, indices [[2, 0]] (rank 2; 0 given as −3).
  const std::vector<int64_t> idx{2, -3};
  Dims od = GatherOutputDims(in_dims, 1, {1, 2});
  EXPECT_EQ(od, (Dims{2, 1, 2, 2}));
  std::vector<float> out(8, kSentinel);
  ASSERT_TRUE(GatherFp32(in.data(), in_dims, 1, idx.data(), {1, 2}, out.data(), od).ok());
  EXPECT_EQ(out, (std::vector<float>{4, 5, 0, 1, 10, 11, 6, 7}));
  // Axis 0, given as −3, with index 1 twice (once as −1).
  const std::vector<int64_t> idx0{1, -1, 0};
  od = GatherOutputDims(in_dims, 0, {3});
  out.assign(18, kSentinel);
  ASSERT_TRUE(GatherFp32(in.data(), in_dims, -3, idx0.data(), {3}, out.data(), od).ok());
  EXPECT_EQ(out, (std::vector<float>{6, 7, 8, 9, 10, 11, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5}));
  // Scalar index on the last axis drops it.
  const int64_t last = -1;
  od = GatherOutputDims(in_dims, 2, {});
  EXPECT_EQ(od, (Dims{2, 3}));
  out.assign(6, kSentinel);
  ASSERT_TRUE(GatherFp32(in.data(), in_dims, 2, &last, {}, out.data(), od).ok());
  EXPECT_EQ(out, (std::vector<float>{1, 3, 5, 7, 9, 11}));
  // No indices: an empty output.
  od = GatherOutputDims(in_dims, 1, {0});
  EXPECT_EQ(od, (Dims{2, 0, 2}));
  ASSERT_TRUE(GatherFp32(in.data(), in_dims, 1, nullptr, {0}, out.data(), od).ok());
}

TEST(GatherFp32, Errors) {
  const Dims in_dims{2, 3};
  const std::vector<float> in = Iota(6);
  std::vector<float> out(4, kSentinel);
  // An index past either end is reported before anything is written.
  for (int64_t bad : {int64_t{3}, int64_t{-4}}) {
    const std::vector<int64_t> idx{0, bad};
    const Status s = GatherFp32(in.data(), in_dims, 1, idx.data(), {2}, out.data(), {2, 2});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("index " + std::to_string(bad)), std::string::npos) << s.message();
    EXPECT_EQ(out, std::vector<float>(4, kSentinel));
  }
  const std::vector<int64_t> idx{0, 1};
  EXPECT_EQ(GatherFp32(in.data(), in_dims, 2, idx.data(), {2}, out.data(), {2, 2}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(GatherFp32(in.data(), in_dims, 1, idx.data(), {2}, out.data(), {2, 3}).code(),
            StatusCode::kInvalidArgument);
}

// ---- Reductions -------------------------------------------------------------------------------------------------

std::vector<float> Reduce(ReduceOp op, const std::vector<float>& in, const Dims& dims, const std::vector<int>& axes) {
  std::vector<float> out(DimsCount(ReduceOutputDims(dims, axes, false)), kSentinel);
  ReduceFp32(op, in.data(), dims, axes, out.data());
  return out;
}

TEST(ReduceFp32, EveryOpOnAHandComputedCase) {
  // [[1, -2, 3], [-4, 5, -6]]
  const Dims d{2, 3};
  const std::vector<float> x{1, -2, 3, -4, 5, -6};
  struct Case {
    ReduceOp op;
    std::vector<float> rows, cols, all;  // axes {1}, {0}, {0, 1}
  };
  const float l2r0 = std::sqrt(14.f), l2r1 = std::sqrt(77.f);
  const std::vector<Case> cases = {
      {ReduceOp::kMean, {2.f / 3, -5.f / 3}, {-1.5f, 1.5f, -1.5f}, {-0.5f}},
      {ReduceOp::kMax, {3, 5}, {1, 5, 3}, {5}},
      {ReduceOp::kMin, {-2, -6}, {-4, -2, -6}, {-6}},
      {ReduceOp::kSum, {2, -5}, {-3, 3, -3}, {-3}},
      {ReduceOp::kSumSquare, {14, 77}, {17, 29, 45}, {91}},
      {ReduceOp::kL1, {6, 15}, {5, 7, 9}, {21}},
      {ReduceOp::kL2, {l2r0, l2r1}, {std::sqrt(17.f), std::sqrt(29.f), std::sqrt(45.f)}, {std::sqrt(91.f)}},
      {ReduceOp::kLogSumExp,
       {std::log(std::exp(1.f) + std::exp(-2.f) + std::exp(3.f)), std::log(std::exp(-4.f) + std::exp(5.f) + std::exp(-6.f))},
       {std::log(std::exp(1.f) + std::exp(-4.f)), std::log(std::exp(-2.f) + std::exp(5.f)),
        std::log(std::exp(3.f) + std::exp(-6.f))},
       {std::log(std::exp(1.f) + std::exp(-2.f) + std::exp(3.f) + std::exp(-4.f) + std::exp(5.f) + std::exp(-6.f))}},
      {ReduceOp::kProd, {-6, 120}, {-4, -10, -18}, {-720}},
      {ReduceOp::kLogSum, {std::log(2.f), std::log(-5.f)}, {std::log(-3.f), std::log(3.f), std::log(-3.f)},
       {std::log(-3.f)}},
  };
  for (const Case& c : cases) {
    const std::string name = ReduceOpName(c.op);
    ExpectClose(Reduce(c.op, x, d, {1}), c.rows, 1e-6f, name + " axis 1");
    ExpectClose(Reduce(c.op, x, d, {0}), c.cols, 1e-6f, name + " axis 0");
    ExpectClose(Reduce(c.op, x, d, {0, 1}), c.all, 1e-6f, name + " all");
  }
}

TEST(ReduceFp32, MiddleAndOuterAxesOfA4dTensor) {
  const Dims d{2, 3, 2, 2};
  const std::vector<float> x = Iota(24);
  // Sum over C and W: out[n][h] = Σ_c Σ_w x[n][c][h][w].
  std::vector<float> want;
  for (int n = 0; n < 2; ++n) {
    for (int h = 0; h < 2; ++h) {
      float s = 0.f;
      for (int c = 0; c < 3; ++c) {
        for (int w = 0; w < 2; ++w) s += x[((n * 3 + c) * 2 + h) * 2 + w];
      }
      want.push_back(s);
    }
  }
  EXPECT_EQ(Reduce(ReduceOp::kSum, x, d, {1, 3}), want);
  EXPECT_EQ(ReduceOutputDims(d, {1, 3}, true), (Dims{2, 1, 2, 1}));
  EXPECT_EQ(ReduceOutputDims(d, {1, 3}, false), (Dims{2, 2}));
  EXPECT_EQ(ReduceOutputDims(d, {0, 1, 2, 3}, false), Dims{});
  // Max over N: the second batch.
  EXPECT_EQ(Reduce(ReduceOp::kMax, x, d, {0}), std::vector<float>(x.begin() + 12, x.end()));
}

TEST(ReduceFp32, EdgeCases) {
  // No axes: each output is the op over one element (ONNX noop_with_empty_axes).
  const std::vector<float> x{-1, 2, -3};
  EXPECT_EQ(Reduce(ReduceOp::kSum, x, {3}, {}), x);
  EXPECT_EQ(Reduce(ReduceOp::kSumSquare, x, {3}, {}), (std::vector<float>{1, 4, 9}));
  // Over no elements: identities.
  const std::vector<float> none;
  EXPECT_EQ(Reduce(ReduceOp::kSum, none, {2, 0}, {1}), (std::vector<float>{0, 0}));
  EXPECT_EQ(Reduce(ReduceOp::kProd, none, {2, 0}, {1}), (std::vector<float>{1, 1}));
  EXPECT_EQ(Reduce(ReduceOp::kMax, none, {2, 0}, {1}), (std::vector<float>{-kInf, -kInf}));
  EXPECT_EQ(Reduce(ReduceOp::kMin, none, {2, 0}, {1}), (std::vector<float>{kInf, kInf}));
  EXPECT_TRUE(std::isnan(Reduce(ReduceOp::kMean, none, {1, 0}, {1})[0]));
  // log-sum-exp does not overflow on large inputs and keeps infinities.
  EXPECT_FLOAT_EQ(Reduce(ReduceOp::kLogSumExp, {1000.f, 1000.f}, {2}, {0})[0], 1000.f + std::log(2.f));
  EXPECT_FLOAT_EQ(Reduce(ReduceOp::kLogSumExp, {-1000.f, -1000.f}, {2}, {0})[0], -1000.f + std::log(2.f));
  EXPECT_EQ(Reduce(ReduceOp::kLogSumExp, {-kInf, -kInf}, {2}, {0})[0], -kInf);
  EXPECT_EQ(Reduce(ReduceOp::kLogSumExp, {kInf, 1.f}, {2}, {0})[0], kInf);
  // NaN propagates through max and min, wherever it sits.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(Reduce(ReduceOp::kMax, {nan, 1.f}, {2}, {0})[0]));
  EXPECT_TRUE(std::isnan(Reduce(ReduceOp::kMin, {1.f, nan}, {2}, {0})[0]));
}

TEST(NormalizeAxes, SortsAndValidates) {
  std::vector<int> axes;
  ASSERT_TRUE(NormalizeAxes({-1, 0, 2}, 4, &axes).ok());
  EXPECT_EQ(axes, (std::vector<int>{0, 2, 3}));
  ASSERT_TRUE(NormalizeAxes({}, 4, &axes).ok());
  EXPECT_TRUE(axes.empty());
  EXPECT_EQ(NormalizeAxes({4}, 4, &axes).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeAxes({-5}, 4, &axes).code(), StatusCode::kInvalidArgument);
  const Status s = NormalizeAxes({1, -3}, 4, &axes);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("twice"), std::string::npos) << s.message();
}

// ---- ShuffleChannel ---------------------------------------------------------------------------------------------

TEST(ShuffleChannelFp32, TransposesTheGroupGrid) {
  // N 2, C 6, spatial 2; channel c holds 10c, 10c + 1 (plus 100 in the second batch).
  std::vector<float> in;
  for (int n = 0; n < 2; ++n) {
    for (int c = 0; c < 6; ++c) {
      in.push_back(100 * n + 10 * c);
      in.push_back(100 * n + 10 * c + 1);
    }
  }
  std::vector<float> out(24, kSentinel);
  auto channel_order = [&](const std::vector<float>& t, int n) {
    std::vector<int> order;
    for (int c = 0; c < 6; ++c) order.push_back(static_cast<int>(t[(n * 6 + c) * 2] - 100 * n) / 10);
    return order;
  };
  ShuffleChannelFp32(in.data(), out.data(), 2, 6, 2, 2);
  EXPECT_EQ(channel_order(out, 0), (std::vector<int>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(channel_order(out, 1), (std::vector<int>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(out[3], 31.f);  // second element of output channel 1 = input channel 3
  ShuffleChannelFp32(in.data(), out.data(), 2, 6, 2, 3);
  EXPECT_EQ(channel_order(out, 0), (std::vector<int>{0, 2, 4, 1, 3, 5}));
  // One group, or one channel per group: unchanged.
  ShuffleChannelFp32(in.data(), out.data(), 2, 6, 2, 1);
  EXPECT_EQ(out, in);
  ShuffleChannelFp32(in.data(), out.data(), 2, 6, 2, 6);
  EXPECT_EQ(out, in);
}

// ---- Crop -------------------------------------------------------------------------------------------------------

TEST(CropFp32, CaffeAxisAndOffsets) {
  const Dims in_dims{1, 2, 4, 5};
  const std::vector<float> in = Iota(40);
  Dims od;
  // Default Caffe axis 2, one offset for H and W: [.., 1:3, 1:4].
  ASSERT_TRUE(CaffeCropDims(in_dims, {9, 9, 2, 3}, 2, {1}, &od).ok());
  EXPECT_EQ(od, (Dims{1, 2, 2, 3}));
  std::vector<float> out(12, kSentinel);
  CropFp32(in.data(), in_dims, 2, {1}, out.data(), od);
  EXPECT_EQ(out, (std::vector<float>{6, 7, 8, 11, 12, 13, 26, 27, 28, 31, 32, 33}));
  // Axis 1 with one offset per axis (C, H, W) given as −3.
  ASSERT_TRUE(CaffeCropDims(in_dims, {7, 1, 1, 2}, -3, {1, 3, 3}, &od).ok());
  EXPECT_EQ(od, (Dims{1, 1, 1, 2}));
  out.assign(2, kSentinel);
  CropFp32(in.data(), in_dims, -3, {1, 3, 3}, out.data(), od);
  EXPECT_EQ(out, (std::vector<float>{38, 39}));
  // No offsets: from 0; a reference as large as the input: the whole input.
  ASSERT_TRUE(CaffeCropDims(in_dims, in_dims, 0, {}, &od).ok());
  out.assign(40, kSentinel);
  CropFp32(in.data(), in_dims, 0, {}, out.data(), od);
  EXPECT_EQ(out, in);
}

TEST(CropFp32, Errors) {
  const Dims in{1, 2, 4, 5};
  Dims od;
  EXPECT_EQ(CaffeCropDims(in, {1, 2, 4}, 2, {}, &od).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CaffeCropDims(in, in, 4, {}, &od).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CaffeCropDims(in, in, -5, {}, &od).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CaffeCropDims(in, {1, 2, 2, 2}, 2, {0, 0, 0}, &od).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CaffeCropDims(in, {1, 2, 2, 2}, 2, {-1}, &od).code(), StatusCode::kInvalidArgument);
  const Status s = CaffeCropDims(in, {1, 2, 2, 2}, 2, {1, 4}, &od);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("axis 3"), std::string::npos) << s.message();
  EXPECT_TRUE(CaffeCropDims(in, {1, 2, 2, 2}, 2, {2, 3}, &od).ok());
}

// ---- LRN --------------------------------------------------------------------------------------------------------

TEST(LrnFp32, AcrossChannelsHandComputed) {
  // One position, channels 1 2 3 4; size 3: windows {1,2}, {1,2,3}, {2,3,4}, {3,4}.
  const std::vector<float> x{1, 2, 3, 4};
  LrnParams p;
  p.size = 3;
  p.alpha = 3.f;  // alpha / size = 1
  p.beta = 0.5f;
  p.k = 2.f;
  std::vector<float> out(4, kSentinel);
  LrnFp32(p, x.data(), out.data(), {1, 4, 1, 1});
  ExpectClose(out, {1 / std::sqrt(7.f), 2 / std::sqrt(16.f), 3 / std::sqrt(31.f), 4 / std::sqrt(27.f)}, 1e-6f,
              "size 3");
  // Even size 2: pre_pad 0, so the window is the channel and the next (ONNX: floor(1/2) = 0 before, 1 after).
  p.size = 2;
  p.alpha = 2.f;
  LrnFp32(p, x.data(), out.data(), {1, 4, 1, 1});
  ExpectClose(out, {1 / std::sqrt(7.f), 2 / std::sqrt(15.f), 3 / std::sqrt(27.f), 4 / std::sqrt(18.f)}, 1e-6f,
              "size 2");
  // Two spatial positions and a batch: each position on its own.
  const std::vector<float> x2{1, 0, 0, 1, 2, 2, 0, 0};  // [2][2][2]
  p.size = 3;
  p.alpha = 3.f;
  p.beta = 1.f;
  p.k = 1.f;
  out.assign(8, kSentinel);
  LrnFp32(p, x2.data(), out.data(), {2, 2, 2});
  ExpectClose(out, {1 / 2.f, 0, 0, 1 / 2.f, 2 / 5.f, 2 / 5.f, 0, 0}, 1e-6f, "batch");
}

TEST(LrnFp32, WithinChannelHandComputed) {
  // 3x3 plane of ones with a 2 in the centre, size 3: the corner window holds 3 ones and the 2 (sum of squares
  // 7), an edge window 5 ones and the 2 (9), the centre window all of it (12). alpha/size² = 1 with alpha 9.
  std::vector<float> x(9, 1.f);
  x[4] = 2.f;
  LrnParams p;
  p.region = LrnRegion::kWithinChannel;
  p.size = 3;
  p.alpha = 9.f;
  p.beta = 1.f;
  p.k = 1.f;
  std::vector<float> out(9, kSentinel);
  LrnFp32(p, x.data(), out.data(), {1, 1, 3, 3});
  ExpectClose(out, {1 / 8.f, 1 / 10.f, 1 / 8.f, 1 / 10.f, 2 / 13.f, 1 / 10.f, 1 / 8.f, 1 / 10.f, 1 / 8.f}, 1e-6f,
              "within");
  // Size 1 is the element alone: x / (k + alpha·x²)^beta.
  p.size = 1;
  p.alpha = 1.f;
  p.beta = 0.75f;
  p.k = 2.f;
  LrnFp32(p, x.data(), out.data(), {1, 1, 3, 3});
  EXPECT_FLOAT_EQ(out[0], 1 / std::pow(3.f, 0.75f));
  EXPECT_FLOAT_EQ(out[4], 2 / std::pow(6.f, 0.75f));
}

// ---- InstanceNormalization --------------------------------------------------------------------------------------

TEST(InstanceNormFp32, PerInstanceStatistics) {
  // N 2, C 2, spatial 4. Channel values {1, 2, 3, 4}: mean 2.5, variance 1.25.
  std::vector<float> x{1, 2, 3, 4, 5, 5, 5, 5, -4, -3, -2, -1, 0, 0, 0, 8};
  const std::vector<float> scale{2.f, 0.5f}, bias{1.f, -1.f};
  const float eps = 1e-5f;
  std::vector<float> out(16, kSentinel);
  InstanceNormFp32(x.data(), out.data(), 2, 2, 4, scale.data(), bias.data(), eps);
  const float r = 1 / std::sqrt(1.25f + eps);
  const float r8 = 1 / std::sqrt(12.f + eps);  // {0, 0, 0, 8}: mean 2, variance (4+4+4+36)/4 = 12
  std::vector<float> want{-3 * r + 1, -r + 1, r + 1, 3 * r + 1, -1, -1, -1, -1,
                          -3 * r + 1, -r + 1, r + 1, 3 * r + 1};
  for (float v : {0.f, 0.f, 0.f, 8.f}) want.push_back(0.5f * (v - 2) * r8 - 1);
  ExpectClose(out, want, 1e-6f, "scale and bias");
  // No scale or bias: 1 and 0; and in place.
  InstanceNormFp32(x.data(), x.data(), 1, 1, 4, nullptr, nullptr, 0.f);
  ExpectClose(std::vector<float>(x.begin(), x.begin() + 4), {-3 / std::sqrt(5.f), -1 / std::sqrt(5.f),
              1 / std::sqrt(5.f), 3 / std::sqrt(5.f)}, 1e-6f, "in place");
}

TEST(InstanceNormFp32, LargeMeanKeepsTheVariance) {
  // 10000 + {−1, 1}: a one-pass E[x²] − E[x]² in float would lose the variance of 1 entirely.
  const std::vector<float> x{9999.f, 10001.f, 9999.f, 10001.f};
  std::vector<float> out(4);
  InstanceNormFp32(x.data(), out.data(), 1, 1, 4, nullptr, nullptr, 0.f);
  ExpectClose(out, {-1, 1, -1, 1}, 1e-6f, "large mean");
}

// ---- Elementwise unary ------------------------------------------------------------------------------------------

std::vector<float> Unary(UnaryOp op, const std::vector<float>& x, const UnaryParams& p = {}) {
  std::vector<float> out(x.size(), kSentinel);
  UnaryFp32(op, x.data(), out.data(), static_cast<int64_t>(x.size()), p);
  return out;
}

TEST(UnaryFp32, HandComputedValues) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float e = std::exp(1.f);
  ExpectClose(Unary(UnaryOp::kExp, {0, 1, -1, -200}), {1, e, 1 / e, 0}, 1e-6f, "exp");
  ExpectClose(Unary(UnaryOp::kLog, {1, e, 0, -1}), {0, 1, -kInf, nan}, 1e-6f, "log");
  ExpectClose(Unary(UnaryOp::kSqrt, {0, 4, 2.25f, -1}), {0, 2, 1.5f, nan}, 1e-6f, "sqrt");
  ExpectClose(Unary(UnaryOp::kAbs, {-2, 0, 3}), {2, 0, 3}, 0.f, "abs");
  ExpectClose(Unary(UnaryOp::kNeg, {-2, 0, 3}), {2, 0, -3}, 0.f, "neg");
  UnaryParams elu;
  elu.alpha = 2.f;
  ExpectClose(Unary(UnaryOp::kElu, {-1, 0, 3, -100}, elu), {2 * (1 / e - 1), 0, 3, -2}, 1e-6f, "elu");
  // Softplus: log 2 at 0, x itself far right (exp would overflow), exp(x) far left (1 + exp(x) would round to 1).
  ExpectClose(Unary(UnaryOp::kSoftplus, {0, 1, 100, -30}), {std::log(2.f), std::log(1 + e), 100, std::exp(-30.f)},
              1e-6f, "softplus");
  EXPECT_GT(Unary(UnaryOp::kSoftplus, {-30})[0], 0.f);
  EXPECT_NEAR(Unary(UnaryOp::kSoftplus, {-30})[0] / std::exp(-30.f), 1.f, 1e-5f);
  ExpectClose(Unary(UnaryOp::kSwish, {0, 1, -1, 100, -100}), {0, 1 / (1 + 1 / e), -1 / (1 + e), 100, 0}, 1e-6f,
              "swish");
  UnaryParams pw;
  pw.power = 2.f;
  pw.scale = 0.5f;
  pw.shift = 1.f;
  ExpectClose(Unary(UnaryOp::kPower, {0, 2, -4}, pw), {1, 4, 1}, 1e-6f, "power");
  pw.power = 0.5f;
  pw.scale = 1.f;
  pw.shift = 0.f;
  ExpectClose(Unary(UnaryOp::kPower, {9, -1}, pw), {3, nan}, 1e-6f, "power 0.5");
  ExpectClose(Unary(UnaryOp::kReciprocal, {2, -0.25f, 0}), {0.5f, -4, kInf}, 0.f, "reciprocal");
  ExpectClose(Unary(UnaryOp::kFloor, {1.5f, -1.5f, 2, -0.f}), {1, -2, 2, 0}, 0.f, "floor");
  ExpectClose(Unary(UnaryOp::kCeil, {1.5f, -1.5f, 2}), {2, -1, 2}, 0.f, "ceil");
  ExpectClose(Unary(UnaryOp::kSign, {-3, 0, 0.5f, -kInf, nan}), {-1, 0, 1, -1, nan}, 0.f, "sign");
  ExpectClose(Unary(UnaryOp::kErf, {0, 1, -1, 10}), {0, 0.8427007929f, -0.8427007929f, 1}, 1e-6f, "erf");
  ExpectClose(Unary(UnaryOp::kGelu, {0, 1, -1, 10, -10}), {0, 0.8413447461f, -0.1586552539f, 10, 0}, 1e-6f, "gelu");
  // In place.
  std::vector<float> v{1, 4};
  UnaryFp32(UnaryOp::kSqrt, v.data(), v.data(), 2);
  EXPECT_EQ(v, (std::vector<float>{1, 2}));
}

// ---- ONNX backend node tests ------------------------------------------------------------------------------------

// One fixture written by test/kernels/data/make_onnx_node_fixtures.py (its docstring has the format).
struct NodeCase {
  std::string name, op;
  std::map<std::string, std::vector<int64_t>> ints;
  std::map<std::string, std::vector<float>> floats;
  std::map<std::string, Tensor> tensors;
};

bool ReadNodeCase(const std::filesystem::path& path, NodeCase* c, std::string* error) {
  std::ifstream f(path);
  if (!f) {
    *error = "cannot open " + path.string();
    return false;
  }
  c->name = path.stem().string();
  std::string line, text;
  while (std::getline(f, line)) {
    if (!line.empty() && line[0] != '#') text += line + "\n";
  }
  std::istringstream s(text);
  std::string key, name;
  while (s >> key) {
    if (key == "op") {
      s >> c->op;
    } else if (key == "ints" || key == "floats") {
      size_t n = 0;
      s >> name >> n;
      if (key == "ints") {
        std::vector<int64_t>& v = c->ints[name];
        v.resize(n);
        for (auto& x : v) s >> x;
      } else {
        std::vector<float>& v = c->floats[name];
        v.resize(n);
        for (auto& x : v) s >> x;
      }
    } else if (key == "tensor") {
      size_t rank = 0;
      s >> name >> rank;
      Dims dims(rank);
      for (auto& d : dims) s >> d;
      Tensor t(dims);
      for (auto& x : t.data) s >> x;
      c->tensors[name] = std::move(t);
    } else {
      *error = path.string() + ": unknown item '" + key + "'";
      return false;
    }
    if (!s) {
      *error = path.string() + ": truncated after '" + key + " " + name + "'";
      return false;
    }
  }
  if (c->op.empty() || !c->tensors.count("input") || !c->tensors.count("expected")) {
    *error = path.string() + ": needs op, input and expected";
    return false;
  }
  return true;
}

bool ParseReduceOp(const std::string& name, ReduceOp* op) {
  for (ReduceOp r : {ReduceOp::kMean, ReduceOp::kMax, ReduceOp::kMin, ReduceOp::kSum, ReduceOp::kSumSquare,
                     ReduceOp::kL1, ReduceOp::kL2, ReduceOp::kLogSumExp, ReduceOp::kProd, ReduceOp::kLogSum}) {
    if (name == std::string("reduce_") + ReduceOpName(r)) {
      *op = r;
      return true;
    }
  }
  return false;
}

bool ParseUnaryOp(const std::string& name, UnaryOp* op) {
  for (UnaryOp u : {UnaryOp::kExp, UnaryOp::kLog, UnaryOp::kSqrt, UnaryOp::kAbs, UnaryOp::kNeg, UnaryOp::kElu,
                    UnaryOp::kSoftplus, UnaryOp::kSwish, UnaryOp::kPower, UnaryOp::kReciprocal, UnaryOp::kFloor,
                    UnaryOp::kCeil, UnaryOp::kSign, UnaryOp::kErf, UnaryOp::kGelu}) {
    if (name == UnaryOpName(u)) {
      *op = u;
      return true;
    }
  }
  return false;
}

float FloatParam(const NodeCase& c, const std::string& name) { return c.floats.at(name).at(0); }

// Runs one fixture through the kernels; the output tensor, or an error.
Status RunNodeCase(const NodeCase& c, Tensor* out) {
  const Tensor& x = c.tensors.at("input");
  const int rank = static_cast<int>(x.dims.size());
  auto ints = [&](const std::string& name) {
    auto it = c.ints.find(name);
    return it == c.ints.end() ? std::vector<int64_t>{} : it->second;
  };
  ReduceOp reduce_op;
  UnaryOp unary_op;
  if (c.op == "slice") {
    StridedSliceSpec s;
    QT_RETURN_IF_ERROR(NormalizeOnnxSlice(x.dims, ints("starts"), ints("ends"), ints("axes"), ints("steps"), &s));
    *out = Tensor(s.out_dims);
    StridedSliceFp32(x.data.data(), x.dims, s.begins, s.ends, s.steps, out->data.data(), s.out_dims);
  } else if (c.op == "gather") {
    int axis = static_cast<int>(ints("axis").at(0));
    const std::vector<int64_t> idx_dims64 = ints("indices_dims");
    const Dims idx_dims(idx_dims64.begin(), idx_dims64.end());
    *out = Tensor(GatherOutputDims(x.dims, axis < 0 ? axis + rank : axis, idx_dims));
    QT_RETURN_IF_ERROR(GatherFp32(x.data.data(), x.dims, axis, ints("indices").data(), idx_dims, out->data.data(),
                                  out->dims));
  } else if (ParseReduceOp(c.op, &reduce_op)) {
    std::vector<int> axes;
    QT_RETURN_IF_ERROR(NormalizeAxes(ints("axes"), rank, &axes));
    // ONNX: no axes reduce all of them, unless noop_with_empty_axes.
    if (axes.empty() && ints("noop_with_empty_axes").at(0) == 0) {
      for (int a = 0; a < rank; ++a) axes.push_back(a);
    }
    *out = Tensor(ReduceOutputDims(x.dims, axes, ints("keepdims").at(0) != 0));
    ReduceFp32(reduce_op, x.data.data(), x.dims, axes, out->data.data());
  } else if (c.op == "lrn") {
    LrnParams p;
    p.size = static_cast<int>(ints("size").at(0));
    p.alpha = FloatParam(c, "alpha");
    p.beta = FloatParam(c, "beta");
    p.k = FloatParam(c, "bias");
    *out = Tensor(x.dims);
    LrnFp32(p, x.data.data(), out->data.data(), x.dims);
  } else if (c.op == "instancenorm") {
    *out = Tensor(x.dims);
    InstanceNormFp32(x.data.data(), out->data.data(), x.batch(), x.channels(), x.spatial(),
                     c.tensors.at("scale").data.data(), c.tensors.at("bias").data.data(), FloatParam(c, "epsilon"));
  } else if (ParseUnaryOp(c.op, &unary_op)) {
    UnaryParams p;
    if (c.floats.count("alpha")) p.alpha = FloatParam(c, "alpha");
    if (c.floats.count("power")) p.power = FloatParam(c, "power");
    *out = Tensor(x.dims);
    UnaryFp32(unary_op, x.data.data(), out->data.data(), x.count(), p);
  } else {
    return Status::Unsupported("no kernel for op '" + c.op + "'");
  }
  return Status::Ok();
}

// Every fixture under test/kernels/data/onnx_node through the kernels, |a − b| <= 1e-4·max(1, |b|).
TEST(OnnxNodeTests, AllFixturesMatch) {
  const std::filesystem::path dir = std::filesystem::path(QT_SOURCE_DIR) / "test/kernels/data/onnx_node";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir << " is missing (it is part of the source tree)";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".txt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no fixtures in " << dir;
  std::map<std::string, std::pair<int, int>> counts;  // op → (passed, total)
  for (const auto& path : files) {
    NodeCase c;
    std::string error;
    ASSERT_TRUE(ReadNodeCase(path, &c, &error)) << error;
    SCOPED_TRACE(c.name);
    std::pair<int, int>& n = counts[c.op];
    ++n.second;
    Tensor out;
    const Status s = RunNodeCase(c, &out);
    if (!s.ok()) {
      ADD_FAILURE() << c.name << ": " << s.message();
      continue;
    }
    const Tensor& want = c.tensors.at("expected");
    if (out.dims != want.dims) {
      ADD_FAILURE() << c.name << ": dims " << DimsToString(out.dims) << ", expected " << DimsToString(want.dims);
      continue;
    }
    int bad = 0;
    for (size_t i = 0; i < out.data.size(); ++i) {
      if (!Close(out.data[i], want.data[i], 1e-4f) && bad++ < 5) {
        ADD_FAILURE() << c.name << " element " << i << ": " << out.data[i] << ", expected " << want.data[i];
      }
    }
    if (bad == 0) ++n.first;
  }
  for (const auto& [op, n] : counts) std::printf("  onnx node %-18s %3d / %3d passed\n", op.c_str(), n.first, n.second);
}

}  // namespace
}  // namespace qt
