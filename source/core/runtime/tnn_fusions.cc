#include "core/runtime/tnn_fusions.h"

#include <algorithm>

namespace qt {
namespace {

bool ReadAfter(const std::vector<Layer>& layers, size_t from, const std::string& blob) {
  for (size_t j = from; j < layers.size(); ++j) {
    if (std::find(layers[j].inputs.begin(), layers[j].inputs.end(), blob) != layers[j].inputs.end()) return true;
  }
  return false;
}

bool IsQuantizedConv(const Layer& l) { return l.quantized && l.type == LayerType::kConvolution; }

// TNN compares each layer with the one before it in the original list (a layer already fused away is not a
// candidate) and drops the layers it fuses. `fuse` tries to fuse `cur`, the layer at index i, into `prev`.
template <typename Fuse>
void FuseWithPrevious(std::vector<Layer>* layers, Fuse fuse) {
  std::vector<Layer>& in = *layers;
  if (in.empty()) return;
  std::vector<Layer> out;
  out.push_back(in[0]);
  for (size_t i = 1; i < in.size(); ++i) {
    const bool prev_kept = out.back().name == in[i - 1].name;
    if (prev_kept && IsQuantizedConv(out.back()) && fuse(&out.back(), in[i], in, i)) continue;
    out.push_back(in[i]);
  }
  *layers = std::move(out);
}

// net_optimizer_fuse_conv_post: the ReLU/ReLU6 reading the convolution becomes its activation.
bool FuseActivation(Layer* conv, const Layer& cur, const std::vector<Layer>& in, size_t i) {
  if (cur.type != LayerType::kRelu && cur.type != LayerType::kRelu6) return false;
  auto& p = conv->Params<ConvParams>();
  const std::string& conv_out = conv->outputs[0];
  if (p.activation != kActivationNone || cur.inputs.size() != 1 || cur.inputs[0] != conv_out ||
      ReadAfter(in, i + 1, conv_out)) {
    return false;
  }
  p.activation = cur.type == LayerType::kRelu ? kActivationRelu : kActivationRelu6;
  conv->outputs = cur.outputs;
  return true;
}

// net_optimizer_fuse_conv_add: a pointwise convolution takes the quantized Add that reads it.
bool FuseAdd(Layer* conv, const Layer& cur, const std::vector<Layer>& in, size_t i) {
  if (cur.type != LayerType::kAdd || !cur.quantized) return false;
  auto& p = conv->Params<ConvParams>();
  const bool pointwise = p.group == 1 && p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
                         p.pad_h == 0 && p.pad_w == 0 && p.fusion == 0;
  const std::string& conv_out = conv->outputs[0];
  std::vector<std::string> others;
  bool reads_conv = false;
  for (const auto& name : cur.inputs) {
    if (name == conv_out) {
      reads_conv = true;
    } else {
      others.push_back(name);
    }
  }
  if (!pointwise || !reads_conv || others.size() != 1 || conv->inputs.size() != 1 || ReadAfter(in, i + 1, conv_out)) {
    return false;
  }
  conv->inputs.push_back(others[0]);
  conv->outputs = cur.outputs;
  p.fusion = p.activation == kActivationNone ? 1 : 2;
  return true;
}

}  // namespace

void FuseQuantizedLikeTnn(Graph* graph) {
  const bool quantized = std::any_of(graph->layers.begin(), graph->layers.end(),
                                     [](const Layer& l) { return l.quantized; });
  if (!quantized) return;
  FuseWithPrevious(&graph->layers, FuseActivation);
  FuseWithPrevious(&graph->layers, FuseAdd);
  FuseWithPrevious(&graph->layers, FuseActivation);
}

}  // namespace qt
