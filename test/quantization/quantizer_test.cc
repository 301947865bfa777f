#include <array>
#include <cstring>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/base/parallel.h"
#include "core/graph/graph_simplify.h"
#include "core/io/tnn_io.h"
#include "core/runtime/net.h"
#include "quantization/eval/evaluator.h"
#include "core/graph/shape_inference.h"
#include "quantization/quantizer/equalization.h"
#include "quantization/quantizer/graph_passes.h"
#include "quantization/quantizer/quantizer.h"
#include "quantization/quantizer/stats_file.h"
#include "quantization/quantizer/sweep.h"
#include "quantization/report/html_report.h"
#include "quantization/report/report_builder.h"

namespace qt {
namespace {

namespace fs = std::filesystem;

// Two inputs added together: each input must be calibrated on its own files.
Graph TwoInputAdd() {
  Graph g;
  g.inputs = {{"a", {1, 2, 1, 2}, DataType::kFloat}, {"b", {1, 2, 1, 2}, DataType::kFloat}};
  Layer add;
  add.type = LayerType::kAdd;
  add.type_str = "Add";
  add.name = "add";
  add.inputs = {"a", "b"};
  add.outputs = {"c"};
  add.params = BinaryParams{};
  g.layers = {add};
  g.outputs = {"c"};
  g.RefreshBlobNames();
  return g;
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

RawBuffer RandomFloats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 0.5f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return RawBuffer::FromFloat(v);
}

// A small CNN with every calibrated layer kind: conv → ReLU, a branch of two convs concatenated on channels, max
// pooling, a residual Add, global average pooling and an inner product. 12x12 inputs keep H·W >= 100 on the
// early blobs, so KL and ACIQ really run there.
ConvParams ConvOf(int ic, int oc, int k, int pad, int group = 1) {
  ConvParams p;
  p.group = group;
  p.input_channel = ic / group;
  p.output_channel = oc;
  p.kernel_h = p.kernel_w = k;
  p.pad_h = p.pad_w = pad;
  p.has_bias = 1;
  return p;
}

PoolParams MaxPool2x2() {
  PoolParams p;
  p.kernel_h = p.kernel_w = 2;
  p.stride_h = p.stride_w = 2;
  p.pad_type = -1;
  return p;
}

Graph SmallCnn() {
  Graph g;
  g.inputs = {{"data", {1, 3, 12, 12}, DataType::kFloat}};
  const PoolParams max_pool = MaxPool2x2();
  PoolParams global_avg;
  global_avg.pool_type = 1;
  global_avg.pad_type = -1;
  InnerProductParams fc;
  fc.num_output = 5;
  fc.has_bias = 1;
  g.layers = {MakeLayer(LayerType::kConvolution, "Convolution", "conv1", {"data"}, {"c1"}, ConvOf(3, 8, 3, 1)),
              MakeLayer(LayerType::kRelu, "ReLU", "relu1", {"c1"}, {"r1"}),
              MakeLayer(LayerType::kConvolution, "Convolution", "conv2a", {"r1"}, {"c2a"}, ConvOf(8, 4, 1, 0)),
              MakeLayer(LayerType::kConvolution, "Convolution", "conv2b", {"r1"}, {"c2b"}, ConvOf(8, 4, 3, 1)),
              MakeLayer(LayerType::kConcat, "Concat", "cat", {"c2a", "c2b"}, {"cat"}, AxisParams{1}),
              MakeLayer(LayerType::kAdd, "Add", "add", {"cat", "r1"}, {"sum"}, BinaryParams{}),
              MakeLayer(LayerType::kPooling, "Pooling", "pool", {"sum"}, {"p"}, max_pool),
              MakeLayer(LayerType::kPooling, "Pooling", "gap", {"p"}, {"g"}, global_avg),
              MakeLayer(LayerType::kInnerProduct, "InnerProduct", "fc", {"g"}, {"out"}, fc)};
  g.outputs = {"out"};
  uint32_t seed = 1;
  for (const auto& [name, ic, oc, k] : std::vector<std::tuple<std::string, int, int, int>>{
           {"conv1", 3, 8, 3}, {"conv2a", 8, 4, 1}, {"conv2b", 8, 4, 3}}) {
    ConvResource r;
    r.filter = RandomFloats(size_t{1} * oc * ic * k * k, seed++);
    r.bias = RandomFloats(oc, seed++);
    r.has_bias = true;
    g.resources[name] = r;
  }
  InnerProductResource r;
  r.weight = RandomFloats(5 * 8, seed++);
  r.bias = RandomFloats(5, seed++);
  g.resources["fc"] = r;
  g.RefreshBlobNames();
  return g;
}

class QuantizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qt_quantizer_" + std::string(
        ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "a");
    fs::create_directories(dir_ / "b");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) { std::ofstream(dir_ / rel) << text; }
  fs::path dir_;
};

TEST_F(QuantizerTest, TwoInputModelCalibratesEachInputFromItsSubfolder) {
  Write("a/s1.txt", "1 -2 0.5 0.25");
  Write("b/s1.txt", "10 20 -30 1");
  Write("a/s2.txt", "3 0 0 0");
  Write("b/s2.txt", "0 0 0 5");
  std::vector<CalibrationSample> samples;
  ASSERT_TRUE(ListCalibrationSamples(dir_.string(), {"a", "b"}, &samples).ok());
  ASSERT_EQ(samples.size(), 2u);
  QuantizeOptions o;
  o.merge = MergeType::kMixed;
  QuantizeResult r;
  const Status s = QuantizeGraph(TwoInputAdd(), samples, o, {}, &r);
  ASSERT_TRUE(s.ok()) << s.message();
  const Graph& q = r.graph;
  EXPECT_TRUE(q.layers[0].quantized);
  EXPECT_FLOAT_EQ(q.blob_scales.at("a").scale[0], 3.f / 127);
  EXPECT_FLOAT_EQ(q.blob_scales.at("b").scale[0], 30.f / 127);
  EXPECT_FLOAT_EQ(q.blob_scales.at("c").scale[0], 29.5f / 127);  // |0.5 + -30|
}

// An Add fed by float layers alone (as an SSD-style box decoding after the heads) stays float by default; TNN's
// tool, and --compat tnn, quantize it anyway.
TEST_F(QuantizerTest, AddOfFloatLayersStaysFloatExceptUnderTnnCompat) {
  Write("s1.txt", "1 -2 0.5 0.25");
  Write("s2.txt", "3 0 -1 0");
  std::vector<CalibrationSample> samples;
  const Status listed = ListCalibrationSamples(dir_.string(), {"a"}, &samples);
  ASSERT_TRUE(listed.ok()) << listed.message();
  Graph g;
  g.inputs = {{"a", {1, 2, 1, 2}, DataType::kFloat}};
  g.layers = {MakeLayer(LayerType::kExp, "Exp", "exp", {"a"}, {"x"}),
              MakeLayer(LayerType::kSigmoid, "Sigmoid", "sig", {"a"}, {"y"}),
              MakeLayer(LayerType::kAdd, "Add", "add", {"x", "y"}, {"c"}, BinaryParams{}),
              MakeLayer(LayerType::kAdd, "Add", "add_in", {"a", "c"}, {"d"}, BinaryParams{})};
  g.outputs = {"d"};
  g.RefreshBlobNames();
  for (bool compat : {false, true}) {
    QuantizeOptions o;
    o.tnn_compat = compat;
    QuantizeResult r;
    const Status s = QuantizeGraph(g, samples, o, {}, &r);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(r.graph.FindLayer("add")->quantized, compat);
    EXPECT_TRUE(r.graph.FindLayer("add_in")->quantized);  // one input is the model's
    EXPECT_FALSE(r.graph.FindLayer("exp")->quantized);
  }
}

TEST_F(QuantizerTest, PerChannelScalesHaveOneValuePerChannel) {
  Write("a/s1.txt", "1 -2 0.5 0.25");
  Write("b/s1.txt", "10 20 -30 1");
  std::vector<CalibrationSample> samples;
  ASSERT_TRUE(ListCalibrationSamples(dir_.string(), {"a", "b"}, &samples).ok());
  QuantizeOptions o;
  o.merge = MergeType::kPerChannel;
  QuantizeResult r;
  ASSERT_TRUE(QuantizeGraph(TwoInputAdd(), samples, o, {}, &r).ok());
  const Graph& q = r.graph;
  EXPECT_EQ(q.blob_scales.at("a").scale, (std::vector<float>{2.f / 127, 0.5f / 127}));
  EXPECT_EQ(q.blob_scales.at("b").scale.size(), 2u);
}

TEST_F(QuantizerTest, MismatchedSubfoldersAreErrors) {
  Write("a/s1.txt", "1 2 3 4");
  Write("b/other.txt", "1 2 3 4");
  std::vector<CalibrationSample> samples;
  Status s = ListCalibrationSamples(dir_.string(), {"a", "b"}, &samples);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no file for input"), std::string::npos) << s.message();
  s = ListCalibrationSamples(dir_.string(), {"a", "missing"}, &samples);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("missing"), std::string::npos) << s.message();
}

// Random NCHW txt inputs for SmallCnn in dir_/calib.
std::vector<CalibrationSample> WriteSmallCnnInputs(const fs::path& dir, int count) {
  fs::create_directories(dir);
  std::mt19937 rng(42);
  std::normal_distribution<float> d(0.f, 1.f);
  for (int i = 0; i < count; ++i) {
    std::ostringstream text;
    for (int k = 0; k < 3 * 12 * 12; ++k) text << d(rng) << "\n";
    std::ofstream(dir / ("in" + std::to_string(100 + i) + ".txt")) << text.str();
  }
  std::vector<CalibrationSample> samples;
  EXPECT_TRUE(ListCalibrationSamples(dir.string(), {"data"}, &samples).ok());
  return samples;
}

std::string Serialized(const Graph& g) {
  const auto model = SerializeTnnModel(g);
  return SerializeTnnProto(g) + std::string(model.begin(), model.end());
}

struct MethodCase {
  BlobMethod blob;
  WeightMethod weight;
  MergeType merge;
};

const std::vector<MethodCase> kMethodCases = {
    {BlobMethod::kMinMax, WeightMethod::kMinMax, MergeType::kMixed},
    {BlobMethod::kKl, WeightMethod::kAdmm, MergeType::kMixed},
    {BlobMethod::kKl, WeightMethod::kMinMax, MergeType::kPerChannel},
    {BlobMethod::kAciqLaplace, WeightMethod::kMinMax, MergeType::kPerChannel},
    {BlobMethod::kAciqGauss, WeightMethod::kAdmm, MergeType::kPerTensor},
    {BlobMethod::kAsymMinMax, WeightMethod::kAsymMinMax, MergeType::kMixed},
};

TEST_F(QuantizerTest, OutputDoesNotDependOnTheThreadCountOrTheKindOfParallelism) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 9);
  for (const auto& c : kMethodCases) {
    QuantizeOptions o;
    o.blob_method = c.blob;
    o.weight_method = c.weight;
    o.merge = c.merge;
    std::string first;
    for (bool images : {true, false}) {
      for (int threads : {1, 2}) {
        SetNumThreads(threads);
        o.parallel_images = images;
        QuantizeResult r;
        const Status s = QuantizeGraph(SmallCnn(), samples, o, {}, &r);
        ASSERT_TRUE(s.ok()) << s.message();
        const std::string out = Serialized(r.graph);
        if (first.empty()) first = out;
        EXPECT_EQ(out, first) << BlobMethodName(c.blob) << " / " << WeightMethodName(c.weight) << ", "
                              << threads << " threads, " << (images ? "images" : "kernels") << " in parallel";
      }
    }
  }
  SetNumThreads(2);
}

