#include "quantization/quantizer/equalization.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/graph/graph_simplify.h"
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

namespace {

// The factor s[o] of each output channel of `layer` (fp32 convolution `w`, int8 counterpart `q` in `int8`), given
// the factors of its input channels; empty when `q` is no int8 convolution on a per-tensor input scale.
std::vector<double> RowFactors(const Graph& fp32, const Layer& layer, const Graph& int8, const Layer& q,
                               const std::vector<double>& in_factors) {
  const auto& p = layer.Params<ConvParams>();
  auto fr = fp32.resources.find(layer.name);
  auto qr = int8.resources.find(q.name);
  if (!q.quantized || q.inputs.empty() || fr == fp32.resources.end() || qr == int8.resources.end()) return {};
  const auto* fc = std::get_if<ConvResource>(&fr->second);
  const auto* qc = std::get_if<ConvResource>(&qr->second);
  auto in_scale = int8.blob_scales.find(q.inputs[0]);
  if (!fc || !qc || in_scale == int8.blob_scales.end() || in_scale->second.scale.size() != 1) return {};
  const std::vector<float> w = fc->filter.ToFloat(), qw = qc->filter.ToFloat(), ws = qc->scale.ToFloat();
  const int oc = p.output_channel;
  const int64_t k = oc > 0 ? static_cast<int64_t>(w.size()) / oc : 0;
  const int64_t window = int64_t{p.kernel_h} * p.kernel_w;
  const double sx = in_scale->second.scale[0];
  if (k == 0 || qw.size() != w.size() || (ws.size() != 1 && static_cast<int>(ws.size()) != oc) || !(sx > 0)) return {};
  const int per_group = oc / std::max(p.group, 1);
  const int icg = static_cast<int>(k / window);
  std::vector<double> s(oc, 1.0);
  for (int o = 0; o < oc; ++o) {
    double ff = 0, qq = 0;
    const double unit = ws.size() == 1 ? ws[0] : ws[o];
    for (int64_t i = 0; i < k; ++i) {
      const int in_c = (o / per_group) * icg + static_cast<int>(i / window);
      const double f = w[o * k + i] * (in_c < static_cast<int>(in_factors.size()) ? in_factors[in_c] : 1.0);
      const double d = qw[o * k + i] * unit / sx;
      ff += f * f;
      qq += d * d;
    }
    if (ff > 0 && qq > 0) s[o] = std::sqrt(ff / qq);
  }
  return s;
}

}  // namespace

Status EqualizedReference(const Graph& fp32, const Graph& int8, Graph* reference, std::vector<std::string>* rescaled) {
  rescaled->clear();
  *reference = fp32;
  Graph g = fp32;
  SimplifyGraph(&g);
  QT_RETURN_IF_ERROR(g.Validate());
  BlobDims dims;
  QT_RETURN_IF_ERROR(InferShapes(g, {}, &dims));
  // The factors of every blob rescaled so far, by blob, and of the blobs on each group's commuting chain.
  std::map<std::string, std::vector<double>> factors;
  std::vector<std::pair<EqualizationGroup, std::vector<double>>> changes;
  for (const auto& group : FindEqualizationGroups(g, dims)) {
    const Layer* producer = g.FindLayer(group.producer);
    const Layer* q = int8.FindLayer(group.producer);
    if (!producer || !q) continue;
    auto in = factors.find(producer->inputs[0]);
    const std::vector<double> s =
        RowFactors(g, *producer, int8, *q, in == factors.end() ? std::vector<double>() : in->second);
    if (static_cast<int>(s.size()) != group.channels) continue;
    // Equalization only enlarges channels (s <= 1, the widest channel keeps s = 1); weight clipping such as TNN's
    // ADMM (-w 1) shrinks rows instead (s up to 1.03 on SqueezeNet), and rounding moves s by a few tenths of a %.
    const double lo = *std::min_element(s.begin(), s.end()), hi = *std::max_element(s.begin(), s.end());
    if (!(lo < 0.98 && hi < 1.01)) continue;
    // Every blob from the producer's output to the group's blob carries the factors.
    for (std::string b = producer->outputs[0];;) {
      factors[b] = s;
      if (b == group.blob) break;
      const auto readers = g.Consumers(b);
      if (readers.size() != 1) break;
      b = readers[0]->outputs[0];
    }
    changes.push_back({group, s});
  }
  if (changes.empty()) return Status::Ok();
  for (const auto& [group, s] : changes) {
    RescaleChannels(group, s, &g);
    rescaled->push_back(group.blob);
  }
  *reference = std::move(g);
  return Status::Ok();
}

}  // namespace qt
