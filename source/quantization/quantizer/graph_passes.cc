#include "quantization/quantizer/graph_passes.h"

#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstring>

#include "core/int8/kernels_int8.h"
#include "core/layers/convolution.h"
#include "core/runtime/tnn_fusions.h"

namespace qt {

namespace {
bool IsCalibratedType(LayerType t) {
  return t == LayerType::kConvolution || t == LayerType::kAdd || t == LayerType::kConcat ||
         t == LayerType::kInnerProduct || t == LayerType::kRelu || t == LayerType::kPooling;
}
}  // namespace

std::vector<std::string> CalibratedBlobs(const Graph& graph) {
  std::vector<std::string> blobs;
  auto add = [&](const std::string& b) {
    if (std::find(blobs.begin(), blobs.end(), b) == blobs.end()) blobs.push_back(b);
  };
  for (const auto& l : graph.layers) {
    if (!IsCalibratedType(l.type)) continue;
    for (const auto& b : l.inputs) add(b);
    for (const auto& b : l.outputs) add(b);
  }
  return blobs;
}

std::set<std::string> PerTensorBlobs(const Graph& graph) {
  std::set<std::string> blobs;
  for (const auto& l : graph.layers) {
    if (l.type != LayerType::kInnerProduct) continue;
    blobs.insert(l.inputs.begin(), l.inputs.end());
    blobs.insert(l.outputs.begin(), l.outputs.end());
  }
  return blobs;
}

namespace {

// Whether a blob holds PriorBox output: a PriorBox's, or that of a layer which only rearranges such blobs (the
// Concat of the priors of every feature map, a Reshape or Flatten of it).
bool IsPriorBlob(const Graph& graph, const std::string& blob) {
  const Layer* l = graph.Producer(blob);
  if (!l) return false;
  if (l->type == LayerType::kPriorBox) return true;
  const bool rearranges = l->type == LayerType::kConcat || l->type == LayerType::kReshape ||
                          l->type == LayerType::kFlatten || l->type == LayerType::kPermute;
  return rearranges && std::all_of(l->inputs.begin(), l->inputs.end(),
                                   [&](const std::string& in) { return IsPriorBlob(graph, in); });
}

}  // namespace

bool IsQuantizableLayer(const Graph& graph, const Layer& layer, const BlobDims& dims) {
  switch (layer.type) {
    case LayerType::kConvolution: {
      // TNN's int8 kernels silently drop a fused swish (activation 256): such a conv stays float.
      const int act = layer.Params<ConvParams>().activation;
      return act == kActivationNone || act == kActivationRelu || act == kActivationRelu6;
    }
    case LayerType::kInnerProduct:
      return true;
    case LayerType::kConcat:
      // The priors are box corners that DetectionOutput decodes against: in int8 steps a small prior loses its
      // width (and CENTER_SIZE decoding refuses it). They depend on shapes only, so float costs nothing at run time.
      return std::none_of(layer.inputs.begin(), layer.inputs.end(),
                          [&](const std::string& in) { return IsPriorBlob(graph, in); });
    case LayerType::kAdd:
      return layer.inputs.size() == 2 && dims.at(layer.inputs[0]) == dims.at(layer.inputs[1]);
    default:
      return false;
  }
}

// ReLU and max pooling keep the scale of what they read: MergeBlobScales gives their input their output's scale,
// and they run on int8 values wherever their producer does.
bool PassesScaleThrough(const Layer& l) {
  return l.type == LayerType::kRelu || (l.type == LayerType::kPooling && l.Params<PoolParams>().pool_type == 0);
}

std::vector<bool> Int8Layers(const Graph& graph, const BlobDims& dims, const std::set<std::string>& float_layers,
                             bool weightless_need_int8_input, std::set<std::string>* int8_blobs) {
  std::set<std::string> values;
  for (const auto& in : graph.inputs) values.insert(in.name);
  std::vector<bool> int8(graph.layers.size(), false);
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer& l = graph.layers[i];
    int8[i] = IsQuantizableLayer(graph, l, dims) && !float_layers.count(l.name);
    if (int8[i] && weightless_need_int8_input && (l.type == LayerType::kConcat || l.type == LayerType::kAdd)) {
      int8[i] = std::any_of(l.inputs.begin(), l.inputs.end(),
                            [&](const std::string& b) { return values.count(b) > 0; });
    }
    if (int8[i] || (PassesScaleThrough(l) && l.inputs.size() == 1 && values.count(l.inputs[0]))) {
      values.insert(l.outputs.begin(), l.outputs.end());
    }
  }
  if (int8_blobs) *int8_blobs = std::move(values);
  return int8;
}

