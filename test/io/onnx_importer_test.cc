// Unit tests of the ONNX importer on models built in memory with the protobuf API: every error path (malformed
// and truncated protobuf, unsupported ops listed at once, missing initializers, dangling inputs, inconsistent
// shapes ...), the rewrites it makes (folding, bias and BatchNorm folding, fusion, names), and the detection
// by content in LoadModel.
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "core/io/model_loader.h"
#include "core/io/onnx_importer.h"
#include "core/io/tnn_io.h"
#include "core/runtime/net.h"

namespace qt {
namespace {

namespace fs = std::filesystem;
using onnx::TensorProto;

constexpr const char* kSource = "unit.onnx";

// A ModelProto under construction. Dims of -1 declare a symbolic dim ("N").
class ModelBuilder {
 public:
  explicit ModelBuilder(int opset = 13, int ir_version = 8) {
    m_.set_ir_version(ir_version);
    auto* o = m_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
  }
  ModelBuilder& Input(const std::string& name, const std::vector<int64_t>& dims, int elem = TensorProto::FLOAT) {
    Value(m_.mutable_graph()->add_input(), name, dims, elem);
    return *this;
  }
  ModelBuilder& Output(const std::string& name, const std::vector<int64_t>& dims = {}) {
    auto* vi = m_.mutable_graph()->add_output();
    vi->set_name(name);
    if (!dims.empty()) Value(vi, name, dims, TensorProto::FLOAT);
    return *this;
  }
  ModelBuilder& Floats(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v) {
    auto* t = m_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (float x : v) t->add_float_data(x);
    return *this;
  }
  ModelBuilder& Ints(const std::string& name, const std::vector<int64_t>& dims, const std::vector<int64_t>& v) {
    auto* t = m_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(TensorProto::INT64);
    for (int64_t d : dims) t->add_dims(d);
    for (int64_t x : v) t->add_int64_data(x);
    return *this;
  }
  onnx::NodeProto& Node(const std::string& op, const std::vector<std::string>& in,
                        const std::vector<std::string>& out, const std::string& name = "") {
    auto* n = m_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& s : in) n->add_input(s);
    for (const auto& s : out) n->add_output(s);
    return *n;
  }
  onnx::ModelProto& proto() { return m_; }
  std::vector<uint8_t> Bytes() const {
    std::string s;
    m_.SerializeToString(&s);
    return std::vector<uint8_t>(s.begin(), s.end());
  }

 private:
  static void Value(onnx::ValueInfoProto* vi, const std::string& name, const std::vector<int64_t>& dims, int elem) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    auto* shape = tt->mutable_shape();
    for (int64_t d : dims) {
      if (d < 0) {
        shape->add_dim()->set_dim_param("N");
      } else {
        shape->add_dim()->set_dim_value(d);
      }
    }
  }
  onnx::ModelProto m_;
};

