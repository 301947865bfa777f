// Unit tests of the Caffe importer on tiny nets written here: text prototxts and caffemodels built with the
// protobuf API. Each supported layer is run on our engine and compared with values computed by hand (or by a
// naive loop written in this file); the error cases check the one-line message.
#include <unistd.h>

#include <cfloat>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/io/caffe_importer.h"
#include "core/io/model_loader.h"
#include "core/io/proto/caffe.pb.h"
#include "core/graph/shape_inference.h"
#include "core/io/tnn_io.h"
#include "core/runtime/net.h"
#include "test/io/graph_compare.h"

namespace qt {
namespace {

namespace fs = std::filesystem;

struct Blob {
  std::vector<int64_t> shape;
  std::vector<float> data;
};
using Weights = std::vector<std::pair<std::string, std::vector<Blob>>>;

std::vector<float> Iota(size_t n, float start = 0.f, float step = 1.f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + step * static_cast<float>(i);
  return v;
}

class CaffeImporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("caffe_importer_test_" + std::to_string(::getpid()) + "_" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string WriteText(const std::string& name, const std::string& text) const {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // A caffemodel holding the blobs by layer name: V2 `layer` with BlobShape dims, or V1 `layers` with the legacy
  // num/channels/height/width dims (leading 1s, as Caffe wrote them).
  std::string WriteCaffemodel(const std::string& name, const Weights& weights, bool v1 = false) const {
    caffe::NetParameter net;
    for (const auto& [layer, blobs] : weights) {
      auto* bl = v1 ? net.add_layers()->mutable_blobs() : net.add_layer()->mutable_blobs();
      if (v1) {
        net.mutable_layers(net.layers_size() - 1)->set_name(layer);
      } else {
        net.mutable_layer(net.layer_size() - 1)->set_name(layer);
      }
      for (const Blob& b : blobs) {
        caffe::BlobProto* p = bl->Add();
        if (v1) {
          std::vector<int64_t> d(4 - b.shape.size(), 1);
          d.insert(d.end(), b.shape.begin(), b.shape.end());
          p->set_num(static_cast<int>(d[0]));
          p->set_channels(static_cast<int>(d[1]));
          p->set_height(static_cast<int>(d[2]));
          p->set_width(static_cast<int>(d[3]));
        } else {
          for (int64_t d : b.shape) p->mutable_shape()->add_dim(d);
        }
        for (float f : b.data) p->add_data(f);
      }
    }
    return WriteText(name, net.SerializeAsString());
  }

  Status Import(const std::string& prototxt, const Weights& weights, Graph* g) const {
    const std::string proto = WriteText("net.prototxt", prototxt);
    const std::string model = weights.empty() ? "" : WriteCaffemodel("net.caffemodel", weights);
    return LoadModel(proto, model, g);
  }

  // Imports, runs one forward pass with `inputs` and returns the output blob `output`.
  std::vector<float> Run(const std::string& prototxt, const Weights& weights,
                         const std::map<std::string, std::vector<float>>& inputs, const std::string& output,
                         Graph* imported = nullptr, Dims* out_dims = nullptr) const {
    Graph g;
    Status s = Import(prototxt, weights, &g);
    EXPECT_TRUE(s.ok()) << s.message();
    if (!s.ok()) return {};
    std::vector<float> out = RunGraph(g, inputs, output, out_dims);
    if (imported) *imported = std::move(g);
    return out;
  }

  static std::vector<float> RunGraph(const Graph& g, const std::map<std::string, std::vector<float>>& inputs,
                                     const std::string& output, Dims* out_dims = nullptr) {
    Net net;
    Status s = net.Init(g);
    EXPECT_TRUE(s.ok()) << s.message();
    if (!s.ok()) return {};
    for (const auto& in : net.inputs()) {
      Tensor t(in.dims);
      auto it = inputs.find(in.name);
      EXPECT_NE(it, inputs.end()) << "no value for input " << in.name;
      if (it == inputs.end()) return {};
      EXPECT_EQ(it->second.size(), t.data.size()) << in.name;
      t.data = it->second;
      EXPECT_TRUE(net.SetInput(in.name, t).ok());
    }
    s = net.Forward();
    EXPECT_TRUE(s.ok()) << s.message();
    Tensor t;
    s = net.GetBlob(output, &t);
    EXPECT_TRUE(s.ok()) << s.message();
    if (out_dims) *out_dims = t.dims;
    return t.data;
  }

  // The import must fail with a message naming every needle.
  void ExpectImportError(const std::string& prototxt, const Weights& weights,
                         const std::vector<std::string>& needles) const {
    Graph g;
    Status s = Import(prototxt, weights, &g);
    ASSERT_FALSE(s.ok()) << "imported without error";
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
    for (const auto& n : needles)
      EXPECT_NE(s.message().find(n), std::string::npos) << "'" << n << "' not in: " << s.message();
  }

  fs::path dir_;
};

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-5f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol * (1.f + std::fabs(want[i]))) << "at " << i;
}

int CountType(const Graph& g, LayerType t) {
  int n = 0;
  for (const auto& l : g.layers) n += l.type == t;
  return n;
}

std::string Input(const std::string& name, const std::vector<int>& dims) {
  std::string s = "layer { name: \"" + name + "\" type: \"Input\" top: \"" + name + "\" input_param { shape {";
  for (int d : dims) s += " dim: " + std::to_string(d);
  return s + " } } }\n";
}

// A naive direct convolution (NCHW, weights [oc][ic/g][kh][kw]), batch 1: the oracle for Convolution.
std::vector<float> NaiveConv(const std::vector<float>& x, int c, int h, int w, const std::vector<float>& wt,
                             const std::vector<float>& bias, int oc, int kh, int kw, int sh, int sw, int ph, int pw,
                             int dh, int dw, int group, int* oh_out, int* ow_out) {
  const int oh = (h + 2 * ph - ((kh - 1) * dh + 1)) / sh + 1, ow = (w + 2 * pw - ((kw - 1) * dw + 1)) / sw + 1;
  const int icg = c / group, ocg = oc / group;
  std::vector<float> y(static_cast<size_t>(oc) * oh * ow);
  for (int o = 0; o < oc; ++o)
    for (int i = 0; i < oh; ++i)
      for (int j = 0; j < ow; ++j) {
        double acc = bias.empty() ? 0.0 : bias[o];
        for (int ci = 0; ci < icg; ++ci)
          for (int a = 0; a < kh; ++a)
            for (int b = 0; b < kw; ++b) {
              const int yy = i * sh - ph + a * dh, xx = j * sw - pw + b * dw;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              acc += x[((o / ocg) * icg + ci) * h * w + yy * w + xx] * wt[((o * icg + ci) * kh + a) * kw + b];
            }
        y[(o * oh + i) * ow + j] = static_cast<float>(acc);
      }
  *oh_out = oh;
  *ow_out = ow;
  return y;
}

// ---- Layers ------------------------------------------------------------------------------------------------

TEST_F(CaffeImporterTest, ConvolutionFormsMatchANaiveConvolution) {
  struct Case {
    std::string param;
    int c, oc, kh, kw, sh, sw, ph, pw, dh, dw, group;
    bool bias;
  };
  const std::vector<Case> cases = {
      {"num_output: 4 kernel_size: 3 pad: 1 stride: 2", 2, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, true},
      {"num_output: 4 kernel_h: 3 kernel_w: 2 pad_h: 1 pad_w: 0 stride_h: 1 stride_w: 2 bias_term: false", 2, 4, 3, 2,
       1, 2, 1, 0, 1, 1, 1, false},
      {"num_output: 4 kernel_size: 3 kernel_size: 1 pad: 2 pad: 0 stride: 1 dilation: 2 group: 2", 2, 4, 3, 1, 1, 1, 2,
       0, 2, 2, 2, true},
      {"num_output: 4 kernel_size: 3 pad: 1 group: 4", 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4, true},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.param);
    const int h = 5, w = 6;
    const auto x = Iota(static_cast<size_t>(k.c) * h * w, -7.f, 0.25f);
    const auto wt = Iota(static_cast<size_t>(k.oc) * (k.c / k.group) * k.kh * k.kw, -1.f, 0.125f);
    const auto bias = k.bias ? Iota(k.oc, 0.5f, -0.25f) : std::vector<float>{};
    Weights weights = {{"conv", {{{k.oc, k.c / k.group, k.kh, k.kw}, wt}}}};
    if (k.bias) weights[0].second.push_back({{k.oc}, bias});
    int oh = 0, ow = 0;
    const auto want =
        NaiveConv(x, k.c, h, w, wt, bias, k.oc, k.kh, k.kw, k.sh, k.sw, k.ph, k.pw, k.dh, k.dw, k.group, &oh, &ow);
    Dims dims;
    Graph g;
    const auto got = Run(Input("data", {1, k.c, h, w}) +
                             "layer { name: \"conv\" type: \"Convolution\" bottom: \"data\" top: \"conv\" "
                             "convolution_param { " +
                             k.param + " } }\n",
                         weights, {{"data", x}}, "conv", &g, &dims);
    EXPECT_EQ(dims, (Dims{1, k.oc, oh, ow}));
    ExpectNear(got, want);
    ASSERT_EQ(g.layers.size(), 1u);
    const auto& p = g.layers[0].Params<ConvParams>();
    EXPECT_EQ(p.pad_type, -1);
    EXPECT_EQ(p.group, k.group);
    EXPECT_EQ(p.input_channel, k.c / k.group);
    EXPECT_EQ(p.has_bias, k.bias ? 1 : 0);
  }
}

