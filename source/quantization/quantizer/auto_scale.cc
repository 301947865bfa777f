#include "quantization/quantizer/auto_scale.h"

#include <memory>

#include "core/graph/shape_inference.h"
#include "core/layers/convolution.h"
#include "core/layers/inner_product.h"
#include "core/runtime/net.h"
#include "core/runtime/reformat.h"
#include "quantization/methods/scale_methods.h"

namespace qt {
namespace {

constexpr int kPercentileBins = 2048;

// The scale that leaves the largest (1 − p) of the nonzero |x| of a channel clipped.
float PercentileScale(const ChannelStats& cs, double p) {
  const float max_abs = cs.max_abs();
  if (cs.hist.empty() || !(max_abs > 0.00001f)) return 0.f;
  const std::vector<double> h = cs.hist.Resample(max_abs, kPercentileBins);
  double total = 0;
  for (double v : h) total += v;
  double cum = 0;
  int bin = kPercentileBins - 1;
  for (int i = 0; i < kPercentileBins; ++i) {
    cum += h[i];
    if (cum >= p * total) {
      bin = i;
      break;
    }
  }
  return static_cast<float>(static_cast<double>(max_abs) * (bin + 1) / kPercentileBins / 127.0);
}

double Energy(const Tensor& t) {
  double s = 0;
  for (float v : t.data) s += static_cast<double>(v) * v;
  return s;
}

// A consumer of a blob run on its own: the layer without bias or activation, so that it maps an input error to
// the change of its output.
struct ConsumerProbe {
  std::unique_ptr<Net> net;
  std::string input, output;
  double signal = 0;
  std::vector<double> error;  // per candidate
};

struct BlobProbe {
  std::vector<ScaleCandidate>* candidates = nullptr;
  std::vector<ConsumerProbe> consumers;
  bool self = false;  // the blob's own error counts (model output, or a consumer that is not linear in it)
  double self_signal = 0;
  std::vector<double> self_error;
};

bool IsLinearConsumer(const Layer& l, const std::string& blob) {
  return (l.type == LayerType::kConvolution || l.type == LayerType::kInnerProduct) && l.inputs.size() == 1 &&
         l.inputs[0] == blob && !l.quantized;
}

Status MakeProbe(const Graph& g, const Layer& consumer, const std::string& blob, const Dims& dims,
                 ConsumerProbe* probe) {
  Graph pg;
  pg.inputs.push_back(InputSpec{blob, dims, DataType::kFloat});
  Layer l = consumer;
  LayerResource res = g.resources.at(consumer.name);
  if (l.type == LayerType::kConvolution) {
    auto& p = l.Params<ConvParams>();
    p.activation = kActivationNone;
    auto& r = std::get<ConvResource>(res);
    if (r.has_bias) r.bias = RawBuffer::FromFloat(std::vector<float>(r.bias.ToFloat().size(), 0.f));
  } else {
    auto& r = std::get<InnerProductResource>(res);
    if (!r.bias.empty()) r.bias = RawBuffer::FromFloat(std::vector<float>(r.bias.ToFloat().size(), 0.f));
  }
  pg.outputs = {l.outputs[0]};
  pg.resources[l.name] = std::move(res);
  pg.layers.push_back(std::move(l));
  probe->net = std::make_unique<Net>();
  probe->input = blob;
  probe->output = consumer.outputs[0];
  return probe->net->Init(pg).WithContext("consumer '" + consumer.name + "' of blob '" + blob + "'");
}

Status RunProbe(ConsumerProbe* probe, const Tensor& in, Tensor* out) {
  QT_RETURN_IF_ERROR(probe->net->SetInput(probe->input, in));
  QT_RETURN_IF_ERROR(probe->net->Forward());
  return probe->net->GetBlob(probe->output, out);
}

}  // namespace

Status BlobScaleCandidates(const BlobStats& stats, bool merged, const std::string& blob,
                           std::vector<ScaleCandidate>* candidates) {
  candidates->clear();
  static const std::pair<const char*, BlobMethod> kMethods[] = {
      {"MSE", BlobMethod::kMse},           {"KL", BlobMethod::kKl},
      {"Min-Max", BlobMethod::kMinMax},    {"ACIQ-Gauss", BlobMethod::kAciqGauss},
      {"ACIQ-Laplace", BlobMethod::kAciqLaplace}};
  auto add = [&](const std::string& method, std::vector<float> scale) {
    for (const auto& c : *candidates) {
      if (c.scale == scale) return;
    }
    candidates->push_back(ScaleCandidate{method, std::move(scale), 0.0});
  };
  for (const auto& [name, method] : kMethods) {
    ScaleResult r;
    QT_RETURN_IF_ERROR(ComputeBlobScale(stats, merged, method, blob, &r));
    add(name, std::move(r.scale));
  }
  static const std::pair<const char*, double> kPercentiles[] = {
      {"p99.9", 0.999}, {"p99.99", 0.9999}, {"p99.999", 0.99999}};
  for (const auto& [name, p] : kPercentiles) {
    const int n = merged ? 1 : stats.channels();
    std::vector<float> scale(n);
    for (int c = 0; c < n; ++c) scale[c] = PercentileScale(merged ? stats.tensor() : stats.channel(c), p);
    add(name, std::move(scale));
  }
  return Status::Ok();
}

size_t BestCandidate(const std::vector<ScaleCandidate>& candidates) {
  size_t best = 0;
  for (size_t i = 1; i < candidates.size(); ++i) {
    if (candidates[i].error < candidates[best].error) best = i;
  }
  return best;
}

Status MeasureConsumerErrors(const Graph& graph, const std::vector<CalibrationSample>& samples, const Preprocess& pre,
                             const ProgressFn& progress, std::map<std::string, std::vector<ScaleCandidate>>* candidates) {
  BlobDims dims;
  QT_RETURN_IF_ERROR(InferShapes(graph, {}, &dims));
  std::map<std::string, BlobProbe> probes;
  for (auto& [blob, cands] : *candidates) {
    BlobProbe& p = probes[blob];
    p.candidates = &cands;
    p.self_error.assign(cands.size(), 0.0);
    const auto consumers = graph.Consumers(blob);
    p.self = consumers.empty() ||
             std::find(graph.outputs.begin(), graph.outputs.end(), blob) != graph.outputs.end();
    for (const Layer* c : consumers) {
      if (!IsLinearConsumer(*c, blob)) {
        p.self = true;
        continue;
      }
      ConsumerProbe probe;
      QT_RETURN_IF_ERROR(MakeProbe(graph, *c, blob, dims.at(blob), &probe));
      probe.error.assign(cands.size(), 0.0);
      p.consumers.push_back(std::move(probe));
    }
  }
  Net net;
  QT_RETURN_IF_ERROR(net.Init(graph));
  net.set_recycle_blobs(true);
  std::map<std::string, Dims> input_dims;
  for (const auto& in : net.inputs()) input_dims[in.name] = in.dims;
  Int8Tensor q;
  Tensor fq, err, y;
  for (size_t s = 0; s < samples.size(); ++s) {
    SampleTensors tensors;
    QT_RETURN_IF_ERROR(LoadSample(samples[s], input_dims, pre, &tensors));
    for (const auto& [name, t] : tensors) QT_RETURN_IF_ERROR(net.SetInput(name, t));
    QT_RETURN_IF_ERROR(net.Forward([&](const Layer& layer, const std::vector<const Tensor*>& outs) -> Status {
      for (size_t o = 0; o < outs.size(); ++o) {
        auto it = probes.find(layer.outputs[o]);
        if (it == probes.end()) continue;
        BlobProbe& p = it->second;
        const Tensor& x = *outs[o];
        if (p.self) p.self_signal += Energy(x);
        for (auto& c : p.consumers) {
          QT_RETURN_IF_ERROR(RunProbe(&c, x, &y));
          c.signal += Energy(y);
        }
        for (size_t k = 0; k < p.candidates->size(); ++k) {
          const BlobScale scale{(*p.candidates)[k].scale, {}};
          QuantizeTensor(x, scale, &q);
          DequantizeTensor(q, &fq);
          err.dims = x.dims;
          err.data.resize(x.data.size());
          for (size_t i = 0; i < x.data.size(); ++i) err.data[i] = fq.data[i] - x.data[i];
          if (p.self) p.self_error[k] += Energy(err);
          for (auto& c : p.consumers) {
            QT_RETURN_IF_ERROR(RunProbe(&c, err, &y));
            c.error[k] += Energy(y);
          }
        }
      }
      return Status::Ok();
    }));
    if (progress) progress("auto scales", s + 1, samples.size());
  }
  for (auto& [blob, p] : probes) {
    for (size_t k = 0; k < p.candidates->size(); ++k) {
      double e = 0;
      if (p.self && p.self_signal > 0) e += p.self_error[k] / p.self_signal;
      for (const auto& c : p.consumers) {
        if (c.signal > 0) e += c.error[k] / c.signal;
      }
      (*p.candidates)[k].error = e;
    }
  }
  return Status::Ok();
}

}  // namespace qt
