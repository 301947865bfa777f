#include <random>

#include <gtest/gtest.h>

#include "core/graph/graph_simplify.h"
#include "core/runtime/net.h"

namespace qt {
namespace {

std::vector<float> Random(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

Layer MakeLayer(LayerType type, const std::string& type_str, const std::string& name, std::vector<std::string> in,
                std::vector<std::string> out, LayerParams params = std::monostate{}) {
  Layer l;
  l.type = type;
  l.type_str = type_str;
  l.name = name;
  l.inputs = std::move(in);
  l.outputs = std::move(out);
  l.params = std::move(params);
  return l;
}

// data → conv1 → bn1 → relu1 → drop1 → conv2 (with bias) → scale2 → prob (model output: a Dropout).
Graph ConvNormChain(bool fp16_weights) {
  Graph g;
  g.inputs = {{"data", {1, 3, 6, 5}, DataType::kFloat}};
  ConvParams c1;
  c1.input_channel = 3;
  c1.output_channel = 4;
  c1.kernel_h = c1.kernel_w = 3;
  c1.pad_h = c1.pad_w = 1;
  ConvParams c2 = c1;
  c2.input_channel = 4;
  c2.output_channel = 2;
  c2.has_bias = 1;
  g.layers = {MakeLayer(LayerType::kConvolution, "Convolution", "conv1", {"data"}, {"c1"}, c1),
              MakeLayer(LayerType::kBatchNorm, "BatchNormCxx", "bn1", {"c1"}, {"b1"}),
              MakeLayer(LayerType::kRelu, "ReLU", "relu1", {"b1"}, {"r1"}),
              MakeLayer(LayerType::kDropout, "Dropout", "drop1", {"r1"}, {"d1"}),
              MakeLayer(LayerType::kConvolution, "Convolution", "conv2", {"d1"}, {"c2"}, c2),
              MakeLayer(LayerType::kScale, "Scale", "scale2", {"c2"}, {"s2"}, ScaleParams{1, 1, 1}),
              MakeLayer(LayerType::kDropout, "Dropout", "drop2", {"s2"}, {"prob"})};
  g.outputs = {"prob"};
  auto raw = [&](const std::vector<float>& v) {
    if (!fp16_weights) return RawBuffer::FromFloat(v);
    std::vector<uint16_t> h;
    for (float x : v) h.push_back(FloatToHalf(x));
    return RawBuffer::From(DataType::kHalf, h);
  };
  ConvResource r1;
  r1.filter = raw(Random(4 * 3 * 9, 1));
  g.resources["conv1"] = r1;
  g.resources["bn1"] = BatchNormResource{RawBuffer::FromFloat(Random(4, 2, 0.5f, 2.f)), RawBuffer::FromFloat(Random(4, 3))};
  ConvResource r2;
  r2.filter = raw(Random(2 * 4 * 9, 4));
  r2.bias = raw(Random(2, 5));
  r2.has_bias = true;
  g.resources["conv2"] = r2;
  g.resources["scale2"] = ScaleResource{true, RawBuffer::FromFloat(Random(2, 6, -2.f, 2.f)), RawBuffer::FromFloat(Random(2, 7))};
  g.RefreshBlobNames();
  return g;
}

std::vector<float> RunNet(const Graph& g) {
  Net net;
  Status s = net.Init(g);
  EXPECT_TRUE(s.ok()) << s.message();
  Tensor in({1, 3, 6, 5});
  in.data = Random(in.data.size(), 9);
  EXPECT_TRUE(net.SetInput("data", in).ok());
  s = net.Forward();
  EXPECT_TRUE(s.ok()) << s.message();
  Tensor out;
  EXPECT_TRUE(net.GetBlob("prob", &out).ok());
  return out.data;
}

TEST(GraphSimplifyTest, EveryPassKeepsTheOutputs) {
  for (bool fp16 : {false, true}) {
    SCOPED_TRACE(fp16 ? "fp16 weights" : "fp32 weights");
    const Graph before = ConvNormChain(fp16);
    Graph after = before;
    const SimplifyCounts c = SimplifyGraph(&after);
    EXPECT_EQ(c.dropouts, 2);
    EXPECT_EQ(c.folded_norms, 2);
    EXPECT_EQ(c.fused_activations, 1);
    ASSERT_EQ(after.layers.size(), 2u);
    EXPECT_EQ(after.layers[0].outputs[0], "r1");
    EXPECT_EQ(after.layers[0].Params<ConvParams>().activation, kActivationRelu);
    EXPECT_EQ(after.layers[1].inputs[0], "r1");
    EXPECT_EQ(after.layers[1].outputs[0], "prob");
    EXPECT_EQ(after.resources.count("bn1") + after.resources.count("scale2"), 0u);
    const auto a = RunNet(before), b = RunNet(after);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5f * (1 + std::fabs(a[i]))) << i;
  }
}

TEST(GraphSimplifyTest, ABranchedOrOutputBlobIsNotRewritten) {
  Graph g = ConvNormChain(false);
  // bn1's input also feeds a second reader, so folding would change what that reader sees.
  g.layers.push_back(MakeLayer(LayerType::kRelu, "ReLU", "side", {"c1"}, {"side_out"}));
  g.outputs.push_back("side_out");
  g.RefreshBlobNames();
  EXPECT_EQ(FoldConvBatchNorm(&g), 1);  // only conv2 + scale2
  EXPECT_NE(g.FindLayer("bn1"), nullptr);
  // conv1's output is read twice: no fusion with the ReLU either.
  EXPECT_EQ(FuseConvActivation(&g), 0);
}

// Caffe writes a BatchNorm as BatchNorm then Scale: both fold into the one convolution, then the ReLU fuses.
TEST(GraphSimplifyTest, BatchNormThenScaleBothFoldIntoOneConv) {
  Graph before = ConvNormChain(false);
  auto& layers = before.layers;
  layers.insert(layers.begin() + 2, MakeLayer(LayerType::kScale, "Scale", "scale1", {"b1"}, {"s1"}, ScaleParams{1, 1, 1}));
  layers[3].inputs = {"s1"};
  before.resources["scale1"] =
      ScaleResource{true, RawBuffer::FromFloat(Random(4, 11, 0.5f, 2.f)), RawBuffer::FromFloat(Random(4, 12))};
  before.RefreshBlobNames();
  Graph after = before;
  EXPECT_EQ(FoldConvBatchNorm(&after), 3);
  ASSERT_EQ(after.layers[0].name, "conv1");
  EXPECT_EQ(after.layers[0].outputs[0], "s1");
  EXPECT_EQ(after.layers[1].type, LayerType::kRelu);
  EXPECT_EQ(FuseConvActivation(&after), 1);
  const auto a = RunNet(before), b = RunNet(after);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5f * (1 + std::fabs(a[i]))) << i;
}

TEST(GraphSimplifyTest, AConvWhoseOutputIsKeptKeepsItsActivation) {
  Graph g = ConvNormChain(false);
  EXPECT_EQ(FoldConvBatchNorm(&g), 2);  // conv1 → relu1 is now a fusable pair, its output "b1"
  Graph kept = g;
  EXPECT_EQ(FuseConvActivation(&kept, {"b1"}), 0);
  EXPECT_NE(kept.FindLayer("relu1"), nullptr);
  EXPECT_EQ(FuseConvActivation(&kept, {"r1", "c2"}), 1);  // other names do not hold it back
  EXPECT_EQ(kept.FindLayer("relu1"), nullptr);
}

TEST(GraphSimplifyTest, ActivationAfterAFusedConvIsLeftAlone) {
  Graph g = ConvNormChain(false);
  g.layers[0].Params<ConvParams>().activation = kActivationRelu6;
  EXPECT_EQ(FoldConvBatchNorm(&g), 1);  // bn1 follows a conv that already clamps: folding would reorder them
  EXPECT_NE(g.FindLayer("bn1"), nullptr);
}

}  // namespace
}  // namespace qt