TEST_F(CaffeImporterTest, DeconvolutionScattersTheKernel) {
  // 1x1x2x2 input, 2x2 kernel, stride 2, two output channels: each input pixel stamps the kernel times itself.
  const auto got =
      Run(Input("data", {1, 1, 2, 2}) +
              "layer { name: \"up\" type: \"Deconvolution\" bottom: \"data\" top: \"up\" "
              "convolution_param { num_output: 2 kernel_size: 2 stride: 2 } }",
          {{"up", {{{1, 2, 2, 2}, {1, 2, 3, 4, 0, 0, 0, 1}}, {{2}, {0.5f, -1}}}}}, {{"data", {1, 2, 3, 4}}}, "up");
  ExpectNear(got, {1.5f, 2.5f, 2.5f, 4.5f, 3.5f, 4.5f, 6.5f, 8.5f, 3.5f, 6.5f, 4.5f, 8.5f, 9.5f, 12.5f, 12.5f, 16.5f,
                   -1,   -1,   -1,   -1,   -1,   0,    -1,   1,    -1,   -1,   -1,   -1,   -1,   2,     -1,    3});
}

TEST_F(CaffeImporterTest, PoolingRoundsLikeCaffe) {
  const auto x = Iota(25);  // 5x5, values 0..24
  auto pool = [&](const std::string& param, Dims* dims, Graph* g) {
    return Run(Input("data", {1, 1, 5, 5}) +
                   "layer { name: \"pool\" type: \"Pooling\" bottom: \"data\" top: \"pool\" "
                   "pooling_param { " +
                   param + " } }",
               {}, {{"data", x}}, "pool", g, dims);
  };
  Dims d;
  Graph g;
  // Max 2x2/2, no pad: Caffe rounds up, ceil(3/2)+1 = 3; the last window holds row/column 4 only.
  ExpectNear(pool("pool: MAX kernel_size: 2 stride: 2", &d, &g), {6, 8, 9, 16, 18, 19, 21, 23, 24});
  EXPECT_EQ(d, (Dims{1, 1, 3, 3}));
  EXPECT_EQ(g.layers[0].Params<PoolParams>().ceil_mode, 1);
  // round_mode FLOOR: 2x2.
  ExpectNear(pool("pool: MAX kernel_size: 2 stride: 2 round_mode: FLOOR", &d, &g), {6, 8, 16, 18});
  EXPECT_EQ(g.layers[0].Params<PoolParams>().ceil_mode, 0);
  // Pad 1: ceil(5/2)+1 = 4, but the 4th window would start in the padding, Caffe drops it: 3x3 (= floor).
  ExpectNear(pool("pool: MAX kernel_size: 2 stride: 2 pad: 1", &d, &g), {0, 2, 4, 10, 12, 14, 20, 22, 24});
  EXPECT_EQ(d, (Dims{1, 1, 3, 3}));
  EXPECT_EQ(g.layers[0].Params<PoolParams>().ceil_mode, 0);
  // Average 3x3/2 pad 1: the divisor counts the padding inside [−1, 6) but not the extra rows rounding up adds.
  // Top-left window rows/cols {-1,0,1}: (0+1+5+6)/9. The bottom-right window rows/cols {3,4,5}: 5 is padding
  // (counted), so (18+19+23+24)/9.
  const auto avg = pool("pool: AVE kernel_size: 3 stride: 2 pad: 1", &d, &g);
  EXPECT_EQ(d, (Dims{1, 1, 3, 3}));
  ASSERT_EQ(avg.size(), 9u);
  EXPECT_NEAR(avg[0], 12.f / 9, 1e-5f);
  EXPECT_NEAR(avg[4], (6 + 7 + 8 + 11 + 12 + 13 + 16 + 17 + 18) / 9.f, 1e-5f);
  EXPECT_NEAR(avg[8], (18 + 19 + 23 + 24) / 9.f, 1e-5f);
  // Global average: one value, kernel 0 in the TNN params.
  ExpectNear(pool("pool: AVE global_pooling: true", &d, &g), {12});
  EXPECT_EQ(g.layers[0].Params<PoolParams>().kernel_h, 0);
  EXPECT_EQ(g.layers[0].Params<PoolParams>().ceil_mode, 0);
}

TEST_F(CaffeImporterTest, Activations) {
  const std::vector<float> x = {-2, -0.5f, 0, 1, 3, -4};
  auto act = [&](const std::string& layer, const Weights& w, Graph* g) {
    return Run(Input("data", {1, 2, 1, 3}) + layer, w, {{"data", x}}, "y", g);
  };
  Graph g;
  ExpectNear(act("layer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"y\" }", {}, &g), {0, 0, 0, 1, 3, 0});
  EXPECT_EQ(g.layers[0].type, LayerType::kRelu);
  ExpectNear(act("layer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"y\" relu_param { negative_slope: 0.1 } }",
                 {}, &g),
             {-0.2f, -0.05f, 0, 1, 3, -0.4f});
  ASSERT_EQ(g.layers[0].type, LayerType::kPRelu);
  EXPECT_EQ(g.layers[0].Params<PReluParams>().channel_shared, 1);
  EXPECT_EQ(std::get<PReluResource>(g.resources.at("r")).slope.count(), 1);
  ExpectNear(
      act("layer { name: \"p\" type: \"PReLU\" bottom: \"data\" top: \"y\" }", {{"p", {{{2}, {0.5f, 0.25f}}}}}, &g),
      {-1, -0.25f, 0, 1, 3, -1});
  ExpectNear(
      act("layer { name: \"p\" type: \"PReLU\" bottom: \"data\" top: \"y\" prelu_param { channel_shared: true } }",
          {{"p", {{{}, {0.5f}}}}}, &g),
      {-1, -0.25f, 0, 1, 3, -2});
  std::vector<float> sig, th;
  for (float v : x) {
    sig.push_back(1.f / (1.f + std::exp(-v)));
    th.push_back(std::tanh(v));
  }
  ExpectNear(act("layer { name: \"s\" type: \"Sigmoid\" bottom: \"data\" top: \"y\" }", {}, &g), sig);
  ExpectNear(act("layer { name: \"t\" type: \"TanH\" bottom: \"data\" top: \"y\" }", {}, &g), th);
  EXPECT_EQ(g.layers[0].type, LayerType::kTanh);
}