// With parallel images the channel histograms are one copy that every thread counts into, each blob under its own
// lock; the tensor histograms and ranges are per thread and merged. Both must give one thread's counts exactly.
TEST_F(QuantizerTest, ChannelHistogramsSharedByTheThreadsEqualOneThreadsCounts) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 9);
  StreamingCalibration how;
  how.request.tensor_hist = how.request.channel_hist = true;
  const std::vector<std::string> blobs = {"data", "r1", "c2a", "c2b", "sum", "p"};
  std::map<std::string, BlobStats> by_threads[2];
  for (int threads : {1, 2}) {
    SetNumThreads(threads);
    std::map<size_t, SampleTensors> kept;
    const Status s = CollectBlobStats(SmallCnn(), samples, blobs, Preprocess(), how, {}, &by_threads[threads - 1],
                                      &kept);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  SetNumThreads(2);
  int64_t counted = 0;
  for (const auto& name : blobs) {
    const BlobStats& one = by_threads[0].at(name);
    const BlobStats& two = by_threads[1].at(name);
    EXPECT_TRUE(two.request().channel_hist) << name;
    ASSERT_EQ(one.channels(), two.channels()) << name;
    EXPECT_EQ(one.tensor().hist.counts(), two.tensor().hist.counts()) << name;
    for (int c = 0; c < one.channels(); ++c) {
      const AbsHistogram& h1 = one.channel(c).hist;
      const AbsHistogram& h2 = two.channel(c).hist;
      ASSERT_EQ(h1.empty(), h2.empty()) << name << " channel " << c;
      if (h1.empty()) continue;
      EXPECT_EQ(h1.exponent(), h2.exponent()) << name << " channel " << c;
      EXPECT_EQ(h1.counts(), h2.counts()) << name << " channel " << c;
      EXPECT_EQ(one.channel(c).max, two.channel(c).max) << name << " channel " << c;
      for (uint64_t k : h2.counts()) counted += static_cast<int64_t>(k);
    }
  }
  EXPECT_GT(counted, 0);
}

TEST_F(QuantizerTest, RecycledBlobsGiveTheSameValuesInFloatAndInt8Networks) {
  // SmallCnn's r1 feeds three layers, one of them after a branch: its memory may be reused only after the Add.
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 5);
  QuantizeResult q;
  ASSERT_TRUE(QuantizeGraph(SmallCnn(), samples, QuantizeOptions(), {}, &q).ok());
  for (const Graph& g : {SmallCnn(), q.graph}) {
    Net plain, recycled;
    ASSERT_TRUE(plain.Init(g).ok());
    ASSERT_TRUE(recycled.Init(g).ok());
    recycled.set_recycle_blobs(true);
    std::mt19937 rng(3);
    std::normal_distribution<float> d(0.f, 1.f);
    for (int pass = 0; pass < 3; ++pass) {
      Tensor in({1, 3, 12, 12});
      for (auto& x : in.data) x = d(rng);
      std::vector<std::vector<float>> seen[2];
      Net* nets[2] = {&plain, &recycled};
      for (int k = 0; k < 2; ++k) {
        ASSERT_TRUE(nets[k]->SetInput("data", in).ok());
        ASSERT_TRUE(nets[k]->Forward([&](const Layer&, const std::vector<const Tensor*>& outs) {
          for (const Tensor* t : outs) seen[k].push_back(t->data);
          return Status::Ok();
        }).ok());
      }
      EXPECT_EQ(seen[0], seen[1]) << "pass " << pass;
      Tensor a, b;
      ASSERT_TRUE(plain.GetBlob("out", &a).ok());
      ASSERT_TRUE(recycled.GetBlob("out", &b).ok());
      EXPECT_EQ(a.data, b.data) << "pass " << pass;
      EXPECT_TRUE(plain.GetBlob("cat", &a).ok());
      EXPECT_FALSE(recycled.GetBlob("cat", &b).ok()) << "an intermediate blob keeps a value after Forward";
    }
  }
}

TEST_F(QuantizerTest, EvaluatorLayerCosinesEqualThoseOfTheKeptBlobs) {
  // The evaluator compares inside the fp32 pass (its blobs recycled); the same cosines follow from two networks
  // that keep every blob, compared after their passes.
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 6);
  QuantizeResult q;
  ASSERT_TRUE(QuantizeGraph(SmallCnn(), samples, QuantizeOptions(), {}, &q).ok());
  Evaluator eval;
  ASSERT_TRUE(eval.Init(SmallCnn(), &q.graph, Preprocess()).ok());
  Net f, i8;
  ASSERT_TRUE(f.Init(SmallCnn()).ok());
  ASSERT_TRUE(i8.Init(q.graph).ok());
  std::map<std::string, double> expected;
  std::map<std::string, std::array<double, 3>> outputs;  // cosine, rel L2, max abs
  for (const auto& sample : samples) {
    Tensor in;
    ASSERT_TRUE(LoadInput(sample.at("data"), {1, 3, 12, 12}, Preprocess(), &in).ok());
    ASSERT_TRUE(eval.AddTensors({{"data", in}}, -1).ok());
    ASSERT_TRUE(f.SetInput("data", in).ok());
    ASSERT_TRUE(i8.SetInput("data", in).ok());
    ASSERT_TRUE(f.Forward().ok());
    ASSERT_TRUE(i8.Forward().ok());
    for (const auto& l : q.graph.layers) {
      if (!l.quantized) continue;
      Tensor a, b;
      ASSERT_TRUE(f.GetBlob(l.outputs[0], &a).ok());
      ASSERT_TRUE(i8.GetBlob(l.outputs[0], &b).ok());
      expected[l.outputs[0]] += Cosine(b.data, a.data) / samples.size();
    }
    for (const auto& name : q.graph.outputs) {
      Tensor a, b;
      ASSERT_TRUE(f.GetBlob(name, &a).ok());
      ASSERT_TRUE(i8.GetBlob(name, &b).ok());
      double dd = 0, ff = 0, worst = 0;
      for (int64_t k = 0; k < a.count(); ++k) {
        dd += (double{b.data[k]} - a.data[k]) * (double{b.data[k]} - a.data[k]);
        ff += double{a.data[k]} * a.data[k];
        worst = std::max(worst, std::abs(double{b.data[k]} - a.data[k]));
      }
      auto& o = outputs[name];
      o[0] += Cosine(b.data, a.data) / samples.size();
      o[1] += std::sqrt(dd / ff) / samples.size();
      o[2] += worst / samples.size();
    }
  }
  const EvalSummary s = eval.Summary();
  EXPECT_EQ(s.inputs, static_cast<int>(samples.size()));
  ASSERT_EQ(s.layers.size(), expected.size());
  for (const auto& l : s.layers) EXPECT_NEAR(l.cosine, expected.at(l.blob), 1e-9) << l.blob;
  ASSERT_EQ(s.outputs.size(), outputs.size());
  for (const auto& o : s.outputs) {
    EXPECT_NEAR(o.cosine, outputs.at(o.name)[0], 1e-9) << o.name;
    EXPECT_NEAR(o.rel_l2, outputs.at(o.name)[1], 1e-9) << o.name;
    EXPECT_NEAR(o.max_abs, outputs.at(o.name)[2], 1e-9) << o.name;
  }
}

TEST_F(QuantizerTest, EvaluatorNamesTheInputsOfLowestOutputCosineAlsoAfterAMerge) {
  // Six inputs, one of them scaled down to a fifth: each output lists the five of lowest cosine, lowest first,
  // with the fp32 output's norm on that input over its mean; two evaluators given every other input and merged
  // list the same inputs and figures as one given all of them.
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 6);
  QuantizeResult q;
  ASSERT_TRUE(QuantizeGraph(SmallCnn(), samples, QuantizeOptions(), {}, &q).ok());
  Evaluator all, halves[2];
  ASSERT_TRUE(all.Init(SmallCnn(), &q.graph, Preprocess()).ok());
  for (auto& h : halves) ASSERT_TRUE(h.Init(SmallCnn(), &q.graph, Preprocess()).ok());
  Net f, i8;
  ASSERT_TRUE(f.Init(SmallCnn()).ok());
  ASSERT_TRUE(i8.Init(q.graph).ok());
  std::map<std::string, std::vector<InputCosine>> expected;
  std::map<std::string, double> norm_sum;
  for (size_t k = 0; k < samples.size(); ++k) {
    Tensor in;
    ASSERT_TRUE(LoadInput(samples[k].at("data"), {1, 3, 12, 12}, Preprocess(), &in).ok());
    if (k == 3) {
      for (float& v : in.data) v *= 0.2f;
    }
    const std::string name = "in" + std::to_string(k);
    ASSERT_TRUE(all.AddTensors({{"data", in}}, -1, name).ok());
    ASSERT_TRUE(halves[k % 2].AddTensors({{"data", in}}, -1, name).ok());
    ASSERT_TRUE(f.SetInput("data", in).ok());
    ASSERT_TRUE(i8.SetInput("data", in).ok());
    ASSERT_TRUE(f.Forward().ok());
    ASSERT_TRUE(i8.Forward().ok());
    for (const auto& out : q.graph.outputs) {
      Tensor a, b;
      ASSERT_TRUE(f.GetBlob(out, &a).ok());
      ASSERT_TRUE(i8.GetBlob(out, &b).ok());
      double ff = 0;
      for (float v : a.data) ff += double{v} * v;
      expected[out].push_back({name, Cosine(b.data, a.data), std::sqrt(ff)});
      norm_sum[out] += std::sqrt(ff);
    }
  }
  halves[0].Merge(halves[1]);
  const EvalSummary s = all.Summary(), merged = halves[0].Summary();
  ASSERT_EQ(s.outputs.size(), expected.size());
  ASSERT_EQ(merged.outputs.size(), expected.size());
  for (size_t i = 0; i < s.outputs.size(); ++i) {
    const OutputAgreement& o = s.outputs[i];
    std::vector<InputCosine> want = expected.at(o.name);
    std::sort(want.begin(), want.end(), [](const InputCosine& a, const InputCosine& b) {
      return a.cosine < b.cosine || (a.cosine == b.cosine && a.input < b.input);
    });
    want.resize(kWorstInputs);
    ASSERT_EQ(o.worst.size(), kWorstInputs) << o.name;
    ASSERT_EQ(merged.outputs[i].worst.size(), kWorstInputs) << o.name;
    for (size_t k = 0; k < kWorstInputs; ++k) {
      EXPECT_EQ(o.worst[k].input, want[k].input) << o.name << " " << k;
      EXPECT_NEAR(o.worst[k].cosine, want[k].cosine, 1e-12) << o.name << " " << k;
      EXPECT_NEAR(o.worst[k].norm_ratio, want[k].norm_ratio / (norm_sum.at(o.name) / samples.size()), 1e-9)
          << o.name << " " << k;
      EXPECT_EQ(merged.outputs[i].worst[k].input, o.worst[k].input) << o.name << " " << k;
      EXPECT_EQ(merged.outputs[i].worst[k].cosine, o.worst[k].cosine) << o.name << " " << k;
      EXPECT_NEAR(merged.outputs[i].worst[k].norm_ratio, o.worst[k].norm_ratio, 1e-12) << o.name << " " << k;
    }
    // The scaled input's output is about a fifth of the others' (the model's biases keep it from being exactly so).
    const auto scaled = std::find_if(expected.at(o.name).begin(), expected.at(o.name).end(),
                                     [](const InputCosine& c) { return c.input == "in3"; });
    EXPECT_LT(scaled->norm_ratio / (norm_sum.at(o.name) / samples.size()), 0.6) << o.name;
  }
}

