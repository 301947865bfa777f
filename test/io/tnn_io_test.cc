// Unit tests of the TNN reader and writer on models built in memory: round trips of every supported layer type,
// shape inference on the parsed graph, and one test per malformed input (tnn_format.md §A-B).
#include <cstdint>
#include <cstring>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/base/data_type.h"
#include "core/graph/shape_inference.h"
#include "core/io/tnn_io.h"
#include "test/io/graph_compare.h"

namespace qt {
namespace {

namespace fs = std::filesystem;

constexpr const char* kProtoSource = "unit.tnnproto";
constexpr const char* kModelSource = "unit.tnnmodel";

// Little-endian .tnnmodel bytes, written independently of the reader under test (§B, §B.1).
class ModelBytes {
 public:
  ModelBytes& U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<uint8_t>((v >> (8 * i)) & 0xFF));
    return *this;
  }
  ModelBytes& I32(int32_t v) { return U32(static_cast<uint32_t>(v)); }
  ModelBytes& Str(const std::string& s) {
    I32(static_cast<int32_t>(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  // A resource header: layer type id, type string, name.
  ModelBytes& Header(int32_t type_id, const std::string& type_str, const std::string& name) {
    return I32(type_id).Str(type_str).Str(name);
  }
  // A v2 RawBuffer whose byte_length is the data size.
  ModelBytes& Raw(DataType dtype, const std::vector<int32_t>& dims, const std::vector<uint8_t>& data) {
    U32(kTnnMagicV2).I32(static_cast<int32_t>(dtype)).I32(static_cast<int32_t>(data.size()));
    if (data.empty()) return *this;
    I32(static_cast<int32_t>(dims.size()));
    for (int32_t d : dims) I32(d);
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return *this;
  }
  ModelBytes& Floats(const std::vector<float>& v, const std::vector<int32_t>& dims = {}) {
    std::vector<uint8_t> data;
    for (float f : v) {
      uint32_t u = 0;
      std::memcpy(&u, &f, 4);
      for (int i = 0; i < 4; ++i) data.push_back(static_cast<uint8_t>((u >> (8 * i)) & 0xFF));
    }
    return Raw(DataType::kFloat, dims, data);
  }
  ModelBytes& Halves(const std::vector<float>& v, const std::vector<int32_t>& dims = {}) {
    std::vector<uint8_t> data;
    for (float f : v) {
      const uint16_t h = FloatToHalf(f);
      data.push_back(static_cast<uint8_t>(h & 0xFF));
      data.push_back(static_cast<uint8_t>(h >> 8));
    }
    return Raw(DataType::kHalf, dims, data);
  }
  ModelBytes& Int8s(const std::vector<int8_t>& v, const std::vector<int32_t>& dims = {}) {
    return Raw(DataType::kInt8, dims, std::vector<uint8_t>(v.begin(), v.end()));
  }
  ModelBytes& Int32s(const std::vector<int32_t>& v, const std::vector<int32_t>& dims = {}) {
    ModelBytes tmp;
    for (int32_t x : v) tmp.I32(x);
    return Raw(DataType::kInt32, dims, tmp.bytes());
  }
  // A blob scale resource "<blob>_scale_data_": zero points, scales, zero bias (§B.2).
  ModelBytes& BlobScale(const std::string& blob, const std::vector<float>& scales) {
    Header(kTnnBlobScaleTypeId, "BlobScale", blob + kBlobScaleSuffix);
    Int8s(std::vector<int8_t>(scales.size(), 0));
    Floats(scales);
    return Int32s(std::vector<int32_t>(scales.size(), 0));
  }
  ModelBytes& Append(const ModelBytes& o) {
    bytes_.insert(bytes_.end(), o.bytes_.begin(), o.bytes_.end());
    return *this;
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// Deterministic, distinct values (exactly representable in half precision when small).
std::vector<float> Values(int n, float step = 0.125f) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = step * static_cast<float>((i % 17) - 8);
  return v;
}

// A .tnnproto text: every segment quoted on its own line, as TNN writes it.
std::string MakeProto(const std::string& inputs, const std::string& blobs, const std::string& outputs,
                      const std::vector<std::string>& layers, uint32_t magic = kTnnMagicV2) {
  std::string s = "\"1 1 1 " + std::to_string(magic) + " ,\"\n";
  s += "\"" + inputs + " ,\"\n";
  s += "\" " + blobs + " ,\"\n";
  s += "\"" + outputs + " ,\"\n";
  s += "\" " + std::to_string(layers.size()) + " ,\"\n";
  for (const auto& l : layers) s += "\"" + l + " ,\"\n";
  return s;
}

// Every layer type the tool supports, with the resources they need; input data [1,3,8,8].
const std::vector<std::string>& AllTypeLayers() {
  static const std::vector<std::string> layers = {
      "Convolution conv1 1 1 data c1 1 3 8 3 3 1 1 1 1 1 -1 1 1 0",
      "Convolution dwconv 1 1 c1 c2 8 1 8 3 3 1 1 2 2 0 -1 2 2 0",
      "Convolution conv_same 1 1 c2 c3 1 8 4 3 3 2 2 0 0 0 0 1 1 0",
      "Convolution conv_valid 1 1 c2 c4 1 8 4 3 3 1 1 0 0 0 1 1 1 0",
      "Deconvolution deconv 1 1 c3 d1 1 4 4 2 2 2 2 0 0 1 -1 1 1 0",
      "Pooling pool_max 1 1 c1 p1 0 3 3 2 2 0 0 -1 -1 -1 1 0 0 0",
      "Pooling pool_avg 1 1 c1 p2 1 2 2 2 2 0 0 -1 -1 -1 0 0 0 0",
      "Pooling pool_global 1 1 c1 p3 1 0 0 1 1 0 0 -1 -1 -1 0 0 0 0",
      "ReLU relu 1 1 c1 r1",
      "Relu relu_alias 1 1 r1 r2",
      "ReLU6 relu6 1 1 r2 r3",
      "Clip clip 1 1 r3 r4 0 6",
      "PReLU prelu 1 1 r4 r5 0 0",
      "Sigmoid sigmoid 1 1 r5 r6",
      "Tanh tanh 1 1 r6 r7",
      "HardSwish hswish 1 1 r7 r8 0.2 0.5",
      "HardSigmoid hsigmoid 1 1 r8 r9 0.2 0.5",
      "Add add2 2 1 r9 c1 a1",
      "Add add_const 1 1 a1 a2 1",
      "Mul mul 2 1 a2 r9 m1",
      "Sub sub 2 1 m1 r1 s1",
      "Div div 2 1 s1 r2 dv1",
      "Concat concat 2 1 dv1 c1 cat 1",
      "Softmax softmax 1 1 cat sm 1",
      "SoftmaxCaffe softmax_caffe 1 1 sm sm2 1",
      "BatchNormCxx bn 1 1 cat bn1",
      "Scale scale 1 1 bn1 sc 1 1 1",
      "Pad pad 1 1 sc pd 0 0 1 1 2 2 0 0 0 0",
      "Upsample upsample 1 1 pd up 1 2 2 0 0 0",
      "SplitV split 1 2 cat sp1 sp2 1 2 10 6",
      "Dropout dropout 1 1 sp1 dr",
      "Permute permute 1 1 dr pm 4 0 2 3 1",
      "Reshape reshape 1 1 pm rs 0 4 4 0 0 -1 4 0",
      "Flatten flatten 1 1 rs fl 1",
      "InnerProduct fc 1 1 p3 fc1 10 1 0 1",
      "QuantizedConvolution qconv 1 1 data q1 1 3 4 1 1 1 1 0 0 1 -1 1 1 0",
      "Convolution hconv 1 1 data h1 1 3 2 1 1 1 1 0 0 1 -1 1 1 0",
  };
  return layers;
}

const char* kAllTypeBlobs =
    "a1 a2 bn1 c1 c2 c3 c4 cat d1 data div dr dv1 fc1 fl h1 m1 p1 p2 p3 pd pm q1 r1 r2 r3 r4 r5 r6 r7 r8 r9 rs s1 "
    "sc sm sm2 sp1 sp2 up";
const char* kAllTypeOutputs = "c4 d1 fc1 fl h1 p1 p2 q1 sm2 sp2 up";

ModelBytes ConvResourceBytes(const std::string& name, const std::vector<int32_t>& filter_dims, int bias) {
  int n = 1;
  for (int d : filter_dims) n *= d;
  ModelBytes m;
  m.Header(1, "Convolution", name).Str(name).I32(bias ? 1 : 0).Floats(Values(n), filter_dims);
  if (bias) m.Floats(Values(bias, 0.5f), {bias});
  return m;
}

// TNN's writer spells the header type without the prefix; the reader also accepts "QuantizedConvolution".
ModelBytes QuantizedConvResourceBytes(const std::string& type_str = "Convolution") {
  ModelBytes m;
  m.Header(1, type_str, "qconv").Str("qconv").I32(1);
  m.Int8s({1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -127}, {4, 3, 1, 1});
  m.Int32s({100, -200, 300, -400});
  m.Int8s({0, 0, 0, 0});
  m.Floats({0.01f, 0.02f, 0.03f, 0.04f});
  return m;
}

ModelBytes HalfConvResourceBytes() {
  ModelBytes m;
  m.Header(1, "Convolution", "hconv").Str("hconv").I32(1);
  m.Halves({0.5f, -0.25f, 1.f, 2.f, -3.f, 0.125f}, {2, 3, 1, 1});
  m.Halves({1.5f, -0.5f}, {2});
  return m;
}

ModelBytes ConstantMapBytes() {
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(2);
  m.Str("const0").Floats({1.f, 2.f}, {2});
  m.Str("const1").Int32s({7, 8, 9, 10, 11, 12}, {2, 3});
  return m;
}

std::vector<uint8_t> AllTypeModel() {
  ModelBytes body;
  int count = 0;
  auto add = [&](const ModelBytes& r) {
    body.Append(r);
    ++count;
  };
  add(ConvResourceBytes("conv1", {8, 3, 3, 3}, 8));
  add(ConvResourceBytes("dwconv", {8, 1, 3, 3}, 0));
  add(ConvResourceBytes("conv_same", {4, 8, 3, 3}, 0));
  add(ConvResourceBytes("conv_valid", {4, 8, 3, 3}, 0));
  {
    ModelBytes m;
    m.Header(22, "Deconvolution", "deconv").Str("deconv").I32(1).Floats(Values(64), {4, 4, 2, 2}).Floats(Values(4), {4});
    add(m);
  }
  {
    ModelBytes m;
    m.Header(35, "PReLU", "prelu").Str("prelu").Floats(Values(8, 0.01f), {8});
    add(m);
  }
  {
    ModelBytes m;
    m.Header(38, "Add", "add_const").Floats(Values(8), {1, 8, 1, 1});
    add(m);
  }
  {
    ModelBytes m;
    m.Header(2, "BatchNormCxx", "bn").Floats(Values(16), {16}).Floats(Values(16, 0.25f), {16});
    add(m);
  }
  {
    ModelBytes m;
    m.Header(16, "Scale", "scale").Str("scale").I32(1).Floats(Values(16), {16}).Floats(Values(16, 0.5f), {16});
    add(m);
  }
  {
    ModelBytes m;
    m.Header(19, "InnerProduct", "fc").Str("fc").Floats(Values(80), {10, 8}).Floats(Values(10), {10});
    add(m);
  }
  add(ModelBytes().BlobScale("data", {0.1f, 0.2f, 0.3f}));
  add(QuantizedConvResourceBytes("QuantizedConvolution"));
  add(ModelBytes().BlobScale("q1", {0.5f, 0.25f, 0.125f, 1.f}));
  add(HalfConvResourceBytes());
  ModelBytes model;
  model.U32(kTnnMagicV2).I32(count).Append(body).Append(ConstantMapBytes());
  return model.bytes();
}

// Parse → serialize → parse → same graph; the second serialization is byte-identical to the first.
void ExpectRoundTrip(const std::string& proto, const std::vector<uint8_t>& model, Graph* parsed) {
  Graph a;
  Status s = ParseTnnProto(proto, kProtoSource, &a);
  ASSERT_TRUE(s.ok()) << s.message();
  s = ParseTnnModel(model, kModelSource, &a);
  ASSERT_TRUE(s.ok()) << s.message();
  s = a.Validate();
  ASSERT_TRUE(s.ok()) << s.message();

  const std::string proto1 = SerializeTnnProto(a);
  const std::vector<uint8_t> model1 = SerializeTnnModel(a);
  Graph b;
  s = ParseTnnProto(proto1, "rewritten.tnnproto", &b);
  ASSERT_TRUE(s.ok()) << s.message() << "\n" << proto1;
  s = ParseTnnModel(model1, "rewritten.tnnmodel", &b);
  ASSERT_TRUE(s.ok()) << s.message();
  s = b.Validate();
  ASSERT_TRUE(s.ok()) << s.message();
  ExpectSameGraph(a, b);

  EXPECT_EQ(SerializeTnnProto(b), proto1);
  EXPECT_EQ(SerializeTnnModel(b), model1);
  if (parsed) *parsed = std::move(a);
}

TEST(TnnIoTest, AllLayerTypesRoundTrip) {
  Graph g;
  ASSERT_NO_FATAL_FAILURE(ExpectRoundTrip(MakeProto("data 4 1 3 8 8 0", kAllTypeBlobs, kAllTypeOutputs,
                                                    AllTypeLayers()),
                                          AllTypeModel(), &g));
  EXPECT_EQ(g.layers.size(), AllTypeLayers().size());
  EXPECT_EQ(g.resources.size(), 12u);
  EXPECT_EQ(g.blob_scales.size(), 2u);
  EXPECT_EQ(g.constants.size(), 2u);
  // Aliases keep their spelling; "Quantized" is stripped into the flag.
  EXPECT_EQ(g.FindLayer("relu_alias")->type, LayerType::kRelu);
  EXPECT_EQ(g.FindLayer("relu_alias")->type_str, "Relu");
  EXPECT_EQ(g.FindLayer("softmax_caffe")->type, LayerType::kSoftmax);
  EXPECT_EQ(g.FindLayer("softmax_caffe")->type_str, "SoftmaxCaffe");
  EXPECT_TRUE(g.FindLayer("qconv")->quantized);
  EXPECT_EQ(g.FindLayer("qconv")->type, LayerType::kConvolution);
  const auto& clip = g.FindLayer("clip")->Params<ClipParams>();
  EXPECT_EQ(clip.min, 0.f);
  EXPECT_EQ(clip.max, 6.f);
  const auto& dw = g.FindLayer("dwconv")->Params<ConvParams>();
  EXPECT_EQ(dw.group, 8);
  EXPECT_EQ(dw.dilation_h, 2);
  EXPECT_EQ(g.FindLayer("conv_same")->Params<ConvParams>().pad_type, 0);
  const auto& split = g.FindLayer("split")->Params<SplitVParams>();
  EXPECT_EQ(split.slices, (std::vector<int>{10, 6}));
  const auto& add = std::get<BinaryResource>(g.resources.at("add_const"));
  EXPECT_EQ(add.element.dims(), (std::vector<int32_t>{1, 8, 1, 1}));
}

TEST(TnnIoTest, AllLayerTypesInferShapes) {
  Graph g;
  ASSERT_TRUE(ParseTnnProto(MakeProto("data 4 1 3 8 8 0", kAllTypeBlobs, kAllTypeOutputs, AllTypeLayers()),
                            kProtoSource, &g)
                  .ok());
  Status s = ParseTnnModel(AllTypeModel(), kModelSource, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  BlobDims dims;
  s = InferShapes(g, {}, &dims);
  ASSERT_TRUE(s.ok()) << s.message();
  const std::vector<std::pair<std::string, Dims>> want = {
      {"c1", {1, 8, 8, 8}},     // explicit pad 1, 3x3
      {"c2", {1, 8, 8, 8}},     // depthwise, dilation 2, pad 2
      {"c3", {1, 4, 4, 4}},     // SAME, stride 2: ceil(8/2)
      {"c4", {1, 4, 6, 6}},     // VALID 3x3
      {"d1", {1, 4, 8, 8}},     // deconv 2x2 stride 2
      {"p1", {1, 8, 4, 4}},     // max 3x3/2 ceil mode: ceil(3.5) (floor would give 3)
      {"p2", {1, 8, 4, 4}},     // avg 2x2/2
      {"p3", {1, 8, 1, 1}},     // global
      {"a2", {1, 8, 8, 8}},     // add of a [1,8,1,1] constant
      {"cat", {1, 16, 8, 8}},
      {"pd", {1, 16, 10, 12}},
      {"up", {1, 16, 20, 24}},
      {"sp1", {1, 10, 8, 8}},
      {"sp2", {1, 6, 8, 8}},
      {"pm", {1, 8, 8, 10}},
      {"rs", {1, 8, 20, 4}},    // reshape 0 0 -1 4
      {"fl", {1, 640}},
      {"fc1", {1, 10, 1, 1}},   // inner product, axis 1
      {"q1", {1, 4, 8, 8}},
      {"h1", {1, 2, 8, 8}},
  };
  for (const auto& [blob, d] : want) {
    ASSERT_TRUE(dims.count(blob)) << blob;
    EXPECT_EQ(dims.at(blob), d) << blob << " is " << DimsToString(dims.at(blob)) << ", expected " << DimsToString(d);
  }
}

TEST(TnnIoTest, PoolingFloorModeDiffersFromCeilMode) {
  const std::string proto = MakeProto("data 4 1 3 8 8 0", "data p", "p",
                                      {"Pooling pool 1 1 data p 0 3 3 2 2 0 0 -1 -1 -1 0 0 0 0"});
  Graph g;
  ASSERT_TRUE(ParseTnnProto(proto, kProtoSource, &g).ok());
  BlobDims dims;
  ASSERT_TRUE(InferShapes(g, {}, &dims).ok());
  EXPECT_EQ(dims.at("p"), (Dims{1, 3, 3, 3}));
}

TEST(TnnIoTest, QuantizedConvRoundTrip) {
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(3);
  m.BlobScale("data", {0.1f, 0.2f, 0.3f});
  m.Append(QuantizedConvResourceBytes());
  m.BlobScale("q1", {0.5f, 0.25f, 0.125f, 1.f});
  Graph g;
  ASSERT_NO_FATAL_FAILURE(ExpectRoundTrip(
      MakeProto("data 4 1 3 8 8 0", "data q1", "q1",
                {"QuantizedConvolution qconv 1 1 data q1 1 3 4 1 1 1 1 0 0 1 -1 1 1 0"}),
      m.bytes(), &g));
  const auto& c = std::get<ConvResource>(g.resources.at("qconv"));
  EXPECT_EQ(c.filter.dtype(), DataType::kInt8);
  EXPECT_EQ(c.bias.As<int32_t>(), (std::vector<int32_t>{100, -200, 300, -400}));
  EXPECT_EQ(c.scale.As<float>(), (std::vector<float>{0.01f, 0.02f, 0.03f, 0.04f}));
  EXPECT_EQ(g.blob_scales.at("data").scale, (std::vector<float>{0.1f, 0.2f, 0.3f}));
  EXPECT_EQ(g.blob_scales.at("q1").zero_point, (std::vector<int8_t>{0, 0, 0, 0}));
  // The writer emits ModelPacker's order: input scales, layer, output scales.
  EXPECT_EQ(SerializeTnnModel(g), m.bytes());
}

TEST(TnnIoTest, Fp16ConvRoundTripKeepsHalfData) {
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(1).Append(HalfConvResourceBytes());
  Graph g;
  ASSERT_NO_FATAL_FAILURE(ExpectRoundTrip(
      MakeProto("data 4 1 3 8 8 0", "data h1", "h1",
                {"Convolution hconv 1 1 data h1 1 3 2 1 1 1 1 0 0 1 -1 1 1 0"}),
      m.bytes(), &g));
  const auto& c = std::get<ConvResource>(g.resources.at("hconv"));
  EXPECT_EQ(c.filter.dtype(), DataType::kHalf);
  EXPECT_EQ(c.filter.count(), 6);
  EXPECT_EQ(c.filter.ToFloat(), (std::vector<float>{0.5f, -0.25f, 1.f, 2.f, -3.f, 0.125f}));
  EXPECT_EQ(c.bias.dtype(), DataType::kHalf);
  EXPECT_EQ(SerializeTnnModel(g), m.bytes());
}

TEST(TnnIoTest, V1InputLineRoundTrip) {
  const std::string proto = MakeProto("data 1 3 8 8", "data r", "r", {"ReLU relu 1 1 data r"}, kTnnMagicV1);
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(0);
  Graph g;
  ASSERT_NO_FATAL_FAILURE(ExpectRoundTrip(proto, m.bytes(), &g));
  EXPECT_EQ(g.magic, kTnnMagicV1);
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.inputs[0].dims, (Dims{1, 3, 8, 8}));
  EXPECT_EQ(g.inputs[0].dtype, DataType::kFloat);
  // Rewritten as v2.
  EXPECT_NE(SerializeTnnProto(g).find(std::to_string(kTnnMagicV2)), std::string::npos);
}

TEST(TnnIoTest, ConstantMapRoundTrip) {
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(0).Append(ConstantMapBytes());
  Graph g;
  ASSERT_NO_FATAL_FAILURE(
      ExpectRoundTrip(MakeProto("data 4 1 3 8 8 0", "data r", "r", {"ReLU relu 1 1 data r"}), m.bytes(), &g));
  ASSERT_EQ(g.constants.size(), 2u);
  EXPECT_EQ(g.constants.at("const0"), RawBuffer::FromFloat({1.f, 2.f}, {2}));
  EXPECT_EQ(g.constants.at("const1"), RawBuffer::FromInt32({7, 8, 9, 10, 11, 12}, {2, 3}));
  EXPECT_EQ(SerializeTnnModel(g), m.bytes());
}

// ---- Malformed inputs: each fails with the source named and the rule broken ---------------------------------

// A small valid model: conv [2,3,1,1] with bias, ReLU, Mul by a per-channel constant.
const char* kSmallLayers[] = {
    "Convolution conv1 1 1 data c1 1 3 2 1 1 1 1 0 0 1 -1 1 1 0",
    "ReLU relu 1 1 c1 r1",
    "Mul mul_const 1 1 r1 m1 1",
};

std::string SmallProto() {
  return MakeProto("data 4 1 3 4 4 0", "c1 data m1 r1", "m1",
                   std::vector<std::string>(std::begin(kSmallLayers), std::end(kSmallLayers)));
}

// Conv and Mul resources, without the trailing count/magic.
ModelBytes SmallResources() {
  ModelBytes m;
  m.Append(ConvResourceBytes("conv1", {2, 3, 1, 1}, 2));
  m.Header(42, "Mul", "mul_const").Floats({2.f, 3.f}, {1, 2, 1, 1});
  return m;
}

std::vector<uint8_t> SmallModel() {
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(2).Append(SmallResources());
  return m.bytes();
}

// Parses the small proto and the given model bytes; returns the model status.
Status ParseSmallModel(const std::vector<uint8_t>& bytes, Graph* g) {
  Status s = ParseTnnProto(SmallProto(), kProtoSource, g);
  if (!s.ok()) return s;
  return ParseTnnModel(bytes, kModelSource, g);
}

void ExpectError(const Status& s, const std::string& source, const std::vector<std::string>& words) {
  ASSERT_FALSE(s.ok()) << "expected an error mentioning " << source;
  EXPECT_NE(s.message().find(source), std::string::npos) << "message lacks source '" << source << "': " << s.message();
  for (const auto& w : words) {
    EXPECT_NE(s.message().find(w), std::string::npos) << "message lacks '" << w << "': " << s.message();
  }
}

Status ParseProtoWithLayers(const std::vector<std::string>& layers, Graph* g) {
  return ParseTnnProto(MakeProto("data 4 1 3 4 4 0", "data", "out", layers), kProtoSource, g);
}

TEST(TnnIoTest, SmallModelIsValid) {
  Graph g;
  Status s = ParseSmallModel(SmallModel(), &g);
  ASSERT_TRUE(s.ok()) << s.message();
  s = g.Validate();
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(TnnIoTest, BadProtoMagic) {
  std::string proto = SmallProto();
  const std::string magic = std::to_string(kTnnMagicV2);
  proto.replace(proto.find(magic), magic.size(), "12345");
  Graph g;
  ExpectError(ParseTnnProto(proto, kProtoSource, &g), kProtoSource, {"magic", "12345"});
}

TEST(TnnIoTest, BadModelMagic) {
  std::vector<uint8_t> bytes = SmallModel();
  bytes[0] = 0xEF;
  bytes[1] = 0xBE;
  bytes[2] = 0xAD;
  bytes[3] = 0xDE;
  Graph g;
  ExpectError(ParseSmallModel(bytes, &g), kModelSource, {"magic", "0xdeadbeef"});
}

TEST(TnnIoTest, EveryTruncatedPrefixFails) {
  const std::vector<uint8_t> full = SmallModel();
  for (size_t n = 0; n < full.size(); ++n) {
    SCOPED_TRACE("prefix of " + std::to_string(n) + " of " + std::to_string(full.size()) + " bytes");
    Graph g;
    ExpectError(ParseSmallModel(std::vector<uint8_t>(full.begin(), full.begin() + n), &g), kModelSource, {"remain"});
  }
}

TEST(TnnIoTest, EveryTruncatedPrefixWithConstantMapFailsExceptAtTheMapBoundary) {
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(2).Append(SmallResources());
  const size_t boundary = m.bytes().size();  // a model without a constant map is valid
  m.Append(ConstantMapBytes());
  const std::vector<uint8_t> full = m.bytes();
  for (size_t n = 0; n < full.size(); ++n) {
    SCOPED_TRACE("prefix of " + std::to_string(n) + " of " + std::to_string(full.size()) + " bytes");
    Graph g;
    Status s = ParseSmallModel(std::vector<uint8_t>(full.begin(), full.begin() + n), &g);
    if (n == boundary) {
      EXPECT_TRUE(s.ok()) << s.message();
    } else {
      ExpectError(s, kModelSource, {});
    }
  }
}

TEST(TnnIoTest, ByteLengthPastTheEnd) {
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(1).Header(42, "Mul", "mul_const");
  m.U32(kTnnMagicV2).I32(0).I32(1000).I32(1).I32(250).Floats({1.f});  // 1000 bytes claimed, ~20 present
  Graph g;
  ExpectError(ParseSmallModel(m.bytes(), &g), kModelSource, {"byte_length 1000", "past the end"});
}

TEST(TnnIoTest, NegativeByteLength) {
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(1).Header(42, "Mul", "mul_const");
  m.U32(kTnnMagicV2).I32(0).I32(-8).I32(0);
  Graph g;
  ExpectError(ParseSmallModel(m.bytes(), &g), kModelSource, {"negative byte_length", "-8"});
}

TEST(TnnIoTest, ResourceCountTooLarge) {
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(20000).Append(SmallResources());
  Graph g;
  ExpectError(ParseSmallModel(m.bytes(), &g), kModelSource, {"resource count", "20000"});
}

TEST(TnnIoTest, NegativeStringLength) {
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(1).I32(1).Str("Convolution").I32(-5);
  Graph g;
  ExpectError(ParseSmallModel(m.bytes(), &g), kModelSource, {"length -5"});
}

TEST(TnnIoTest, LayerLineWithNegativeInputCount) {
  Graph g;
  ExpectError(ParseProtoWithLayers({"ReLU relu -1 1 data out"}, &g), kProtoSource, {"relu", "counts", "-1"});
}

TEST(TnnIoTest, LayerLineWithTooLargeInputCount) {
  Graph g;
  ExpectError(ParseProtoWithLayers({"ReLU relu 5 1 data out"}, &g), kProtoSource, {"relu", "counts", "5 1"});
}

TEST(TnnIoTest, UnknownLayerType) {
  Graph g;
  ExpectError(ParseProtoWithLayers({"FooBar layer_x 1 1 data out"}, &g), kProtoSource,
              {"FooBar", "layer_x", "unknown"});
}

TEST(TnnIoTest, QuantizedFormOfTypeWithoutOne) {
  Graph g;
  ExpectError(ParseProtoWithLayers({"QuantizedTanh t 1 1 data out"}, &g), kProtoSource, {"Tanh", "quantized"});
}

TEST(TnnIoTest, LayerReadsBlobNobodyProduces) {
  Graph g;
  ASSERT_TRUE(ParseProtoWithLayers({"ReLU relu 1 1 ghost out"}, &g).ok());
  Status s = g.Validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ghost"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("relu"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("no earlier layer produces"), std::string::npos) << s.message();
}

TEST(TnnIoTest, ConvolutionWithFiveParams) {
  Graph g;
  ExpectError(ParseProtoWithLayers({"Convolution conv 1 1 data out 1 3 8 3 3"}, &g), kProtoSource,
              {"conv", "too few params", "stride_h"});
}

TEST(TnnIoTest, InnerProductWithThreeParams) {
  Graph g;
  ExpectError(ParseProtoWithLayers({"InnerProduct fc 1 1 data out 10 1 0"}, &g), kProtoSource,
              {"fc", "too few params", "axis"});
}

TEST(TnnIoTest, NonIntegerParam) {
  Graph g;
  ExpectError(ParseProtoWithLayers({"Convolution conv 1 1 data out 1 3 8 3.5 3 1 1 1 1"}, &g), kProtoSource,
              {"conv", "kernel_h", "3.5", "not an integer"});
}

TEST(TnnIoTest, RawBufferDimsDisagreeWithByteLength) {
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(1).Header(42, "Mul", "mul_const").Floats({1.f, 2.f, 3.f, 4.f}, {2, 3});
  Graph g;
  ExpectError(ParseSmallModel(m.bytes(), &g), kModelSource, {"dims [2,3]", "byte_length 16"});
}

TEST(TnnIoTest, RawBufferHugeDimsFailWithoutOverflow) {
  // Eight dims of 2^31-1: their product overflows int64 (undefined behaviour if multiplied unchecked).
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(1).Header(42, "Mul", "mul_const");
  m.U32(kTnnMagicV2).I32(0).I32(4).I32(8);
  for (int i = 0; i < 8; ++i) m.I32(0x7FFFFFFF);
  m.I32(0);
  Graph g;
  ExpectError(ParseSmallModel(m.bytes(), &g), kModelSource, {"dims"});
}

// TNN keeps a resource that no proto layer names (a layer a converter removed) and never uses it; a header-only
// entry of a type whose resource interpreter reads nothing (Pooling, Concat, ...) is accepted as well. Both load,
// the graph is the small model's, and a rewrite holds neither.
TEST(TnnIoTest, OrphanAndHeaderOnlyResourcesAreSkippedAsTnnDoes) {
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(4).Append(SmallResources());
  m.Append(ConvResourceBytes("ghost_conv", {2, 3, 1, 1}, 2));
  m.Header(4, "Pooling", "pool_nobody");
  Graph g;
  Status s = ParseSmallModel(m.bytes(), &g);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(g.resources.size(), 2u);
  EXPECT_FALSE(g.resources.count("ghost_conv"));
  Graph plain;
  ASSERT_TRUE(ParseSmallModel(SmallModel(), &plain).ok());
  EXPECT_EQ(SerializeTnnModel(g), SerializeTnnModel(plain));
}

TEST(TnnIoTest, ResourceOfATypeTnnCannotReadIsAnError) {
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(3).Append(SmallResources());
  m.Header(5, "ReLU", "r1");  // TNN has no resource interpreter for ReLU: its loader fails too
  Graph g;
  ExpectError(ParseSmallModel(m.bytes(), &g), kModelSource, {"ReLU"});
}

TEST(TnnIoTest, ResourceTypeDisagreeingWithLayerType) {
  // A Convolution resource stored under the name of the Mul layer: the model file is inconsistent, and the graph
  // can neither run nor be rewritten (the writer would emit a conv body under a Mul header).
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(2).Append(ConvResourceBytes("conv1", {2, 3, 1, 1}, 2));
  m.Append(ConvResourceBytes("mul_const", {2, 3, 1, 1}, 2));
  Graph g;
  Status s = ParseSmallModel(m.bytes(), &g);
  if (s.ok()) s = g.Validate();
  ASSERT_FALSE(s.ok()) << "a Convolution resource for Mul layer 'mul_const' was accepted";
  EXPECT_NE(s.message().find("mul_const"), std::string::npos) << s.message();
}

TEST(TnnIoTest, ResourceForLayerTypeWithoutResources) {
  // A Convolution resource stored under the name of a ReLU layer, which has no resource: accepting it lets the
  // writer emit a conv body under a "ReLU" header, which no reader (this one included) can read back.
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(3).Append(SmallResources()).Append(ConvResourceBytes("relu", {2, 3, 1, 1}, 2));
  Graph g;
  Status s = ParseSmallModel(m.bytes(), &g);
  if (s.ok()) s = g.Validate();
  if (s.ok()) {
    Graph again;
    Status reread = ParseSmallModel(SerializeTnnModel(g), &again);
    ADD_FAILURE() << "a Convolution resource for ReLU layer 'relu' was accepted; re-reading the written model: "
                  << (reread.ok() ? "ok" : reread.message());
    return;
  }
  EXPECT_NE(s.message().find("relu"), std::string::npos) << s.message();
}

TEST(TnnIoTest, ConvFilterCountDisagreesWithParams) {
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(2);
  m.Header(1, "Convolution", "conv1").Str("conv1").I32(1).Floats(Values(5), {5}).Floats({0.f, 1.f}, {2});
  m.Header(42, "Mul", "mul_const").Floats({2.f, 3.f}, {1, 2, 1, 1});
  Graph g;
  ASSERT_TRUE(ParseSmallModel(m.bytes(), &g).ok());
  Status s = g.Validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("conv1"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("filter has 5 values, not a multiple of output_channel x kernel"), std::string::npos)
      << s.message();
}

TEST(TnnIoTest, FewerThanSixProtoSections) {
  Graph g;
  ExpectError(ParseTnnProto("\"1 1 1 4206624772 ,\"\n\"data 4 1 3 4 4 0 ,\"\n\"data ,\"\n", kProtoSource, &g),
              kProtoSource, {"at least 6", "found 4"});
}

// A per-test scratch directory, removed at the end.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(fs::path(::testing::TempDir()) / ("tnn_io_test_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename().string());
    return out;
  }

 private:
  fs::path path_;
};

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

TEST(TnnIoTest, ReadTnnModelOnMissingProtoNamesThePath) {
  ScratchDir dir("missing_proto");
  const std::string proto = dir.File("absent.tnnproto");
  Graph g;
  ExpectError(ReadTnnModel(proto, dir.File("absent.tnnmodel"), &g), proto, {"cannot open"});
}

TEST(TnnIoTest, ReadTnnModelOnMissingModelNamesThePath) {
  ScratchDir dir("missing_model");
  const std::string proto = dir.File("small.tnnproto");
  const std::string model = dir.File("absent.tnnmodel");
  WriteFile(proto, SmallProto());
  Graph g;
  ExpectError(ReadTnnModel(proto, model, &g), model, {"cannot open"});
}

TEST(TnnIoTest, ReadTnnModelValidatesAndNamesTheProto) {
  ScratchDir dir("validate");
  const std::string proto = dir.File("ghost.tnnproto");
  const std::string model = dir.File("ghost.tnnmodel");
  WriteFile(proto, MakeProto("data 4 1 3 4 4 0", "data", "out", {"ReLU relu 1 1 ghost out"}));
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(0);
  WriteFile(model, std::string(m.bytes().begin(), m.bytes().end()));
  Graph g;
  ExpectError(ReadTnnModel(proto, model, &g), proto, {"ghost", "no earlier layer produces"});
}

TEST(TnnIoTest, WriteThenReadTnnModel) {
  ScratchDir dir("write_read");
  Graph a;
  ASSERT_TRUE(ParseSmallModel(SmallModel(), &a).ok());
  const std::string proto = dir.File("small.tnnproto");
  const std::string model = dir.File("small.tnnmodel");
  Status s = WriteTnnModel(a, proto, model);
  ASSERT_TRUE(s.ok()) << s.message();
  Graph b;
  s = ReadTnnModel(proto, model, &b);
  ASSERT_TRUE(s.ok()) << s.message();
  ExpectSameGraph(a, b);
  EXPECT_EQ(dir.Entries().size(), 2u);
}

TEST(TnnIoTest, WriteIntoMissingDirectoryFailsAndLeavesNoTempFile) {
  ScratchDir dir("write_missing");
  Graph g;
  ASSERT_TRUE(ParseSmallModel(SmallModel(), &g).ok());
  // The proto's directory exists, the model's does not: the proto's temporary must be cleaned up.
  const std::string proto = dir.File("out.tnnproto");
  const std::string model = dir.File("no_such_dir/out.tnnmodel");
  ExpectError(WriteTnnModel(g, proto, model), model, {"cannot write"});
  EXPECT_TRUE(dir.Entries().empty()) << "left behind: " << (dir.Entries().empty() ? "" : dir.Entries()[0]);
  // Both in a missing directory.
  ExpectError(WriteTnnModel(g, dir.File("nope/a.tnnproto"), dir.File("nope/a.tnnmodel")), dir.File("nope/a.tnnproto"),
              {"cannot write"});
  EXPECT_TRUE(dir.Entries().empty());
}

// Maximum (TNN LAYER_MAXIMUM, id 137) reads and writes as TNN's MaxLayerInterpreter does: `weight_input_index`,
// and for the one-input form a resource holding only the constant operand.
TEST(TnnIoTest, MaximumRoundTripsInBothForms) {
  const std::string proto = MakeProto("a 4 1 2 2 2 0 : b 4 1 2 2 2 0", "a b m1 m2", "m2",
                                      {"Maximum max2 2 1 a b m1 1", "Maximum max_const 1 1 m1 m2 1"});
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(1);
  m.Header(137, "Maximum", "max_const").Floats({0.5f, -0.5f}, {1, 2, 1, 1});
  Graph g;
  ASSERT_NO_FATAL_FAILURE(ExpectRoundTrip(proto, m.bytes(), &g));
  EXPECT_EQ(g.FindLayer("max2")->type, LayerType::kMaximum);
  EXPECT_EQ(g.FindLayer("max2")->inputs.size(), 2u);
  EXPECT_EQ(std::get<BinaryResource>(g.resources.at("max_const")).element.dims(), (std::vector<int32_t>{1, 2, 1, 1}));
  EXPECT_NE(SerializeTnnProto(g).find("\"Maximum max2 2 1 a b m1 1 ,\""), std::string::npos);
  BlobDims dims;
  Status s = InferShapes(g, {}, &dims);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(dims.at("m2"), (Dims{1, 2, 2, 2}));
  // A legacy header without the type string resolves the id.
  LayerType t;
  ASSERT_TRUE(LayerTypeFromTnnId(137, &t));
  EXPECT_EQ(t, LayerType::kMaximum);
}

// The Caffe-SSD kinds (PriorBox 33, DetectionOutput 34, Normalize 45) read and write their params in the order of
// TNN's interpreters; a line that ends early takes TNN's defaults and is written out in full.
TEST(TnnIoTest, DetectionLayersRoundTrip) {
  const std::string proto = MakeProto(
      "conf 2 1 192 0 : f 4 1 8 4 4 0 : img 4 1 3 32 32 0 : loc 2 1 256 0", "conf f img loc priors det det2 fn",
      "det det2 fn",
      {"PriorBox pb 2 1 f img priors 1 8 1 16 0 1 4 0.1 0.1 0.2 0.2 3 1 2 0.5 0 0 8 8 0.5",
       "DetectionOutput det 3 1 loc conf priors det 3 1 0 0 2 10 0.05 0.45 100 1",
       "DetectionOutput det_short 3 1 loc conf priors det2 3 1 0",
       "Normalize norm 1 1 f fn 1 1e-10 0"});
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(0);
  Graph g;
  ASSERT_NO_FATAL_FAILURE(ExpectRoundTrip(proto, m.bytes(), &g));
  const auto& pb = g.FindLayer("pb")->Params<PriorBoxLayerParams>();
  EXPECT_EQ(g.FindLayer("pb")->type, LayerType::kPriorBox);
  EXPECT_EQ(pb.min_sizes, (std::vector<float>{8}));
  EXPECT_EQ(pb.max_sizes, (std::vector<float>{16}));
  EXPECT_EQ(pb.clip, 0);
  EXPECT_EQ(pb.flip, 1);
  EXPECT_EQ(pb.variances, (std::vector<float>{0.1f, 0.1f, 0.2f, 0.2f}));
  EXPECT_EQ(pb.aspect_ratios, (std::vector<float>{1, 2, 0.5f}));
  EXPECT_EQ(pb.step_w, 8);
  EXPECT_EQ(pb.offset, 0.5f);
  const auto& det = g.FindLayer("det")->Params<DetectionOutputLayerParams>();
  EXPECT_EQ(det.num_classes, 3);
  EXPECT_EQ(det.share_location, 1);
  EXPECT_EQ(det.code_type, 2);
  EXPECT_EQ(det.keep_top_k, 10);
  EXPECT_EQ(det.confidence_threshold, 0.05f);
  EXPECT_EQ(det.nms_threshold, 0.45f);
  EXPECT_EQ(det.top_k, 100);
  EXPECT_EQ(det.eta, 1.f);
  const auto& norm = g.FindLayer("norm")->Params<NormalizeLayerParams>();
  EXPECT_EQ(norm.across_spatial, 1);
  EXPECT_EQ(norm.epsilon, 1e-10f);
  EXPECT_EQ(norm.channel_shared, 0);
  EXPECT_EQ(norm.axis, 1);
  EXPECT_EQ(norm.p, 2);
  const std::string written = SerializeTnnProto(g);
  EXPECT_NE(written.find("\"PriorBox pb 2 1 f img priors 1 8 1 16 0 1 4 0.1 0.1 0.2 0.2 3 1 2 0.5 0 0 8 8 0.5 ,\""),
            std::string::npos)
      << written;
  EXPECT_NE(written.find("\"DetectionOutput det_short 3 1 loc conf priors det2 3 1 0 0 0 0 0 0 0 0 ,\""),
            std::string::npos)
      << written;
  EXPECT_NE(written.find("\"Normalize norm 1 1 f fn 1 1e-10 0 1 2 ,\""), std::string::npos) << written;

  BlobDims dims;
  Status s = InferShapes(g, {}, &dims);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(dims.at("priors"), (Dims{1, 2, 4 * 4 * 4 * 4, 1}));  // 4x4 cells, 4 priors each (3 ratios + 1 max)
  EXPECT_EQ(dims.at("det"), (Dims{1, 1, 10, 7}));                // keep_top_k rows
  EXPECT_EQ(dims.at("det2"), (Dims{1, 1, 1, 7}));                // keep_top_k 0: the one no-detection row
  EXPECT_EQ(dims.at("fn"), (Dims{1, 8, 4, 4}));
}

TEST(TnnIoTest, DetectionLayerParamErrors) {
  auto infer_error = [](const std::string& layer) {
    Graph g;
    Status s = ParseTnnProto(MakeProto("conf 2 1 192 0 : f 4 1 8 4 4 0 : img 4 1 3 32 32 0 : loc 2 1 256 0",
                                       "conf f img loc priors y", "y",
                                       {"PriorBox pb 2 1 f img priors 1 8 1 16 0 1 4 0.1 0.1 0.2 0.2 3 1 2 0.5 0 0 8 "
                                        "8 0.5",
                                        layer}),
                             kProtoSource, &g);
    if (!s.ok()) return s.message();
    BlobDims dims;
    s = InferShapes(g, {}, &dims);
    return s.ok() ? std::string("no error") : s.message();
  };
  // Ratios that are not an expanded list (TNN would allocate too few priors).
  EXPECT_NE(infer_error("PriorBox pb2 2 1 f img y 1 8 0 0 0 1 0.1 2 2 0.5 0 0 0 0 0.5").find("expanded"),
            std::string::npos);
  EXPECT_NE(infer_error("PriorBox pb2 2 1 f img y 1 8 0 0 0 2 0.1 0.1 1 1 0 0 0 0 0.5").find("variances"),
            std::string::npos);
  EXPECT_NE(infer_error("DetectionOutput d 3 1 loc conf priors y 3 1 0 0 2 10 0.05 0.7 100 0").find("eta 0"),
            std::string::npos);
  EXPECT_NE(infer_error("DetectionOutput d 3 1 loc conf priors y 4 1 0 0 2 10 0.05 0.45 100 1").find("256 and 256"),
            std::string::npos);
  EXPECT_NE(infer_error("Normalize n 1 1 f y 0 1e-10 1 1 1").find("p 1"), std::string::npos);
}

// ShuffleChannel (63), LRN (12) and StridedSlice (57) in the order of TNN's interpreters.
TEST(TnnIoTest, ShuffleLrnStridedSliceRoundTrip) {
  const std::string proto = MakeProto("x 4 1 8 6 6 0", "x s s2 n ss", "n ss s2",
                                      {"ShuffleChannel shuffle 1 1 x s 4", "ShuffleChannel shuffle_default 1 1 s s2",
                                       "LRN lrn 1 1 s n 0.0001 0.75 2 4",
                                       "StridedSlice slice 1 1 x ss 4 0 1 -4 0 4 0 5 0 0 4 1 1 2 1"});
  ModelBytes m;
  m.U32(kTnnMagicV2).I32(0);
  Graph g;
  ASSERT_NO_FATAL_FAILURE(ExpectRoundTrip(proto, m.bytes(), &g));
  EXPECT_EQ(g.FindLayer("shuffle")->Params<ShuffleChannelParams>().group, 4);
  EXPECT_EQ(g.FindLayer("shuffle_default")->Params<ShuffleChannelParams>().group, 1);
  const auto& lrn = g.FindLayer("lrn")->Params<LrnLayerParams>();
  EXPECT_EQ(lrn.alpha, 1e-4f);
  EXPECT_EQ(lrn.beta, 0.75f);
  EXPECT_EQ(lrn.bias, 2.f);
  EXPECT_EQ(lrn.size, 4);
  const auto& ss = g.FindLayer("slice")->Params<StridedSliceParams>();
  EXPECT_EQ(ss.begins, (std::vector<int>{0, 1, -4, 0}));
  EXPECT_EQ(ss.ends, (std::vector<int>{0, 5, 0, 0}));
  EXPECT_EQ(ss.strides, (std::vector<int>{1, 1, 2, 1}));
  const std::string written = SerializeTnnProto(g);
  EXPECT_NE(written.find("\"ShuffleChannel shuffle_default 1 1 s s2 1 ,\""), std::string::npos) << written;
  EXPECT_NE(written.find("\"LRN lrn 1 1 s n 1e-04 0.75 2 4 ,\""), std::string::npos) << written;
  BlobDims dims;
  Status s = InferShapes(g, {}, &dims);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(dims.at("n"), (Dims{1, 8, 6, 6}));
  // begin -4 is 2, end 0 is the whole axis: rows 2 and 4; channels 1..4.
  EXPECT_EQ(dims.at("ss"), (Dims{1, 4, 2, 6}));
  // TNN reads past the axis there; refused here.
  Graph bad;
  ASSERT_TRUE(ParseTnnProto(MakeProto("x 4 1 8 6 6 0", "x ss", "ss",
                                      {"StridedSlice slice 1 1 x ss 4 0 0 0 0 4 0 9 0 0 4 1 1 1 1"}),
                            kProtoSource, &bad)
                  .ok());
  s = InferShapes(bad, {}, &dims);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("axis 1 begin 0, end 9"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace qt
