#include "quantization/quantizer/equalization.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/layers/convolution.h"

namespace qt {
namespace {

bool IsOutput(const Graph& g, const std::string& blob) {
  return std::find(g.outputs.begin(), g.outputs.end(), blob) != g.outputs.end();
}

// Layers with f(x / s) = f(x) / s for every channel scale s > 0.
bool CommutesWithChannelScale(const Layer& l) {
  if (l.inputs.size() != 1 || l.outputs.size() != 1) return false;
  return l.type == LayerType::kRelu || l.type == LayerType::kPRelu || l.type == LayerType::kPooling;
}

// A one-input convolution with float weights of its declared shape.
bool IsPlainConv(const Graph& g, const Layer& l) {
  if (l.type != LayerType::kConvolution || l.quantized || l.inputs.size() != 1 || l.outputs.size() != 1) return false;
  const auto& p = l.Params<ConvParams>();
  auto r = g.resources.find(l.name);
  if (p.fusion != 0 || p.group < 1 || r == g.resources.end()) return false;
  const auto* c = std::get_if<ConvResource>(&r->second);
  const int64_t count = int64_t{p.output_channel} * p.input_channel * p.kernel_h * p.kernel_w;
  return c && count > 0 && c->filter.count() == count && (!c->has_bias || c->bias.count() == p.output_channel);
}

void ScaleBuffer(RawBuffer* buffer, int64_t blocks, const std::function<double(int64_t)>& factor) {
  std::vector<float> v = buffer->ToFloat();
  const int64_t per = static_cast<int64_t>(v.size()) / blocks;
  for (int64_t b = 0; b < blocks; ++b) {
    const double f = factor(b);
    for (int64_t i = 0; i < per; ++i) v[b * per + i] = static_cast<float>(v[b * per + i] * f);
  }
  *buffer = RawBuffer::FromFloat(v, buffer->dims());
}

}  // namespace

std::vector<EqualizationGroup> FindEqualizationGroups(const Graph& graph, const BlobDims& dims) {
  std::vector<EqualizationGroup> groups;
  for (const auto& l : graph.layers) {
    if (!IsPlainConv(graph, l)) continue;
    const auto& p = l.Params<ConvParams>();
    if (p.activation != kActivationNone && p.activation != kActivationRelu) continue;
    bool rectified = p.activation == kActivationRelu;
    std::string blob = l.outputs[0];
    std::vector<const Layer*> readers = graph.Consumers(blob);
    while (!IsOutput(graph, blob) && readers.size() == 1 && CommutesWithChannelScale(*readers[0])) {
      rectified = rectified || readers[0]->type == LayerType::kRelu;
      blob = readers[0]->outputs[0];
      readers = graph.Consumers(blob);
    }
    auto d = dims.find(blob);
    if (!rectified || IsOutput(graph, blob) || readers.empty() || d == dims.end() || d->second.size() != 4) continue;
    const int channels = d->second[1];
    if (p.output_channel != channels) continue;
    EqualizationGroup group{l.name, {}, blob, channels};
    bool ok = true;
    for (const Layer* c : readers) {
      const auto* cp = IsPlainConv(graph, *c) ? &c->Params<ConvParams>() : nullptr;
      // Dense, or depthwise (each group reads one channel); other groupings are left alone.
      const bool dense = cp && cp->group == 1 && cp->input_channel == channels;
      const bool depthwise = cp && cp->group == channels && cp->input_channel == 1 && cp->output_channel % channels == 0;
      if (!dense && !depthwise) {
        ok = false;
        break;
      }
      group.consumers.push_back(c->name);
    }
    if (ok) groups.push_back(std::move(group));
  }
  return groups;
}

void RescaleChannels(const EqualizationGroup& group, const std::vector<double>& s, Graph* graph) {
  auto& produced = std::get<ConvResource>(graph->resources.at(group.producer));
  ScaleBuffer(&produced.filter, group.channels, [&](int64_t c) { return 1 / s[c]; });
  if (produced.has_bias) ScaleBuffer(&produced.bias, group.channels, [&](int64_t c) { return 1 / s[c]; });
  for (const auto& name : group.consumers) {
    const auto& cp = graph->FindLayer(name)->Params<ConvParams>();
    auto& res = std::get<ConvResource>(graph->resources.at(name));
    if (cp.group == 1) {
      // [oc][ic][kh][kw]: block b is (output channel, input channel) b / ic, b % ic.
      ScaleBuffer(&res.filter, int64_t{cp.output_channel} * group.channels,
                  [&](int64_t b) { return s[b % group.channels]; });
    } else {
      const int per_group = cp.output_channel / cp.group;
      ScaleBuffer(&res.filter, cp.output_channel, [&](int64_t o) { return s[o / per_group]; });
    }
  }
}

std::vector<std::string> EqualizeChannels(const std::vector<EqualizationGroup>& groups,
                                          const std::map<std::string, std::vector<float>>& channel_max, double alpha,
                                          Graph* graph) {
  std::vector<std::string> changed;
  for (const auto& group : groups) {
    auto it = channel_max.find(group.blob);
    if (it == channel_max.end() || static_cast<int>(it->second.size()) != group.channels) continue;
    const std::vector<float>& r = it->second;
    const float top = *std::max_element(r.begin(), r.end());
    if (!(top > 0) || !std::isfinite(top)) continue;
    std::vector<double> s(group.channels, 1.0);
    for (int c = 0; c < group.channels; ++c) {
      if (r[c] > 0) s[c] = std::pow(static_cast<double>(r[c]) / top, alpha);
    }
    RescaleChannels(group, s, graph);
    changed.push_back(group.blob);
  }
  return changed;
}

}  // namespace qt
