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

}  // namespace
}  // namespace qt