TEST(FusedReferenceTest, FusesConvReluPairsExceptWhereTheInt8ModelNamesTheConvOutput) {
  const Graph fp32 = SmallCnn();
  EXPECT_EQ(FusedReference(fp32, nullptr).FindLayer("relu1"), nullptr);
  Graph fused = fp32;
  ASSERT_EQ(FuseConvActivation(&fused), 1);
  EXPECT_EQ(FusedReference(fp32, &fused).FindLayer("relu1"), nullptr);
  // An int8 model whose convolution keeps its own ReLU layer names c1: the reference keeps it for the comparison.
  const Graph reference = FusedReference(fp32, &fp32);
  EXPECT_NE(reference.FindLayer("relu1"), nullptr);
  EXPECT_EQ(reference.FindLayer("conv1")->outputs[0], "c1");
}

TEST(DetectionAgreementTest, MatchesSameLabelAtIouHalfOneToOne) {
  // rows: image, label, score, x1, y1, x2, y2; label -1 is Caffe's "no detection" row.
  const std::vector<float> fp32 = {0, 1, 0.9f, 0, 0, 10, 10,   0, 1, 0.8f, 20, 20, 30, 30,
                                   0, 2, 0.7f, 0, 0, 10, 10,   0, -1, -1, -1, -1, -1, -1};
  const std::vector<float> int8 = {0, 1, 0.85f, 1, 1, 11, 11,  // IoU 0.68 with the first: matched
                                   0, 1, 0.8f, 1, 0, 10, 10,   // the first is taken: unmatched
                                   0, 2, 0.6f, 5, 0, 15, 10,   // IoU 1/3: unmatched
                                   0, 3, 0.5f, 20, 20, 30, 30}; // other label: unmatched
  DetectionAgreement a;
  MatchDetections(fp32, int8, &a);
  EXPECT_EQ(a.fp32, 3);
  EXPECT_EQ(a.int8, 4);
  EXPECT_EQ(a.matched, 1);
  EXPECT_DOUBLE_EQ(a.precision(), 0.25);
  EXPECT_DOUBLE_EQ(a.recall(), 1.0 / 3);
}

TEST_F(QuantizerTest, ReusedStatisticsGiveTheSameModelWithoutAForwardPass) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 7);
  const std::string stats = (dir_ / "stats.bin").string();
  QuantizeOptions first;
  first.stats_path = stats;
  QuantizeResult r0;
  ASSERT_TRUE(QuantizeGraph(SmallCnn(), samples, first, {}, &r0).ok());
  EXPECT_FALSE(r0.stats_reused);
  ASSERT_TRUE(fs::exists(stats));
  for (const auto& c : kMethodCases) {
    QuantizeOptions o;
    o.blob_method = c.blob;
    o.weight_method = c.weight;
    o.merge = c.merge;
    QuantizeResult fresh, reused;
    ASSERT_TRUE(QuantizeGraph(SmallCnn(), samples, o, {}, &fresh).ok());
    o.stats_path = stats;
    bool forward_pass = false;
    QuantizeCallbacks cb;
    cb.progress = [&](const std::string&, size_t, size_t) { forward_pass = true; };
    const Status s = QuantizeGraph(SmallCnn(), samples, o, cb, &reused);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_TRUE(reused.stats_reused);
    EXPECT_FALSE(forward_pass);
    EXPECT_EQ(Serialized(reused.graph), Serialized(fresh.graph)) << BlobMethodName(c.blob);
  }
}

TEST_F(QuantizerTest, StatisticsOfOtherInputsOrPreprocessingAreRefused) {
  auto samples = WriteSmallCnnInputs(dir_ / "calib", 3);
  const std::string stats = (dir_ / "stats.bin").string();
  QuantizeOptions o;
  o.stats_path = stats;
  QuantizeResult r;
  ASSERT_TRUE(QuantizeGraph(SmallCnn(), samples, o, {}, &r).ok());
  // One input file changes: refused, and the message says why.
  std::ofstream(samples[1].at("data"), std::ios::app) << "\n";
  Status s = QuantizeGraph(SmallCnn(), samples, o, {}, &r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("another model, input set or preprocessing"), std::string::npos) << s.message();
  // Another model.
  samples = WriteSmallCnnInputs(dir_ / "calib", 3);
  Graph other = SmallCnn();
  std::get<ConvResource>(other.resources["conv1"]).filter = RandomFloats(8 * 3 * 9, 99);
  s = QuantizeGraph(other, samples, o, {}, &r);
  EXPECT_FALSE(s.ok());
  // Corrupt and truncated files name the file.
  std::string bytes;
  {
    std::ifstream in(stats, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  uint64_t fp = 0;
  ASSERT_TRUE(CalibrationFingerprint(SmallCnn(), samples, Preprocess{}, &fp).ok());
  std::map<std::string, BlobStats> loaded;
  std::ofstream(stats, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  s = LoadBlobStats(stats, fp, true, &loaded);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(stats), std::string::npos);
  std::ofstream(stats, std::ios::binary) << "not a statistics file";
  s = LoadBlobStats(stats, fp, true, &loaded);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bad magic"), std::string::npos) << s.message();
}

TEST_F(QuantizerTest, ScaleResourcesHaveTheShapeOfTheirMergeType) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 4);
  for (MergeType merge : {MergeType::kPerChannel, MergeType::kMixed, MergeType::kPerTensor}) {
    SCOPED_TRACE(static_cast<int>(merge));
    QuantizeOptions o;
    o.merge = merge;
    QuantizeResult r;
    ASSERT_TRUE(QuantizeGraph(SmallCnn(), samples, o, {}, &r).ok());
    const Graph& g = r.graph;
    const size_t per_channel_blobs = merge == MergeType::kPerChannel;
    // Blob scales: one per channel (dim 1) only with -t 0, and never for the inner product's input and output.
    for (const auto& [blob, channels] : std::vector<std::pair<std::string, size_t>>{
             {"data", 3}, {"r1", 8}, {"c2a", 4}, {"cat", 8}, {"sum", 8}, {"p", 8}}) {
      EXPECT_EQ(g.blob_scales.at(blob).scale.size(), per_channel_blobs ? channels : 1u) << blob;
      EXPECT_EQ(g.blob_scales.at(blob).zero_point.size(), g.blob_scales.at(blob).scale.size()) << blob;
    }
    EXPECT_EQ(g.blob_scales.at("g").scale.size(), 1u);
    EXPECT_EQ(g.blob_scales.at("out").scale.size(), 1u);
    // Weight scales, zero points and int32 biases: one per output channel, or one for -t 2 (the bias stays per
    // channel).
    const size_t per_channel_weights = merge != MergeType::kPerTensor;
    for (const auto& [layer, oc] : std::vector<std::pair<std::string, size_t>>{{"conv1", 8}, {"conv2a", 4}, {"conv2b", 4}}) {
      const auto& c = std::get<ConvResource>(g.resources.at(layer));
      EXPECT_EQ(c.filter.dtype(), DataType::kInt8) << layer;
      EXPECT_EQ(c.scale.count(), static_cast<int64_t>(per_channel_weights ? oc : 1)) << layer;
      EXPECT_EQ(c.zero_point.count(), c.scale.count()) << layer;
      EXPECT_EQ(c.bias.dtype(), DataType::kInt32) << layer;
      EXPECT_EQ(c.bias.count(), static_cast<int64_t>(oc)) << layer;
    }
    const auto& fc = std::get<InnerProductResource>(g.resources.at("fc"));
    EXPECT_EQ(fc.scale.count(), per_channel_weights ? 5 : 1);
    EXPECT_EQ(fc.bias.count(), 5);
  }
}

TEST_F(QuantizerTest, TxtNpyAndImagesOfTheSameTensorsGiveTheSameScales) {
  // Three 8x8 RGB images as PNG, and the same tensors after the preprocessing (RGB, x − 100, · 0.02) as NCHW txt
  // and as float32 npy: each folder must calibrate to the same model.
  Graph g;
  g.inputs = {{"data", {1, 3, 8, 8}, DataType::kFloat}};
  ConvParams cp;
  cp.input_channel = 3;
  cp.output_channel = 4;
  cp.kernel_h = cp.kernel_w = 3;
  cp.pad_h = cp.pad_w = 1;
  cp.has_bias = 1;
  g.layers = {MakeLayer(LayerType::kConvolution, "Convolution", "conv", {"data"}, {"c"}, cp),
              MakeLayer(LayerType::kRelu, "ReLU", "relu", {"c"}, {"out"})};
  g.outputs = {"out"};
  ConvResource cr;
  cr.filter = RandomFloats(4 * 3 * 9, 3);
  cr.bias = RandomFloats(4, 4);
  cr.has_bias = true;
  g.resources["conv"] = cr;
  g.RefreshBlobNames();
  for (const char* sub : {"png", "txt", "npy"}) fs::create_directories(dir_ / sub);
  std::mt19937 rng(17);
  for (int k = 0; k < 3; ++k) {
    cv::Mat bgr(8, 8, CV_8UC3);
    for (int y = 0; y < 8; ++y) {
      for (int x = 0; x < 8; ++x) bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(rng() % 256, rng() % 256, rng() % 256);
    }
    const std::string name = "s" + std::to_string(k);
    ASSERT_TRUE(cv::imwrite((dir_ / "png" / (name + ".png")).string(), bgr));
    std::vector<float> t(3 * 64);
    for (int c = 0; c < 3; ++c) {
      for (int i = 0; i < 64; ++i) t[c * 64 + i] = (bgr.at<cv::Vec3b>(i / 8, i % 8)[2 - c] - 100.f) * 0.02f;
    }
    std::ostringstream text;
    text.precision(9);
    for (float v : t) text << v << "\n";
    std::ofstream(dir_ / "txt" / (name + ".txt")) << text.str();
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 8, 8), }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string npy = std::string("\x93NUMPY\x01\x00", 8);
    npy += static_cast<char>(header.size() & 0xFF);
    npy += static_cast<char>(header.size() >> 8);
    npy += header;
    npy.append(reinterpret_cast<const char*>(t.data()), t.size() * sizeof(float));
    std::ofstream(dir_ / "npy" / (name + ".npy"), std::ios::binary) << npy;
  }
  std::string model[3];
  int k = 0;
  for (const char* sub : {"png", "txt", "npy"}) {
    std::vector<CalibrationSample> samples;
    ASSERT_TRUE(ListCalibrationSamples((dir_ / sub).string(), {"data"}, &samples).ok());
    QuantizeOptions o;
    o.preprocess.mean = {100.f};
    o.preprocess.scale = {0.02f};
    QuantizeResult r;
    const Status st = QuantizeGraph(g, samples, o, {}, &r);
    ASSERT_TRUE(st.ok()) << sub << ": " << st.message();
    model[k++] = Serialized(r.graph);
  }
  EXPECT_EQ(model[0], model[1]) << "png vs txt";
  EXPECT_EQ(model[0], model[2]) << "png vs npy";
}

