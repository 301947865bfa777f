// Net's fast paths against its plain runs: Concats written in place by the convolutions that feed them, inverted
// residuals run fused, and Pads between int8 layers run on the bytes.
#include <random>

#include <gtest/gtest.h>

#include "core/base/parallel.h"
#include "core/layers/axis_layers.h"
#include "core/layers/binary.h"
#include "core/layers/convolution.h"
#include "core/layers/layer.h"
#include "core/layers/pad.h"
#include "core/layers/prelu.h"
#include "core/runtime/net.h"

namespace qt {
namespace {

Layer MakeLayer(LayerType type, const std::string& name, std::vector<std::string> in, std::vector<std::string> out,
                LayerParams params) {
  Layer l;
  l.type = type;
  l.type_str = LayerTypeName(type);
  l.name = name;
  l.inputs = std::move(in);
  l.outputs = std::move(out);
  l.params = std::move(params);
  return l;
}

Layer Conv(const std::string& name, const std::string& in, const std::string& out, int ic, int oc, int k,
           int stride = 1, int group = 1, int activation = 1, int pad = -1, int pad_type = -1) {
  ConvParams p;
  p.input_channel = ic;
  p.output_channel = oc;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = pad < 0 ? k / 2 : pad;
  p.group = group;
  p.has_bias = 1;
  p.activation = activation;
  p.pad_type = pad_type;
  return MakeLayer(LayerType::kConvolution, name, {in}, {out}, p);
}

Layer Concat(const std::string& name, std::vector<std::string> in, const std::string& out, int axis) {
  AxisParams p;
  p.axis = axis;
  return MakeLayer(LayerType::kConcat, name, std::move(in), {out}, p);
}

RawBuffer RandomFloats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 0.5f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return RawBuffer::FromFloat(v);
}

// Random weights and biases for every convolution, seeded in layer order from `seed`.
void SetRandomConvResources(Graph* g, uint32_t seed) {
  for (const Layer& l : g->layers) {
    if (l.type != LayerType::kConvolution) continue;
    const auto& p = l.Params<ConvParams>();
    ConvResource r;
    r.filter = RandomFloats(size_t{1} * p.output_channel * (p.input_channel / p.group) * p.kernel_h * p.kernel_w,
                            seed++);
    r.bias = RandomFloats(p.output_channel, seed++);
    r.has_bias = true;
    g->resources[l.name] = r;
  }
}

// The network with recycling on and no callback (where Net fuses layers and writes Concats in place) against the
// plain one, bit for bit on `blobs`, at each thread count in turn on the same recycled buffers.
void ExpectFastRunEqualsPlain(const Graph& g, const Tensor& in, const std::vector<std::string>& blobs,
                              const std::vector<int>& thread_counts) {
  Net plain, fast;
  ASSERT_TRUE(plain.Init(g).ok());
  ASSERT_TRUE(fast.Init(g).ok());
  fast.set_recycle_blobs(true);
  ASSERT_TRUE(plain.SetInput("data", in).ok());
  ASSERT_TRUE(plain.Forward().ok());
  for (int threads : thread_counts) {
    SetNumThreads(threads);
    ASSERT_TRUE(fast.SetInput("data", in).ok());
    ASSERT_TRUE(fast.Forward().ok());
    for (const auto& name : blobs) {
      Tensor a, b;
      ASSERT_TRUE(plain.GetBlob(name, &a).ok());
      ASSERT_TRUE(fast.GetBlob(name, &b).ok());
      EXPECT_EQ(a.dims, b.dims) << name;
      EXPECT_EQ(a.data, b.data) << name << ", " << threads << " threads";
    }
  }
  SetNumThreads(2);
}

Tensor RandomInput(const Dims& dims, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  Tensor in(dims);
  for (auto& x : in.data) x = d(rng);
  return in;
}

// Two SqueezeNet fire modules (squeeze 1x1, expand 1x1 and 3x3 — Winograd — concatenated on channels), then
// Concats that must keep the copy: one whose input is also a model output, a Concat of a Concat and the model
// input, and one along the height. With recycling on and no callback
// every value equals the plain run's bit for bit, at 1 and 2 threads, and again on a second pass over the
// recycled buffers.
TEST(NetConcatTest, ConcatsWrittenInPlaceGiveTheCopiesValues) {
  Graph g;
  g.inputs = {{"data", {1, 6, 17, 19}, DataType::kFloat}};
  g.layers = {Conv("s1", "data", "s1", 6, 4, 1),     Conv("e1a", "s1", "e1a", 4, 8, 1),
              Conv("e1b", "s1", "e1b", 4, 8, 3),     Concat("cat1", {"e1a", "e1b"}, "cat1", 1),
              Conv("s2", "cat1", "s2", 16, 4, 1),    Conv("e2a", "s2", "e2a", 4, 16, 1),
              Conv("e2b", "s2", "e2b", 4, 16, 3),    Concat("cat2", {"e2a", "e2b"}, "cat2", 1),
              Conv("x", "cat2", "x", 32, 6, 1),      Conv("y", "cat2", "y", 32, 6, 3),
              Concat("cat3", {"x", "y"}, "cat3", 1), Concat("cat4", {"cat3", "data"}, "cat4", 1),
              Conv("z", "cat4", "z", 18, 3, 1),      Conv("z2", "cat4", "z2", 18, 3, 3),
              Concat("cat5", {"z", "z2"}, "out", 2)};
  g.outputs = {"out", "x"};
  SetRandomConvResources(&g, 70);
  g.RefreshBlobNames();
  ExpectFastRunEqualsPlain(g, RandomInput({1, 6, 17, 19}, 5), {"out", "x"}, {1, 2, 1});
}

// MobileNetV2's inverted residual at reduced size (1x1 expand with ReLU6, 3x3 depthwise stride 1 and, in a second
// block, TF's SAME stride 2, 1x1 projection, the Add of the first block's skip), with the expanded blobs over the
// 1 MB where Net fuses them: with recycling on and no callback the fused runs give the separate runs' values bit
// for bit, at 1 and 2 threads. In the second block the depthwise output is also a model output, so only the
// expand and the depthwise are fused there.
TEST(NetFusionTest, InvertedResidualsRunFusedWithTheSameValues) {
  Graph g;
  g.inputs = {{"data", {1, 8, 64, 80}, DataType::kFloat}};
  g.layers = {Conv("e1", "data", "m1", 8, 56, 1, 1, 1, 2),
              Conv("d1", "m1", "m2", 56, 56, 3, 1, 56, 2),
              Conv("p1", "m2", "m3", 56, 8, 1, 1, 1, 0),
              MakeLayer(LayerType::kAdd, "add", {"m3", "data"}, {"sum"}, BinaryParams{}),
              Conv("e2", "sum", "n1", 8, 64, 1, 1, 1, 2),
              Conv("d2", "n1", "n2", 64, 64, 3, 2, 64, 2, 0, 0),
              Conv("p2", "n2", "out", 64, 12, 1, 1, 1, 0)};
  g.outputs = {"out", "n2"};
  SetRandomConvResources(&g, 40);
  g.RefreshBlobNames();
  ExpectFastRunEqualsPlain(g, RandomInput({1, 8, 64, 80}, 4), {"out", "n2"}, {1, 2});
}

Layer Pad(const std::string& name, const std::string& in, const std::string& out, PadParams p) {
  return MakeLayer(LayerType::kPad, name, {in}, {out}, p);
}

// BlazeFace's float blocks: a shortcut widened by a channel Pad (zeros after the channels), added to the block's
// depthwise + 1x1 branch and rectified, where the Pad's input is also read by the branch; a Pad with channels
// before and after and a non-zero constant as the Add's first operand, the Add then read by two layers (no ReLU
// fused); a channel Pad whose output is also read by a convolution, and one that is a model output (both run as
// Pads); a Pad with a spatial border (runs as a Pad). With recycling on and no callback every value equals the
// plain run's bit for bit, at 1 and 2 threads.
TEST(NetFusionTest, ChannelPadsAddedWithoutThePaddedTensor) {
  Graph g;
  g.inputs = {{"data", {1, 3, 24, 20}, DataType::kFloat}};
  PadParams widen;
  widen.pad_c_end = 4;
  PadParams both;
  both.pad_c_begin = 2;
  both.pad_c_end = 1;
  both.value = 0.5f;
  PadParams border;
  border.pad_c_end = 2;
  border.pad_b = border.pad_r = 1;
  g.layers = {Conv("c0", "data", "x", 3, 6, 3),
              Pad("p1", "x", "xp", widen),
              Conv("d1", "x", "d1", 6, 6, 3, 1, 6, 0),
              Conv("q1", "d1", "z1", 6, 10, 1, 1, 1, 0),
              MakeLayer(LayerType::kAdd, "add1", {"z1", "xp"}, {"s1"}, BinaryParams{}),
              MakeLayer(LayerType::kRelu, "relu1", {"s1"}, {"r1"}, std::monostate{}),
              Pad("p2", "r1", "rp", both),
              Conv("q2", "r1", "z2", 10, 13, 1, 1, 1, 0),
              MakeLayer(LayerType::kAdd, "add2", {"rp", "z2"}, {"s2"}, BinaryParams{}),
              MakeLayer(LayerType::kRelu, "relu2", {"s2"}, {"r2"}, std::monostate{}),
              Conv("q3", "s2", "z3", 13, 13, 1, 1, 1, 0),
              Pad("p3", "r2", "r2p", widen),
              Conv("q4", "r2p", "z4", 17, 17, 1, 1, 1, 0),
              MakeLayer(LayerType::kAdd, "add3", {"z4", "r2p"}, {"s3"}, BinaryParams{}),
              Pad("p4", "z3", "z3p", widen),
              MakeLayer(LayerType::kAdd, "add4", {"z3p", "s3"}, {"s4"}, BinaryParams{}),
              Pad("p5", "s4", "s4p", border),
              Conv("q5", "s4p", "z5", 19, 19, 1, 1, 1, 0),
              MakeLayer(LayerType::kAdd, "add5", {"z5", "z5"}, {"s5"}, BinaryParams{}),
              MakeLayer(LayerType::kRelu, "relu5", {"s5"}, {"out"}, std::monostate{})};
  g.outputs = {"out", "z3p", "r2"};
  SetRandomConvResources(&g, 90);
  g.RefreshBlobNames();
  ExpectFastRunEqualsPlain(g, RandomInput({1, 3, 24, 20}, 7), {"out", "z3p", "r2"}, {1, 2});
}

// BlazeFace's bottom/right border before a stride-2 depthwise window without padding of its own, on planes of 64
// and 33 (odd: the last window reads the border), a border on every side before a dense 3x3 convolution with
// padding of its own, and Pads that stay: a non-zero constant, one read by two layers, one that is a model output.
// With recycling on and no callback every value equals the plain run's bit for bit, at 1 and 2 threads.
TEST(NetFusionTest, ZeroBordersBecomeTheConvolutionsPadding) {
  for (const int side : {64, 33}) {
    Graph g;
    g.inputs = {{"data", {1, 3, side, side}, DataType::kFloat}};
    PadParams corner;
    corner.pad_b = corner.pad_r = 2;
    PadParams around;
    around.pad_t = around.pad_l = 1;
    around.pad_b = 2;
    around.pad_r = 3;
    PadParams half = corner;
    half.value = 0.5f;
    g.layers = {Conv("c0", "data", "x", 3, 8, 3),
                Pad("p1", "x", "xp", corner),
                Conv("d1", "xp", "d1", 8, 8, 3, 2, 8, 2, 0),
                Pad("p2", "d1", "dp", around),
                Conv("c2", "dp", "c2", 8, 6, 3, 1, 1, 1, 1),
                Pad("p3", "c2", "cp", half),
                Conv("d3", "cp", "d3", 6, 6, 3, 2, 6, 0, 0),
                Pad("p4", "c2", "cq", corner),
                Conv("d4", "cq", "d4", 6, 6, 3, 2, 6, 0, 0),
                Conv("d5", "cq", "d5", 6, 6, 3, 2, 6, 0, 0),
                Pad("p5", "d4", "out", corner)};
    g.outputs = {"d3", "d5", "out"};
    SetRandomConvResources(&g, 110);
    g.RefreshBlobNames();
    ExpectFastRunEqualsPlain(g, RandomInput({1, 3, side, side}, 8), {"d3", "d5", "out"}, {1, 2});
  }
}

// A quantized convolution with random int8 weights, per-channel weight scales and int32 biases.
Layer QuantizedConv(Graph* g, const std::string& name, const std::string& in, const std::string& out, int ic, int oc,
                    int k, int stride, int pad, uint32_t seed) {
  Layer l = Conv(name, in, out, ic, oc, k, stride, 1, 0, pad);
  l.quantized = true;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> w(-127, 127), b(-3000, 3000);
  std::vector<int8_t> filter(static_cast<size_t>(oc) * ic * k * k);
  for (auto& v : filter) v = static_cast<int8_t>(w(rng));
  std::vector<float> scale(oc);
  std::vector<int32_t> bias(oc);
  for (int o = 0; o < oc; ++o) {
    scale[o] = 0.002f + 0.0005f * o;
    bias[o] = b(rng);
  }
  ConvResource r;
  r.filter = RawBuffer::FromInt8(filter);
  r.scale = RawBuffer::FromFloat(scale);
  r.zero_point = RawBuffer::FromInt8(std::vector<int8_t>(oc, 0));
  r.bias = RawBuffer::FromInt32(bias);
  r.has_bias = true;
  g->resources[name] = r;
  return l;
}

// BlazeFace's Pads between int8 layers: a channel pad whose output a fused int8 convolution + Add reads, and a
// bottom/right pad before a stride-2 window, between scales that differ (per tensor, then per channel with zero
// points and a non-zero constant); a Pad whose output is also a model output (run in float too, its int8 reader
// given the mapped bytes), Pads that stay float: one read by a float layer only, one on the model input; a PReLU
// between int8 convolutions (per-channel slopes) and one
// whose output a float layer also reads (run in float too, its int8 reader given the mapped bytes). With recycling
// on and no callback every value equals the plain run's (the float layers between reformats) bit for bit, at 1
// and 2 threads.
TEST(NetInt8PadTest, PadsBetweenInt8LayersGiveTheFloatPathsValues) {
  for (const bool per_channel : {false, true}) {
    Graph g;
    g.inputs = {{"data", {1, 3, 20, 20}, DataType::kFloat}};
    PadParams channel_pad;
    channel_pad.pad_c_end = 2;
    PadParams corner_pad;
    corner_pad.pad_b = corner_pad.pad_r = 2;
    corner_pad.value = per_channel ? 0.5f : 0.f;
    PadParams edge_pad;
    edge_pad.pad_t = edge_pad.pad_l = 1;
    edge_pad.type = 2;
    g.layers = {QuantizedConv(&g, "c1", "data", "a", 3, 4, 3, 1, 1, 10),
                Pad("pc", "a", "ap", channel_pad),
                QuantizedConv(&g, "c2", "a", "b", 4, 6, 1, 1, 0, 11),
                MakeLayer(LayerType::kAdd, "add", {"b", "ap"}, {"sum"}, BinaryParams{}),
                Pad("pd", "sum", "sp", corner_pad),
                QuantizedConv(&g, "c3", "sp", "c", 6, 5, 3, 2, 0, 12),
                Pad("pe", "c", "cp", edge_pad),
                QuantizedConv(&g, "c4", "cp", "out", 5, 4, 1, 1, 0, 13),
                Pad("pf", "c", "float_in", edge_pad),
                MakeLayer(LayerType::kRelu, "relu", {"float_in"}, {"float_out"}, std::monostate{}),
                Pad("pg", "data", "dp", channel_pad),
                QuantizedConv(&g, "c5", "dp", "out2", 5, 2, 1, 1, 0, 14),
                MakeLayer(LayerType::kPRelu, "pr", {"out2"}, {"r"}, PReluParams{}),
                QuantizedConv(&g, "c6", "r", "out3", 2, 3, 3, 1, 1, 15),
                MakeLayer(LayerType::kPRelu, "pr2", {"out3"}, {"r2"}, PReluParams{}),
                QuantizedConv(&g, "c7", "r2", "out4", 3, 2, 1, 1, 0, 16),
                MakeLayer(LayerType::kRelu, "relu2", {"r2"}, {"float_out2"}, std::monostate{})};
    g.resources["pr"] = PReluResource{RawBuffer::FromFloat({0.3f, -0.5f})};
    g.resources["pr2"] = PReluResource{RawBuffer::FromFloat({0.2f})};
    g.layers[3].quantized = true;
    g.outputs = {"out", "cp", "float_out", "out2", "out4", "float_out2"};
    for (const auto& [name, c] : std::vector<std::pair<std::string, int>>{
             {"data", 3}, {"a", 4}, {"ap", 6}, {"b", 6}, {"sum", 6}, {"sp", 6}, {"c", 5}, {"cp", 5},
             {"out", 4}, {"float_in", 5}, {"dp", 5}, {"out2", 2}, {"r", 2}, {"out3", 3}, {"r2", 3},
             {"out4", 2}}) {
      BlobScale s;
      for (int i = 0; i < (per_channel ? c : 1); ++i) {
        s.scale.push_back(0.02f + 0.013f * static_cast<float>(name.size() + i));
        s.zero_point.push_back(static_cast<int8_t>(per_channel ? i - 2 : 0));
      }
      g.blob_scales[name] = s;
    }
    g.RefreshBlobNames();
    ExpectFastRunEqualsPlain(g, RandomInput({1, 3, 20, 20}, 6),
                             {"out", "cp", "float_out", "out2", "out4", "float_out2"}, {1, 2});
  }
}

Layer MaxPool(const std::string& name, const std::string& in, const std::string& out, int k, int stride, int pad,
              int ceil_mode) {
  PoolParams p;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = pad;
  p.ceil_mode = ceil_mode;
  return MakeLayer(LayerType::kPooling, name, {in}, {out}, p);
}

Layer GlobalAveragePool(const std::string& name, const std::string& in, const std::string& out) {
  PoolParams p;
  p.pool_type = 1;
  p.pad_type = -1;  // Caffe's: no SAME padding
  return MakeLayer(LayerType::kPooling, name, {in}, {out}, p);
}

// SqueezeNet's head: a 1x1 convolution with ReLU on 14x14 (40 channels: a last row block of 8) and the global
// average pooling after it; beside it, a head whose convolution output is also a model output (not fused), and one
// on 7x7 planes (not fused). With recycling on and no callback every value equals the plain run's bit for bit, at
// 1 and 2 threads.
TEST(NetFusionTest, ConvolutionThenGlobalAverageRunsFused) {
  Graph g;
  g.inputs = {{"data", {1, 24, 14, 14}, DataType::kFloat}};
  g.layers = {Conv("head", "data", "h", 24, 40, 1, 1, 1, 1),
              GlobalAveragePool("gap", "h", "out"),
              Conv("head2", "data", "h2", 24, 36, 1, 1, 1, 1),
              GlobalAveragePool("gap2", "h2", "out2"),
              MaxPool("down", "data", "d", 2, 2, 0, 0),
              Conv("head3", "d", "h3", 24, 48, 1, 1, 1, 1),
              GlobalAveragePool("gap3", "h3", "out3")};
  g.outputs = {"out", "out2", "h2", "out3"};
  SetRandomConvResources(&g, 120);
  g.RefreshBlobNames();
  ExpectFastRunEqualsPlain(g, RandomInput({1, 24, 14, 14}, 8), {"out", "out2", "h2", "out3"}, {1, 2});
}

// MTCNN's PReLU → MaxPool between int8 convolutions, which runs on the bytes (the map to the pooling's scale,
// then MaxPool2dInt8): 2x2 stride-2 windows in ceil mode on an odd plane (clipped windows), and after a Pad, 3x3
// stride-2 windows with padding. The pooled scales are small enough that whole windows saturate at −128 and 127,
// per tensor and then per channel with zero points; one PReLU has a negative slope (the max is taken after it
// either way). Beside them, a PReLU → MaxPool chain that stays float: its pooling's output is also a model output.
// With recycling on and no callback every value equals the plain run's (PReLU and pooling in float between
// reformats) bit for bit, at 1 and 2 threads.
TEST(NetInt8PadTest, MaxPoolingAfterAByteMapRunsOnTheBytes) {
  for (const bool per_channel : {false, true}) {
    Graph g;
    g.inputs = {{"data", {1, 3, 21, 19}, DataType::kFloat}};
    PadParams corner_pad;
    corner_pad.pad_b = corner_pad.pad_r = 1;
    g.layers = {QuantizedConv(&g, "c1", "data", "a", 3, 4, 3, 1, 1, 20),
                MakeLayer(LayerType::kPRelu, "pr", {"a"}, {"ar"}, PReluParams{}),
                MaxPool("pool", "ar", "p", 2, 2, 0, 1),
                QuantizedConv(&g, "c2", "p", "out", 4, 5, 3, 1, 1, 21),
                Pad("pd", "a", "ad", corner_pad),
                MaxPool("pool2", "ad", "p2", 3, 2, 1, 0),
                QuantizedConv(&g, "c3", "p2", "out2", 4, 3, 1, 1, 0, 22),
                MakeLayer(LayerType::kPRelu, "neg", {"a"}, {"an"}, PReluParams{}),
                MaxPool("pool3", "an", "p3", 2, 2, 0, 1),
                QuantizedConv(&g, "c4", "p3", "out3", 4, 2, 1, 1, 0, 23),
                MakeLayer(LayerType::kPRelu, "pr4", {"a"}, {"a4"}, PReluParams{}),
                MaxPool("pool4", "a4", "p4", 2, 2, 0, 1),
                QuantizedConv(&g, "c5", "p4", "out4", 4, 2, 1, 1, 0, 24)};
    g.resources["pr"] = PReluResource{RawBuffer::FromFloat({0.25f, 0.f, 0.5f, 0.1f})};
    g.resources["neg"] = PReluResource{RawBuffer::FromFloat({0.25f, -0.5f, 0.5f, 0.1f})};
    g.resources["pr4"] = PReluResource{RawBuffer::FromFloat({0.3f})};
    g.outputs = {"out", "out2", "out3", "out4", "p4"};
    for (const auto& [name, c] : std::vector<std::pair<std::string, int>>{{"data", 3}, {"a", 4}, {"ar", 4},
                                                                          {"p", 4}, {"out", 5}, {"ad", 4},
                                                                          {"p2", 4}, {"out2", 3}, {"an", 4},
                                                                          {"p3", 4}, {"out3", 2}, {"a4", 4},
                                                                          {"p4", 4}, {"out4", 2}}) {
      const bool pooled = name[0] == 'p';
      BlobScale s;
      for (int i = 0; i < (per_channel ? c : 1); ++i) {
        s.scale.push_back(pooled ? 0.002f + 0.001f * static_cast<float>(i) : 0.03f + 0.01f * static_cast<float>(i));
        s.zero_point.push_back(static_cast<int8_t>(per_channel ? 3 - 2 * i : 0));
      }
      g.blob_scales[name] = s;
    }
    g.RefreshBlobNames();
    ExpectFastRunEqualsPlain(g, RandomInput({1, 3, 21, 19}, 7), {"out", "out2", "out3", "out4", "p4"}, {1, 2});
  }
}

}  // namespace
}  // namespace qt
