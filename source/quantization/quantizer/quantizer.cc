#include "quantization/quantizer/quantizer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>

#include "core/graph/graph_simplify.h"
#include "core/runtime/net.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/methods/blob_statistics.h"
#include "quantization/quantizer/graph_passes.h"

namespace qt {
namespace {

struct TrackedBlob {
  std::unique_ptr<BlobStatistics> stats;
  BlobMethod method = BlobMethod::kMinMax;
};

// Runs every sample through the net, calling `visit` on each tracked blob once per sample. Every model input
// is fed from its own file (TNN's tool feeds only the first input and leaves the others stale).
Status ForEachInput(Net& net, const std::vector<CalibrationSample>& samples, const QuantizeOptions& options,
                    std::map<std::string, TrackedBlob>& tracked, const char* pass, const QuantizeLog& log,
                    const std::function<void(TrackedBlob&, const Tensor&)>& visit) {
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < samples.size(); ++i) {
    for (const auto& in : net.inputs()) {
      auto file = samples[i].find(in.name);
      if (file == samples[i].end()) return Status::InvalidArgument("no calibration file for input '" + in.name + "'");
      Tensor t;
      QT_RETURN_IF_ERROR(LoadInput(file->second, net.blob_dims().at(in.name), options.preprocess, &t));
      QT_RETURN_IF_ERROR(net.SetInput(in.name, t));
      auto it = tracked.find(in.name);
      if (it != tracked.end()) visit(it->second, t);
    }
    QT_RETURN_IF_ERROR(net.Forward([&](const Layer& layer, const std::vector<const Tensor*>& outs) {
      for (size_t k = 0; k < layer.outputs.size(); ++k) {
        auto b = tracked.find(layer.outputs[k]);
        if (b != tracked.end()) visit(b->second, *outs[k]);
      }
      return Status::Ok();
    }));
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = (i + 1) / std::max(secs, 1e-9);
    char line[160];
    std::snprintf(line, sizeof(line), "\r%s: %zu/%zu inputs, %.1f/s, ETA %.0f s", pass, i + 1, samples.size(), rate,
                  (samples.size() - i - 1) / rate);
    log(line);
  }
  log("\n");
  return Status::Ok();
}

Status QuantizeConv(Graph& g, Layer& layer, const QuantizeOptions& o) {
  auto& res = std::get<ConvResource>(g.resources.at(layer.name));
  const auto& p = layer.Params<ConvParams>();
  const BlobScale& in_scale = g.blob_scales.at(layer.inputs[0]);
  const std::vector<float> w = res.filter.ToFloat();
  const int oc = p.output_channel, group = p.group;
  const int64_t kernel = int64_t{p.kernel_h} * p.kernel_w;
  const int64_t icg = static_cast<int64_t>(w.size()) / oc / kernel;
  const int ocg = oc / group;
  const bool per_tensor_in = in_scale.scale.size() == 1;
  const bool depthwise = ocg == 1 && icg == 1;
  std::vector<float> folded(w.size());
  for (int o2 = 0; o2 < oc; ++o2) {
    const int grp = o2 / ocg;
    for (int64_t i = 0; i < icg; ++i) {
      const float s = per_tensor_in ? in_scale.scale[0] : in_scale.scale[grp * icg + i];
      for (int64_t k = 0; k < kernel; ++k) {
        const int64_t idx = (int64_t{o2} * icg + i) * kernel + k;
        folded[idx] = depthwise ? w[idx] : w[idx] * s;
      }
    }
  }
  const bool per_tensor_w = o.merge == MergeType::kPerTensor;
  const int slices = per_tensor_w ? 1 : oc;
  std::vector<int8_t> q, zp;
  std::vector<float> ws;
  QT_RETURN_IF_ERROR(QuantizeWeights(folded.data(), slices, static_cast<int64_t>(w.size()) / slices, o.weight_method,
                                     o.tnn_compat, &q, &ws, &zp)
                         .WithContext("layer '" + layer.name + "'"));
  if (depthwise) {
    for (int i = 0; i < slices; ++i) ws[i] *= in_scale.scale[per_tensor_in ? 0 : i];
  }
  if (res.has_bias) {
    const std::vector<float> b = res.bias.ToFloat();
    std::vector<int32_t> bq(oc);
    for (int i = 0; i < oc; ++i) bq[i] = QuantizeBias(b[i], ws[per_tensor_w ? 0 : i], o.tnn_compat);
    res.bias = RawBuffer::FromInt32(bq);
  }
  res.filter = RawBuffer::FromInt8(q);
  res.scale = RawBuffer::FromFloat(ws);
  res.zero_point = RawBuffer::FromInt8(zp);
  return Status::Ok();
}

Status QuantizeInnerProduct(Graph& g, Layer& layer, const QuantizeOptions& o) {
  auto& res = std::get<InnerProductResource>(g.resources.at(layer.name));
  const auto& p = layer.Params<InnerProductParams>();
  const BlobScale& in_scale = g.blob_scales.at(layer.inputs[0]);
  if (in_scale.scale.size() != 1) return Status::Internal("inner product input scale is not per-tensor");
  std::vector<float> w = res.weight.ToFloat();
  for (float& v : w) v *= in_scale.scale[0];
  const bool per_tensor_w = o.merge == MergeType::kPerTensor;
  const int slices = per_tensor_w ? 1 : p.num_output;
  std::vector<int8_t> q, zp;
  std::vector<float> ws;
  QT_RETURN_IF_ERROR(QuantizeWeights(w.data(), slices, static_cast<int64_t>(w.size()) / slices, o.weight_method,
                                     o.tnn_compat, &q, &ws, &zp)
                         .WithContext("layer '" + layer.name + "'"));
  if (p.has_bias) {
    const std::vector<float> b = res.bias.ToFloat();
    std::vector<int32_t> bq(p.num_output);
    for (int i = 0; i < p.num_output; ++i) bq[i] = QuantizeBias(b[i], ws[per_tensor_w ? 0 : i], o.tnn_compat);
    res.bias = RawBuffer::FromInt32(bq);
  }
  res.weight = RawBuffer::FromInt8(q);
  res.scale = RawBuffer::FromFloat(ws);
  res.zero_point = RawBuffer::FromInt8(zp);
  return Status::Ok();
}

}  // namespace