TEST(GraphPassesTest, HeadBlobsAreThoseNoInt8LayerReads) {
  // SmallCnn: conv1 → ReLU → {conv2a, conv2b} → concat → add → max pool → global average pool → fc → out.
  const Graph g = SmallCnn();
  BlobDims dims;
  ASSERT_TRUE(InferShapes(g, {}, &dims).ok());
  EXPECT_EQ(HeadBlobs(g, dims), (std::set<std::string>{"out"}));  // "g" feeds the int8 fc
  // Without the fc, the average pooling and a softmax are all float after the max pooling: its output and the
  // pooling's are head blobs, the max pooling's input is not (max pooling runs in int8 after a quantized Add).
  Graph h = g;
  h.layers.pop_back();
  h.layers.push_back(MakeLayer(LayerType::kSoftmax, "Softmax", "prob", {"g"}, {"prob"}, AxisParams{1}));
  h.outputs = {"prob"};
  h.resources.erase("fc");
  h.RefreshBlobNames();
  ASSERT_TRUE(InferShapes(h, {}, &dims).ok());
  EXPECT_EQ(HeadBlobs(h, dims), (std::set<std::string>{"p", "g", "prob"}));
  // A Concat fed by float layers alone stays float (as a detector's box heads after their Permute/Reshape), so
  // the convolution outputs before those float layers are head blobs too.
  Graph d = g;
  d.layers.resize(2);
  d.layers[1] = MakeLayer(LayerType::kSigmoid, "Sigmoid", "sa", {"c1"}, {"sa"});
  d.layers.push_back(MakeLayer(LayerType::kSigmoid, "Sigmoid", "sb", {"c1"}, {"sb"}));
  d.layers.push_back(MakeLayer(LayerType::kConcat, "Concat", "cat", {"sa", "sb"}, {"cat"}, AxisParams{1}));
  d.outputs = {"cat"};
  d.resources = {{"conv1", g.resources.at("conv1")}};
  d.RefreshBlobNames();
  ASSERT_TRUE(InferShapes(d, {}, &dims).ok());
  EXPECT_EQ(HeadBlobs(d, dims), (std::set<std::string>{"c1", "sa", "sb", "cat"}));
}

TEST(GraphPassesTest, ConcatInputsTakeTheirSlicesOfPerChannelScalesOrTheirOneScale) {
  // SmallCnn's channel Concat of conv2a (4 channels) and conv2b (4): with per-channel scales its inputs take the
  // output's; per-tensor scales everywhere are left alone (TNN's int8 Concat requantizes those).
  Graph g = SmallCnn();
  BlobDims dims;
  ASSERT_TRUE(InferShapes(g, {}, &dims).ok());
  g.blob_scales["cat"].scale = {1, 2, 3, 4, 5, 6, 7, 8};
  g.blob_scales["c2a"].scale = {1, 2, 3, 4};
  g.blob_scales["c2b"].scale = {9, 9, 9, 9};
  EXPECT_EQ(AlignConcatChannelScales(&g, dims), (std::vector<std::string>{"c2b"}));
  EXPECT_EQ(g.blob_scales["c2a"].scale, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(g.blob_scales["c2b"].scale, (std::vector<float>{5, 6, 7, 8}));
  g.blob_scales["cat"].scale = {2};
  g.blob_scales["c2a"].scale = {1};
  g.blob_scales["c2b"].scale = {3};
  EXPECT_TRUE(AlignConcatChannelScales(&g, dims).empty());
  EXPECT_EQ(g.blob_scales["c2b"].scale, (std::vector<float>{3}));
  // Per-tensor scales: inputs only the Concat reads take its scale (their producers round once, the Concat copies);
  // an input with another reader keeps its own.
  Graph h = g;
  EXPECT_EQ(ShareConcatScales(&g, Int8Layers(g, dims, {}, true)), (std::vector<std::string>{"c2a", "c2b"}));
  EXPECT_EQ(g.blob_scales["c2a"].scale, (std::vector<float>{2}));
  EXPECT_EQ(g.blob_scales["c2b"].scale, (std::vector<float>{2}));
  h.layers.push_back(MakeLayer(LayerType::kRelu, "ReLU", "extra", {"c2b"}, {"x"}));
  h.outputs.push_back("x");
  h.RefreshBlobNames();
  ASSERT_TRUE(InferShapes(h, {}, &dims).ok());
  EXPECT_EQ(ShareConcatScales(&h, Int8Layers(h, dims, {}, true)), (std::vector<std::string>{"c2a"}));
  EXPECT_EQ(h.blob_scales["c2b"].scale, (std::vector<float>{3}));
}

// TNN's int8 Add as its two CPU devices compute it (tnn @ f0cb081): NAIVE rounds s_a·a and s_b·b and divides by
// s_y (compute_int8.cc); X86 (X86MatrixAddInt8, built with -mfma) fuses one product into the sum, either way round,
// and multiplies by float(1.0 / s_y). Rounding as float2int8 does: ±0.5, then towards zero, clamped.
int TnnRound(float v) { return static_cast<int>(std::max(std::min(v + (v >= 0.f ? 0.5f : -0.5f), 127.f), -128.f)); }

int AddPairsOnWhichTnnDevicesDiffer(float sa, float sb, float sy) {
  const float inverse = static_cast<float>(1.0 / sy);
  int differ = 0;
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) {
      const float fa = static_cast<float>(a), fb = static_cast<float>(b);
      const int naive = TnnRound((sa * fa + sb * fb) / sy);
      differ += TnnRound(std::fma(fa, sa, sb * fb) * inverse) != naive ||
                TnnRound(std::fma(fb, sb, sa * fa) * inverse) != naive;
    }
  }
  return differ;
}

TEST(GraphPassesTest, AddOutputScalesAreOnesOnWhichTnnsX86AndNaiveDevicesRoundAlike) {
  // A quantized graph: a 1x1 convolution then an Add that reads it (TNN fuses them, and its X86 kernel adds
  // data·(s_data / s_y1) in an FMA), then an Add of that sum and a float ReLU of the input, which stays an Add of its
  // own, read by an int8 depthwise convolution.
  Graph g;
  g.inputs = {{"data", {1, 4, 3, 3}, DataType::kFloat}};
  g.layers = {MakeLayer(LayerType::kConvolution, "Convolution", "pw", {"data"}, {"c"}, ConvOf(4, 4, 1, 0)),
              MakeLayer(LayerType::kAdd, "Add", "fused", {"c", "data"}, {"y1"}, BinaryParams{}),
              MakeLayer(LayerType::kRelu, "ReLU", "relu", {"data"}, {"r"}),
              MakeLayer(LayerType::kAdd, "Add", "alone", {"y1", "r"}, {"y2"}, BinaryParams{}),
              MakeLayer(LayerType::kConvolution, "Convolution", "dw", {"y2"}, {"z"}, ConvOf(4, 4, 3, 1, 4))};
  for (const char* name : {"pw", "fused", "alone", "dw"}) g.FindLayer(name)->quantized = true;
  g.outputs = {"z"};
  g.RefreshBlobNames();
  ConvResource dw;
  dw.filter = RawBuffer::FromInt8(std::vector<int8_t>(36, 5));
  dw.scale = RawBuffer::FromFloat({0.25f, 0.5f, 0.75f, 1.f});
  dw.bias = RawBuffer::FromInt32({2000000000, -777777, 3, 0});
  dw.has_bias = true;
  g.resources["dw"] = dw;
  g.blob_scales["data"].scale = {0.0123457f};
  g.blob_scales["c"].scale = {0.0311f};
  g.blob_scales["y1"].scale = {0.0456789f};
  g.blob_scales["r"].scale = {0.0217391f};
  // An output scale on which the two devices differ, so that the pass has something to do.
  float sy = 0.0531f;
  while (AddPairsOnWhichTnnDevicesDiffer(0.0456789f, 0.0217391f, sy) == 0) sy = std::nextafter(sy, 1.f);
  g.blob_scales["y2"].scale = {sy};
  uint32_t ratio_bits = 0;
  const float ratio_before = 0.0123457f / 0.0456789f;
  std::memcpy(&ratio_bits, &ratio_before, sizeof(ratio_bits));
  ASSERT_NE(ratio_bits & 0x7Fu, 0u);

  const Graph before = g;
  EXPECT_EQ(MatchX86AddRounding(&g), (std::vector<std::string>{"y1", "y2"}));
  const float y1 = g.blob_scales["y1"].scale[0], y2 = g.blob_scales["y2"].scale[0];
  // The fused Add's ratio, as TNN computes it in float, has 17 significant bits: its products with int8 values are
  // exact, so the FMA rounds as the separate multiply and add do.
  const float ratio = g.blob_scales["data"].scale[0] / y1;
  std::memcpy(&ratio_bits, &ratio, sizeof(ratio_bits));
  EXPECT_EQ(ratio_bits & 0x7Fu, 0u);
  for (int x = -128; x < 128; ++x) {
    EXPECT_EQ(static_cast<double>(x * ratio), static_cast<double>(x) * ratio) << x;
  }
  // The second Add reads the first one's new scale, and both devices agree on all its operand pairs.
  EXPECT_EQ(AddPairsOnWhichTnnDevicesDiffer(y1, 0.0217391f, y2), 0);
  EXPECT_NEAR(y1, 0.0456789f, 0.0456789f * std::ldexp(1.f, -11));
  EXPECT_NEAR(y2, sy, sy * std::ldexp(1.f, -11));
  // The depthwise convolution reading y2 keeps its int8 weights and the real scales and biases they stand for.
  const auto& moved = std::get<ConvResource>(g.resources.at("dw"));
  EXPECT_EQ(moved.filter, dw.filter);
  const std::vector<float> ws = moved.scale.ToFloat();
  const std::vector<int32_t> bq = moved.bias.As<int32_t>();
  const std::vector<int32_t> bq0 = dw.bias.As<int32_t>();
  for (int o = 0; o < 4; ++o) {
    EXPECT_FLOAT_EQ(ws[o], (0.25f + 0.25f * o) * y2 / sy) << o;
    const double real = static_cast<double>(bq0[o]) * (0.25 + 0.25 * o);
    EXPECT_NEAR(static_cast<double>(bq[o]) * ws[o], real, 0.5 * ws[o]) << o;
  }
  EXPECT_NE(bq, bq0);
  // A second run finds nothing to do; an Add read by an int8 Concat, or with a zero point, is left alone.
  EXPECT_TRUE(MatchX86AddRounding(&g).empty());
  Graph h = before;
  h.layers.push_back(MakeLayer(LayerType::kConcat, "Concat", "cat", {"y2", "z"}, {"cat"}, AxisParams{1}));
  h.FindLayer("cat")->quantized = true;
  EXPECT_EQ(MatchX86AddRounding(&h), (std::vector<std::string>{"y1"}));
  h = before;
  h.blob_scales["r"].zero_point = {3};
  EXPECT_EQ(MatchX86AddRounding(&h), (std::vector<std::string>{"y1"}));
}

