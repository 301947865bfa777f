#include "quantization/writers/ncnn_table.h"

#include <algorithm>
#include <cstdio>

namespace qt {
namespace {

void AppendLine(std::string* out, const std::string& key, const std::vector<float>& values) {
  *out += key;
  char buf[32];
  for (float v : values) {
    std::snprintf(buf, sizeof(buf), " %f", v);
    *out += buf;
  }
  *out += "\n";
}

// Multiplier of a clipping threshold: ncnn writes 127/absmax; an all-zero slice (scale 0) gets 1, as ncnn2table
// gives an all-zero kernel.
float Multiplier(float weight_scale, float input_scale, float levels) {
  if (weight_scale == 0.f) return 1.f;
  return levels * input_scale / (127.f * weight_scale);
}

}  // namespace

std::string NcnnTable(const Graph& g, const std::map<std::string, float>& input_scales) {
  std::string weights, blobs;
  for (const auto& l : g.layers) {
    if (!l.quantized || (l.type != LayerType::kConvolution && l.type != LayerType::kInnerProduct)) continue;
    auto in = input_scales.find(l.name);
    if (in == input_scales.end()) continue;
    const float s_in = in->second;
    std::vector<float> ws;
    int out_c = 0, group = 1;
    float levels = 127.f;
    if (l.type == LayerType::kConvolution) {
      const auto& p = l.Params<ConvParams>();
      ws = std::get<ConvResource>(g.resources.at(l.name)).scale.As<float>();
      out_c = p.output_channel;
      group = p.group;
      if (group == 1 && p.kernel_h == 3 && p.kernel_w == 3 && p.stride_h == 1 && p.stride_w == 1 &&
          p.dilation_h == 1 && p.dilation_w == 1) {
        levels = 31.f;
      }
    } else {
      ws = std::get<InnerProductResource>(g.resources.at(l.name)).scale.As<float>();
      out_c = l.Params<InnerProductParams>().num_output;
    }
    if (ws.size() == 1) ws.assign(out_c, ws[0]);
    // A depthwise conv's stored scale also carries the input scale (§D.4 step 4), like the folded ones.
    std::vector<float> mult;
    if (group == 1) {
      for (float w : ws) mult.push_back(Multiplier(w, s_in, levels));
    } else {
      const int per_group = out_c / group;
      for (int gi = 0; gi < group; ++gi) {
        const float widest = *std::max_element(ws.begin() + gi * per_group, ws.begin() + (gi + 1) * per_group);
        mult.push_back(Multiplier(widest, s_in, levels));
      }
    }
    AppendLine(&weights, l.name + "_param_0", mult);
    AppendLine(&blobs, l.name, {s_in > 0 ? 1.f / s_in : 0.f});
  }
  return weights + blobs;
}

}  // namespace qt