void SetInt(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
void SetFloat(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
void SetInts(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

Status Import(const ModelBuilder& b, Graph* g) { return ImportOnnxModel(b.Bytes(), kSource, g); }

// Runs a graph with one input and returns its only output.
Tensor RunOne(const Graph& g, const std::vector<float>& x) {
  Net net;
  Status s = net.Init(g);
  EXPECT_TRUE(s.ok()) << s.message();
  Tensor in(net.inputs()[0].dims);
  in.data = x;
  EXPECT_TRUE(net.SetInput(net.inputs()[0].name, in).ok());
  s = net.Forward();
  EXPECT_TRUE(s.ok()) << s.message();
  Tensor out;
  EXPECT_TRUE(net.GetBlob(g.outputs[0], &out).ok());
  return out;
}

void ExpectOneLineError(const Status& s, const std::string& source = kSource) {
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind(source + ": ", 0), 0u) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
}

// 1x1 conv (3 → 2 channels) + bias, ReLU: the smallest useful model.
ModelBuilder TinyConvModel() {
  ModelBuilder b;
  b.Input("x", {1, 3, 2, 2}).Output("y", {1, 2, 2, 2});
  b.Floats("W", {2, 3, 1, 1}, {1, 2, 3, -1, 0.5f, 0.25f}).Floats("B", {2}, {0.5f, -0.5f});
  b.Node("Conv", {"x", "W", "B"}, {"c"}, "conv1");
  b.Node("Relu", {"c"}, {"y"}, "relu1");
  return b;
}

// ---- malformed input ---------------------------------------------------------------------------------------------

TEST(OnnxImporterTest, RandomBytesAreAParseErrorNeverACrash) {
  std::mt19937 rng(7);
  for (size_t len : {0, 1, 2, 7, 64, 1000, 5000}) {
    for (int rep = 0; rep < 20; ++rep) {
      std::vector<uint8_t> bytes(len);
      for (auto& c : bytes) c = static_cast<uint8_t>(rng());
      Graph g;
      const Status s = ImportOnnxModel(bytes, "random.onnx", &g);
      ExpectOneLineError(s, "random.onnx");
      EXPECT_TRUE(g.layers.empty());
      EXPECT_NE(s.message().find("not an ONNX model"), std::string::npos) << s.message();
    }
  }
}

TEST(OnnxImporterTest, EveryTruncationOfAValidModelIsAnError) {
  const std::vector<uint8_t> bytes = TinyConvModel().Bytes();
  Graph g;
  ASSERT_TRUE(ImportOnnxModel(bytes, kSource, &g).ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    Graph t;
    const Status s = ImportOnnxModel(std::vector<uint8_t>(bytes.begin(), bytes.begin() + n), kSource, &t);
    ExpectOneLineError(s);
    EXPECT_TRUE(t.layers.empty()) << "prefix " << n;
  }
}

TEST(OnnxImporterTest, UnsupportedOpsAreListedTogetherWithTheirNodes) {
  ModelBuilder b;
  b.Input("x", {1, 3, 4, 4}).Output("y");
  b.Floats("W", {3, 3, 1, 1}, Random(9, 1));
  b.Node("Erf", {"x"}, {"e1"}, "erf_a");
  b.Node("LSTM", {"e1"}, {"l"}, "lstm");
  b.Node("Erf", {"l"}, {"e2"}, "erf_b");
  b.Node("Reciprocal", {"e2"}, {"g"}, "reciprocal");
  b.Node("Conv", {"g", "e1"}, {"c"}, "conv_runtime_weight");
  b.Node("FusedConv", {"c", "W"}, {"y"}, "fused").set_domain("com.microsoft");
  Graph g;
  const Status s = Import(b, &g);
  ExpectOneLineError(s);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  for (const char* part : {"Erf (nodes 'erf_a', 'erf_b')", "LSTM (node 'lstm')",
                           "Reciprocal on a run-time tensor (only folded when its inputs are constants) (node 'reciprocal')",
                           "Conv with a run-time input 1 (node 'conv_runtime_weight')",
                           "com.microsoft.FusedConv (node 'fused')"}) {
    EXPECT_NE(s.message().find(part), std::string::npos) << part << " missing in: " << s.message();
  }
  EXPECT_TRUE(g.layers.empty());
}

TEST(OnnxImporterTest, MissingInitializerNamesTheNodeAndTheValue) {
  ModelBuilder b;
  b.Input("x", {1, 3, 2, 2}).Output("y");
  b.Node("Conv", {"x", "W"}, {"y"}, "conv1");
  Graph g;
  const Status s = Import(b, &g);
  ExpectOneLineError(s);
  EXPECT_NE(s.message().find("node 'conv1' (Conv) reads 'W'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("missing initializer"), std::string::npos) << s.message();
}

TEST(OnnxImporterTest, DanglingInputFromALaterNodeIsAnError) {
  ModelBuilder b;
  b.Input("x", {1, 3}).Output("y");
  b.Node("Relu", {"later"}, {"y"}, "first");
  b.Node("Relu", {"x"}, {"later"}, "second");
  Graph g;
  const Status s = Import(b, &g);
  ExpectOneLineError(s);
  EXPECT_NE(s.message().find("node 'first' (Relu) reads 'later'"), std::string::npos) << s.message();
}

TEST(OnnxImporterTest, NodesWithoutOutputsOrRedefiningAValueAreErrors) {
  {
    ModelBuilder b;
    b.Input("x", {1, 3}).Output("y");
    b.Node("Relu", {"x"}, {"y"}, "r1");
    b.Node("Relu", {"x"}, {}, "silent");
    Graph g;
    const Status s = Import(b, &g);
    ExpectOneLineError(s);
    EXPECT_NE(s.message().find("node 'silent' (Relu) has no output"), std::string::npos) << s.message();
  }
  {
    ModelBuilder b;
    b.Input("x", {1, 3}).Output("y");
    b.Node("Relu", {"x"}, {"y"}, "r1");
    b.Node("Sigmoid", {"x"}, {"y"}, "r2");
    Graph g;
    const Status s = Import(b, &g);
    ExpectOneLineError(s);
    EXPECT_NE(s.message().find("node 'r2' (Sigmoid) writes 'y', which is already defined"), std::string::npos)
        << s.message();
  }
}

TEST(OnnxImporterTest, ConvWeightNotMatchingTheInputChannels) {
  ModelBuilder b;
  b.Input("x", {1, 3, 8, 8}).Output("y");
  b.Floats("W", {8, 4, 3, 3}, std::vector<float>(8 * 4 * 9, 0.1f));
  b.Node("Conv", {"x", "W"}, {"y"}, "conv1");
  Graph g;
  const Status s = Import(b, &g);
  ExpectOneLineError(s);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("node 'conv1' (Conv)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("has 3 channels"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("expects 4"), std::string::npos) << s.message();
}

TEST(OnnxImporterTest, DeclaredShapeThatDisagreesIsAnError) {
  ModelBuilder b = TinyConvModel();
  b.proto().mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(5);
  Graph g;
  const Status s = Import(b, &g);
  ExpectOneLineError(s);
  EXPECT_NE(s.message().find("value 'y' is declared [1,5,2,2] but computes to [1,2,2,2]"), std::string::npos)
      << s.message();
}

TEST(OnnxImporterTest, MalformedInitializerAndModelLevelErrors) {
  {
    ModelBuilder b = TinyConvModel();
    auto* w = b.proto().mutable_graph()->mutable_initializer(0);
    w->clear_float_data();
    w->set_raw_data(std::string(10, '\0'));
    Graph g;
    const Status s = Import(b, &g);
    ExpectOneLineError(s);
    EXPECT_NE(s.message().find("initializer 'W': raw_data has 10 bytes"), std::string::npos) << s.message();
  }
  {
    ModelBuilder b(18);
    b.Input("x", {1, 3}).Output("y");
    b.Node("Relu", {"x"}, {"y"});
    Graph g;
    const Status s = Import(b, &g);
    ExpectOneLineError(s);
    EXPECT_NE(s.message().find("opset 18"), std::string::npos) << s.message();
  }
  {
    ModelBuilder b;
    b.proto().clear_opset_import();
    b.Input("x", {1, 3}).Output("y");
    b.Node("Relu", {"x"}, {"y"});
    Graph g;
    ExpectOneLineError(Import(b, &g));
  }
  {
    ModelBuilder b;
    b.Input("x", {1, 3}, TensorProto::INT64).Output("y");
    b.Node("Relu", {"x"}, {"y"});
    Graph g;
    const Status s = Import(b, &g);
    ExpectOneLineError(s);
    EXPECT_NE(s.message().find("input 'x' is INT64"), std::string::npos) << s.message();
  }
  {
    ModelBuilder b;
    b.Input("x", {1, 3}).Output("y").Output("shape");
    b.Node("Relu", {"x"}, {"y"});
    b.Node("Shape", {"x"}, {"shape"});
    Graph g;
    const Status s = Import(b, &g);
    ExpectOneLineError(s);
    EXPECT_NE(s.message().find("output 'shape' is a constant"), std::string::npos) << s.message();
  }
  {
    ModelBuilder b;
    b.Input("x", {1, 3}).Output("missing");
    b.Node("Relu", {"x"}, {"y"});
    Graph g;
    const Status s = Import(b, &g);
    ExpectOneLineError(s);
    EXPECT_NE(s.message().find("output 'missing' is produced by no node"), std::string::npos) << s.message();
  }
}

// A float constant read where integers are expected (a shape, a Concat into an int64 tensor) may hold NaN or values
// past int64: converting them was undefined behaviour (found by fuzz_onnx under UBSan). They saturate and the shape
// they make is rejected with the usual error.
TEST(OnnxImporterTest, FloatsPastInt64InIntegerPositionsAreErrors) {
  const float inf = std::numeric_limits<float>::infinity();
  for (const float bad : {1e30f, -1e30f, inf, std::numeric_limits<float>::quiet_NaN()}) {
    {
      ModelBuilder b;
      b.Input("x", {1, 3, 2, 2}).Output("y");
      b.Floats("shape", {2}, {1.f, bad});
      b.Node("Reshape", {"x", "shape"}, {"y"}, "reshape");
      Graph g;
      ExpectOneLineError(Import(b, &g));
    }
    {
      ModelBuilder b;
      b.Input("x", {1, 3, 2, 2}).Output("y");
      b.Ints("one", {1}, {1}).Floats("rest", {1}, {bad});
      auto& cat = b.Node("Concat", {"one", "rest"}, {"shape"});
      SetInt(cat, "axis", 0);
      b.Node("Reshape", {"x", "shape"}, {"y"}, "reshape");
      Graph g;
      ExpectOneLineError(Import(b, &g));
    }
  }
}

// ---- conversions -------------------------------------------------------------------------------------------------

// y = relu(W·x + B) per pixel, for the 1x1 TinyConvModel.
std::vector<float> TinyConvReference(const std::vector<float>& x) {
  const float w[2][3] = {{1, 2, 3}, {-1, 0.5f, 0.25f}}, bias[2] = {0.5f, -0.5f};
  std::vector<float> y(8);
  for (int o = 0; o < 2; ++o) {
    for (int p = 0; p < 4; ++p) {
      float s = bias[o];
      for (int i = 0; i < 3; ++i) s += w[o][i] * x[i * 4 + p];
      y[o * 4 + p] = std::max(s, 0.f);
    }
  }
  return y;
}

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-5f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) EXPECT_NEAR(got[k], want[k], tol * std::max(1.f, std::fabs(want[k]))) << k;
}

TEST(OnnxImporterTest, ConvReluIsOneFusedLayerWithTheModelsOutputName) {
  Graph g;
  const Status s = Import(TinyConvModel(), &g);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(g.layers.size(), 1u);
  EXPECT_EQ(g.layers[0].type, LayerType::kConvolution);
  EXPECT_EQ(g.layers[0].Params<ConvParams>().activation, kActivationRelu);
  EXPECT_EQ(g.outputs, std::vector<std::string>{"y"});
  const auto x = Random(12, 3);
  ExpectNear(RunOne(g, x).data, TinyConvReference(x));
}

TEST(OnnxImporterTest, BiasAddAndBatchNormFoldIntoTheConvolution) {
  // conv (no bias) → Add(per-channel constant) → BatchNormalization → Clip(0, 6): one Convolution with ReLU6.
  ModelBuilder b;
  b.Input("x", {1, 3, 2, 2}).Output("y");
  b.Floats("W", {2, 3, 1, 1}, {1, 2, 3, -1, 0.5f, 0.25f}).Floats("B", {1, 2, 1, 1}, {0.5f, -0.5f});
  b.Floats("gamma", {2}, {2.f, 0.5f}).Floats("beta", {2}, {0.1f, -0.2f}).Floats("mean", {2}, {0.3f, -0.4f});
  b.Floats("var", {2}, {4.f, 0.25f}).Floats("lo", {}, {0.f}).Floats("hi", {}, {6.f});
  b.Node("Conv", {"x", "W"}, {"c"}, "conv1");
  b.Node("Add", {"c", "B"}, {"a"}, "bias");
  auto& bn = b.Node("BatchNormalization", {"a", "gamma", "beta", "mean", "var"}, {"n"}, "bn");
  SetFloat(bn, "epsilon", 0.f);
  b.Node("Clip", {"n", "lo", "hi"}, {"y"}, "clip");
  Graph g;
  const Status s = Import(b, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(g.layers.size(), 1u);
  EXPECT_EQ(g.layers[0].Params<ConvParams>().activation, kActivationRelu6);
  const auto x = Random(12, 4);
  const float w[2][3] = {{1, 2, 3}, {-1, 0.5f, 0.25f}}, bias[2] = {0.5f, -0.5f};
  const float gamma[2] = {2.f, 0.5f}, beta[2] = {0.1f, -0.2f}, mean[2] = {0.3f, -0.4f}, sd[2] = {2.f, 0.5f};
  std::vector<float> want(8);
  for (int o = 0; o < 2; ++o) {
    for (int p = 0; p < 4; ++p) {
      float v = bias[o];
      for (int i = 0; i < 3; ++i) v += w[o][i] * x[i * 4 + p];
      v = (v - mean[o]) / sd[o] * gamma[o] + beta[o];
      want[o * 4 + p] = std::min(std::max(v, 0.f), 6.f);
    }
  }
  ExpectNear(RunOne(g, x).data, want);
}

TEST(OnnxImporterTest, ShapeChainsFoldAndSymbolicBatchBecomesOne) {
  // PyTorch's flatten: Shape → Gather(0) → Unsqueeze → Concat(·, [-1]) → Reshape, then a Gemm.
  ModelBuilder b;
  b.Input("x", {-1, 3, 2, 2}).Output("y");
  b.Floats("W", {2, 3, 1, 1}, {1, 2, 3, -1, 0.5f, 0.25f}).Floats("B", {2}, {0.5f, -0.5f});
  b.Ints("zero", {}, {0}).Ints("minus_one", {1}, {-1}).Ints("axes", {1}, {0});
  b.Floats("fc_w", {8, 3}, Random(24, 5)).Floats("fc_b", {3}, {0.1f, 0.2f, 0.3f});
  b.Node("Conv", {"x", "W", "B"}, {"c"}, "conv1");
  b.Node("Relu", {"c"}, {"r"}, "relu1");
  b.Node("Shape", {"r"}, {"s"});
  auto& gather = b.Node("Gather", {"s", "zero"}, {"n"});
  SetInt(gather, "axis", 0);
  b.Node("Unsqueeze", {"n", "axes"}, {"n1"});
  auto& cat = b.Node("Concat", {"n1", "minus_one"}, {"shape"});
  SetInt(cat, "axis", 0);
  b.Node("Reshape", {"r", "shape"}, {"flat"}, "flatten");
  b.Node("Gemm", {"flat", "fc_w", "fc_b"}, {"y"}, "fc");
  Graph g;
  const Status s = Import(b, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(g.inputs[0].dims, (Dims{1, 3, 2, 2}));
  ASSERT_EQ(g.layers.size(), 3u);
  EXPECT_EQ(g.layers[0].type, LayerType::kConvolution);
  EXPECT_EQ(g.layers[1].type, LayerType::kReshape);
  EXPECT_EQ(g.layers[1].Params<ReshapeParams>().shape, (std::vector<int>{1, 8}));
  EXPECT_EQ(g.layers[2].type, LayerType::kInnerProduct);
  const auto x = Random(12, 6);
  const auto conv = TinyConvReference(x);
  const auto fc_w = Random(24, 5);
  std::vector<float> want = {0.1f, 0.2f, 0.3f};
  for (int n = 0; n < 3; ++n) {
    for (int k = 0; k < 8; ++k) want[n] += conv[k] * fc_w[k * 3 + n];
  }
  const Tensor y = RunOne(g, x);
  EXPECT_EQ(y.dims, (Dims{1, 3}));
  ExpectNear(y.data, want);
}

TEST(OnnxImporterTest, NamesAreSanitizedUniqueAndWritableAsTnn) {
  ModelBuilder b;
  b.Input("data input:0", {1, 3, 2, 2}).Output("out,\"final\"");
  b.Floats("W", {2, 3, 1, 1}, {1, 2, 3, -1, 0.5f, 0.25f}).Floats("B", {2}, {0.5f, -0.5f});
  b.Node("Conv", {"data input:0", "W", "B"}, {"conv out"}, "conv 1");
  b.Node("Relu", {"conv out"}, {"conv_out"}, "conv\t1");
  b.Node("Sigmoid", {"conv_out"}, {"out,\"final\""}, "conv_1");
  Graph g;
  Status s = Import(b, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(g.inputs[0].name, "data_input_0");
  EXPECT_EQ(g.outputs, std::vector<std::string>{"out__final_"});
  std::set<std::string> layer_names;
  for (const auto& l : g.layers) {
    EXPECT_TRUE(layer_names.insert(l.name).second) << l.name;
    std::vector<std::string> names = l.inputs;
    names.insert(names.end(), l.outputs.begin(), l.outputs.end());
    names.push_back(l.name);
    for (const auto& n : names) EXPECT_EQ(n.find_first_of(",\": \t\n"), std::string::npos) << n;
  }
  const fs::path dir = fs::temp_directory_path() / ("onnx_names_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string proto = (dir / "m.tnnproto").string(), model = (dir / "m.tnnmodel").string();
  ASSERT_TRUE(WriteTnnModel(g, proto, model).ok());
  Graph back;
  s = ReadTnnModel(proto, model, &back);
  ASSERT_TRUE(s.ok()) << s.message();
  const auto x = Random(12, 8);
  EXPECT_EQ(RunOne(back, x).data, RunOne(g, x).data);
  fs::remove_all(dir);
}

TEST(OnnxImporterTest, IdentityAndDropoutToAGraphOutputKeepTheOutputName) {
  ModelBuilder b;
  b.Input("x", {1, 3}).Output("y").Output("z");
  b.Node("Relu", {"x"}, {"r"}, "relu");
  b.Node("Identity", {"r"}, {"y"}, "id");
  b.Node("Dropout", {"r"}, {"z"}, "drop");
  Graph g;
  const Status s = Import(b, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(g.outputs, (std::vector<std::string>{"y", "z"}));
  Net net;
  ASSERT_TRUE(net.Init(g).ok());
  Tensor in({1, 3});
  in.data = {-1.f, 0.5f, 2.f};
  ASSERT_TRUE(net.SetInput("x", in).ok());
  ASSERT_TRUE(net.Forward().ok());
  for (const char* name : {"y", "z"}) {
    Tensor t;
    ASSERT_TRUE(net.GetBlob(name, &t).ok());
    EXPECT_EQ(t.data, (std::vector<float>{0.f, 0.5f, 2.f})) << name;
  }
}

// ONNX's transposed convolution, computed directly: full[oc][i·s + ky][j·s + kx] += x[ic][i][j]·W[ic][oc][ky][kx],
// out[o] = full[o + begin] (0 outside), + bias.
std::vector<float> ConvTransposeReference(const std::vector<float>& x, int ic, int h, int w, const std::vector<float>& wt,
                                          int oc, int k, int s, int begin, int oh, int ow,
                                          const std::vector<float>& bias) {
  const int fh = (h - 1) * s + k, fw = (w - 1) * s + k;
  std::vector<float> full(oc * fh * fw, 0.f);
  for (int c = 0; c < ic; ++c)
    for (int o = 0; o < oc; ++o)
      for (int i = 0; i < h; ++i)
        for (int j = 0; j < w; ++j)
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx)
              full[(o * fh + i * s + ky) * fw + j * s + kx] +=
                  x[(c * h + i) * w + j] * wt[((c * oc + o) * k + ky) * k + kx];
  std::vector<float> out(oc * oh * ow);
  for (int o = 0; o < oc; ++o)
    for (int y = 0; y < oh; ++y)
      for (int z = 0; z < ow; ++z) {
        const int fy = y + begin, fz = z + begin;
        const float v = fy < fh && fz < fw ? full[(o * fh + fy) * fw + fz] : 0.f;
        out[(o * oh + y) * ow + z] = v + bias[o];
      }
  return out;
}

TEST(OnnxImporterTest, ConvTransposeWithOutputPaddingUsesPadType3) {
  // PyTorch's ConvTranspose2d(2, 3, kernel 3, stride 2, padding 1, output_padding 1): 3x3 → 6x6.
  ModelBuilder b;
  const auto wt = Random(2 * 3 * 9, 9);
  const std::vector<float> bias = {0.1f, -0.2f, 0.3f};
  b.Input("x", {1, 2, 3, 3}).Output("y", {1, 3, 6, 6});
  b.Floats("W", {2, 3, 3, 3}, wt).Floats("B", {3}, bias);
  auto& n = b.Node("ConvTranspose", {"x", "W", "B"}, {"y"}, "up");
  SetInts(n, "strides", {2, 2});
  SetInts(n, "pads", {1, 1, 1, 1});
  SetInts(n, "output_padding", {1, 1});
  Graph g;
  const Status s = Import(b, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(g.layers.size(), 1u);
  EXPECT_EQ(g.layers[0].type, LayerType::kDeconvolution);
  EXPECT_EQ(g.layers[0].Params<ConvParams>().pad_type, 3);
  const auto x = Random(18, 10);
  ExpectNear(RunOne(g, x).data, ConvTransposeReference(x, 2, 3, 3, wt, 3, 3, 2, 1, 6, 6, bias));
}

TEST(OnnxImporterTest, AsymmetricMaxPoolPadsReplicateTheEdge) {
  // All inputs negative: a zero constant pad would win the maxima at the border.
  ModelBuilder b;
  b.Input("x", {1, 1, 4, 4}).Output("y", {1, 1, 2, 2});
  auto& n = b.Node("MaxPool", {"x"}, {"y"}, "pool");
  SetInts(n, "kernel_shape", {3, 3});
  SetInts(n, "strides", {2, 2});
  SetInts(n, "pads", {1, 1, 0, 0});
  Graph g;
  const Status s = Import(b, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(g.layers.size(), 2u);
  EXPECT_EQ(g.layers[0].type, LayerType::kPad);
  EXPECT_EQ(g.layers[0].Params<PadParams>().type, 2);
  std::vector<float> x(16);
  for (int k = 0; k < 16; ++k) x[k] = -1.f - static_cast<float>((k * 7) % 16);
  std::vector<float> want;
  for (int oy = 0; oy < 2; ++oy) {
    for (int ox = 0; ox < 2; ++ox) {
      float m = -1e30f;
      for (int y = oy * 2 - 1; y < oy * 2 + 2; ++y)
        for (int z = ox * 2 - 1; z < ox * 2 + 2; ++z)
          if (y >= 0 && y < 4 && z >= 0 && z < 4) m = std::max(m, x[y * 4 + z]);
      want.push_back(m);
    }
  }
  EXPECT_EQ(RunOne(g, x).data, want);
}

TEST(OnnxImporterTest, OldSoftmaxOverSeveralAxesIsReshapeSoftmaxReshape) {
  ModelBuilder b(11);
  b.Input("x", {1, 2, 3}).Output("y");
  b.Node("Softmax", {"x"}, {"y"}, "sm");  // opset < 13: axis 1 over all of [2, 3]
  Graph g;
  const Status s = Import(b, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(g.layers.size(), 3u);
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  double sum = 0;
  for (float v : x) sum += std::exp(v);
  std::vector<float> want;
  for (float v : x) want.push_back(static_cast<float>(std::exp(v) / sum));
  const Tensor y = RunOne(g, x);
  EXPECT_EQ(y.dims, (Dims{1, 2, 3}));
  ExpectNear(y.data, want);
}

TEST(OnnxImporterTest, OpsetOneModelWithConstantNodesAndLegacyBroadcast) {
  // The CNTK mnist pattern: weights in Constant nodes, Add with broadcast=1 axis=1, Reshape with a shape attribute.
  ModelBuilder b(1, 3);
  b.Input("x", {1, 3, 2, 2}).Output("y");
  auto constant = [&](const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v) {
    auto& n = b.Node("Constant", {}, {name});
    auto* a = n.add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    auto* t = a->mutable_t();
    t->set_data_type(TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (float f : v) t->add_float_data(f);
  };
  constant("W", {2, 3, 1, 1}, {1, 2, 3, -1, 0.5f, 0.25f});
  constant("B", {2}, {0.5f, -0.5f});
  b.Node("Conv", {"x", "W"}, {"c"}, "conv");
  auto& add = b.Node("Add", {"c", "B"}, {"a"}, "plus");
  SetInt(add, "broadcast", 1);
  SetInt(add, "axis", 1);
  b.Node("Relu", {"a"}, {"r"}, "relu");
  auto& reshape = b.Node("Reshape", {"r"}, {"y"}, "reshape");
  SetInts(reshape, "shape", {1, 8});
  Graph g;
  const Status s = Import(b, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(g.layers.size(), 2u);  // the Add became the conv's bias, the ReLU is fused
  const auto x = Random(12, 11);
  ExpectNear(RunOne(g, x).data, TinyConvReference(x));
}

TEST(OnnxImporterTest, MatMulWithAConstantIsAnInnerProductOnlyFor2dInputs) {
  const auto w = Random(6, 12);  // [3, 2]
  for (const std::vector<int64_t>& in_dims : {std::vector<int64_t>{4, 3}, std::vector<int64_t>{2, 2, 3}}) {
    ModelBuilder b;
    b.Input("x", in_dims).Output("y");
    b.Floats("W", {3, 2}, w).Floats("bias", {2}, {0.5f, -1.f});
    b.Node("MatMul", {"x", "W"}, {"m"}, "mm");
    b.Node("Add", {"m", "bias"}, {"y"}, "add");
    Graph g;
    const Status s = Import(b, &g);
    ASSERT_TRUE(s.ok()) << s.message();
    if (in_dims.size() == 2) {
      ASSERT_EQ(g.layers.size(), 1u);  // the bias Add folds into the InnerProduct
      EXPECT_EQ(g.layers[0].type, LayerType::kInnerProduct);
    } else {
      ASSERT_EQ(g.layers.size(), 2u);
      EXPECT_EQ(g.layers[0].type, LayerType::kMatMul);
      EXPECT_EQ(g.layers[0].Params<MatMulParams>().weight_position, 1);
    }
    const auto x = Random(12, 13);
    std::vector<float> want(8);
    for (int r = 0; r < 4; ++r) {
      for (int n = 0; n < 2; ++n) {
        float v = n == 0 ? 0.5f : -1.f;
        for (int k = 0; k < 3; ++k) v += x[r * 3 + k] * w[k * 2 + n];
        want[r * 2 + n] = v;
      }
    }
    const Tensor y = RunOne(g, x);
    EXPECT_EQ(y.dims, (in_dims.size() == 2 ? Dims{4, 2} : Dims{2, 2, 2}));
    ExpectNear(y.data, want);
  }
}

TEST(OnnxImporterTest, OpsetFiveCastNamesItsTargetType) {
  ModelBuilder b(5, 3);
  b.Input("x", {1, 4}).Output("y");
  b.Floats("k", {4}, {1.5f, -2.7f, 3.2f, 0.4f});
  auto& to_int = b.Node("Cast", {"k"}, {"ki"}, "to_int");
  auto* a = to_int.add_attribute();
  a->set_name("to");
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s("INT32");
  auto& to_float = b.Node("Cast", {"ki"}, {"kf"}, "to_float");
  a = to_float.add_attribute();
  a->set_name("to");
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s("FLOAT");
  b.Node("Add", {"x", "kf"}, {"y"}, "add");
  Graph g;
  const Status s = Import(b, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(RunOne(g, {0, 0, 0, 0}).data, (std::vector<float>{1, -2, 3, 0}));
}

// ---- LoadModel: format by content ------------------------------------------------------------------------------

// SSD-style box decoding on run-time tensors, as UltraFace's plain export does it: Slice, Mul by a constant, Exp,
// Concat with a constant.
TEST(OnnxImporterTest, RunTimeSliceExpAndConcatWithAConstant) {
  ModelBuilder b(9);
  b.Input("x", {1, 3, 4}).Output("y");
  b.Floats("k", {1, 3, 1}, {7, 8, 9});
  auto& lo = b.Node("Slice", {"x"}, {"a"}, "slice_lo");
  SetInts(lo, "axes", {2});
  SetInts(lo, "starts", {0});
  SetInts(lo, "ends", {2});
  auto& hi = b.Node("Slice", {"x"}, {"h"}, "slice_hi");
  SetInts(hi, "axes", {2});
  SetInts(hi, "starts", {2});
  SetInts(hi, "ends", {INT64_MAX});
  b.Node("Exp", {"h"}, {"e"}, "exp");
  auto& cat = b.Node("Concat", {"a", "e", "k"}, {"y"}, "cat");
  SetInt(cat, "axis", 2);
  Graph g;
  const Status s = Import(b, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  const std::vector<float> x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  const Tensor y = RunOne(g, x);
  EXPECT_EQ(y.dims, (Dims{1, 3, 5}));
  std::vector<float> want;
  for (int r = 0; r < 3; ++r) {
    want.push_back(x[4 * r]);
    want.push_back(x[4 * r + 1]);
    want.push_back(std::exp(x[4 * r + 2]));
    want.push_back(std::exp(x[4 * r + 3]));
    want.push_back(7.f + r);
  }
  ExpectNear(y.data, want);
  // The slices are StridedSliceV2 with TNN's ends (the last element's end is the axis size), the constant a Gather
  // of its resource data.
  int slices = 0, gathers = 0;
  for (const auto& l : g.layers) {
    slices += l.type == LayerType::kStridedSliceV2;
    gathers += l.type == LayerType::kGather;
  }
  EXPECT_EQ(slices, 2);
  EXPECT_EQ(gathers, 1);
}

TEST(OnnxImporterTest, PowNeedsAConstantScalarExponent) {
  ModelBuilder b;
  b.Input("x", {1, 4}).Input("p", {1, 4}).Output("y");
  b.Node("Pow", {"x", "p"}, {"y"}, "pow");
  Graph g;
  Status s = Import(b, &g);
  ExpectOneLineError(s);
  EXPECT_NE(s.message().find("Pow with a run-time input 1"), std::string::npos) << s.message();
  ModelBuilder c;
  c.Input("x", {1, 4}).Output("y").Floats("p", {}, {2.f});
  c.Node("Pow", {"x", "p"}, {"y"}, "pow");
  s = Import(c, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(g.layers.size(), 1u);
  EXPECT_EQ(g.layers[0].type, LayerType::kPower);
  ExpectNear(RunOne(g, {1, -2, 3, 0.5f}).data, {1, 4, 9, 0.25f});
}

class LoadModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("onnx_load_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return path;
  }
  fs::path dir_;
};

TEST_F(LoadModelTest, OnnxByContentWhateverTheExtension) {
  const std::string path = Write("model.bin", TinyConvModel().Bytes());
  Graph g;
  const Status s = LoadModel(path, "", &g);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(g.layers.size(), 1u);
}

TEST_F(LoadModelTest, ErrorsNameTheFileAndTheRule) {
  const std::string onnx = Write("model.onnx", TinyConvModel().Bytes());
  Graph g;
  Status s = LoadModel(onnx, "weights.tnnmodel", &g);
  ExpectOneLineError(s, onnx);
  EXPECT_NE(s.message().find("given with -p alone"), std::string::npos) << s.message();

  const std::string junk = Write("junk.onnx", {0xff, 0x00, 0x13, 0x37, 0x42});
  s = LoadModel(junk, "", &g);
  ExpectOneLineError(s, junk);
  EXPECT_NE(s.message().find("not an ONNX model"), std::string::npos) << s.message();

  const std::string text = "\"1 2 1 4206624772 ,\"\n\"x 2 1 3 0 ,\"\n\" x y ,\"\n\"y ,\"\n\" 1 ,\"\n\"ReLU r 1 1 x y ,\"\n";
  const std::string tnn = Write("m.tnnproto", std::vector<uint8_t>(text.begin(), text.end()));
  s = LoadModel(tnn, "", &g);
  ExpectOneLineError(s, tnn);
  EXPECT_NE(s.message().find("needs its .tnnmodel file too (-m)"), std::string::npos) << s.message();

  s = LoadModel((dir_ / "absent.onnx").string(), "", &g);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot open"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace qt