TEST(BlobStatsConcatTest, DerivedConcatEqualsAScanOfTheConcatenation) {
  std::mt19937 rng(8);
  std::normal_distribution<float> d(0.f, 3.f);
  StatsRequest req;
  req.tensor_hist = req.channel_hist = true;
  BlobStats a(2, 30, req), b(3, 30, req), whole(5, 30, req);
  std::vector<double> m;
  for (int image = 0; image < 4; ++image) {
    Tensor ta({1, 2, 5, 6}), tb({1, 3, 5, 6}), tw({1, 5, 5, 6});
    for (auto& x : ta.data) x = d(rng) * (image + 1);
    for (auto& x : tb.data) x = d(rng);
    std::copy(ta.data.begin(), ta.data.end(), tw.data.begin());
    std::copy(tb.data.begin(), tb.data.end(), tw.data.begin() + ta.count());
    a.Update(ta, &m);
    a.AddMeans(m);
    b.Update(tb, &m);
    b.AddMeans(m);
    whole.Update(tw, &m);
    whole.AddMeans(m);
  }
  const BlobStats cat = BlobStats::ConcatChannels({&a, &b});
  ASSERT_EQ(cat.channels(), 5);
  for (int c = -1; c < 5; ++c) {
    const ChannelStats& x = c < 0 ? cat.tensor() : cat.channel(c);
    const ChannelStats& y = c < 0 ? whole.tensor() : whole.channel(c);
    EXPECT_EQ(x.min, y.min);
    EXPECT_EQ(x.max, y.max);
    EXPECT_NEAR(x.mean_abs_sum, y.mean_abs_sum, 1e-9 * y.mean_abs_sum);
    EXPECT_EQ(x.hist.exponent(), y.hist.exponent());
    EXPECT_EQ(x.hist.counts(), y.hist.counts());
  }
}

TEST_F(QuantizerTest, ReportKeepsStatisticsAndMeasuresEachLayerAloneAndInTheChain) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 6);
  QuantizeOptions o;
  o.keep_stats = true;
  o.keep_inputs = 3;
  QuantizeResult q;
  ASSERT_TRUE(QuantizeGraph(SmallCnn(), samples, o, {}, &q).ok());
  ASSERT_FALSE(q.stats.empty());
  std::vector<const std::map<std::string, Tensor>*> inputs;
  for (const auto& [i, t] : q.kept_inputs) inputs.push_back(&t);
  std::map<std::string, std::string> methods;
  for (const auto& [blob, m] : q.blob_methods) methods[blob] = BlobMethodName(m);
  QuantReport rep;
  const Status s = FillReport(SmallCnn(), q.graph, q.stats, methods, {}, {}, inputs, &rep);
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<std::string> quantized;
  for (const auto& l : q.graph.layers) {
    if (l.quantized) quantized.push_back(l.name);
  }
  ASSERT_EQ(rep.layers.size(), quantized.size());
  for (size_t i = 0; i < quantized.size(); ++i) {
    const ReportLayer& l = rep.layers[i];
    EXPECT_EQ(l.name, quantized[i]);
    EXPECT_GT(l.local_cosine, 0.95) << l.name;
    EXPECT_LE(l.local_cosine, 1.000001) << l.name;
    EXPECT_TRUE(std::isfinite(l.local_sqnr_db)) << l.name;
  }
  // The first layer reads the model input: alone and in the chain it computes the same thing.
  EXPECT_NEAR(rep.layers[0].local_cosine, rep.layers[0].chain_cosine, 1e-12);
  EXPECT_NEAR(rep.layers[0].local_sqnr_db, rep.layers[0].chain_sqnr_db, 1e-9);
  // Per-tensor blobs: Min-Max is max |x| and clips nothing; the stored threshold is the chosen method's, except
  // where scale merging gave the blob its consumer's scale (the Add's output takes the max pooling's).
  ASSERT_FALSE(rep.histograms.empty());
  EXPECT_EQ(rep.histograms[0].blob, "data");
  for (const auto& h : rep.histograms) {
    ASSERT_EQ(h.methods.size(), 5u);
    ASSERT_EQ(h.counts.size(), 128u) << h.blob;
    EXPECT_NEAR(h.methods[0].threshold, h.max_abs, 1e-5 * h.max_abs) << h.blob;
    EXPECT_LT(h.methods[0].clipped, 1e-5) << h.blob;  // up to the float rounding of max / 127 · 127
    for (const auto& m : h.methods) {
      if (m.method == h.chosen_method) {  // a merged blob's label names the other blob
        EXPECT_NEAR(m.threshold, h.chosen_threshold, 1e-5 * h.max_abs) << h.blob;
      }
    }
  }
  auto sum = std::find_if(rep.histograms.begin(), rep.histograms.end(),
                          [](const ReportHistogram& h) { return h.blob == "sum"; });
  ASSERT_NE(sum, rep.histograms.end());
  EXPECT_NE(sum->chosen_method.find("merged: the scale of p"), std::string::npos) << sum->chosen_method;
  EXPECT_FALSE(rep.float_layers.empty());  // global average pooling
  EXPECT_FALSE(rep.weight_ranges.empty());

  rep.model = "small <cnn>";
  rep.sweep = ReportTable{"Method sweep", {"rank", "flags", "top-1"}, {{"1", "-b 2 -t 1", "99 %"}}, "note & more"};
  const std::string html = RenderHtmlReport(rep);
  EXPECT_EQ(html.find("small <cnn>"), std::string::npos);
  EXPECT_NE(html.find("small &lt;cnn&gt;"), std::string::npos);
  EXPECT_NE(html.find("id=\"sweep\""), std::string::npos);
  EXPECT_NE(html.find("-b 2 -t 1"), std::string::npos);
  EXPECT_NE(html.find("id=\"error-chart\""), std::string::npos);
  const std::string json = ReportJsonFields(rep);
  EXPECT_NE(json.find("\"sweep\": {\"title\": \"Method sweep\""), std::string::npos);
  EXPECT_NE(json.find("\"thresholds\": {\"Min-Max\""), std::string::npos);
}

}  // namespace
}  // namespace qt

namespace qt {
namespace {

double RoundingObjective(const std::vector<int>& q, const std::vector<double>& r, const std::vector<double>& h) {
  const size_t k = r.size();
  double total = 0;
  for (size_t i = 0; i < k; ++i) {
    for (size_t j = 0; j < k; ++j) total += (q[i] - r[i]) * h[i * k + j] * (q[j] - r[j]);
  }
  return total;
}

std::vector<int> Nearest(const std::vector<double>& r) {
  std::vector<int> q;
  for (double v : r) q.push_back(static_cast<int>(std::clamp(std::round(v), -127.0, 127.0)));
  return q;
}

TEST(AdaptiveRoundTest, NeverWorseThanNearestAndStaysBetweenTheTwoGridPoints) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> value(-130, 130);
  std::normal_distribution<double> normal(0, 1);
  int better = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const size_t k = 2 + trial % 7;
    std::vector<double> r(k), a(k * k), h(k * k, 0.0);
    for (auto& v : r) v = value(rng);
    for (auto& v : a) v = normal(rng);
    for (size_t i = 0; i < k; ++i) {
      for (size_t j = 0; j < k; ++j) {
        for (size_t m = 0; m < k; ++m) h[i * k + j] += a[m * k + i] * a[m * k + j];
      }
    }
    std::vector<int> q, q_in_place;
    AdaptiveRound(r, h, &q);
    const std::vector<int> nearest = Nearest(r);
    const double adaptive = RoundingObjective(q, r, h), plain = RoundingObjective(nearest, r, h);
    EXPECT_LE(adaptive, plain + 1e-9 * std::max(1.0, plain));
    // The in-place form rounds the same way and reports both objectives (the final one from the running gradient).
    double nearest_objective = -1, objective = -1;
    AdaptiveRound(r, h.data(), &q_in_place, &nearest_objective, &objective);
    EXPECT_EQ(q_in_place, q);
    EXPECT_NEAR(nearest_objective, plain, 1e-9 * std::max(1.0, plain));
    EXPECT_NEAR(objective, adaptive, 1e-9 * std::max(1.0, plain));
    better += adaptive < plain * (1 - 1e-9);
    for (size_t i = 0; i < k; ++i) {
      EXPECT_GE(q[i], -127);
      EXPECT_LE(q[i], 127);
      EXPECT_TRUE(q[i] == std::floor(r[i]) || q[i] == std::ceil(r[i]) || q[i] == nearest[i]) << r[i] << " -> " << q[i];
    }
  }
  // Correlated inputs make nearest rounding suboptimal most of the time.
  EXPECT_GT(better, 100);
}

TEST(AdaptiveRoundTest, UncorrelatedInputsKeepNearestAndIdenticalInputsShareTheError) {
  const std::vector<double> r = {0.4, 0.4, -2.3};
  std::vector<int> q;
  AdaptiveRound(r, {2, 0, 0, 0, 1, 0, 0, 0, 5}, &q);
  EXPECT_EQ(q, Nearest(r));
  // The first two inputs are always equal: rounding both down loses 0.8 of one weight, one up and one down 0.2.
  AdaptiveRound(r, {1, 1, 0, 1, 1, 0, 0, 0, 1}, &q);
  EXPECT_EQ(q[0] + q[1], 1);
  EXPECT_EQ(q[2], -2);
}

// Under -t 0 the blobs that reach the output through float layers only keep one scale per tensor (a scale per
// class would clip other inputs' higher scores); the others stay per channel, and --compat tnn keeps TNN's.
TEST_F(QuantizerTest, PerChannelBlobsExceptHeadBlobs) {
  Graph h = SmallCnn();
  h.layers.pop_back();
  h.layers.push_back(MakeLayer(LayerType::kSoftmax, "Softmax", "prob", {"g"}, {"prob"}, AxisParams{1}));
  h.outputs = {"prob"};
  h.resources.erase("fc");
  h.RefreshBlobNames();
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 4);
  QuantizeOptions o;
  o.merge = MergeType::kPerChannel;
  o.blob_method = BlobMethod::kMinMax;
  o.refine_auto = false;
  QuantizeResult r;
  ASSERT_TRUE(QuantizeGraph(h, samples, o, {}, &r).ok());
  EXPECT_EQ(r.graph.blob_scales.at("p").scale.size(), 1u);
  EXPECT_EQ(r.graph.blob_scales.at("g").scale.size(), 1u);
  EXPECT_EQ(r.graph.blob_scales.at("c2a").scale.size(), 4u);
  o.tnn_compat = true;
  ASSERT_TRUE(QuantizeGraph(h, samples, o, {}, &r).ok());
  EXPECT_EQ(r.graph.blob_scales.at("p").scale.size(), 8u);
}

