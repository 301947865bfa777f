// The MatMul layer (TNN type "MatMul", id 105): proto and resource round trips, shape inference and the float
// executor on hand-computed products, in its two-input and constant-operand forms.
#include <gtest/gtest.h>

#include "core/graph/shape_inference.h"
#include "core/io/tnn_io.h"
#include "core/runtime/net.h"

namespace qt {
namespace {

// a [2, 2, 3] (two 2x3 matrices) times b [3, 2] (broadcast over the batch).
const std::vector<float> kA = {1, 2, 3, 4, 5, 6, /**/ -1, 0, 2, 0.5f, 1, -2};
const std::vector<float> kB = {1, 0, 0, 1, 1, -1};
// Row i of a·b = (a[i][0] + a[i][2], a[i][1] - a[i][2]).
const std::vector<float> kAB = {4, -1, 10, -1, /**/ 1, -2, -1.5f, 3};

Graph TwoInputGraph() {
  Graph g;
  const std::string proto =
      "\"1 3 1 4206624772 ,\"\n"
      "\"a 3 2 2 3 0 : b 2 3 2 0 ,\"\n"
      "\" a b y ,\"\n"
      "\"y ,\"\n"
      "\" 1 ,\"\n"
      "\"MatMul mm 2 1 a b y -1 ,\"\n";
  EXPECT_TRUE(ParseTnnProto(proto, "matmul.tnnproto", &g).ok());
  return g;
}

Graph ConstantGraph(int weight_position) {
  Graph g;
  const std::string proto = weight_position == 1 ? "\"1 2 1 4206624772 ,\"\n"
                                                   "\"a 3 2 2 3 0 ,\"\n"
                                                   "\" a y ,\"\n"
                                                   "\"y ,\"\n"
                                                   "\" 1 ,\"\n"
                                                   "\"MatMul mm 1 1 a y 1 ,\"\n"
                                                 : "\"1 2 1 4206624772 ,\"\n"
                                                   "\"b 2 3 2 0 ,\"\n"
                                                   "\" b y ,\"\n"
                                                   "\"y ,\"\n"
                                                   "\" 1 ,\"\n"
                                                   "\"MatMul mm 1 1 b y 0 ,\"\n";
  EXPECT_TRUE(ParseTnnProto(proto, "matmul.tnnproto", &g).ok());
  MatMulResource r;
  r.weight = weight_position == 1 ? RawBuffer::FromFloat(kB, {3, 2}) : RawBuffer::FromFloat(kA, {2, 2, 3});
  g.resources["mm"] = r;
  return g;
}

std::vector<float> RunGraph(const Graph& g, const std::map<std::string, Tensor>& inputs, Dims* out_dims) {
  Net net;
  Status s = net.Init(g);
  EXPECT_TRUE(s.ok()) << s.message();
  for (const auto& [name, t] : inputs) EXPECT_TRUE(net.SetInput(name, t).ok());
  s = net.Forward();
  EXPECT_TRUE(s.ok()) << s.message();
  Tensor y;
  EXPECT_TRUE(net.GetBlob("y", &y).ok());
  *out_dims = y.dims;
  return y.data;
}

Tensor MakeTensor(Dims d, std::vector<float> v) {
  Tensor t(std::move(d));
  t.data = std::move(v);
  return t;
}

TEST(MatMulLayerTest, TwoInputsBroadcastTheBatch) {
  const Graph g = TwoInputGraph();
  ASSERT_EQ(g.layers.size(), 1u);
  EXPECT_EQ(g.layers[0].type, LayerType::kMatMul);
  Dims dims;
  const auto y = RunGraph(g, {{"a", MakeTensor({2, 2, 3}, kA)}, {"b", MakeTensor({3, 2}, kB)}}, &dims);
  EXPECT_EQ(dims, (Dims{2, 2, 2}));
  EXPECT_EQ(y, kAB);
}

TEST(MatMulLayerTest, ConstantOperandOnEitherSide) {
  Dims dims;
  auto y = RunGraph(ConstantGraph(1), {{"a", MakeTensor({2, 2, 3}, kA)}}, &dims);
  EXPECT_EQ(dims, (Dims{2, 2, 2}));
  EXPECT_EQ(y, kAB);
  y = RunGraph(ConstantGraph(0), {{"b", MakeTensor({3, 2}, kB)}}, &dims);
  EXPECT_EQ(dims, (Dims{2, 2, 2}));
  EXPECT_EQ(y, kAB);
}

TEST(MatMulLayerTest, ProtoAndResourceRoundTrip) {
  for (int pos : {0, 1}) {
    const Graph g = ConstantGraph(pos);
    const std::string proto = SerializeTnnProto(g);
    EXPECT_NE(proto.find("\"MatMul mm 1 1 "), std::string::npos) << proto;
    const std::vector<uint8_t> model = SerializeTnnModel(g);
    Graph g2;
    ASSERT_TRUE(ParseTnnProto(proto, "rewritten", &g2).ok());
    Status s = ParseTnnModel(model, "rewritten", &g2);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_TRUE(g2.Validate().ok());
    EXPECT_EQ(g2.layers[0].Params<MatMulParams>().weight_position, pos);
    EXPECT_EQ(std::get<MatMulResource>(g2.resources.at("mm")).weight,
              std::get<MatMulResource>(g.resources.at("mm")).weight);
    EXPECT_EQ(SerializeTnnProto(g2), proto);
    EXPECT_EQ(SerializeTnnModel(g2), model);
  }
  const Graph g = TwoInputGraph();
  Graph g2;
  ASSERT_TRUE(ParseTnnProto(SerializeTnnProto(g), "rewritten", &g2).ok());
  EXPECT_EQ(g2.layers[0].Params<MatMulParams>().weight_position, -1);
}

TEST(MatMulLayerTest, ShapeErrorsNameTheLayer) {
  Graph g = TwoInputGraph();
  BlobDims dims;
  Status s = InferShapes(g, {{"a", {2, 2, 3}}, {"b", {4, 2}}}, &dims);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("layer 'mm'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("inner dims 3 and 4"), std::string::npos) << s.message();
  s = InferShapes(g, {{"a", {2, 2, 3}}, {"b", {3, 3, 2}}}, &dims);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("do not broadcast"), std::string::npos) << s.message();

  Graph c = ConstantGraph(1);
  c.resources.clear();
  s = c.Validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no MatMul constant operand"), std::string::npos) << s.message();

  Graph bad;
  s = ParseTnnProto("\"1 2 1 4206624772 ,\"\n\"a 2 2 3 0 ,\"\n\" a y ,\"\n\"y ,\"\n\" 1 ,\"\n\"MatMul mm 1 1 a y 2 ,\"\n",
                    "bad.tnnproto", &bad);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("weight_position 2"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace qt
