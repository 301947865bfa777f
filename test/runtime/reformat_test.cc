#include <random>

#include <gtest/gtest.h>

#include "core/int8/kernels_int8.h"
#include "core/runtime/reformat.h"

namespace qt {
namespace {

// TNN's conversions value by value (NaiveQuantBias / NaiveDequantBias), against which the plane loops are checked.
TEST(ReformatTest, QuantizeAndDequantizeFollowTnnValueByValue) {
  std::mt19937 rng(3);
  std::normal_distribution<float> d(0.f, 4.f);
  for (const Dims& dims : std::vector<Dims>{{2, 3, 4, 5}, {1, 7}, {1, 1, 1, 1}}) {
    Tensor x(dims);
    for (auto& v : x.data) v = d(rng);
    const int channels = x.channels();
    for (bool per_tensor : {true, false}) {
      BlobScale s;
      for (int c = 0; c < (per_tensor ? 1 : channels); ++c) {
        s.scale.push_back(c == 1 ? 0.f : 0.01f + 0.02f * c);  // channel 1 has a zero scale
        s.zero_point.push_back(static_cast<int8_t>(c * 3 - 2));
      }
      Int8Tensor q;
      QuantizeTensor(x, s, &q);
      Tensor back;
      DequantizeTensor(q, &back);
      ASSERT_EQ(q.data.size(), x.data.size());
      for (int64_t i = 0; i < x.count(); ++i) {
        const int c = per_tensor ? 0 : static_cast<int>((i / x.spatial()) % channels);
        const int8_t want = s.scale[c] == 0.f ? 0 : Float2Int8(x.data[i] / s.scale[c] + s.zero_point[c]);
        ASSERT_EQ(q.data[i], want) << DimsToString(dims) << " value " << i;
        ASSERT_EQ(back.data[i], s.scale[c] * static_cast<float>(want - s.zero_point[c])) << i;
      }
    }
  }
}

// PadInt8Ref is the float path Net takes for a Pad or a PReLU between int8 layers: dequantize, PadFp32 or
// PReluFp32, quantize with the output blob's scale.
// What PadInt8Ref writes into a tensor of `want`'s shape with the scales of `out`, pre-filled with a value it must
// overwrite.
Int8Tensor PadInt8RefOutput(const Int8Tensor& in, const PadParams4d& p, const Int8Tensor& want, const BlobScale& out,
                            const std::vector<float>& slopes = {}) {
  Int8Tensor got;
  got.dims = want.dims;
  got.data.assign(want.data.size(), 99);
  got.scales = out.scale;
  got.zero_points = out.zero_point;
  PadInt8Ref(in, p, &got, slopes);
  return got;
}

TEST(ReformatTest, PadInt8RefIsTheFloatPadBetweenReformats) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> d(-128, 127);
  for (const bool per_tensor : {true, false}) {
    Int8Tensor in;
    in.dims = {2, 3, 5, 7};
    in.data.resize(2 * 3 * 5 * 7);
    for (auto& v : in.data) v = static_cast<int8_t>(d(rng));
    in.scales = per_tensor ? std::vector<float>{0.037f} : std::vector<float>{0.01f, 0.2f, 0.033f};
    in.zero_points = per_tensor ? std::vector<int8_t>{-4} : std::vector<int8_t>{0, 5, -9};
    for (const PadMode mode : {PadMode::kConstant, PadMode::kReflect, PadMode::kEdge}) {
      const PadParams4d p{1, 2, 0, 3, 1, 1, mode, 0.4f};
      BlobScale out_scale;
      out_scale.scale = per_tensor ? std::vector<float>{0.029f} : std::vector<float>{0.02f, 0.f, 0.3f, 0.011f, 0.05f};
      out_scale.zero_point = per_tensor ? std::vector<int8_t>{3} : std::vector<int8_t>{0, 1, -2, 6, 0};
      Tensor x, padded({2, 5, 8, 10});
      DequantizeTensor(in, &x);
      PadFp32(x.data.data(), x.dims, p, padded.data.data());
      Int8Tensor want;
      QuantizeTensor(padded, out_scale, &want);
      EXPECT_EQ(PadInt8RefOutput(in, p, want, out_scale).data, want.data) << (per_tensor ? "per tensor" : "per channel") << ", mode "
                                     << static_cast<int>(mode);
    }
    // A PReLU (no pads): dequantize, PReluFp32, quantize.
    const std::vector<float> slopes = {0.2f, -1.1f, 0.6f};
    BlobScale out_scale;
    out_scale.scale = per_tensor ? std::vector<float>{0.023f} : std::vector<float>{0.02f, 0.f, 0.3f};
    out_scale.zero_point = per_tensor ? std::vector<int8_t>{-1} : std::vector<int8_t>{0, 1, -2};
    Tensor x, y(in.dims);
    DequantizeTensor(in, &x);
    PReluFp32(x.data.data(), y.data.data(), 2, 3, 35, slopes.data(), false);
    Int8Tensor want;
    QuantizeTensor(y, out_scale, &want);
    EXPECT_EQ(PadInt8RefOutput(in, PadParams4d{}, want, out_scale, slopes).data, want.data) << (per_tensor ? "per tensor" : "per channel") << ", PReLU";
  }
}

}  // namespace
}  // namespace qt
