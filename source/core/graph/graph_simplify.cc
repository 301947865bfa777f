#include "core/graph/graph_simplify.h"

#include <algorithm>

namespace qt {
namespace {

bool IsModelOutput(const Graph& g, const std::string& blob) {
  return std::find(g.outputs.begin(), g.outputs.end(), blob) != g.outputs.end();
}

// `name` is a copy: callers pass a field of the layer being erased.
void EraseLayer(Graph* g, std::string name) {
  g->layers.erase(std::find_if(g->layers.begin(), g->layers.end(), [&](const Layer& l) { return l.name == name; }));
  g->resources.erase(name);
}

// The single layer reading a convolution's output, when the pair may be rewritten into one layer.
const Layer* SoleConsumer(const Graph& g, const Layer& conv) {
  if (conv.type != LayerType::kConvolution || conv.outputs.size() != 1 || conv.quantized) return nullptr;
  if (conv.Params<ConvParams>().activation != kActivationNone) return nullptr;
  const std::string& blob = conv.outputs[0];
  if (IsModelOutput(g, blob)) return nullptr;
  const auto consumers = g.Consumers(blob);
  if (consumers.size() != 1) return nullptr;
  const Layer* next = consumers[0];
  if (next->inputs.size() != 1 || next->outputs.size() != 1 || next->quantized) return nullptr;
  return next;
}

// Folds the norm that directly follows layers[index] into it; false when there is none to fold.
bool FoldNextNorm(Graph* graph, size_t index) {
  Layer& conv = graph->layers[index];
  const Layer* norm = SoleConsumer(*graph, conv);
  if (!norm || (norm->type != LayerType::kBatchNorm && norm->type != LayerType::kScale)) return false;
  auto conv_it = graph->resources.find(conv.name);
  auto norm_it = graph->resources.find(norm->name);
  if (conv_it == graph->resources.end() || norm_it == graph->resources.end()) return false;
  auto* cr = std::get_if<ConvResource>(&conv_it->second);
  if (!cr || cr->filter.dtype() == DataType::kInt8) return false;
  std::vector<float> scale, shift;
  if (const auto* bn = std::get_if<BatchNormResource>(&norm_it->second)) {
    scale = bn->scale.ToFloat();
    shift = bn->bias.ToFloat();
  } else if (const auto* sc = std::get_if<ScaleResource>(&norm_it->second)) {
    scale = sc->scale.ToFloat();
    if (sc->bias_term) shift = sc->bias.ToFloat();
  } else {
    return false;
  }
  auto& p = conv.Params<ConvParams>();
  const int oc = p.output_channel;
  if (scale.size() == 1) scale.assign(oc, scale[0]);
  if (shift.size() == 1) shift.assign(oc, shift[0]);
  if (shift.empty()) shift.assign(oc, 0.f);
  if (static_cast<int>(scale.size()) != oc || static_cast<int>(shift.size()) != oc || oc == 0) return false;
  std::vector<float> w = cr->filter.ToFloat();
  const size_t per_oc = w.size() / oc;
  for (int o = 0; o < oc; ++o) {
    for (size_t k = 0; k < per_oc; ++k) w[o * per_oc + k] *= scale[o];
  }
  std::vector<float> b = cr->has_bias ? cr->bias.ToFloat() : std::vector<float>(oc, 0.f);
  for (int o = 0; o < oc; ++o) b[o] = b[o] * scale[o] + shift[o];
  cr->filter = RawBuffer::FromFloat(w, cr->filter.dims());
  cr->bias = RawBuffer::FromFloat(b, {oc});
  cr->has_bias = true;
  p.has_bias = 1;
  conv.outputs[0] = norm->outputs[0];
  EraseLayer(graph, norm->name);
  return true;
}

}  // namespace

int FuseConvActivation(Graph* graph, const std::set<std::string>& keep) {
  int fused = 0;
  for (size_t i = 0; i < graph->layers.size(); ++i) {
    Layer& conv = graph->layers[i];
    if (!conv.outputs.empty() && keep.count(conv.outputs[0])) continue;
    const Layer* act = SoleConsumer(*graph, conv);
    if (!act || (act->type != LayerType::kRelu && act->type != LayerType::kRelu6)) continue;
    conv.Params<ConvParams>().activation = act->type == LayerType::kRelu ? kActivationRelu : kActivationRelu6;
    conv.outputs[0] = act->outputs[0];
    EraseLayer(graph, act->name);
    ++fused;
  }
  return fused;
}

int FoldConvBatchNorm(Graph* graph) {
  int folded = 0;
  // A convolution may be followed by several norms (Caffe's BatchNorm then Scale): fold until none is left. The
  // norm is erased after the convolution, so its index stays valid.
  for (size_t i = 0; i < graph->layers.size(); ++i) {
    while (FoldNextNorm(graph, i)) ++folded;
  }
  return folded;
}

int RemoveDropouts(Graph* graph) {
  int removed = 0;
  for (size_t i = 0; i < graph->layers.size();) {
    const Layer& d = graph->layers[i];
    if (d.type != LayerType::kDropout || d.inputs.size() != 1 || d.outputs.size() != 1) {
      ++i;
      continue;
    }
    const std::string in = d.inputs[0], out = d.outputs[0];
    if (IsModelOutput(*graph, out)) {
      // The output keeps its name: the producer writes it directly, if nobody else reads the input blob.
      Layer* producer = nullptr;
      for (auto& l : graph->layers) {
        if (std::find(l.outputs.begin(), l.outputs.end(), in) != l.outputs.end()) producer = &l;
      }
      if (!producer || graph->Consumers(in).size() != 1 || IsModelOutput(*graph, in)) {
        ++i;
        continue;
      }
      std::replace(producer->outputs.begin(), producer->outputs.end(), in, out);
    } else {
      for (auto& l : graph->layers) std::replace(l.inputs.begin(), l.inputs.end(), out, in);
    }
    graph->layers.erase(graph->layers.begin() + static_cast<std::ptrdiff_t>(i));
    ++removed;
  }
  return removed;
}

SimplifyCounts SimplifyGraph(Graph* graph) {
  SimplifyCounts c;
  c.dropouts = RemoveDropouts(graph);
  c.folded_norms = FoldConvBatchNorm(graph);
  c.fused_activations = FuseConvActivation(graph);
  return c;
}

}  // namespace qt
