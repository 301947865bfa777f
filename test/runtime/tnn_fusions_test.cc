// TNN's load-time fusions of quantized graphs (net_optimizer_fuse_conv_post / _fuse_conv_add) and the engine
// running a fused graph with TNN's NaiveConvBias arithmetic.
#include <gtest/gtest.h>

#include "core/int8/kernels_int8.h"
#include "core/layers/layer.h"
#include "core/runtime/net.h"
#include "core/runtime/tnn_fusions.h"

namespace qt {
namespace {

Layer MakeLayer(LayerType type, const std::string& name, std::vector<std::string> in, std::vector<std::string> out,
                bool quantized) {
  Layer l;
  l.type = type;
  l.type_str = LayerTypeName(type);
  l.name = name;
  l.inputs = std::move(in);
  l.outputs = std::move(out);
  l.quantized = quantized;
  l.params = DefaultLayerParams(type);
  return l;
}

Layer Conv1x1(const std::string& name, const std::string& in, const std::string& out, int in_c, int out_c) {
  Layer l = MakeLayer(LayerType::kConvolution, name, {in}, {out}, true);
  auto& p = l.Params<ConvParams>();
  p.input_channel = in_c;
  p.output_channel = out_c;
  p.kernel_h = p.kernel_w = 1;
  p.pad_type = -1;
  return l;
}

// data -> conv_a (3x3, feeds the Add's other operand) ... conv_b (1x1) -> add -> relu
Graph ResidualGraph() {
  Graph g;
  g.inputs.push_back({"data", {1, 2, 3, 3}});
  Layer a = Conv1x1("conv_a", "data", "a", 2, 2);
  Layer b = Conv1x1("conv_b", "a", "b", 2, 2);
  g.layers = {a, b, MakeLayer(LayerType::kAdd, "add", {"b", "a"}, {"sum"}, true),
              MakeLayer(LayerType::kRelu, "relu", {"sum"}, {"out"}, true)};
  g.outputs = {"out"};
  for (const auto& name : {"conv_a", "conv_b"}) {
    ConvResource r;
    r.filter = RawBuffer::FromInt8({3, -2, 5, 7});
    r.scale = RawBuffer::FromFloat({0.02f, 0.03f});
    r.zero_point = RawBuffer::FromInt8({0, 0});
    r.bias = RawBuffer::FromInt32({4, -9});
    r.has_bias = true;
    g.resources[name] = r;
  }
  g.blob_scales["data"] = {{0.05f}, {0}};
  g.blob_scales["a"] = {{0.1f}, {0}};
  g.blob_scales["b"] = {{0.07f}, {0}};
  g.blob_scales["sum"] = {{0.15f}, {0}};
  g.blob_scales["out"] = {{0.15f}, {0}};
  return g;
}

TEST(TnnFusionsTest, PointwiseConvTakesTheAddAndTheReluAfterIt) {
  Graph g = ResidualGraph();
  ASSERT_TRUE(g.Validate().ok());
  FuseQuantizedLikeTnn(&g);
  ASSERT_EQ(g.layers.size(), 2u);
  const Layer& fused = g.layers[1];
  EXPECT_EQ(fused.name, "conv_b");
  EXPECT_EQ(fused.inputs, (std::vector<std::string>{"a", "a"}));
  EXPECT_EQ(fused.outputs, (std::vector<std::string>{"out"}));
  EXPECT_EQ(fused.Params<ConvParams>().fusion, 1);
  EXPECT_EQ(fused.Params<ConvParams>().activation, kActivationRelu);
}

TEST(TnnFusionsTest, NothingFusesWhereTnnWouldNot) {
  {  // the convolution's output is read again after the Add
    Graph g = ResidualGraph();
    g.layers.push_back(MakeLayer(LayerType::kRelu, "late", {"b"}, {"late_out"}, false));
    FuseQuantizedLikeTnn(&g);
    EXPECT_EQ(g.layers.size(), 5u);
  }
  {  // a float Add, or a float graph
    Graph g = ResidualGraph();
    g.layers[2].quantized = false;
    FuseQuantizedLikeTnn(&g);
    EXPECT_EQ(g.layers[1].Params<ConvParams>().fusion, 0);
  }
  {  // a 3x3 convolution before the Add
    Graph g = ResidualGraph();
    auto& p = g.layers[1].Params<ConvParams>();
    p.kernel_h = p.kernel_w = 3;
    p.pad_h = p.pad_w = 1;
    FuseQuantizedLikeTnn(&g);
    EXPECT_EQ(g.layers[1].Params<ConvParams>().fusion, 0);
    EXPECT_EQ(g.layers.size(), 4u);
  }
}

// The fused graph runs conv_b's accumulator straight into the Add's output scale with the ReLU before rounding.
TEST(TnnFusionsTest, NetRunsTheFusedArithmetic) {
  const Graph g = ResidualGraph();
  Net net;
  ASSERT_TRUE(net.Init(g).ok());
  Tensor x({1, 2, 3, 3});
  for (int64_t i = 0; i < x.count(); ++i) x.data[i] = 0.3f * static_cast<float>((i * 7) % 11) - 1.2f;
  ASSERT_TRUE(net.SetInput("data", x).ok());
  ASSERT_TRUE(net.Forward().ok());
  Tensor out;
  ASSERT_TRUE(net.GetBlob("out", &out).ok());

  // The same by hand: quantize the input, conv_a to int8 with a's scale, then NaiveConvBias with the fusion.
  std::vector<int8_t> q(x.count()), a(x.count()), want(x.count());
  for (int64_t i = 0; i < x.count(); ++i) q[i] = Float2Int8(x.data[i] / 0.05f);
  const std::vector<int8_t> w = {3, -2, 5, 7};
  const std::vector<int32_t> bias = {4, -9};
  for (int oc = 0; oc < 2; ++oc) {
    const float m = (oc == 0 ? 0.02f : 0.03f) / 0.1f;
    for (int j = 0; j < 9; ++j) {
      const int32_t acc = w[oc * 2] * q[j] + w[oc * 2 + 1] * q[9 + j] + bias[oc];
      a[oc * 9 + j] = Float2Int8(static_cast<float>(acc) * m);
    }
  }
  for (int oc = 0; oc < 2; ++oc) {
    const float m = (oc == 0 ? 0.02f : 0.03f) / 0.15f;
    const float add_scale = 0.1f / 0.15f;
    for (int j = 0; j < 9; ++j) {
      const int32_t acc = w[oc * 2] * a[j] + w[oc * 2 + 1] * a[9 + j] + bias[oc];
      float v = static_cast<float>(acc) * m;
      v += static_cast<float>(a[oc * 9 + j]) * add_scale - 0.f * add_scale;
      v = v > 0.f ? v : 0.f;
      want[oc * 9 + j] = Float2Int8(v + 0.f);
    }
  }
  for (int64_t i = 0; i < x.count(); ++i) {
    EXPECT_EQ(out.data[i], 0.15f * static_cast<float>(want[i])) << "value " << i;
  }
}

}  // namespace
}  // namespace qt