TEST_F(CaffeImporterTest, EltwiseSumCoefficientsProdAndMax) {
  const std::string inputs = Input("a", {1, 1, 1, 3}) + Input("b", {1, 1, 1, 3}) + Input("c", {1, 1, 1, 3});
  const std::map<std::string, std::vector<float>> x = {{"a", {1, 2, 3}}, {"b", {10, -20, 30}}, {"c", {-1, 5, 2}}};
  auto eltwise = [&](const std::string& bottoms, const std::string& param, Graph* g) {
    return Run(
        inputs + "layer { name: \"e\" type: \"Eltwise\" " + bottoms + " top: \"y\" eltwise_param { " + param + " } }",
        {}, x, "y", g);
  };
  Graph g;
  ExpectNear(eltwise("bottom: \"a\" bottom: \"b\"", "operation: SUM", &g), {11, -18, 33});
  ASSERT_EQ(g.layers.size(), 1u);
  EXPECT_EQ(g.layers[0].type, LayerType::kAdd);
  EXPECT_EQ(g.layers[0].name, "e");
  // 2a - b + 0.5c: Mul by 2, Sub, Mul by 0.5 then Add.
  ExpectNear(eltwise("bottom: \"a\" bottom: \"b\" bottom: \"c\"", "operation: SUM coeff: 2 coeff: -1 coeff: 0.5", &g),
             {2 - 10 - 0.5f, 4 + 20 + 2.5f, 6 - 30 + 1});
  EXPECT_EQ(CountType(g, LayerType::kMul), 2);
  EXPECT_EQ(CountType(g, LayerType::kSub), 1);
  EXPECT_EQ(CountType(g, LayerType::kAdd), 1);
  ExpectNear(eltwise("bottom: \"a\" bottom: \"b\" bottom: \"c\"", "operation: PROD", &g), {-10, -200, 180});
  EXPECT_EQ(CountType(g, LayerType::kMul), 2);
  ExpectNear(eltwise("bottom: \"a\" bottom: \"b\" bottom: \"c\"", "operation: MAX", &g), {10, 5, 30});
  EXPECT_EQ(CountType(g, LayerType::kMaximum), 2);
  for (const auto& l : g.layers) EXPECT_EQ(l.inputs.size(), 2u) << l.name;
}

