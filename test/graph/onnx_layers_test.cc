// The layer kinds ONNX graphs need on run-time tensors: Exp, Log, Sqrt, Abs, Neg, Elu, Softplus, Swish, Power,
// StridedSliceV2, ReduceMean/Max/Min/Sum, Gather. TNN param round trips (parse → write → parse gives the same
// params and the same tokens), TNN's defaults for short lines, the Gather resource round trip, and the float
// executors on hand-computed cases.
#include <cmath>
#include <climits>

#include <gtest/gtest.h>

#include "core/graph/shape_inference.h"
#include "core/io/tnn_io.h"
#include "core/runtime/net.h"

namespace qt {
namespace {

std::vector<std::string> Tokens(const std::string& line) {
  std::vector<std::string> t;
  std::string cur;
  for (char ch : line) {
    if (ch == ' ') {
      if (!cur.empty()) t.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) t.push_back(cur);
  return t;
}

// Parses the tokens, writes them, parses the written tokens: the same params and, written again, the same tokens.
std::vector<std::string> RoundTrip(const std::string& type_str, const std::string& params) {
  LayerType type;
  EXPECT_TRUE(LayerTypeFromString(type_str, &type)) << type_str;
  LayerParams a;
  Status s = ParseLayerParams(type, Tokens(params), &a);
  EXPECT_TRUE(s.ok()) << type_str << " '" << params << "': " << s.message();
  std::vector<std::string> written;
  WriteLayerParams(type, a, &written);
  LayerParams b;
  s = ParseLayerParams(type, written, &b);
  EXPECT_TRUE(s.ok()) << type_str << ": " << s.message();
  EXPECT_EQ(a.index(), b.index()) << type_str;
  std::vector<std::string> again;
  WriteLayerParams(type, b, &again);
  EXPECT_EQ(written, again) << type_str;
  return written;
}

std::string Join(const std::vector<std::string>& t) {
  std::string s;
  for (const auto& x : t) s += (s.empty() ? "" : " ") + x;
  return s;
}

TEST(OnnxLayersTest, TypeNamesAndIdsAreTnns) {
  const std::vector<std::pair<const char*, int>> want = {
      {"Exp", 141},      {"Log", 184},        {"Sqrt", 130},      {"Abs", 41},         {"Neg", 70},
      {"Elu", 132},      {"Softplus", 174},   {"Swish", 401},     {"Power", 69},       {"StridedSliceV2", 306},
      {"ReduceMean", 169}, {"ReduceMax", 177}, {"ReduceMin", 192}, {"ReduceSum", 133}, {"Reduce_Sum", 133},
      {"Gather", 104}};
  for (const auto& [name, id] : want) {
    LayerType t;
    ASSERT_TRUE(LayerTypeFromString(name, &t)) << name;
    EXPECT_EQ(TnnLayerTypeId(t), id) << name;
    LayerType by_id;
    ASSERT_TRUE(LayerTypeFromTnnId(id, &by_id)) << name;
    EXPECT_EQ(by_id, t) << name;
  }
}

TEST(OnnxLayersTest, ParamsRoundTrip) {
  for (const char* t : {"Exp", "Log", "Sqrt", "Abs", "Neg", "Softplus", "Swish"}) EXPECT_EQ(Join(RoundTrip(t, "")), "");
  EXPECT_EQ(Join(RoundTrip("Elu", "0.5")), "0.5");
  EXPECT_EQ(Join(RoundTrip("Elu", "")), "1");  // TNN's default alpha
  EXPECT_EQ(Join(RoundTrip("Power", "2 0.5 -1")), "2 0.5 -1");
  EXPECT_EQ(Join(RoundTrip("Power", "3")), "3 1 0");  // scale 1, shift 0 by default
  EXPECT_EQ(Join(RoundTrip("StridedSliceV2", "2 0 1 2 2147483647 -2147483648 2 1 2 2 1 -1")),
            "2 0 1 2 2147483647 -2147483648 2 1 2 2 1 -1");
  EXPECT_EQ(Join(RoundTrip("ReduceMean", "1 2 3")), "1 2 3");
  EXPECT_EQ(Join(RoundTrip("ReduceSum", "0")), "0");
  EXPECT_EQ(Join(RoundTrip("ReduceMax", "0 -1")), "0 -1");
  EXPECT_EQ(Join(RoundTrip("Gather", "1 0 1")), "1 0 1");
  EXPECT_EQ(Join(RoundTrip("Gather", "")), "0 0 1");  // TNN: axis 0, indices in the resource
}

TEST(OnnxLayersTest, ParamErrors) {
  LayerParams p;
  // Lists of different lengths.
  EXPECT_FALSE(ParseLayerParams(LayerType::kStridedSliceV2, Tokens("1 0 2 1 2 1 2 1 1"), &p).ok());
  // A list shorter than its count.
  EXPECT_FALSE(ParseLayerParams(LayerType::kStridedSliceV2, Tokens("2 0"), &p).ok());
  EXPECT_FALSE(ParseLayerParams(LayerType::kReduceMean, Tokens(""), &p).ok());  // keep_dims is required
  EXPECT_FALSE(ParseLayerParams(LayerType::kElu, Tokens("x"), &p).ok());
}

Tensor MakeTensor(Dims d, std::vector<float> v) {
  Tensor t(std::move(d));
  t.data = std::move(v);
  return t;
}

// One layer on input "x" [dims] writing "y".
Graph OneLayer(const std::string& line, const Dims& dims) {
  std::string in = "x " + std::to_string(dims.size());
  for (int d : dims) in += " " + std::to_string(d);
  const std::string proto = "\"1 2 1 4206624772 ,\"\n\"" + in + " 0 ,\"\n\" x y ,\"\n\"y ,\"\n\" 1 ,\"\n\"" + line +
                            " ,\"\n";
  Graph g;
  Status s = ParseTnnProto(proto, "one.tnnproto", &g);
  EXPECT_TRUE(s.ok()) << s.message() << "\n" << proto;
  return g;
}

std::vector<float> RunLayer(const Graph& g, const Tensor& x, Dims* out_dims) {
  Net net;
  Status s = net.Init(g);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return {};
  EXPECT_TRUE(net.SetInput("x", x).ok());
  s = net.Forward();
  EXPECT_TRUE(s.ok()) << s.message();
  Tensor y;
  EXPECT_TRUE(net.GetBlob("y", &y).ok());
  *out_dims = y.dims;
  return y.data;
}

TEST(OnnxLayersTest, ElementwiseMath) {
  const Tensor x = MakeTensor({1, 4}, {-2.f, -0.5f, 1.f, 4.f});
  Dims d;
  struct Case {
    std::string line;
    std::vector<float> want;
  };
  const std::vector<Case> cases = {
      {"Exp e 1 1 x y", {std::exp(-2.f), std::exp(-0.5f), std::exp(1.f), std::exp(4.f)}},
      {"Abs e 1 1 x y", {2.f, 0.5f, 1.f, 4.f}},
      {"Neg e 1 1 x y", {2.f, 0.5f, -1.f, -4.f}},
      {"Elu e 1 1 x y 0.5", {0.5f * (std::exp(-2.f) - 1), 0.5f * (std::exp(-0.5f) - 1), 1.f, 4.f}},
      {"Power e 1 1 x y 2 0.5 1", {0.f, 0.5625f, 2.25f, 9.f}},  // (0.5x + 1)^2
      {"Swish e 1 1 x y", {-2.f / (1 + std::exp(2.f)), -0.5f / (1 + std::exp(0.5f)), 1.f / (1 + std::exp(-1.f)),
                           4.f / (1 + std::exp(-4.f))}},
      {"Softplus e 1 1 x y", {std::log1p(std::exp(-2.f)), std::log1p(std::exp(-0.5f)), std::log1p(std::exp(1.f)),
                              std::log1p(std::exp(4.f))}},
  };
  for (const auto& c : cases) {
    const auto y = RunLayer(OneLayer(c.line, {1, 4}), x, &d);
    ASSERT_EQ(y.size(), 4u) << c.line;
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i], c.want[i], 1e-6f * (1 + std::fabs(c.want[i]))) << c.line << " " << i;
  }
  const Tensor pos = MakeTensor({1, 2}, {4.f, 0.25f});
  auto y = RunLayer(OneLayer("Sqrt e 1 1 x y", {1, 2}), pos, &d);
  EXPECT_EQ(y, (std::vector<float>{2.f, 0.5f}));
  y = RunLayer(OneLayer("Log e 1 1 x y", {1, 2}), pos, &d);
  EXPECT_NEAR(y[0], std::log(4.f), 1e-6f);
}

// x [2, 3, 4] holding 0..23.
Tensor Iota234() {
  std::vector<float> v(24);
  for (int i = 0; i < 24; ++i) v[i] = static_cast<float>(i);
  return MakeTensor({2, 3, 4}, v);
}

TEST(OnnxLayersTest, StridedSliceV2) {
  Dims d;
  // Axis 2 from 1 to the end by 2, axis 1 from the last backwards to the start (INT_MIN).
  auto y = RunLayer(OneLayer("StridedSliceV2 s 1 1 x y 2 2 1 2 -2147483648 2147483647 2 1 2 2 -1 2", {2, 3, 4}), Iota234(),
               &d);
  EXPECT_EQ(d, (Dims{2, 3, 2}));
  EXPECT_EQ(y, (std::vector<float>{9, 11, 5, 7, 1, 3, 21, 23, 17, 19, 13, 15}));
  // A negative begin counts from the back; an end past the axis stops at it.
  y = RunLayer(OneLayer("StridedSliceV2 s 1 1 x y 1 -1 1 100 1 0 1 1", {2, 3, 4}), Iota234(), &d);
  EXPECT_EQ(d, (Dims{1, 3, 4}));
  EXPECT_EQ(y.front(), 12.f);
  EXPECT_EQ(y.back(), 23.f);
}

TEST(OnnxLayersTest, Reductions) {
  Dims d;
  auto y = RunLayer(OneLayer("ReduceSum r 1 1 x y 1 -1", {2, 3, 4}), Iota234(), &d);
  EXPECT_EQ(d, (Dims{2, 3, 1}));
  EXPECT_EQ(y, (std::vector<float>{6, 22, 38, 54, 70, 86}));
  y = RunLayer(OneLayer("ReduceMean r 1 1 x y 0 0 2", {2, 3, 4}), Iota234(), &d);
  EXPECT_EQ(d, (Dims{3}));
  EXPECT_EQ(y, (std::vector<float>{7.5f, 11.5f, 15.5f}));
  y = RunLayer(OneLayer("ReduceMax r 1 1 x y 1 1", {2, 3, 4}), Iota234(), &d);
  EXPECT_EQ(d, (Dims{2, 1, 4}));
  EXPECT_EQ(y, (std::vector<float>{8, 9, 10, 11, 20, 21, 22, 23}));
  y = RunLayer(OneLayer("ReduceMin r 1 1 x y 1", {2, 3, 4}), Iota234(), &d);  // no axes: all of them
  EXPECT_EQ(d, (Dims{1, 1, 1}));
  EXPECT_EQ(y, (std::vector<float>{0}));
}

Graph GatherGraph(const std::string& params, const GatherResource& r) {
  Graph g = OneLayer("Gather g 1 1 x y " + params, {2, 3, 4});
  g.resources["g"] = r;
  return g;
}

TEST(OnnxLayersTest, GatherOfConstantIndices) {
  GatherResource r;
  r.has_indices = true;
  r.indices = RawBuffer::FromInt32({2, 0}, {2});
  Dims d;
  auto y = RunLayer(GatherGraph("1 0 1", r), Iota234(), &d);
  EXPECT_EQ(d, (Dims{2, 2, 4}));
  EXPECT_EQ(y, (std::vector<float>{8, 9, 10, 11, 0, 1, 2, 3, 20, 21, 22, 23, 12, 13, 14, 15}));
  // A scalar index (no dims) drops the axis.
  r.indices = RawBuffer::FromInt32({3});
  y = RunLayer(GatherGraph("-1 0 1", r), Iota234(), &d);
  EXPECT_EQ(d, (Dims{2, 3}));
  EXPECT_EQ(y, (std::vector<float>{3, 7, 11, 15, 19, 23}));
}

TEST(OnnxLayersTest, GatherOfResourceDataIsAConstant) {
  GatherResource r;
  r.has_data = true;
  r.data = RawBuffer::FromFloat({1, 2, 3, 4, 5, 6}, {3, 2});
  r.has_indices = true;
  r.indices = RawBuffer::FromInt32({0, 1, 2}, {3});
  Dims d;
  const auto y = RunLayer(GatherGraph("0 1 1", r), Iota234(), &d);
  EXPECT_EQ(d, (Dims{3, 2}));
  EXPECT_EQ(y, (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(OnnxLayersTest, GatherResourceRoundTrip) {
  GatherResource r;
  r.has_data = true;
  r.data = RawBuffer::FromFloat({1, 2, 3, 4, 5, 6}, {3, 2});
  r.has_indices = true;
  r.indices = RawBuffer::FromInt32({2, 0}, {2});
  for (const std::string params : {"0 1 1", "1 0 1"}) {
    GatherResource res = r;
    if (params == "1 0 1") res.has_data = false, res.data = RawBuffer();
    const Graph g = GatherGraph(params, res);
    const std::string proto = SerializeTnnProto(g);
    EXPECT_NE(proto.find("\"Gather g 1 1 x y " + params + " ,\""), std::string::npos) << proto;
    const std::vector<uint8_t> model = SerializeTnnModel(g);
    Graph g2;
    ASSERT_TRUE(ParseTnnProto(proto, "rewritten", &g2).ok());
    Status s = ParseTnnModel(model, "rewritten", &g2);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_TRUE(g2.Validate().ok());
    const auto& r2 = std::get<GatherResource>(g2.resources.at("g"));
    EXPECT_EQ(r2.has_data, res.has_data);
    EXPECT_EQ(r2.data, res.data);
    EXPECT_TRUE(r2.has_indices);
    EXPECT_EQ(r2.indices, res.indices);
    EXPECT_EQ(SerializeTnnProto(g2), proto);
    EXPECT_EQ(SerializeTnnModel(g2), model);
  }
}

TEST(OnnxLayersTest, GatherWithoutIndicesIsRefused) {
  GatherResource r;
  const Graph g = GatherGraph("0 0 1", r);
  BlobDims dims;
  Status s = InferShapes(g, {}, &dims);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("layer 'g'"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace qt