std::set<std::string> HeadBlobs(const Graph& graph, const BlobDims& dims) {
  std::set<std::string> int8_blobs;
  const std::vector<bool> quantized = Int8Layers(graph, dims, {}, true, &int8_blobs);
  // Walk the layers backwards: a blob is a head blob when every layer reading it is float and writes head blobs.
  std::set<std::string> head(graph.outputs.begin(), graph.outputs.end());
  std::set<std::string> feeds_int8;
  for (size_t i = graph.layers.size(); i-- > 0;) {
    const Layer& l = graph.layers[i];
    const bool int8 =
        quantized[i] || (PassesScaleThrough(l) && l.inputs.size() == 1 && int8_blobs.count(l.inputs[0]));
    const bool outputs_head = std::all_of(l.outputs.begin(), l.outputs.end(), [&](const std::string& o) {
      return head.count(o) || (!feeds_int8.count(o) && graph.Consumers(o).empty());
    });
    for (const auto& in : l.inputs) {
      if (int8 || !outputs_head) {
        feeds_int8.insert(in);
        head.erase(in);
      } else if (!feeds_int8.count(in)) {
        head.insert(in);
      }
    }
  }
  return head;
}

std::vector<std::string> MergeBlobScales(Graph* graph) {
  std::vector<std::string> marked;
  // Each layer is visited in order; a merge walks back through producers that themselves merge, so that the
  // scale of the last layer of a ReLU → MaxPool chain reaches the convolution that feeds it.
  for (size_t i = 0; i < graph->layers.size(); ++i) {
    Layer* layer = &graph->layers[i];
    while (layer) {
      const bool mergeable = PassesScaleThrough(*layer) && layer->inputs.size() == 1 && layer->outputs.size() == 1;
      if (!mergeable) break;
      const Layer* producer = graph->Producer(layer->inputs[0]);
      if (!producer || !producer->quantized) break;
      auto in = graph->blob_scales.find(layer->inputs[0]);
      auto out = graph->blob_scales.find(layer->outputs[0]);
      if (in == graph->blob_scales.end() || out == graph->blob_scales.end()) break;
      in->second = out->second;
      if (!layer->quantized) {
        layer->quantized = true;
        marked.push_back(layer->name);
      }
      layer = graph->FindLayer(producer->name);
    }
  }
  return marked;
}

std::vector<std::string> AlignConcatChannelScales(Graph* graph, const BlobDims& dims) {
  std::vector<std::string> changed;
  for (auto it = graph->layers.rbegin(); it != graph->layers.rend(); ++it) {
    const Layer& l = *it;
    if (l.type != LayerType::kConcat || l.outputs.size() != 1 || l.Params<AxisParams>().axis != 1) continue;
    auto out = graph->blob_scales.find(l.outputs[0]);
    if (out == graph->blob_scales.end()) continue;
    const BlobScale& s = out->second;
    bool per_channel = s.scale.size() > 1;
    for (const auto& in : l.inputs) {
      auto b = graph->blob_scales.find(in);
      per_channel = per_channel || (b != graph->blob_scales.end() && b->second.scale.size() > 1);
    }
    int64_t total = 0;
    for (const auto& in : l.inputs) total += dims.at(in).size() > 1 ? dims.at(in)[1] : 1;
    if (!per_channel || static_cast<int64_t>(s.scale.size()) != total) continue;
    int64_t offset = 0;
    for (const auto& in : l.inputs) {
      const int64_t c = dims.at(in).size() > 1 ? dims.at(in)[1] : 1;
      BlobScale slice;
      slice.scale.assign(s.scale.begin() + offset, s.scale.begin() + offset + c);
      if (!s.zero_point.empty()) {
        slice.zero_point.assign(s.zero_point.begin() + offset, s.zero_point.begin() + offset + c);
      }
      offset += c;
      auto b = graph->blob_scales.find(in);
      if (b == graph->blob_scales.end()) continue;
      if (b->second.scale == slice.scale && b->second.zero_point == slice.zero_point) continue;
      b->second = std::move(slice);
      changed.push_back(in);
    }
  }
  return changed;
}

std::vector<std::string> ShareConcatScales(Graph* graph, const std::vector<bool>& int8) {
  std::vector<std::string> changed;
  for (size_t i = graph->layers.size(); i-- > 0;) {
    const Layer& l = graph->layers[i];
    if (!int8[i] || l.type != LayerType::kConcat || l.outputs.size() != 1 || l.Params<AxisParams>().axis != 1) {
      continue;
    }
    auto out = graph->blob_scales.find(l.outputs[0]);
    if (out == graph->blob_scales.end() || out->second.scale.size() != 1) continue;
    const BlobScale shared = out->second;
    for (const auto& in : l.inputs) {
      auto b = graph->blob_scales.find(in);
      if (b == graph->blob_scales.end() || b->second.scale.size() != 1 || graph->Consumers(in).size() != 1) continue;
      if (b->second.scale == shared.scale && b->second.zero_point == shared.zero_point) continue;
      b->second = shared;
      changed.push_back(in);
    }
  }
  return changed;
}

