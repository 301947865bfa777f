// Layer kinds through the engine on hand-computed cases (Convolution1D, Pooling1D, InstanceNorm, TNN's older
// Reshape and Permute layouts), and their TNN param lines read back as written.
#include <cmath>

#include <gtest/gtest.h>

#include "core/io/tnn_io.h"
#include "core/layers/layer.h"
#include "core/runtime/net.h"

namespace qt {
namespace {

Graph OneLayer(LayerType type, const std::vector<std::string>& params, const Dims& in_dims) {
  Graph g;
  g.inputs.push_back({"x", in_dims});
  Layer l;
  l.type = type;
  l.type_str = LayerTypeName(type);
  l.name = "l";
  l.inputs = {"x"};
  l.outputs = {"y"};
  EXPECT_TRUE(ParseLayerParams(type, params, &l.params).ok());
  g.layers.push_back(l);
  g.outputs = {"y"};
  return g;
}

std::vector<float> RunLayer(const Graph& g, const std::vector<float>& x, Dims* out_dims) {
  Net net;
  Status s = net.Init(g);
  EXPECT_TRUE(s.ok()) << s.message();
  Tensor t(g.inputs[0].dims);
  t.data = x;
  EXPECT_TRUE(net.SetInput("x", t).ok());
  EXPECT_TRUE(net.Forward().ok());
  Tensor y;
  EXPECT_TRUE(net.GetBlob("y", &y).ok());
  *out_dims = y.dims;
  return y.data;
}

TEST(Layers1dTest, Conv1dAppliesTheSecondPadTokenFirst) {
  // group 1, ic 1, oc 1, k 3, stride 2, pads: 0 after, 1 before, bias, explicit pads, dilation 1, ReLU
  Graph g = OneLayer(LayerType::kConvolution1D, {"1", "1", "1", "3", "2", "0", "1", "1", "-1", "1", "1"}, {1, 1, 6});
  ConvResource r;
  r.filter = RawBuffer::FromFloat({1.f, 2.f, -1.f});
  r.bias = RawBuffer::FromFloat({0.5f});
  r.has_bias = true;
  g.resources["l"] = r;
  Dims d;
  // x = 1..6 padded [0, 1..6]: (6 + 1 - 3) / 2 + 1 = 3 windows (0,1,2) (2,3,4) (4,5,6):
  // 0+2-2+.5 = 0.5, 2+6-4+.5 = 4.5, 4+10-6+.5 = 8.5
  const auto y = RunLayer(g, {1, 2, 3, 4, 5, 6}, &d);
  EXPECT_EQ(d, (Dims{1, 1, 3}));
  EXPECT_EQ(y, (std::vector<float>{0.5f, 4.5f, 8.5f}));
}

TEST(Layers1dTest, Pool1dMaxAverageAndGlobal) {
  Dims d;
  auto y = RunLayer(OneLayer(LayerType::kPooling1D, {"0", "2", "2", "0", "-1", "-1", "-1", "0"}, {1, 2, 5}),
               {1, 5, 2, 4, 3, /**/ -1, -2, -3, -4, -5}, &d);
  EXPECT_EQ(d, (Dims{1, 2, 2}));
  EXPECT_EQ(y, (std::vector<float>{5, 4, -1, -3}));
  y = RunLayer(OneLayer(LayerType::kPooling1D, {"1", "0", "1", "0", "-1", "-1", "-1", "0"}, {1, 1, 4}), {1, 2, 3, 6}, &d);
  EXPECT_EQ(d, (Dims{1, 1, 1}));
  EXPECT_EQ(y, (std::vector<float>{3}));
}

TEST(Layers1dTest, InstanceNormNormalisesEachPlane) {
  Graph g = OneLayer(LayerType::kInstanceNorm, {"2", "1e-05"}, {1, 2, 1, 2});
  BatchNormResource r;
  r.scale = RawBuffer::FromFloat({2.f, 1.f});
  r.bias = RawBuffer::FromFloat({1.f, 0.f});
  g.resources["l"] = r;
  Dims d;
  const auto y = RunLayer(g, {1, 3, 10, 10}, &d);  // plane 0: mean 2, sd 1; plane 1: constant
  ASSERT_EQ(y.size(), 4u);
  EXPECT_NEAR(y[0], -1.f, 1e-4);
  EXPECT_NEAR(y[1], 3.f, 1e-4);
  EXPECT_NEAR(y[2], 0.f, 1e-6);
  EXPECT_NEAR(y[3], 0.f, 1e-6);
}

TEST(LayersTest, ReshapeFollowsNumAxesAndTheNhwcOrder) {
  Dims d;
  // num_axes -1: every entry; the -1 is inferred
  auto y = RunLayer(OneLayer(LayerType::kReshape, {"0", "-1", "2", "0", "-1", "0"}, {1, 2, 3}), {1, 2, 3, 4, 5, 6},
                    &d);
  EXPECT_EQ(d, (Dims{1, 6}));
  // num_axes 1 of 2 entries: the second is 1 whatever it says (TNN)
  y = RunLayer(OneLayer(LayerType::kReshape, {"1", "1", "2", "6", "7", "0"}, {1, 2, 3}), {1, 2, 3, 4, 5, 6}, &d);
  EXPECT_EQ(d, (Dims{1, 6, 1}));
  // reshape_type 1: [1, 2, 1, 3] read as NHWC (1,3,2 order) and laid out as the NHWC form of [1, 3, 1, 2]
  y = RunLayer(OneLayer(LayerType::kReshape, {"0", "4", "4", "1", "3", "1", "2", "1"}, {1, 2, 1, 3}),
               {1, 2, 3, 4, 5, 6}, &d);
  EXPECT_EQ(d, (Dims{1, 3, 1, 2}));
  // NHWC of the input: 1 4 2 5 3 6; as NHWC [1, 1, 2, 3] of the output then NCHW: c0 = 1 5, c1 = 4 3, c2 = 2 6
  EXPECT_EQ(y, (std::vector<float>{1, 5, 4, 3, 2, 6}));
}

TEST(LayersTest, PermuteAppendsTheAxesItsOrderLeavesOut) {
  Dims d;
  const auto y = RunLayer(OneLayer(LayerType::kPermute, {"2", "1", "0"}, {2, 3, 1}), {1, 2, 3, 4, 5, 6}, &d);
  EXPECT_EQ(d, (Dims{3, 2, 1}));
  EXPECT_EQ(y, (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(Layers1dTest, TnnParamLinesReadBackAsWritten) {
  const std::vector<std::pair<LayerType, std::vector<std::string>>> lines = {
      {LayerType::kConvolution1D, {"2", "4", "8", "3", "1", "1", "2", "1", "-1", "2", "0"}},
      {LayerType::kPooling1D, {"1", "3", "2", "1", "-1", "-1", "0", "1"}},
      {LayerType::kInstanceNorm, {"16", "0.001"}},
      {LayerType::kReshape, {"0", "-1", "3", "0", "-1", "4", "1"}},
      {LayerType::kPermute, {"3", "0", "2", "1"}},
  };
  for (const auto& [type, tokens] : lines) {
    LayerParams p;
    ASSERT_TRUE(ParseLayerParams(type, tokens, &p).ok()) << LayerTypeName(type);
    std::vector<std::string> written;
    WriteLayerParams(type, p, &written);
    EXPECT_EQ(written, tokens) << LayerTypeName(type);
  }
  LayerParams p;
  EXPECT_FALSE(ParseLayerParams(LayerType::kConvolution1D, {"1", "1", "0", "3", "1", "0"}, &p).ok());
  EXPECT_FALSE(ParseLayerParams(LayerType::kPooling1D, {"2", "3", "1", "0"}, &p).ok());
}

}  // namespace
}  // namespace qt
