#include "quantization/quantizer/auto_scale.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>

#include "core/base/parallel.h"
#include "core/graph/shape_inference.h"
#include "core/layers/convolution.h"
#include "core/layers/inner_product.h"
#include "core/runtime/net.h"
#include "core/runtime/reformat.h"
#include "quantization/methods/scale_methods.h"
#include "quantization/quantizer/lane_sums.h"

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

double Energy(const Tensor& t) { return SumOfSquares(t.data.data(), t.data.size()); }

// A consumer of a blob run on its own: the layer without bias or activation, so that it maps an input error to
// the change of its output.
struct ConsumerProbe {
  std::unique_ptr<Net> net;
  std::string input, output;
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
  // Which consumers each blob's error is measured by; every worker builds its own probes from this.
  struct Plan {
    std::string blob;
    size_t candidates = 0;
    bool self = false;  // the blob's own error counts (model output, or a consumer that is not linear in it)
    std::vector<const Layer*> consumers;
  };
  std::vector<Plan> plans;
  std::map<std::string, size_t> plan_of;
  for (const auto& [blob, cands] : *candidates) {
    Plan p;
    p.blob = blob;
    p.candidates = cands.size();
    const auto consumers = graph.Consumers(blob);
    p.self = consumers.empty() || std::find(graph.outputs.begin(), graph.outputs.end(), blob) != graph.outputs.end();
    for (const Layer* c : consumers) {
      if (IsLinearConsumer(*c, blob)) {
        p.consumers.push_back(c);
      } else {
        p.self = true;
      }
    }
    plan_of[blob] = plans.size();
    plans.push_back(std::move(p));
  }
  // Each input's energies, kept apart and added up in input order afterwards, so the sums do not depend on which
  // worker ran which input.
  struct Energies {
    double self_signal = 0;
    std::vector<double> self_error;             // per candidate
    std::vector<double> signal;                 // per consumer
    std::vector<std::vector<double>> error;     // per consumer, per candidate
  };
  std::vector<std::vector<Energies>> per_sample(samples.size());
  struct Worker {
    Net net;
    std::vector<std::vector<ConsumerProbe>> probes;  // by plan
    Status status;
  };
  const int workers = static_cast<int>(std::max<size_t>(1, std::min<size_t>(GetNumThreads(), samples.size())));
  std::vector<Worker> pool(workers);
  std::vector<Status> init(workers);
  RunConcurrently(workers, [&](int w) {
    Worker& k = pool[w];
    init[w] = k.net.Init(graph);
    k.net.set_recycle_blobs(true);
    k.probes.resize(plans.size());
    for (size_t i = 0; init[w].ok() && i < plans.size(); ++i) {
      for (const Layer* c : plans[i].consumers) {
        ConsumerProbe probe;
        init[w] = MakeProbe(graph, *c, plans[i].blob, dims.at(plans[i].blob), &probe);
        if (!init[w].ok()) break;
        k.probes[i].push_back(std::move(probe));
      }
    }
  });
  for (const Status& st : init) QT_RETURN_IF_ERROR(st);
  std::map<std::string, Dims> input_dims;
  for (const auto& in : pool[0].net.inputs()) input_dims[in.name] = in.dims;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;  // guards progress and `done`
  size_t done = 0;
  RunConcurrently(workers, [&](int w) {
    Worker& k = pool[w];
    Int8Tensor q;
    Tensor fq, err, y;
    for (size_t s = next++; s < samples.size() && !failed; s = next++) {
      std::vector<Energies>& e = per_sample[s];
      e.resize(plans.size());
      for (size_t i = 0; i < plans.size(); ++i) {
        e[i].self_error.assign(plans[i].candidates, 0.0);
        e[i].signal.assign(plans[i].consumers.size(), 0.0);
        e[i].error.assign(plans[i].consumers.size(), std::vector<double>(plans[i].candidates, 0.0));
      }
      SampleTensors tensors;
      Status st = LoadSample(samples[s], input_dims, pre, &tensors);
      for (auto it = tensors.begin(); st.ok() && it != tensors.end(); ++it) st = k.net.SetInput(it->first, it->second);
      if (st.ok()) {
        st = k.net.Forward([&](const Layer& layer, const std::vector<const Tensor*>& outs) -> Status {
          for (size_t o = 0; o < outs.size(); ++o) {
            auto it = plan_of.find(layer.outputs[o]);
            if (it == plan_of.end()) continue;
            const Plan& p = plans[it->second];
            Energies& en = e[it->second];
            std::vector<ConsumerProbe>& probes = k.probes[it->second];
            const Tensor& x = *outs[o];
            if (p.self) en.self_signal += Energy(x);
            for (size_t c = 0; c < probes.size(); ++c) {
              QT_RETURN_IF_ERROR(RunProbe(&probes[c], x, &y));
              en.signal[c] += Energy(y);
            }
            const std::vector<ScaleCandidate>& cands = candidates->at(p.blob);
            for (size_t c = 0; c < cands.size(); ++c) {
              const BlobScale scale{cands[c].scale, {}};
              QuantizeTensor(x, scale, &q);
              DequantizeTensor(q, &fq);
              err.dims = x.dims;
              err.data.resize(x.data.size());
              for (size_t i = 0; i < x.data.size(); ++i) err.data[i] = fq.data[i] - x.data[i];
              if (p.self) en.self_error[c] += Energy(err);
              for (size_t j = 0; j < probes.size(); ++j) {
                QT_RETURN_IF_ERROR(RunProbe(&probes[j], err, &y));
                en.error[j][c] += Energy(y);
              }
            }
          }
          return Status::Ok();
        });
      }
      std::lock_guard<std::mutex> lock(mutex);
      if (!st.ok()) {
        if (k.status.ok()) k.status = st;
        failed = true;
        return;
      }
      ++done;
      if (progress) progress("auto scales", done, samples.size());
    }
  });
  for (const Worker& k : pool) QT_RETURN_IF_ERROR(k.status);
  for (size_t i = 0; i < plans.size(); ++i) {
    const Plan& p = plans[i];
    double self_signal = 0;
    std::vector<double> self_error(p.candidates, 0.0), signal(p.consumers.size(), 0.0);
    std::vector<std::vector<double>> error(p.consumers.size(), std::vector<double>(p.candidates, 0.0));
    for (const auto& e : per_sample) {
      self_signal += e[i].self_signal;
      for (size_t c = 0; c < p.candidates; ++c) self_error[c] += e[i].self_error[c];
      for (size_t j = 0; j < p.consumers.size(); ++j) {
        signal[j] += e[i].signal[j];
        for (size_t c = 0; c < p.candidates; ++c) error[j][c] += e[i].error[j][c];
      }
    }
    std::vector<ScaleCandidate>& cands = candidates->at(p.blob);
    for (size_t c = 0; c < p.candidates; ++c) {
      double total = 0;
      if (p.self && self_signal > 0) total += self_error[c] / self_signal;
      for (size_t j = 0; j < p.consumers.size(); ++j) {
        if (signal[j] > 0) total += error[j][c] / signal[j];
      }
      cands[c].error = total;
    }
  }
  return Status::Ok();
}

}  // namespace qt