// conv1 → ReLU → max pooling → {conv2 → ReLU (an output), depthwise dw → conv3 (an output)}. The pooled blob is
// rectified and read only by convolutions (one dense, one depthwise): it is the one equalization group. dw's
// output is not rectified, and conv2's ReLU output is a model output.
Graph EqualizableCnn() {
  Graph g;
  g.inputs = {{"data", {1, 3, 12, 12}, DataType::kFloat}};
  const PoolParams max_pool = MaxPool2x2();
  g.layers = {MakeLayer(LayerType::kConvolution, "Convolution", "conv1", {"data"}, {"c1"}, ConvOf(3, 6, 3, 1, 1)),
              MakeLayer(LayerType::kRelu, "ReLU", "relu1", {"c1"}, {"r1"}),
              MakeLayer(LayerType::kPooling, "Pooling", "pool", {"r1"}, {"p1"}, max_pool),
              MakeLayer(LayerType::kConvolution, "Convolution", "conv2", {"p1"}, {"c2"}, ConvOf(6, 4, 1, 0, 1)),
              MakeLayer(LayerType::kRelu, "ReLU", "relu2", {"c2"}, {"r2"}),
              MakeLayer(LayerType::kConvolution, "Convolution", "dw", {"p1"}, {"d"}, ConvOf(6, 6, 3, 1, 6)),
              MakeLayer(LayerType::kConvolution, "Convolution", "conv3", {"d"}, {"c3"}, ConvOf(6, 4, 1, 0, 1))};
  g.outputs = {"r2", "c3"};
  uint32_t seed = 11;
  for (const auto& [name, count, oc] : std::vector<std::tuple<std::string, int, int>>{
           {"conv1", 6 * 3 * 9, 6}, {"conv2", 4 * 6, 4}, {"dw", 6 * 9, 6}, {"conv3", 4 * 6, 4}}) {
    ConvResource r;
    r.filter = RandomFloats(count, seed++);
    r.bias = RandomFloats(oc, seed++);
    r.has_bias = true;
    g.resources[name] = r;
  }
  // Channels of very different ranges, as after real ReLUs: conv1's rows scaled by 1/64 ... 4.
  auto& c1 = std::get<ConvResource>(g.resources["conv1"]);
  std::vector<float> w = c1.filter.ToFloat(), b = c1.bias.ToFloat();
  const std::array<float, 6> row_scale = {1.f / 64, 0.25f, 1.f, 4.f, 0.5f, 2.f};
  for (int c = 0; c < 6; ++c) {
    for (int i = 0; i < 27; ++i) w[c * 27 + i] *= row_scale[c];
    b[c] *= row_scale[c];
  }
  c1.filter = RawBuffer::FromFloat(w);
  c1.bias = RawBuffer::FromFloat(b);
  g.RefreshBlobNames();
  return g;
}

std::map<std::string, Tensor> Fp32Outputs(const Graph& g, const Tensor& input, const std::vector<std::string>& blobs) {
  Net net;
  EXPECT_TRUE(net.Init(g).ok());
  EXPECT_TRUE(net.SetInput("data", input).ok());
  EXPECT_TRUE(net.Forward().ok());
  std::map<std::string, Tensor> out;
  for (const auto& name : blobs) EXPECT_TRUE(net.GetBlob(name, &out[name]).ok()) << name;
  return out;
}

// A normally distributed input for EqualizableCnn.
Tensor EqualizableInput(uint32_t seed) {
  Tensor input({1, 3, 12, 12});
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  for (auto& x : input.data) x = d(rng);
  return input;
}

// The model outputs r2 and c3 of `got` equal `want`'s within `tolerance` relative to 1 + |want|.
void ExpectSameModelOutputs(const std::map<std::string, Tensor>& want, const std::map<std::string, Tensor>& got,
                            float tolerance) {
  for (const char* name : {"r2", "c3"}) {
    const auto& a = want.at(name).data;
    const auto& b = got.at(name).data;
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_NEAR(b[i], a[i], tolerance * (1 + std::fabs(a[i]))) << name << " " << i;
    }
  }
}

// A channel that is 0 on every input (dead after a ReLU) has per-channel scale 0; the depthwise convolution after it
// must still output its bias there, as fp32 does. TNN's tool folds the 0 into the weight scale and loses it.
TEST_F(QuantizerTest, DepthwiseAfterADeadChannelKeepsItsBias) {
  Graph g = EqualizableCnn();
  auto& c1 = std::get<ConvResource>(g.resources["conv1"]);
  std::vector<float> w = c1.filter.ToFloat(), b = c1.bias.ToFloat();
  std::fill(w.begin(), w.begin() + 27, 0.f);
  b[0] = -1.f;
  c1.filter = RawBuffer::FromFloat(w);
  c1.bias = RawBuffer::FromFloat(b);
  auto& dw = std::get<ConvResource>(g.resources["dw"]);
  std::vector<float> dw_bias = dw.bias.ToFloat();
  dw_bias[0] = 0.75f;
  dw.bias = RawBuffer::FromFloat(dw_bias);
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 6);
  const Tensor input = EqualizableInput(3);
  for (bool compat : {false, true}) {
    QuantizeOptions o;
    o.merge = MergeType::kPerChannel;
    o.blob_method = BlobMethod::kMinMax;
    o.tnn_compat = compat;
    QuantizeResult r;
    const Status s = QuantizeGraph(g, samples, o, {}, &r);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_TRUE(r.graph.FindLayer("dw")->quantized);
    EXPECT_EQ(r.graph.blob_scales.at("p1").scale[0], 0.f);
    const Tensor d = Fp32Outputs(r.graph, input, {"d"}).at("d");
    const int64_t plane = d.spatial();
    for (int64_t i = 0; i < plane; ++i) {
      if (compat) {
        ASSERT_EQ(d.data[i], 0.f) << i;
      } else {
        ASSERT_NEAR(d.data[i], 0.75f, 0.75f / 127) << i;
      }
    }
  }
  // A blob that is 0 on every calibration input in every channel (per-tensor blobs refuse it with an error): the
  // dense convolution and the depthwise one after it both keep their biases.
  std::fill(w.begin(), w.end(), 0.f);
  std::fill(b.begin(), b.end(), -1.f);
  c1.filter = RawBuffer::FromFloat(w);
  c1.bias = RawBuffer::FromFloat(b);
  QuantizeOptions o;
  o.merge = MergeType::kPerChannel;
  o.blob_method = BlobMethod::kMinMax;
  QuantizeResult r;
  const Status s = QuantizeGraph(g, samples, o, {}, &r);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_TRUE(r.graph.FindLayer("conv2")->quantized);
  EXPECT_EQ(r.graph.blob_scales.at("p1").scale, std::vector<float>(6, 0.f));
  const auto fp32 = Fp32Outputs(g, input, {"r2", "d"});
  const auto int8 = Fp32Outputs(r.graph, input, {"r2", "d"});
  for (const char* name : {"r2", "d"}) {
    const auto& want = fp32.at(name).data;
    const auto& got = int8.at(name).data;
    ASSERT_EQ(want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 0.02f * (1 + std::fabs(want[i]))) << name << i;
  }
}

TEST(EqualizationTest, RescalesRectifiedBlobsReadOnlyByConvolutionsAndKeepsTheFp32Outputs) {
  Graph g = EqualizableCnn();
  BlobDims dims;
  ASSERT_TRUE(InferShapes(g, {}, &dims).ok());
  const auto groups = FindEqualizationGroups(g, dims);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].producer, "conv1");
  EXPECT_EQ(groups[0].blob, "p1");
  EXPECT_EQ(groups[0].consumers, (std::vector<std::string>{"conv2", "dw"}));
  EXPECT_EQ(groups[0].channels, 6);
  // A reader whose weights do not have the declared shape is no convolution to rescale: no group.
  Graph bad = g;
  std::get<ConvResource>(bad.resources["conv2"]).filter = RandomFloats(4 * 5, 1);
  EXPECT_TRUE(FindEqualizationGroups(bad, dims).empty());

  const Tensor input = EqualizableInput(3);
  const auto before = Fp32Outputs(g, input, {"p1", "r2", "c3"});
  // Channel 4 was never above zero: it keeps its scale.
  const std::vector<float> range = {0.5f, 2.f, 8.f, 32.f, 0.f, 16.f};
  const double alpha = 0.5;
  EXPECT_EQ(EqualizeChannels(groups, {{"p1", range}}, alpha, &g), (std::vector<std::string>{"p1"}));
  const auto after = Fp32Outputs(g, input, {"p1", "r2", "c3"});
  ExpectSameModelOutputs(before, after, 1e-5f);
  const int64_t plane = 6 * 6;
  for (int c = 0; c < 6; ++c) {
    const double s = range[c] > 0 ? std::pow(range[c] / 32.0, alpha) : 1.0;
    for (int64_t i = 0; i < plane; ++i) {
      const float was = before.at("p1").data[c * plane + i];
      EXPECT_NEAR(after.at("p1").data[c * plane + i], was / s, 1e-5 * (1 + std::fabs(was / s))) << c;
    }
  }
}

TEST_F(QuantizerTest, EqualizationIsPartOfTheFileAndDoesNotDependOnTheThreadCount) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 6);
  QuantizeOptions o;
  o.blob_method = BlobMethod::kAuto;
  std::string plain;
  {
    QuantizeResult r;
    ASSERT_TRUE(QuantizeGraph(EqualizableCnn(), samples, o, {}, &r).ok());
    EXPECT_TRUE(r.equalized.empty());
    plain = Serialized(r.graph);
  }
  o.equalize = 0.25;
  std::string first;
  for (int threads : {1, 2}) {
    SetNumThreads(threads);
    QuantizeResult r;
    const Status s = QuantizeGraph(EqualizableCnn(), samples, o, {}, &r);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(r.equalized, (std::vector<std::string>{"p1"}));
    const std::string out = Serialized(r.graph);
    if (first.empty()) first = out;
    EXPECT_EQ(out, first) << threads << " threads";
  }
  EXPECT_NE(first, plain);
  // Other merge types keep their scales' meaning: no equalization.
  o.merge = MergeType::kPerChannel;
  QuantizeResult r;
  ASSERT_TRUE(QuantizeGraph(EqualizableCnn(), samples, o, {}, &r).ok());
  EXPECT_TRUE(r.equalized.empty());
  SetNumThreads(2);
}