namespace {

// Whether TNN's NAIVE (CPU_INT8_CALCULATE: s_a·a + s_b·b, then / s_y) and X86 (X86MatrixAddInt8: the same sum
// contracted into an FMA either way round, then · float(1.0 / s_y)) int8 Adds agree on every pair of operands.
bool StandaloneAddAgrees(float sa, float sb, float sy) {
  const float inverse = static_cast<float>(1.0 / static_cast<double>(sy));
  for (int a = -128; a <= 127; ++a) {
    const float pa = sa * static_cast<float>(a);
    for (int b = -128; b <= 127; ++b) {
      const float pb = sb * static_cast<float>(b);
      const int8_t naive = Float2Int8((pa + pb) / sy);
      if (Float2Int8(std::fma(static_cast<float>(a), sa, pb) * inverse) != naive ||
          Float2Int8(std::fma(static_cast<float>(b), sb, pa) * inverse) != naive) {
        return false;
      }
    }
  }
  return true;
}

// Whether v times any int8 value is exact in float: v has at most 17 significant bits (an int8 value has at most 7).
bool ExactTimesInt8(float v) {
  uint32_t bits = 0;
  std::memcpy(&bits, &v, sizeof(bits));
  return (bits & 0x7Fu) == 0;
}

// The float nearest `sy` on which `fits` holds, walking outwards one unit in the last place at a time (up before
// down), at most `limit` units away; `sy` when none does or sy is 0.
template <typename Fits>
float NearestScale(float sy, int limit, Fits fits) {
  if (!(sy >= FLT_MIN) || fits(sy)) return sy;
  float up = sy, down = sy;
  for (int k = 1; k <= limit; ++k) {
    up = std::nextafter(up, FLT_MAX);
    if (fits(up)) return up;
    down = std::nextafter(down, 0.0f);
    if (down >= FLT_MIN && fits(down)) return down;
  }
  return sy;
}

// s_y near `sy` such that float(sx / s_y) is ExactTimesInt8, within 4096 units in the last place (2^-11 of it).
// Aiming at a 17-bit quotient and taking the nearest s_y can miss it for every target alike (one unit of s_y moves
// the quotient by more than one of its own), so the search walks s_y itself.
float FusedAddScale(float sx, float sy) {
  if (!(sx >= FLT_MIN)) return sy;
  return NearestScale(sy, 4096, [&](float y) { return ExactTimesInt8(sx / y); });
}

// s_y near `sy` on which StandaloneAddAgrees, within 64 units in the last place.
float StandaloneAddScale(float sa, float sb, float sy) {
  return NearestScale(sy, 64, [&](float y) { return StandaloneAddAgrees(sa, sb, y); });
}

bool Symmetric(const BlobScale& s) {
  return std::all_of(s.zero_point.begin(), s.zero_point.end(), [](int8_t z) { return z == 0; });
}

// The blobs that share `blob`'s scale through int8 ReLU / max pooling layers (MergeBlobScales made them equal).
std::vector<std::string> ScaleGroup(const Graph& g, const std::string& blob) {
  std::vector<std::string> group = {blob};
  for (size_t i = 0; i < group.size(); ++i) {
    auto add = [&](const std::string& b) {
      if (std::find(group.begin(), group.end(), b) == group.end()) group.push_back(b);
    };
    const Layer* producer = g.Producer(group[i]);
    if (producer && producer->quantized && PassesScaleThrough(*producer) && producer->inputs.size() == 1) {
      add(producer->inputs[0]);
    }
    for (const Layer* c : g.Consumers(group[i])) {
      if (c->quantized && PassesScaleThrough(*c) && c->outputs.size() == 1) add(c->outputs[0]);
    }
  }
  return group;
}

// An int8 convolution or inner product reading a blob whose scales went from `before` to `after` keeps its int8
// weights: its combined scales and int32 biases take the factor, so that the real values they stand for stay. A
// dense convolution whose input scales differ per channel has no single factor per output channel; its weights then
// stand for values off by the change (at most 2^-11 of them, on the zoo's files 1.9e-4: a fraction of an int8 step).
void Rescale(const std::vector<float>& before, const std::vector<float>& after, Layer* layer, Graph* g) {
  RawBuffer *scale = nullptr, *bias = nullptr;
  bool depthwise = false;
  if (layer->type == LayerType::kConvolution) {
    auto& r = std::get<ConvResource>(g->resources.at(layer->name));
    const auto& p = layer->Params<ConvParams>();
    scale = &r.scale;
    bias = r.has_bias ? &r.bias : nullptr;
    depthwise = p.group == p.output_channel && p.input_channel == 1;
  } else if (layer->type == LayerType::kInnerProduct) {
    auto& r = std::get<InnerProductResource>(g->resources.at(layer->name));
    scale = &r.scale;
    bias = r.bias.empty() ? nullptr : &r.bias;
  } else {
    return;
  }
  const std::vector<float> ws = scale->ToFloat();
  // Output channel o reads input channel o (depthwise) or all of them (one input scale, else no single factor).
  if (before.size() > 1 && (!depthwise || ws.size() != before.size())) return;
  std::vector<float> moved = ws;
  for (size_t o = 0; o < ws.size(); ++o) {
    const size_t c = before.size() == 1 ? 0 : o;
    if (before[c] > 0.f && after[c] > 0.f) moved[o] = static_cast<float>(double{ws[o]} * after[c] / before[c]);
  }
  *scale = RawBuffer::FromFloat(moved, scale->dims());
  if (!bias || bias->dtype() != DataType::kInt32) return;
  std::vector<int32_t> bq = bias->As<int32_t>();
  for (size_t k = 0; k < bq.size(); ++k) {
    const size_t o = ws.size() == 1 ? 0 : std::min(k, ws.size() - 1);
    if (moved[o] == ws[o] || !(moved[o] > 0.f)) continue;
    const double v = std::round(static_cast<double>(bq[k]) * ws[o] / moved[o]);
    bq[k] = static_cast<int32_t>(std::min<double>(std::max<double>(v, INT32_MIN), INT32_MAX));
  }
  *bias = RawBuffer::FromInt32(bq, bias->dims());
}

// Moves the scale group of `blob` from its scales to `after` and has its int8 readers take the factor (Rescale);
// false when the group cannot move (an int8 Concat reads it, or its blobs' scales differ).
bool MoveScales(Graph* graph, const std::string& blob, const std::vector<float>& after) {
  const std::vector<std::string> group = ScaleGroup(*graph, blob);
  const std::vector<float> before = graph->blob_scales.at(blob).scale;
  for (const auto& b : group) {
    auto it = graph->blob_scales.find(b);
    if (it == graph->blob_scales.end() || it->second.scale != before) return false;
    for (const Layer* c : graph->Consumers(b)) {
      if (c->type == LayerType::kConcat) return false;
    }
  }
  for (const auto& b : group) {
    graph->blob_scales[b].scale = after;
    for (const Layer* c : graph->Consumers(b)) {
      Layer* reader = graph->FindLayer(c->name);
      if (reader->quantized && reader->inputs[0] == b) Rescale(before, after, reader, graph);
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> MatchX86AddRounding(Graph* graph) {
  Graph tnn = *graph;
  FuseQuantizedLikeTnn(&tnn);
  std::vector<std::string> changed;
  for (const Layer& l : tnn.layers) {
    const bool fused = l.type == LayerType::kConvolution && l.quantized && l.inputs.size() == 2 &&
                       l.Params<ConvParams>().fusion != 0;
    const bool alone = l.type == LayerType::kAdd && l.quantized && l.inputs.size() == 2 && l.outputs.size() == 1;
    if (!fused && !alone) continue;
    auto find = [&](const std::string& blob) -> const BlobScale* {
      auto it = graph->blob_scales.find(blob);
      return it == graph->blob_scales.end() || it->second.scale.empty() || !Symmetric(it->second) ? nullptr
                                                                                                  : &it->second;
    };
    const BlobScale* y = find(l.outputs[0]);
    const BlobScale* a = find(l.inputs[fused ? 1 : 0]);
    const BlobScale* b = fused ? a : find(l.inputs[1]);
    if (!y || !a || !b) continue;
    const size_t channels = y->scale.size();
    auto lines_up = [&](const BlobScale* s) { return s->scale.size() == 1 || s->scale.size() == channels; };
    if (!lines_up(a) || !lines_up(b)) continue;
    const std::vector<float> before = y->scale;
    std::vector<float> after = before;
    for (size_t c = 0; c < channels; ++c) {
      const float sa = a->scale[a->scale.size() == 1 ? 0 : c];
      const float sb = b->scale[b->scale.size() == 1 ? 0 : c];
      after[c] = fused ? FusedAddScale(sa, before[c]) : StandaloneAddScale(sa, sb, before[c]);
    }
    // The output's scale group moves as one, and a group that an int8 Concat reads keeps the scale it shares.
    if (after == before || !MoveScales(graph, l.outputs[0], after)) continue;
    changed.push_back(l.outputs[0]);
  }
  return changed;
}

}  // namespace qt