Status QuantizeGraph(const Graph& fp32, const std::vector<CalibrationSample>& inputs, const QuantizeOptions& options,
                     const QuantizeLog& log, Graph* quantized) {
  for (const auto& l : fp32.layers) {
    if (l.quantized) {
      return Status::InvalidArgument("layer '" + l.name + "' is already quantized: give the fp32 model");
    }
  }
  if (inputs.empty()) return Status::InvalidArgument("no calibration input");
  Graph g = fp32;
  // TNN's tool quantizes the graph its NAIVE runtime builds, which fuses only Conv + ReLU/ReLU6; by default the
  // weights of a following BatchNorm/Scale are folded in first, so that they are quantized once, together.
  SimplifyCounts c;
  if (options.tnn_compat) {
    c.fused_activations = FuseConvActivation(&g);
  } else {
    c = SimplifyGraph(&g);
  }
  if (c.dropouts) log("removed " + std::to_string(c.dropouts) + " Dropout layers\n");
  if (c.folded_norms) log("folded " + std::to_string(c.folded_norms) + " BatchNorm/Scale layers into convolutions\n");
  if (c.fused_activations) {
    log("fused " + std::to_string(c.fused_activations) + " Convolution + ReLU/ReLU6 pairs, as TNN's runtime does\n");
  }

  Net net;
  QT_RETURN_IF_ERROR(net.Init(g, {}, options.tnn_compat));
  const auto per_tensor = PerTensorBlobs(g);
  std::map<std::string, TrackedBlob> tracked;
  bool need_histograms = false;
  for (const auto& name : CalibratedBlobs(g)) {
    const Dims& d = net.blob_dims().at(name);
    const int channels = d.size() > 1 ? d[1] : 1;
    const int64_t spatial = DimsCount(d, 2);
    const bool merged = options.merge != MergeType::kPerChannel || per_tensor.count(name);
    TrackedBlob t;
    t.stats = std::make_unique<BlobStatistics>(channels, spatial, merged);
    t.method = options.blob_method;
    const int64_t hw = int64_t{d.size() > 2 ? d[2] : 1} * (d.size() > 3 ? d[3] : 1);
    if (g.FindInput(name) && t.method != BlobMethod::kMinMax) {
      log(std::string("note: model input '") + name + "' uses Min-Max instead of " + BlobMethodName(t.method) +
          " (its range is the preprocessed pixel range)\n");
      t.method = BlobMethod::kMinMax;
    } else if (hw < 100 && t.method != BlobMethod::kAsymMinMax && t.method != BlobMethod::kMinMax) {
      log(std::string("note: blob '") + name + "' has H*W = " + std::to_string(hw) + " < 100: Min-Max instead of " +
          BlobMethodName(t.method) + "\n");
      t.method = BlobMethod::kMinMax;
    }
    need_histograms |= t.method == BlobMethod::kKl;
    tracked[name] = std::move(t);
  }

  QT_RETURN_IF_ERROR(ForEachInput(net, inputs, options, tracked, "ranges", log,
                                  [](TrackedBlob& b, const Tensor& t) { b.stats->UpdateRange(t); }));
  for (auto& [name, b] : tracked) b.stats->PrepareHistograms();
  if (need_histograms) {
    QT_RETURN_IF_ERROR(ForEachInput(net, inputs, options, tracked, "histograms", log,
                                    [](TrackedBlob& b, const Tensor& t) { b.stats->UpdateHistogram(t); }));
  }
  for (auto& [name, b] : tracked) {
    ScaleResult r;
    QT_RETURN_IF_ERROR(ComputeBlobScale(*b.stats, b.method, options.tnn_compat, name, &r));
    g.blob_scales[name] = BlobScale{r.scale, r.zero_point};
  }

  for (auto& layer : g.layers) {
    if (!IsQuantizableLayer(layer)) continue;
    layer.quantized = true;
    if (layer.type == LayerType::kConvolution) QT_RETURN_IF_ERROR(QuantizeConv(g, layer, options));
    if (layer.type == LayerType::kInnerProduct) QT_RETURN_IF_ERROR(QuantizeInnerProduct(g, layer, options));
  }
  MergeBlobScales(&g);
  *quantized = std::move(g);
  return Status::Ok();
}

}  // namespace qt