// The report compares each int8 blob with the fp32 blob it stands for. An equalized blob's channels are the input
// model's divided by their factors, so the reference is the rescaled model: its outputs are the input model's, and
// its equalized blob is what the int8 blob approximates (against the input model's, channels differ by 2x and more).
TEST_F(QuantizerTest, TheReferenceOfAnEqualizedFileIsTheRescaledModel) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 6);
  QuantizeOptions o;
  o.blob_method = BlobMethod::kAuto;
  o.equalize = 0.25;
  QuantizeResult r;
  ASSERT_TRUE(QuantizeGraph(EqualizableCnn(), samples, o, {}, &r).ok());
  ASSERT_EQ(r.equalized, (std::vector<std::string>{"p1"}));
  const Tensor input = EqualizableInput(5);
  const auto original = Fp32Outputs(EqualizableCnn(), input, {"p1", "r2", "c3"});
  const auto reference = Fp32Outputs(r.reference, input, {"p1", "r2", "c3"});
  ExpectSameModelOutputs(original, reference, 1e-5f);
  Net int8;
  ASSERT_TRUE(int8.Init(r.graph).ok());
  ASSERT_TRUE(int8.SetInput("data", input).ok());
  ASSERT_TRUE(int8.Forward().ok());
  Tensor q;
  ASSERT_TRUE(int8.GetBlob("p1", &q).ok());
  const int64_t plane = 6 * 6;
  const auto& ref = reference.at("p1").data;
  const auto& orig = original.at("p1").data;
  std::vector<double> qq(6), rr(6), oo(6);
  double qr = 0, qo = 0;
  for (int c = 0; c < 6; ++c) {
    for (int64_t i = c * plane; i < (c + 1) * plane; ++i) {
      qq[c] += double{q.data[i]} * q.data[i];
      rr[c] += double{ref[i]} * ref[i];
      oo[c] += double{orig[i]} * orig[i];
      qr += double{q.data[i]} * ref[i];
      qo += double{q.data[i]} * orig[i];
    }
  }
  const auto sum = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); };
  EXPECT_GT(qr / std::sqrt(sum(qq) * sum(rr)), 0.995);
  EXPECT_LT(qo / std::sqrt(sum(qq) * sum(oo)), qr / std::sqrt(sum(qq) * sum(rr)));
  // Channel by channel, the int8 blob has the reference's energy, not the input model's (channels holding more
  // than a thousandth of the blob's; the smallest is a few int8 steps).
  double worst_ratio = 1;
  for (int c = 0; c < 6; ++c) {
    if (rr[c] < 1e-3 * sum(rr)) continue;
    EXPECT_NEAR(std::sqrt(qq[c] / rr[c]), 1.0, 0.05) << "channel " << c;
    worst_ratio = std::max(worst_ratio, std::sqrt(qq[c] / oo[c]));
  }
  EXPECT_GT(worst_ratio, 1.5);
  QuantizeResult plain;
  o.equalize = 0;
  ASSERT_TRUE(QuantizeGraph(EqualizableCnn(), samples, o, {}, &plain).ok());
  EXPECT_TRUE(plain.equalized.empty());
  EXPECT_TRUE(plain.reference.layers.empty());
}

// model_eval has only the input model and the int8 file: the rescaled model quantization_cmd compared with is
// recovered from the two models' weights, up to weight rounding, and only where the file was equalized.
TEST_F(QuantizerTest, TheEqualizedReferenceIsRecoveredFromTheTwoModels) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 6);
  QuantizeOptions o;
  o.blob_method = BlobMethod::kAuto;
  o.equalize = 0.25;
  QuantizeResult r;
  ASSERT_TRUE(QuantizeGraph(EqualizableCnn(), samples, o, {}, &r).ok());
  ASSERT_EQ(r.equalized, (std::vector<std::string>{"p1"}));
  Graph recovered;
  std::vector<std::string> rescaled;
  ASSERT_TRUE(EqualizedReference(EqualizableCnn(), r.graph, &recovered, &rescaled).ok());
  EXPECT_EQ(rescaled, (std::vector<std::string>{"p1"}));
  const Tensor input = EqualizableInput(7);
  const auto exact = Fp32Outputs(r.reference, input, {"p1", "r2", "c3"});
  const auto got = Fp32Outputs(recovered, input, {"p1", "r2", "c3"});
  ExpectSameModelOutputs(exact, got, 1e-4f);
  // The equalized blob's channels carry the factors to within weight rounding (1 %).
  const auto& pe = exact.at("p1").data;
  const auto& pg = got.at("p1").data;
  for (size_t i = 0; i < pe.size(); ++i) EXPECT_NEAR(pg[i], pe[i], 0.01 * std::fabs(pe[i]) + 1e-6) << i;
  // A file made without equalization: nothing is rescaled, the model is given back as it was.
  QuantizeResult plain;
  o.equalize = 0;
  ASSERT_TRUE(QuantizeGraph(EqualizableCnn(), samples, o, {}, &plain).ok());
  ASSERT_TRUE(EqualizedReference(EqualizableCnn(), plain.graph, &recovered, &rescaled).ok());
  EXPECT_TRUE(rescaled.empty());
  EXPECT_EQ(Serialized(recovered), Serialized(EqualizableCnn()));
}

TEST_F(QuantizerTest, ForwardLayerByLayerEqualsForwardAndResourcesCanBeReplaced) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 4);
  QuantizeResult r;
  ASSERT_TRUE(QuantizeGraph(SmallCnn(), samples, {}, {}, &r).ok());
  SampleTensors in;
  ASSERT_TRUE(LoadSample(samples[0], {{"data", {1, 3, 12, 12}}}, {}, &in).ok());
  Net whole, stepped;
  ASSERT_TRUE(whole.Init(r.graph).ok());
  ASSERT_TRUE(stepped.Init(r.graph).ok());
  ASSERT_TRUE(whole.SetInput("data", in.at("data")).ok());
  ASSERT_TRUE(stepped.SetInput("data", in.at("data")).ok());
  ASSERT_TRUE(whole.Forward().ok());
  for (size_t i = 0; i < stepped.graph().layers.size(); ++i) ASSERT_TRUE(stepped.ForwardLayers(i, i + 1).ok());
  Tensor a, b;
  ASSERT_TRUE(whole.GetBlob("out", &a).ok());
  ASSERT_TRUE(stepped.GetBlob("out", &b).ok());
  EXPECT_EQ(a.data, b.data);
  // Releasing before each step what no later layer reads changes nothing downstream; the output stays, the input
  // (read by the first layer only) goes.
  Net lean;
  ASSERT_TRUE(lean.Init(r.graph).ok());
  ASSERT_TRUE(lean.SetInput("data", in.at("data")).ok());
  for (size_t i = 0; i < lean.graph().layers.size(); ++i) {
    lean.ReleaseBlobsBefore(i);
    ASSERT_TRUE(lean.ForwardLayers(i, i + 1).ok());
  }
  const std::string first = lean.graph().layers[0].outputs[0];
  EXPECT_TRUE(stepped.GetBlob(first, &b).ok());
  EXPECT_FALSE(lean.GetBlob(first, &b).ok());
  EXPECT_FALSE(lean.GetBlob("data", &b).ok());
  ASSERT_TRUE(lean.GetBlob("out", &b).ok());
  EXPECT_EQ(a.data, b.data);
  // New weights for the last layer: running it again gives what a network built with them gives.
  auto ip = std::get<InnerProductResource>(r.graph.resources.at("fc"));
  auto w = ip.weight.As<int8_t>();
  for (auto& v : w) v = static_cast<int8_t>(v / 2);
  ip.weight = RawBuffer::FromInt8(w);
  ASSERT_TRUE(stepped.SetLayerResource("fc", ip).ok());
  const size_t last = stepped.graph().layers.size() - 1;
  ASSERT_TRUE(stepped.ForwardLayers(last, last + 1).ok());
  ASSERT_TRUE(stepped.GetBlob("out", &b).ok());
  Graph changed = r.graph;
  changed.resources["fc"] = ip;
  Net fresh;
  ASSERT_TRUE(fresh.Init(changed).ok());
  ASSERT_TRUE(fresh.SetInput("data", in.at("data")).ok());
  ASSERT_TRUE(fresh.Forward().ok());
  Tensor c;
  ASSERT_TRUE(fresh.GetBlob("out", &c).ok());
  EXPECT_EQ(b.data, c.data);
  EXPECT_NE(b.data, a.data);
  EXPECT_FALSE(stepped.SetLayerResource("missing", ip).ok());
  EXPECT_FALSE(stepped.SetLayerResource("conv1", ip).ok());  // a convolution's resource is not an inner product's
}

TEST_F(QuantizerTest, ValuesSwappedThroughOneNetworkEqualANetworkPerInput) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 4);
  QuantizeResult r;
  ASSERT_TRUE(QuantizeGraph(SmallCnn(), samples, {}, {}, &r).ok());
  std::vector<SampleTensors> in(3);
  for (size_t k = 0; k < in.size(); ++k) {
    ASSERT_TRUE(LoadSample(samples[k], {{"data", {1, 3, 12, 12}}}, {}, &in[k]).ok());
  }
  std::vector<Tensor> expected(in.size());
  for (size_t k = 0; k < in.size(); ++k) {
    Net own;
    ASSERT_TRUE(own.Init(r.graph).ok());
    ASSERT_TRUE(own.SetInput("data", in[k].at("data")).ok());
    ASSERT_TRUE(own.Forward().ok());
    ASSERT_TRUE(own.GetBlob("out", &expected[k]).ok());
  }
  ASSERT_NE(expected[0].data, expected[1].data);
  // Layer by layer, every input's values swapped in for each step, the inputs taken in turn by two networks.
  Net one, two;
  ASSERT_TRUE(one.Init(r.graph).ok());
  ASSERT_TRUE(two.Init(r.graph).ok());
  std::vector<NetValues> values(in.size());
  for (size_t k = 0; k < in.size(); ++k) {
    one.SwapValues(&values[k]);
    ASSERT_TRUE(one.SetInput("data", in[k].at("data")).ok());
    one.SwapValues(&values[k]);
  }
  for (size_t i = 0; i < one.graph().layers.size(); ++i) {
    for (size_t k = 0; k < in.size(); ++k) {
      Net& net = (i + k) % 2 ? one : two;
      net.SwapValues(&values[k]);
      ASSERT_TRUE(net.ForwardLayers(i, i + 1).ok());
      net.SwapValues(&values[k]);
    }
  }
  Tensor got;
  EXPECT_FALSE(one.GetBlob("out", &got).ok());  // the network itself holds no value
  for (size_t k = 0; k < in.size(); ++k) {
    one.SwapValues(&values[k]);
    ASSERT_TRUE(one.GetBlob("out", &got).ok());
    EXPECT_EQ(got.data, expected[k].data) << "input " << k;
    one.SwapValues(&values[k]);
  }
}

TEST_F(QuantizerTest, AutoPicksEachBlobsLowestConsumerErrorAndRefinementIsThreadIndependent) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 9);
  QuantizeOptions o;
  o.blob_method = BlobMethod::kAuto;
  o.refine.adaptive_rounding = o.refine.bias_correction = true;
  std::string first;
  for (bool images : {true, false}) {
    for (int threads : {1, 2}) {
      SetNumThreads(threads);
      o.parallel_images = images;
      QuantizeResult r;
      const Status s = QuantizeGraph(SmallCnn(), samples, o, {}, &r);
      ASSERT_TRUE(s.ok()) << s.message();
      EXPECT_FALSE(r.blob_candidates.empty());
      for (const auto& [blob, c] : r.blob_candidates) {
        ASSERT_FALSE(c.empty());
        const ScaleCandidate& best = c[BestCandidate(c)];
        EXPECT_EQ(r.blob_choice.at(blob), best.method);
        for (const auto& other : c) EXPECT_LE(best.error, other.error) << blob;
        EXPECT_GT(c.size(), 1u) << blob;  // Min-Max and the percentiles at least differ on random data
      }
      EXPECT_EQ(r.refinements.size(), 4u);  // conv1, conv2a, conv2b, fc
      const std::string out = Serialized(r.graph);
      if (first.empty()) first = out;
      EXPECT_EQ(out, first) << threads << " threads, " << (images ? "images" : "kernels") << " in parallel";
    }
  }
  SetNumThreads(2);
}