TEST_F(CaffeImporterTest, ConcatInnerProductSoftmax) {
  const std::string net =
      Input("a", {1, 2, 1, 2}) + Input("b", {1, 1, 1, 2}) +
      "layer { name: \"cat\" type: \"Concat\" bottom: \"a\" bottom: \"b\" top: \"cat\" }\n"
      "layer { name: \"cat_w\" type: \"Concat\" bottom: \"a\" bottom: \"a\" top: \"cat_w\" "
      "concat_param { concat_dim: 3 } }\n"
      "layer { name: \"fc\" type: \"InnerProduct\" bottom: \"cat\" top: \"fc\" "
      "inner_product_param { num_output: 2 } }\n"
      "layer { name: \"fct\" type: \"InnerProduct\" bottom: \"cat\" top: \"fct\" "
      "inner_product_param { num_output: 2 transpose: true bias_term: false } }\n"
      "layer { name: \"sm\" type: \"Softmax\" bottom: \"fc\" top: \"sm\" softmax_param { axis: -1 } }\n";
  // fc: [2][6] weights; fct: the same matrix stored transposed [6][2].
  const std::vector<float> w = {1, 0, 0, 0, 0, 1, 0, 1, 1, 0, -1, 0};
  const std::vector<float> wt = {1, 0, 0, 1, 0, 1, 0, 0, 0, -1, 1, 0};
  const Weights weights = {{"fc", {{{2, 6}, w}, {{2}, {0.5f, 1}}}}, {"fct", {{{6, 2}, wt}}}};
  const std::map<std::string, std::vector<float>> x = {{"a", {1, 2, 3, 4}}, {"b", {5, 6}}};
  Dims dims;
  ExpectNear(Run(net, weights, x, "cat", nullptr, &dims), {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(dims, (Dims{1, 3, 1, 2}));
  ExpectNear(Run(net, weights, x, "cat_w", nullptr, &dims), {1, 2, 1, 2, 3, 4, 3, 4});
  // fc = [1+6, 2+3-5] + bias = [7.5, 1]; TNN keeps the input rank: [1, 2, 1, 1].
  ExpectNear(Run(net, weights, x, "fc", nullptr, &dims), {7.5f, 1});
  EXPECT_EQ(dims, (Dims{1, 2, 1, 1}));
  ExpectNear(Run(net, weights, x, "fct", nullptr, &dims), {7, 0});
  // Softmax axis -1 of Caffe's 2-D [1, 2] is axis 1.
  const float e = std::exp(6.5f);
  ExpectNear(Run(net, weights, x, "sm", nullptr, &dims), {e / (e + 1), 1 / (e + 1)});
}

TEST_F(CaffeImporterTest, BatchNormAndScaleFoldIntoTheConvolution) {
  const std::string net = Input("data", {1, 1, 2, 2}) +
                          "layer { name: \"conv\" type: \"Convolution\" bottom: \"data\" top: \"conv\" "
                          "convolution_param { num_output: 2 kernel_size: 1 } }\n"
                          "layer { name: \"bn\" type: \"BatchNorm\" bottom: \"conv\" top: \"conv\" "
                          "batch_norm_param { eps: 0.5 } }\n"
                          "layer { name: \"sc\" type: \"Scale\" bottom: \"conv\" top: \"conv\" "
                          "scale_param { bias_term: true } }\n"
                          "layer { name: \"relu\" type: \"ReLU\" bottom: \"conv\" top: \"conv\" }\n";
  // conv: y0 = 2x + 1, y1 = -x. BatchNorm stores sums with factor 2: mean [2, 0], var [1.5·2=3, 7]; var/f + eps
  // = [2, 4] → inv std [1/√2, 1/2]. Scale [3, -2], bias [0.5, 1].
  const Weights weights = {{"conv", {{{2, 1, 1, 1}, {2, -1}}, {{2}, {1, 0}}}},
                           {"bn", {{{2}, {4, 0}}, {{2}, {3, 7}}, {{1}, {2}}}},
                           {"sc", {{{2}, {3, -2}}, {{2}, {0.5f, 1}}}}};
  const std::vector<float> x = {0, 1, -1, 3};
  std::vector<float> want;
  for (int ch = 0; ch < 2; ++ch) {
    for (float v : x) {
      const float y = ch == 0 ? 2 * v + 1 : -v;
      const float n = ch == 0 ? (y - 2) / std::sqrt(2.f) : (y - 0) / 2;
      want.push_back(std::max(0.f, n * (ch == 0 ? 3.f : -2.f) + (ch == 0 ? 0.5f : 1.f)));
    }
  }
  Graph g;
  ExpectNear(Run(net, weights, {{"data", x}}, "conv", &g), want);
  ASSERT_EQ(g.layers.size(), 1u) << "BatchNorm, Scale and ReLU fold into the convolution";
  EXPECT_EQ(g.layers[0].Params<ConvParams>().activation, kActivationRelu);
  EXPECT_EQ(g.outputs, (std::vector<std::string>{"conv"}));
}

TEST_F(CaffeImporterTest, BatchNormAloneAndScaleSpans) {
  // BatchNorm right after the input (nothing to fold into): BatchNormCxx with the computed scale and bias.
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  Graph g;
  const auto bn =
      Run(Input("data", {1, 2, 3}) + "layer { name: \"bn\" type: \"BatchNorm\" bottom: \"data\" top: \"y\" }",
          {{"bn", {{{2}, {2, 5}}, {{2}, {1, 4}}, {{1}, {1}}}}}, {{"data", x}}, "y", &g);
  ASSERT_EQ(g.layers[0].type, LayerType::kBatchNorm);
  const float eps = 1e-5f;
  ExpectNear(bn, {(1 - 2) / std::sqrt(1 + eps), (2 - 2) / std::sqrt(1 + eps), (3 - 2) / std::sqrt(1 + eps),
                  (4 - 5) / std::sqrt(4 + eps), (5 - 5) / std::sqrt(4 + eps), (6 - 5) / std::sqrt(4 + eps)});
  // Per-channel Scale → TNN Scale.
  ExpectNear(
      Run(Input("data", {1, 2, 3}) +
              "layer { name: \"s\" type: \"Scale\" bottom: \"data\" top: \"y\" scale_param { bias_term: true } }",
          {{"s", {{{2}, {2, -1}}, {{2}, {1, 0}}}}}, {{"data", x}}, "y", &g),
      {3, 5, 7, -4, -5, -6});
  EXPECT_EQ(g.layers[0].type, LayerType::kScale);
  // A scale over axes 1..2 ([2, 3] values): Mul and Add by constants shaped [1, 2, 3].
  ExpectNear(Run(Input("data", {1, 2, 3}) + "layer { name: \"s\" type: \"Scale\" bottom: \"data\" top: \"y\" "
                                            "scale_param { num_axes: -1 bias_term: true } }",
                 {{"s", {{{2, 3}, {1, 2, 3, 4, 5, 6}}, {{2, 3}, Iota(6, 0.5f, 0.f)}}}}, {{"data", x}}, "y", &g),
             {1.5f, 4.5f, 9.5f, 16.5f, 25.5f, 36.5f});
  EXPECT_EQ(CountType(g, LayerType::kMul) + CountType(g, LayerType::kAdd), 2);
  // A scalar scale (num_axes 0, a shape [] blob).
  ExpectNear(Run(Input("data", {1, 2, 3}) + "layer { name: \"s\" type: \"Scale\" bottom: \"data\" top: \"y\" "
                                            "scale_param { num_axes: 0 } }",
                 {{"s", {{{}, {-2}}}}}, {{"data", x}}, "y", &g),
             {-2, -4, -6, -8, -10, -12});
}

TEST_F(CaffeImporterTest, FlattenReshapeDropoutSplit) {
  const std::string net = Input("data", {1, 2, 2, 3}) +
                          "layer { name: \"flat\" type: \"Flatten\" bottom: \"data\" top: \"flat\" }\n"
                          "layer { name: \"flat12\" type: \"Flatten\" bottom: \"data\" top: \"flat12\" flatten_param { "
                          "axis: 1 end_axis: 2 } }\n"
                          "layer { name: \"rs\" type: \"Reshape\" bottom: \"data\" top: \"rs\" reshape_param { shape { "
                          "dim: 0 dim: -1 dim: 2 } } }\n"
                          "layer { name: \"rs2\" type: \"Reshape\" bottom: \"data\" top: \"rs2\" "
                          "reshape_param { shape { dim: 4 dim: 1 } axis: 1 num_axes: 2 } }\n"
                          "layer { name: \"drop\" type: \"Dropout\" bottom: \"flat\" top: \"flat\" }\n"
                          "layer { name: \"split\" type: \"Split\" bottom: \"flat\" top: \"s1\" top: \"s2\" }\n"
                          "layer { name: \"sum\" type: \"Eltwise\" bottom: \"s1\" bottom: \"s2\" top: \"sum\" }\n";
  const auto x = Iota(12);
  Dims d;
  Graph g;
  ExpectNear(Run(net, {}, {{"data", x}}, "flat12", &g, &d), x);
  EXPECT_EQ(d, (Dims{1, 4, 3}));
  EXPECT_EQ(CountType(g, LayerType::kDropout), 0) << "Dropout is removed";
  EXPECT_EQ(g.FindLayer("split"), nullptr) << "Split makes no layer";
  EXPECT_EQ(g.FindLayer("sum")->inputs[0], g.FindLayer("sum")->inputs[1]);
  ExpectNear(Run(net, {}, {{"data", x}}, "rs", nullptr, &d), x);
  EXPECT_EQ(d, (Dims{1, 6, 2}));
  ExpectNear(Run(net, {}, {{"data", x}}, "rs2", nullptr, &d), x);
  EXPECT_EQ(d, (Dims{1, 4, 1, 3}));
  std::vector<float> twice;
  for (float v : x) twice.push_back(2 * v);
  ExpectNear(Run(net, {}, {{"data", x}}, "sum", nullptr, &d), twice);
  EXPECT_EQ(d, (Dims{1, 12}));
}

// An InnerProduct output carries TNN's trailing 1s ([1, 4, 1, 1]); adding it to a blob Caffe also shapes [1, 4]
// but our graph holds as [1, 4] must not broadcast into [1, 4, 1, 4].
TEST_F(CaffeImporterTest, RanksAreAlignedBeforeAMultiInputOp) {
  const std::string net = Input("data", {1, 4, 1, 1}) +
                          "layer { name: \"fc\" type: \"InnerProduct\" bottom: \"data\" top: \"fc\" "
                          "inner_product_param { num_output: 4 bias_term: false } }\n"
                          "layer { name: \"flat\" type: \"Flatten\" bottom: \"data\" top: \"flat\" }\n"
                          "layer { name: \"sum\" type: \"Eltwise\" bottom: \"fc\" bottom: \"flat\" top: \"sum\" }\n";
  std::vector<float> eye(16, 0.f);
  for (int i = 0; i < 4; ++i) eye[i * 5] = 1;
  Dims d;
  ExpectNear(Run(net, {{"fc", {{{4, 4}, eye}}}}, {{"data", {1, 2, 3, 4}}}, "sum", nullptr, &d), {2, 4, 6, 8});
  EXPECT_EQ(d, (Dims{1, 4}));
}

// ---- Names, formats and inputs ---------------------------------------------------------------------------------

TEST_F(CaffeImporterTest, InPlaceLayersAreRenamedDeterministically) {
  // conv → relu in place → pool; the input is scaled in place too; "prob" is written in place twice.
  const std::string net =
      Input("data", {1, 1, 2, 2}) +
      "layer { name: \"pre\" type: \"Scale\" bottom: \"data\" top: \"data\" scale_param { num_axes: 0 } }\n"
      "layer { name: \"fc\" type: \"InnerProduct\" bottom: \"data\" top: \"prob\" "
      "inner_product_param { num_output: 2 bias_term: false } }\n"
      "layer { name: \"relu\" type: \"ReLU\" bottom: \"prob\" top: \"prob\" }\n"
      "layer { name: \"sig\" type: \"Sigmoid\" bottom: \"prob\" top: \"prob\" }\n";
  const Weights w = {{"pre", {{{}, {2}}}}, {"fc", {{{2, 4}, {1, 1, 1, 1, -1, -1, -1, -1}}}}};
  Graph a, b;
  ASSERT_TRUE(Import(net, w, &a).ok());
  ASSERT_TRUE(Import(net, w, &b).ok());
  ExpectSameGraph(a, b);
  ASSERT_EQ(a.inputs.size(), 1u);
  EXPECT_EQ(a.inputs[0].name, "data");  // the input keeps its name; the scaled version is renamed
  EXPECT_EQ(a.FindLayer("pre")->outputs[0], "data_v1");
  EXPECT_EQ(a.FindLayer("fc")->outputs[0], "prob_v0");
  EXPECT_EQ(a.FindLayer("relu")->outputs[0], "prob_v1");
  EXPECT_EQ(a.FindLayer("sig")->outputs[0], "prob");
  EXPECT_EQ(a.outputs, (std::vector<std::string>{"prob"}));
  ExpectNear(RunGraph(a, {{"data", {1, 2, 3, 4}}}, "prob"), {1.f / (1 + std::exp(-20.f)), 0.5f});
}

TEST_F(CaffeImporterTest, NamesAreSanitizedAndStayUnique) {
  const std::string net = Input("in put", {1, 1, 1, 2}) +
                          "layer { name: \"a,b\" type: \"ReLU\" bottom: \"in put\" top: \"x:1\" }\n"
                          "layer { name: \"a:b\" type: \"Sigmoid\" bottom: \"x:1\" top: \"x_1\" }\n";
  Graph g;
  Status s = Import(net, {}, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(g.inputs[0].name, "in_put");
  EXPECT_EQ(g.layers[0].name, "a_b");
  EXPECT_EQ(g.layers[1].name, "a_b_1");
  EXPECT_EQ(g.layers[0].outputs[0], "x_1");
  EXPECT_EQ(g.layers[1].outputs[0], "x_1_1");
  // The written proto reads back as the same graph.
  Graph back;
  ASSERT_TRUE(ParseTnnProto(SerializeTnnProto(g), "written", &back).ok());
  ASSERT_TRUE(ParseTnnModel(SerializeTnnModel(g), "written", &back).ok());
  ExpectSameGraph(g, back);
}

TEST_F(CaffeImporterTest, NetLevelInputFormsImportWithBatchOne) {
  const std::string body = "layer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"y\" }\n";
  for (const std::string& head :
       {std::string("input: \"data\" input_dim: 64 input_dim: 1 input_dim: 2 input_dim: 3\n"),
        std::string("input: \"data\" input_shape { dim: 10 dim: 1 dim: 2 dim: 3 }\n"), Input("data", {8, 1, 2, 3})}) {
    SCOPED_TRACE(head);
    Graph g;
    Status s = Import(head + body, {}, &g);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_EQ(g.inputs.size(), 1u);
    EXPECT_EQ(g.inputs[0].dims, (Dims{1, 1, 2, 3}));
  }
}

// The same LeNet-like net written in the V1 format (enum types, legacy 4-D blob dims, unknown training fields)
// and in V2 imports to the same graph, byte for byte once written.
TEST_F(CaffeImporterTest, V1AndV2FormatsGiveTheSameGraph) {
  const std::string v1 =
      "name: \"net\"\ninput: \"data\"\ninput_dim: 64\ninput_dim: 1\ninput_dim: 6\ninput_dim: 6\n"
      "layers { name: \"conv\" type: CONVOLUTION bottom: \"data\" top: \"conv\" blobs_lr: 1 blobs_lr: 2\n"
      "  convolution_param { num_output: 2 kernel_size: 3 weight_filler { type: \"xavier\" } } }\n"
      "layers { name: \"pool\" type: POOLING bottom: \"conv\" top: \"pool\" pooling_param { pool: MAX kernel_size: 2 "
      "stride: 2 } }\n"
      "layers { name: \"ip\" type: INNER_PRODUCT bottom: \"pool\" top: \"ip\" inner_product_param { num_output: 3 } }\n"
      "layers { name: \"relu\" type: RELU bottom: \"ip\" top: \"ip\" }\n"
      "layers { name: \"prob\" type: SOFTMAX bottom: \"ip\" top: \"prob\" }\n"
      "layers { name: \"loss\" type: SOFTMAX_LOSS bottom: \"ip\" top: \"loss\" include { phase: TRAIN } }\n";
  const std::string v2 =
      Input("data", {1, 1, 6, 6}) +
      "layer { name: \"conv\" type: \"Convolution\" bottom: \"data\" top: \"conv\" param { lr_mult: 1 }\n"
      "  convolution_param { num_output: 2 kernel_size: 3 engine: CAFFE } }\n"
      "layer { name: \"pool\" type: \"Pooling\" bottom: \"conv\" top: \"pool\" pooling_param { pool: MAX kernel_size: "
      "2 stride: 2 } }\n"
      "layer { name: \"ip\" type: \"InnerProduct\" bottom: \"pool\" top: \"ip\" inner_product_param { num_output: 3 } "
      "}\n"
      "layer { name: \"relu\" type: \"ReLU\" bottom: \"ip\" top: \"ip\" }\n"
      "layer { name: \"prob\" type: \"Softmax\" bottom: \"ip\" top: \"prob\" }\n";
  const Weights weights = {{"conv", {{{2, 1, 3, 3}, Iota(18, -1, 0.125f)}, {{2}, {0.1f, -0.2f}}}},
                           {"ip", {{{3, 8}, Iota(24, 0.5f, -0.05f)}, {{3}, {0, 1, 2}}}}};
  Graph a, b;
  Status s = LoadModel(WriteText("v1.prototxt", v1), WriteCaffemodel("v1.caffemodel", weights, true), &a);
  ASSERT_TRUE(s.ok()) << s.message();
  s = LoadModel(WriteText("v2.prototxt", v2), WriteCaffemodel("v2.caffemodel", weights), &b);
  ASSERT_TRUE(s.ok()) << s.message();
  ExpectSameGraph(a, b);
  EXPECT_EQ(SerializeTnnProto(a), SerializeTnnProto(b));
  const auto x = Iota(36, -3, 0.2f);
  EXPECT_EQ(RunGraph(a, {{"data", x}}, "prob"), RunGraph(b, {{"data", x}}, "prob"));
}

TEST_F(CaffeImporterTest, ImportWriteReadKeepsGraphAndOutputs) {
  const std::string net =
      Input("data", {1, 2, 5, 5}) +
      "layer { name: \"conv\" type: \"Convolution\" bottom: \"data\" top: \"conv\" convolution_param { num_output: 4 "
      "kernel_size: 3 pad: 1 } }\n"
      "layer { name: \"relu\" type: \"ReLU\" bottom: \"conv\" top: \"conv\" relu_param { negative_slope: 0.2 } }\n"
      "layer { name: \"pool\" type: \"Pooling\" bottom: \"conv\" top: \"pool\" pooling_param { pool: AVE kernel_size: "
      "3 stride: 2 } }\n"
      "layer { name: \"e\" type: \"Eltwise\" bottom: \"pool\" bottom: \"pool\" top: \"e\" eltwise_param { operation: "
      "MAX } }\n"
      "layer { name: \"e2\" type: \"Eltwise\" bottom: \"e\" bottom: \"pool\" top: \"e2\" eltwise_param { coeff: 0.5 "
      "coeff: 3 } }\n"
      "layer { name: \"fc\" type: \"InnerProduct\" bottom: \"e2\" top: \"fc\" inner_product_param { num_output: 3 } }\n"
      "layer { name: \"prob\" type: \"Softmax\" bottom: \"fc\" top: \"prob\" }\n";
  const Weights weights = {{"conv", {{{4, 2, 3, 3}, Iota(72, -1, 0.03f)}, {{4}, {0, 1, -1, 0.5f}}}},
                           {"fc", {{{3, 16}, Iota(48, 0.5f, -0.01f)}, {{3}, {0, 1, 2}}}}};
  Graph g;
  Status imported = Import(net, weights, &g);
  ASSERT_TRUE(imported.ok()) << imported.message();
  const std::string proto = (dir_ / "out.tnnproto").string(), model = (dir_ / "out.tnnmodel").string();
  Status s = WriteTnnModel(g, proto, model);
  ASSERT_TRUE(s.ok()) << s.message();
  Graph back;
  s = ReadTnnModel(proto, model, &back);
  ASSERT_TRUE(s.ok()) << s.message();
  ExpectSameGraph(g, back);
  const auto x = Iota(50, -2, 0.1f);
  EXPECT_EQ(RunGraph(g, {{"data", x}}, "prob"), RunGraph(back, {{"data", x}}, "prob"));
}

TEST_F(CaffeImporterTest, FormatIsDetectedByContent) {
  EXPECT_TRUE(LooksLikeCaffePrototxt("# comment\n\nname: \"x\"\n"));
  EXPECT_TRUE(LooksLikeCaffePrototxt("layer {\n"));
  EXPECT_FALSE(LooksLikeCaffePrototxt("\"1 1 1 4206624772 ,\"\n"));
  EXPECT_FALSE(LooksLikeCaffePrototxt(std::string("\x08\x07\x12\x04", 4)));
  EXPECT_FALSE(LooksLikeCaffePrototxt(""));
  // A prototxt under a TNN extension still imports as Caffe.
  const std::string proto =
      WriteText("model.tnnproto",
                Input("data", {1, 1, 1, 2}) + "layer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"y\" }");
  Graph g;
  Status s = LoadModel(proto, "", &g);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(g.layers.size(), 1u);
}

TEST_F(CaffeImporterTest, SliceBecomesSplitV) {
  const auto x = Iota(2 * 5 * 2);  // [1, 5, 2, 2]: channel c holds 4c .. 4c+3
  Graph g;
  Dims d;
  // slice_point 1, 3 along the channels: sizes 1, 2, 2.
  const std::string net = Input("data", {1, 5, 2, 2}) +
                          "layer { name: \"s\" type: \"Slice\" bottom: \"data\" top: \"a\" top: \"b\" top: \"c\" "
                          "slice_param { axis: 1 slice_point: 1 slice_point: 3 } }";
  ExpectNear(Run(net, {}, {{"data", x}}, "b", &g, &d), Iota(8, 4));
  EXPECT_EQ(d, (Dims{1, 2, 2, 2}));
  ExpectNear(RunGraph(g, {{"data", x}}, "c"), Iota(8, 12));
  ASSERT_EQ(g.layers.size(), 1u);
  EXPECT_EQ(g.layers[0].type, LayerType::kSplitV);
  EXPECT_EQ(g.layers[0].Params<SplitVParams>().slices, (std::vector<int>{1, 2, 2}));
  // No slice_point: an even split; slice_dim is the old spelling of the axis.
  ExpectNear(Run(Input("data", {1, 2, 2, 4}) +
                     "layer { name: \"s\" type: \"Slice\" bottom: \"data\" top: \"a\" top: \"b\" "
                     "slice_param { slice_dim: 3 } }",
                 {}, {{"data", Iota(16)}}, "b", &g, &d),
             {2, 3, 6, 7, 10, 11, 14, 15});
  EXPECT_EQ(d, (Dims{1, 2, 2, 2}));
  ExpectImportError(Input("data", {1, 5, 2, 2}) +
                        "layer { name: \"s\" type: \"Slice\" bottom: \"data\" top: \"a\" top: \"b\" }",
                    {}, {"layer 's' (Slice)", "evenly", "2 tops"});
  ExpectImportError(Input("data", {1, 5, 2, 2}) +
                        "layer { name: \"s\" type: \"Slice\" bottom: \"data\" top: \"a\" top: \"b\" "
                        "slice_param { slice_point: 1 slice_point: 2 } }",
                    {}, {"layer 's'", "2 slice_point values for 2 tops"});
  ExpectImportError(Input("data", {1, 5, 2, 2}) +
                        "layer { name: \"s\" type: \"Slice\" bottom: \"data\" top: \"a\" top: \"b\" top: \"c\" "
                        "slice_param { slice_point: 3 slice_point: 2 } }",
                    {}, {"layer 's'", "slice_point 2 must be above 3"});
  ExpectImportError(Input("data", {1, 5, 2, 2}) +
                        "layer { name: \"s\" type: \"Slice\" bottom: \"data\" top: \"a\" top: \"b\" "
                        "slice_param { axis: 1 slice_dim: 1 } }",
                    {}, {"layer 's'", "both axis and slice_dim"});
}

TEST_F(CaffeImporterTest, PermuteAppendsTheUnlistedAxes) {
  const auto x = Iota(2 * 3 * 4);  // [1, 2, 3, 4]
  Graph g;
  Dims d;
  // order 0, 2: axes 1 and 3 follow in increasing order, so the permutation is 0, 2, 1, 3.
  const auto got = Run(Input("data", {1, 2, 3, 4}) +
                           "layer { name: \"p\" type: \"Permute\" bottom: \"data\" top: \"y\" "
                           "permute_param { order: 0 order: 2 } }",
                       {}, {{"data", x}}, "y", &g, &d);
  EXPECT_EQ(d, (Dims{1, 3, 2, 4}));
  std::vector<float> want;
  for (int h = 0; h < 3; ++h)
    for (int c = 0; c < 2; ++c)
      for (int w = 0; w < 4; ++w) want.push_back(x[(c * 3 + h) * 4 + w]);
  ExpectNear(got, want);
  EXPECT_EQ(g.layers[0].Params<PermuteParams>().order, (std::vector<int>{0, 2, 1, 3}));
  ExpectImportError(Input("data", {1, 2, 3, 4}) +
                        "layer { name: \"p\" type: \"Permute\" bottom: \"data\" top: \"y\" "
                        "permute_param { order: 0 order: 4 } }",
                    {}, {"layer 'p' (Permute)", "order 4 is out of range"});
  ExpectImportError(Input("data", {1, 2, 3, 4}) +
                        "layer { name: \"p\" type: \"Permute\" bottom: \"data\" top: \"y\" "
                        "permute_param { order: 0 order: 2 order: 2 } }",
                    {}, {"layer 'p'", "axis 2 twice"});
}

TEST_F(CaffeImporterTest, Relu6AndClip) {
  const std::vector<float> x = {-8, -1, 0, 0.5f, 5.5f, 7};
  Graph g;
  ExpectNear(Run(Input("data", {1, 6}) + "layer { name: \"r\" type: \"ReLU6\" bottom: \"data\" top: \"y\" }", {},
                 {{"data", x}}, "y", &g),
             {0, 0, 0, 0.5f, 5.5f, 6});
  EXPECT_EQ(g.layers[0].type, LayerType::kRelu6);
  ExpectNear(Run(Input("data", {1, 6}) +
                     "layer { name: \"c\" type: \"Clip\" bottom: \"data\" top: \"y\" "
                     "clip_param { min: -2 max: 1 } }",
                 {}, {{"data", x}}, "y", &g),
             {-2, -1, 0, 0.5f, 1, 1});
  EXPECT_EQ(g.layers[0].type, LayerType::kClip);
}

// MobileNet forks' depthwise types are a grouped Convolution with the same convolution_param.
TEST_F(CaffeImporterTest, DepthwiseConvolutionTypesAreGroupedConvolutions) {
  for (const char* type : {"DepthwiseConvolution", "ConvolutionDepthwise"}) {
    Graph g;
    // Two channels, a 1x1 kernel per channel: y_c = w_c * x_c + b_c.
    ExpectNear(Run(Input("data", {1, 2, 1, 2}) + "layer { name: \"dw\" type: \"" + type +
                       "\" bottom: \"data\" top: \"y\" convolution_param { num_output: 2 kernel_size: 1 group: 2 } }",
                   {{"dw", {{{2, 1, 1, 1}, {3, -1}}, {{2}, {0.5f, 1}}}}}, {{"data", {1, 2, 3, 4}}}, "y", &g),
               {3.5f, 6.5f, -2, -3});
    ASSERT_EQ(g.layers.size(), 1u) << type;
    EXPECT_EQ(g.layers[0].type, LayerType::kConvolution) << type;
    EXPECT_EQ(g.layers[0].Params<ConvParams>().group, 2) << type;
  }
}

TEST_F(CaffeImporterTest, NormalizeIsTheNormThenAMulByTheScale) {
  // [1, 2, 1, 2]: channel 0 holds 3, 0 and channel 1 holds 4, 1.
  const std::vector<float> x = {3, 0, 4, 1};
  Graph g;
  // Per position over the channels: norms 5 and 1; per-channel scales 2 and 10.
  ExpectNear(Run(Input("data", {1, 2, 1, 2}) +
                     "layer { name: \"n\" type: \"Normalize\" bottom: \"data\" top: \"y\" "
                     "norm_param { across_spatial: false channel_shared: false } }",
                 {{"n", {{{2}, {2, 10}}}}}, {{"data", x}}, "y", &g),
             {0.6f * 2, 0, 0.8f * 10, 10});
  ASSERT_EQ(g.layers.size(), 2u);
  EXPECT_EQ(g.layers[0].type, LayerType::kNormalize);
  EXPECT_EQ(g.layers[0].Params<NormalizeLayerParams>().across_spatial, 0);
  EXPECT_EQ(g.layers[1].type, LayerType::kMul);
  // Across C·H·W (the default) with one shared scale: the norm is sqrt(26).
  const float k = 3.f / std::sqrt(26.f);
  ExpectNear(Run(Input("data", {1, 2, 1, 2}) +
                     "layer { name: \"n\" type: \"Normalize\" bottom: \"data\" top: \"y\" }",
                 {{"n", {{{1}, {3}}}}}, {{"data", x}}, "y"),
             {3 * k, 0, 4 * k, 1 * k});
  ExpectImportError(Input("data", {1, 2, 1, 2}) +
                        "layer { name: \"n\" type: \"Normalize\" bottom: \"data\" top: \"y\" "
                        "norm_param { channel_shared: false } }",
                    {{"n", {{{3}, {1, 2, 3}}}}}, {"layer 'n' (Normalize)", "scale blob", "needs [2]"});
}

TEST_F(CaffeImporterTest, PriorBoxExpandsTheRatiosAsCaffe) {
  // One 1x1 cell on a 10x10 image: centre (5, 5); min 4, max 9 (the sqrt(36) = 6 square), ratio 4: 8 wide, 2 high.
  Graph g;
  Dims d;
  const auto got = Run(Input("f", {1, 1, 1, 1}) + Input("img", {1, 1, 10, 10}) +
                           "layer { name: \"pb\" type: \"PriorBox\" bottom: \"f\" bottom: \"img\" top: \"p\" "
                           "prior_box_param { min_size: 4 max_size: 9 aspect_ratio: 4 flip: false } }",
                       {}, {{"f", {1}}, {"img", std::vector<float>(100)}}, "p", &g, &d);
  EXPECT_EQ(d, (Dims{1, 2, 12, 1}));
  std::vector<float> want = {0.3f, 0.3f, 0.7f, 0.7f, 0.2f, 0.2f, 0.8f, 0.8f, 0.1f, 0.4f, 0.9f, 0.6f};
  want.resize(24, 0.1f);  // no variance given: Caffe's 0.1
  ExpectNear(got, want);
  const auto& p = g.layers[0].Params<PriorBoxLayerParams>();
  EXPECT_EQ(p.aspect_ratios, (std::vector<float>{1, 4}));
  EXPECT_EQ(p.variances, (std::vector<float>{0.1f}));
  // flip adds the reciprocal; a repeated ratio is dropped.
  ASSERT_TRUE(Import(Input("f", {1, 1, 2, 2}) + Input("img", {1, 1, 10, 10}) +
                         "layer { name: \"pb\" type: \"PriorBox\" bottom: \"f\" bottom: \"img\" top: \"p\" "
                         "prior_box_param { min_size: 4 aspect_ratio: 2 aspect_ratio: 2 aspect_ratio: 3 } }",
                     {}, &g)
                  .ok());
  EXPECT_EQ(g.layers[0].Params<PriorBoxLayerParams>().aspect_ratios,
            (std::vector<float>{1, 2, 0.5f, 3, static_cast<float>(1. / 3)}));
  ExpectImportError(Input("f", {1, 1, 2, 2}) + Input("img", {1, 1, 10, 10}) +
                        "layer { name: \"pb\" type: \"PriorBox\" bottom: \"f\" bottom: \"img\" top: \"p\" "
                        "prior_box_param { min_size: 4 step: 2.5 } }",
                    {}, {"layer 'pb' (PriorBox)", "step 2.5", "whole number"});
  ExpectImportError(Input("f", {1, 1, 2, 2}) + Input("img", {1, 1, 10, 10}) +
                        "layer { name: \"pb\" type: \"PriorBox\" bottom: \"f\" bottom: \"img\" top: \"p\" "
                        "prior_box_param { min_size: 4 max_size: 3 } }",
                    {}, {"layer 'pb'", "max_size 3 must be larger than min_size 4"});
  ExpectImportError(Input("f", {1, 1, 2, 2}) + Input("img", {1, 1, 10, 10}) +
                        "layer { name: \"pb\" type: \"PriorBox\" bottom: \"f\" bottom: \"img\" top: \"p\" }",
                    {}, {"layer 'pb'", "min_size"});
}

TEST_F(CaffeImporterTest, DetectionOutputErrors) {
  const std::string inputs = Input("loc", {1, 8}) + Input("conf", {1, 6}) + Input("priors", {1, 2, 8});
  ExpectImportError(inputs +
                        "layer { name: \"d\" type: \"DetectionOutput\" bottom: \"loc\" bottom: \"conf\" "
                        "bottom: \"priors\" top: \"y\" }",
                    {}, {"layer 'd' (DetectionOutput)", "num_classes"});
  ExpectImportError(inputs +
                        "layer { name: \"d\" type: \"DetectionOutput\" bottom: \"loc\" bottom: \"conf\" "
                        "bottom: \"priors\" top: \"y\" detection_output_param { num_classes: 4 } }",
                    {}, {"layer 'd'", "conf [1,6]", "must hold 8 and 8 values"});
  // Two priors, three classes: keep_top_k -1 and top_k 1 bound the rows by 2 classes x 1.
  Graph g;
  Status s = Import(inputs +
                        "layer { name: \"d\" type: \"DetectionOutput\" bottom: \"loc\" bottom: \"conf\" "
                        "bottom: \"priors\" top: \"y\" detection_output_param { num_classes: 3 "
                        "nms_param { top_k: 1 } } }",
                    {}, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  BlobDims dims;
  ASSERT_TRUE(InferShapes(g, {}, &dims).ok());
  EXPECT_EQ(dims.at("y"), (Dims{1, 1, 2, 7}));
  EXPECT_EQ(g.layers[0].Params<DetectionOutputLayerParams>().confidence_threshold, -FLT_MAX);
}

TEST_F(CaffeImporterTest, ShuffleChannelLrnCropInterp) {
  Graph g;
  Dims d;
  // ShuffleChannel group 2 on 4 channels: output channels are input 0, 2, 1, 3.
  ExpectNear(Run(Input("data", {1, 4, 1, 1}) +
                     "layer { name: \"s\" type: \"ShuffleChannel\" bottom: \"data\" top: \"y\" "
                     "shuffle_channel_param { group: 2 } }",
                 {}, {{"data", {10, 11, 12, 13}}}, "y", &g),
             {10, 12, 11, 13});
  EXPECT_EQ(g.layers[0].type, LayerType::kShuffleChannel);
  // LRN across 3 channels: y = x / (k + alpha/3 · Σ x²)^beta, the window clipped at the ends.
  const std::vector<float> x = {1, 2, 3, 4};
  std::vector<float> want;
  for (int ch = 0; ch < 4; ++ch) {
    float sq = 0;
    for (int j = std::max(0, ch - 1); j <= std::min(3, ch + 1); ++j) sq += x[j] * x[j];
    want.push_back(x[ch] / std::pow(2.f + 0.3f / 3 * sq, 0.75f));
  }
  ExpectNear(Run(Input("data", {1, 4, 1, 1}) +
                     "layer { name: \"n\" type: \"LRN\" bottom: \"data\" top: \"y\" "
                     "lrn_param { local_size: 3 alpha: 0.3 beta: 0.75 k: 2 } }",
                 {}, {{"data", x}}, "y", &g),
             want);
  EXPECT_EQ(g.layers[0].type, LayerType::kLrn);
  ExpectImportError(Input("data", {1, 4, 1, 1}) +
                        "layer { name: \"n\" type: \"LRN\" bottom: \"data\" top: \"y\" "
                        "lrn_param { norm_region: WITHIN_CHANNEL } }",
                    {}, {"layer 'n' (LRN)", "WITHIN_CHANNEL"});
  // Crop axis 2 with offsets 1, 2 to the reference's 2x2: rows 1-2, columns 2-3 of a 4x5 map, both channels.
  const auto got = Run(Input("data", {1, 2, 4, 5}) + Input("ref", {1, 7, 2, 2}) +
                           "layer { name: \"c\" type: \"Crop\" bottom: \"data\" bottom: \"ref\" top: \"y\" "
                           "crop_param { axis: 2 offset: 1 offset: 2 } }",
                       {}, {{"data", Iota(40)}, {"ref", std::vector<float>(28)}}, "y", &g, &d);
  EXPECT_EQ(d, (Dims{1, 2, 2, 2}));
  ExpectNear(got, {7, 8, 12, 13, 27, 28, 32, 33});
  EXPECT_EQ(g.layers[0].type, LayerType::kStridedSlice);
  EXPECT_EQ(g.outputs, (std::vector<std::string>{"y"}));
  ExpectImportError(Input("data", {1, 2, 4, 5}) + Input("ref", {1, 2, 4, 4}) +
                        "layer { name: \"c\" type: \"Crop\" bottom: \"data\" bottom: \"ref\" top: \"y\" "
                        "crop_param { axis: 2 offset: 1 offset: 2 } }",
                    {}, {"layer 'c' (Crop)"});
  // Interp zoom_factor 2 on 1x2: 3 columns, the corners aligned (0, 1.5, 3).
  ExpectNear(Run(Input("data", {1, 1, 1, 2}) +
                     "layer { name: \"i\" type: \"Interp\" bottom: \"data\" top: \"y\" "
                     "interp_param { zoom_factor: 2 } }",
                 {}, {{"data", {0, 3}}}, "y", &g, &d),
             {0, 1.5f, 3});
  EXPECT_EQ(d, (Dims{1, 1, 1, 3}));
  EXPECT_EQ(g.layers[0].type, LayerType::kUpsample);
  EXPECT_EQ(g.layers[0].Params<UpsampleParams>().align_corners, 1);
  ExpectImportError(Input("data", {1, 1, 2, 2}) +
                        "layer { name: \"i\" type: \"Interp\" bottom: \"data\" top: \"y\" "
                        "interp_param { zoom_factor: 2 pad_end: -1 } }",
                    {}, {"layer 'i' (Interp)", "pad_beg/pad_end"});
}

// TNN's LRN with an even size spans size−1 channels ((size−1)/2 on each side) but still scales by alpha/size.
TEST_F(CaffeImporterTest, TnnLrnWithAnEvenSize) {
  Graph g;
  g.inputs.push_back(InputSpec{"data", {1, 4, 1, 1}, DataType::kFloat});
  Layer l;
  l.type = LayerType::kLrn;
  l.type_str = "LRN";
  l.name = "lrn";
  l.inputs = {"data"};
  l.outputs = {"y"};
  l.params = LrnLayerParams{0.4f, 0.75f, 1.f, 4};
  g.layers.push_back(l);
  g.outputs = {"y"};
  const std::vector<float> x = {1, 2, 3, 4};
  std::vector<float> want;
  for (int ch = 0; ch < 4; ++ch) {
    float sq = 0;
    for (int j = std::max(0, ch - 1); j <= std::min(3, ch + 1); ++j) sq += x[j] * x[j];  // 3 channels
    want.push_back(x[ch] / std::pow(1.f + 0.4f / 4 * sq, 0.75f));
  }
  ExpectNear(RunGraph(g, {{"data", x}}, "y"), want);
}

// ---- Errors --------------------------------------------------------------------------------------------------

TEST_F(CaffeImporterTest, TextParseErrorNamesLineAndColumn) {
  ExpectImportError(Input("data", {1, 1, 1, 2}) + "layer {\n  name: \"r\"\n  type: \"ReLU\" bottom: \"data\" top: }\n",
                    {}, {"net.prototxt", "line 4", "column"});
}

TEST_F(CaffeImporterTest, CorruptCaffemodelIsRejected) {
  const std::string proto =
      WriteText("c.prototxt", Input("data", {1, 1, 3, 3}) +
                                  "layer { name: \"conv\" type: \"Convolution\" bottom: \"data\" "
                                  "top: \"c\" convolution_param { num_output: 1 kernel_size: 3 } }");
  const std::string good = WriteCaffemodel("good.caffemodel", {{"conv", {{{1, 1, 3, 3}, Iota(9)}, {{1}, {0}}}}});
  std::string bytes;
  {
    std::ifstream in(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (const auto& [name, content] :
       std::vector<std::pair<std::string, std::string>>{{"trunc.caffemodel", bytes.substr(0, bytes.size() - 7)},
                                                        {"junk.caffemodel", std::string("\xff\xff\xff\xff\xff", 5)},
                                                        {"empty.caffemodel", ""}}) {
    Graph g;
    Status s = LoadModel(proto, WriteText(name, content), &g);
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_NE(s.message().find(name), std::string::npos) << s.message();
  }
  Graph g;
  Status s = LoadModel(proto, (dir_ / "missing.caffemodel").string(), &g);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("missing.caffemodel"), std::string::npos) << s.message();
}

TEST_F(CaffeImporterTest, EveryUnsupportedTypeIsListedInOneError) {
  ExpectImportError(Input("data", {1, 3, 4, 4}) +
                        "layer { name: \"n1\" type: \"MVN\" bottom: \"data\" top: \"a\" }\n"
                        "layer { name: \"f\" type: \"Frobnicate\" bottom: \"a\" top: \"b\" }\n"
                        "layer { name: \"n2\" type: \"MVN\" bottom: \"b\" top: \"c\" }\n",
                    {}, {"unsupported Caffe layer types", "'Frobnicate' (f)", "'MVN' (n1, n2)"});
}

TEST_F(CaffeImporterTest, WeightErrorsNameTheLayer) {
  const std::string conv = Input("data", {1, 2, 4, 4}) +
                           "layer { name: \"conv1\" type: \"Convolution\" bottom: \"data\" top: \"c\" "
                           "convolution_param { num_output: 3 kernel_size: 3 } }\n";
  ExpectImportError(conv, {{"other", {{{1}, {1}}}}}, {"layer 'conv1'", "no weights", "no layer named 'conv1'"});
  ExpectImportError(conv, {}, {"layer 'conv1'", "no caffemodel"});
  ExpectImportError(conv, {{"conv1", {{{3, 1, 3, 3}, Iota(27)}, {{3}, {0, 0, 0}}}}},
                    {"layer 'conv1'", "weight blob", "[3,1,3,3]", "needs [3,2,3,3]"});
  ExpectImportError(conv, {{"conv1", {{{3, 2, 3, 3}, Iota(54)}}}}, {"layer 'conv1'", "1 weight blobs", "expected 2"});
  ExpectImportError(conv, {{"conv1", {{{3, 2, 3, 3}, Iota(50)}, {{3}, {0, 0, 0}}}}}, {"holds 50 values", "needs 54"});
  ExpectImportError(conv, {{"conv1", {{{3, 2, 3, 3}, Iota(54)}, {{3}, {0, NAN, 0}}}}}, {"NaN or Inf"});
}

TEST_F(CaffeImporterTest, StructuralErrorsNameTheLayer) {
  ExpectImportError(Input("data", {1, 1, 2, 2}) + "layer { name: \"r\" type: \"ReLU\" bottom: \"ghost\" top: \"y\" }",
                    {}, {"layer 'r'", "'ghost'", "no earlier layer produces"});
  ExpectImportError(Input("a", {1, 2}) + Input("b", {1, 2}) +
                        "layer { name: \"s\" type: \"Scale\" bottom: \"a\" bottom: \"b\" top: \"y\" }",
                    {}, {"layer 's' (Scale)", "two bottoms"});
  ExpectImportError(Input("a", {1, 2}) + Input("b", {1, 3}) +
                        "layer { name: \"e\" type: \"Eltwise\" bottom: \"a\" bottom: \"b\" top: \"y\" }",
                    {}, {"layer 'e'", "different shapes"});
  ExpectImportError(Input("data", {1, 1, 4, 4}) +
                        "layer { name: \"p\" type: \"Pooling\" bottom: \"data\" top: \"y\" "
                        "pooling_param { pool: STOCHASTIC kernel_size: 2 } }",
                    {}, {"layer 'p'", "STOCHASTIC"});
  ExpectImportError(Input("data", {1, 1, 4, 4}) +
                        "layer { name: \"bn\" type: \"BatchNorm\" bottom: \"data\" top: \"y\" "
                        "batch_norm_param { use_global_stats: false } }",
                    {}, {"layer 'bn'", "use_global_stats"});
  ExpectImportError(Input("data", {1, 1, 4, 4}) + "layer { name: \"e\" type: \"Eltwise\" bottom: \"data\" top: \"y\" }",
                    {}, {"layer 'e'", "1 bottoms", "at least 2"});
  ExpectImportError("layer { name: \"r\" type: \"ReLU\" bottom: \"x\" top: \"y\" }", {}, {"'x'"});
}

}  // namespace
}  // namespace qt
