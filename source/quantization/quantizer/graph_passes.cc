#include "quantization/quantizer/graph_passes.h"

#include <algorithm>

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

}  // namespace qt