TEST_F(QuantizerTest, RefineAutoKeepsTheBestScoredVariantAndItsFileEqualsThatVariantsOwn) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 12);
  QuantizeOptions o;
  o.blob_method = BlobMethod::kAuto;
  o.refine_inputs = 6;  // the 6 others score the variants
  o.refine_auto = true;
  std::string first;
  for (int threads : {1, 2}) {
    SetNumThreads(threads);
    QuantizeResult r;
    const Status s = QuantizeGraph(SmallCnn(), samples, o, {}, &r);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_EQ(r.refine_scores.size(), 4u);
    EXPECT_EQ(r.refine_scoring_inputs, 6);
    size_t best = 0;
    for (size_t i = 1; i < r.refine_scores.size(); ++i) {
      if (r.refine_scores[i].second > r.refine_scores[best].second) best = i;
    }
    EXPECT_EQ(r.refine_choice, r.refine_scores[best].first);
    QuantizeOptions fixed = o;
    fixed.refine_auto = false;
    fixed.refine.bias_correction = r.refine_choice == "bias correction" || r.refine_choice == "both";
    fixed.refine.adaptive_rounding = r.refine_choice == "adaptive rounding" || r.refine_choice == "both";
    QuantizeResult f;
    ASSERT_TRUE(QuantizeGraph(SmallCnn(), samples, fixed, {}, &f).ok());
    const std::string out = Serialized(r.graph);
    EXPECT_EQ(out, Serialized(f.graph)) << r.refine_choice;
    if (first.empty()) first = out;
    EXPECT_EQ(out, first) << threads << " threads";
  }
  SetNumThreads(2);
}

// -t auto: both candidates are calibrated without the held-out inputs (a quarter, every k-th from the middle of
// each stretch), the margin rule picks one from the two scores, and the file is that candidate: the bytes of
// quantizing with its merge type alone on the inputs left. Below 32 inputs nothing is held out.
TEST_F(QuantizerTest, MergeAutoKeepsTheFileOfTheMergeTypeItChose) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 40);
  std::vector<CalibrationSample> calibration;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i % 4 != 2) calibration.push_back(samples[i]);  // held out: 2, 6, ..., 38
  }
  QuantizeOptions o;
  o.blob_method = BlobMethod::kAuto;
  o.refine.bias_correction = true;
  o.merge_auto = true;
  std::string first;
  for (int threads : {1, 2}) {
    SetNumThreads(threads);
    QuantizeResult r;
    const Status s = QuantizeGraph(SmallCnn(), samples, o, {}, &r);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_EQ(r.merge_scores.size(), 2u);
    EXPECT_EQ(r.merge_scoring_inputs, 10);
    const bool channel = r.merge_scores[1].second - r.merge_scores[0].second >= 5e-4;
    EXPECT_EQ(r.merge_kept, channel ? MergeType::kPerChannel : MergeType::kMixed);
    for (MergeType m : {MergeType::kMixed, MergeType::kPerChannel}) {
      QuantizeOptions fixed = o;
      fixed.merge_auto = false;
      fixed.merge = m;
      if (m == MergeType::kPerChannel) fixed.blob_method = BlobMethod::kMse;
      QuantizeResult f;
      ASSERT_TRUE(QuantizeGraph(SmallCnn(), calibration, fixed, {}, &f).ok());
      EXPECT_EQ(Serialized(r.graph) == Serialized(f.graph), m == r.merge_kept) << static_cast<int>(m);
    }
    const std::string out = Serialized(r.graph);
    if (first.empty()) first = out;
    EXPECT_EQ(out, first) << threads << " threads";
  }
  SetNumThreads(2);
  const std::vector<CalibrationSample> few(samples.begin(), samples.begin() + 31);
  QuantizeResult r, f;
  ASSERT_TRUE(QuantizeGraph(SmallCnn(), few, o, {}, &r).ok());
  EXPECT_TRUE(r.merge_scores.empty());
  QuantizeOptions fixed = o;
  fixed.merge_auto = false;
  ASSERT_TRUE(QuantizeGraph(SmallCnn(), few, fixed, {}, &f).ok());
  EXPECT_EQ(Serialized(r.graph), Serialized(f.graph));
}

TEST_F(QuantizerTest, HandedStatisticsGiveTheFileOfAPassOfItsOwn) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 12);
  const std::vector<CalibrationSample> first(samples.begin(), samples.begin() + 6);
  for (const bool equalizable : {false, true}) {
    const Graph g = equalizable ? EqualizableCnn() : SmallCnn();
    // What -t auto's per-channel candidate keeps: every blob's ranges and whole-tensor histogram, no channel
    // histograms.
    QuantizeOptions channel;
    channel.merge = MergeType::kPerChannel;
    channel.blob_method = BlobMethod::kMse;
    channel.keep_stats = true;
    QuantizeResult c, other;
    ASSERT_TRUE(QuantizeGraph(g, samples, channel, {}, &c).ok());
    ASSERT_TRUE(QuantizeGraph(g, first, channel, {}, &other).ok());
    ASSERT_FALSE(c.stats.empty());
    for (const auto& [name, st] : c.stats) {
      EXPECT_FALSE(st.tensor().hist.empty()) << name;
      for (int k = 0; k < st.channels(); ++k) EXPECT_TRUE(st.channel(k).hist.empty()) << name;
    }
    for (double alpha : {0.0, 0.25}) {
      QuantizeOptions tensor;
      tensor.blob_method = BlobMethod::kAuto;
      tensor.equalize = alpha;
      QuantizeResult own, handed, wrong;
      ASSERT_TRUE(QuantizeGraph(g, samples, tensor, {}, &own).ok());
      tensor.handed_stats = &c.stats;
      ASSERT_TRUE(QuantizeGraph(g, samples, tensor, {}, &handed).ok());
      EXPECT_EQ(Serialized(handed.graph), Serialized(own.graph)) << equalizable << ", alpha " << alpha;
      EXPECT_EQ(handed.equalized, own.equalized);
      // Equalized, the handed statistics give the ranges of the equalization, else the scales.
      EXPECT_EQ(own.equalized.empty(), !(equalizable && alpha > 0));
      // Statistics of other inputs give another file: the handed ones are what the run used.
      tensor.handed_stats = &other.stats;
      ASSERT_TRUE(QuantizeGraph(g, samples, tensor, {}, &wrong).ok());
      EXPECT_NE(Serialized(wrong.graph), Serialized(own.graph)) << equalizable << ", alpha " << alpha;
    }
  }
}

TEST_F(QuantizerTest, FloatBudgetKeepsTheChosenLayersReadingFloatInputs) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 12);
  QuantizeOptions o;
  o.budget.max_layers = 1;
  QuantizeResult r;
  const Status s = QuantizeGraph(SmallCnn(), samples, o, {}, &r);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(r.held_out_inputs, 3);
  ASSERT_LE(r.float_steps.size(), 1u);
  for (const auto& step : r.float_steps) {
    EXPECT_GT(step.cosine_after, step.cosine_before);
    const Layer* l = r.graph.FindLayer(step.layer);
    ASSERT_NE(l, nullptr);
    EXPECT_FALSE(l->quantized);
    for (const auto& in : l->inputs) {
      const Layer* p = r.graph.Producer(in);
      if (p) {
        EXPECT_FALSE(p->quantized) << step.layer << " reads " << in << " from int8 layer " << p->name;
      }
    }
  }
  // The max pooling reads the int8 Add, which reads the int8 Concat and conv1 (its ReLU fused): all go float with
  // it, down to the convolutions that produce them. The inner product reads the global average pooling, which
  // stays float: it needs nothing else.
  QuantizeResult all;
  ASSERT_TRUE(QuantizeGraph(SmallCnn(), samples, {}, {}, &all).ok());
  ASSERT_TRUE(all.graph.FindLayer("pool")->quantized);
  std::vector<std::string> closure = FloatClosure(all.graph, "pool");
  std::sort(closure.begin() + 1, closure.end());
  EXPECT_EQ(closure, (std::vector<std::string>{"pool", "add", "cat", "conv1", "conv2a", "conv2b"}));
  EXPECT_EQ(FloatClosure(all.graph, "fc"), (std::vector<std::string>{"fc"}));
  o.budget.max_layers = -1;
  o.budget.min_cosine = 0.5;
  ASSERT_TRUE(QuantizeGraph(SmallCnn(), samples, o, {}, &r).ok());
  EXPECT_TRUE(r.float_steps.empty());  // the all-int8 model already has it
  const auto few = WriteSmallCnnInputs(dir_ / "few", 3);
  EXPECT_FALSE(QuantizeGraph(SmallCnn(), few, o, {}, &r).ok());
}

TEST(ScoredBlobsTest, ADetectionOutputIsScoredThroughItsInputs) {
  Graph g;
  auto add = [&](LayerType type, const std::string& name, std::vector<std::string> in, std::string out) {
    Layer l;
    l.type = type;
    l.name = name;
    l.inputs = std::move(in);
    l.outputs = {std::move(out)};
    g.layers.push_back(std::move(l));
  };
  add(LayerType::kConvolution, "loc", {"data"}, "loc");
  add(LayerType::kConvolution, "conf", {"data"}, "conf");
  add(LayerType::kPriorBox, "priors", {"loc", "data"}, "priors");
  add(LayerType::kDetectionOutput, "det", {"loc", "conf", "priors"}, "det");
  add(LayerType::kConvolution, "mask", {"data"}, "mask");
  g.outputs = {"det", "conf", "mask"};
  EXPECT_EQ(ScoredBlobs(g), (std::vector<std::string>{"loc", "conf", "priors", "mask"}));
  g.outputs = {"mask"};
  EXPECT_EQ(ScoredBlobs(g), (std::vector<std::string>{"mask"}));
}

TEST_F(QuantizerTest, SweepRanksEveryConfigurationAndKeepsTheBestSymmetricOne) {
  const auto samples = WriteSmallCnnInputs(dir_ / "calib", 8);
  QuantizeOptions o;
  o.stats_path = (dir_ / "stats.bin").string();
  o.keep_inputs = 4;
  std::vector<SweepEntry> ranked;
  QuantizeResult best;
  const Status s = SweepMethods(SmallCnn(), samples, o, {}, &ranked, &best);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(ranked.size(), 55u);
  const SweepEntry* kept = nullptr;
  for (size_t i = 0; i < ranked.size(); ++i) {
    if (i > 0 && ranked[i].status.ok() && ranked[i - 1].status.ok()) {
      EXPECT_LE(ranked[i].top1_agreement, ranked[i - 1].top1_agreement);
    }
    if (!kept && ranked[i].status.ok() && ranked[i].symmetric) kept = &ranked[i];
  }
  ASSERT_NE(kept, nullptr);
  // The file kept is the one that configuration gives on its own from the same statistics.
  QuantizeOptions again = o;
  again.blob_method = kept->blob;
  again.weight_method = kept->weight;
  again.merge = kept->merge;
  QuantizeResult single;
  ASSERT_TRUE(QuantizeGraph(SmallCnn(), samples, again, {}, &single).ok());
  EXPECT_EQ(Serialized(best.graph), Serialized(single.graph)) << SweepFlags(*kept);
  o.stats_path.clear();
  EXPECT_FALSE(SweepMethods(SmallCnn(), samples, o, {}, &ranked, &best).ok());
}

}  // namespace
}  // namespace qt
