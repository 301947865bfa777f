#include "quantization/quantizer/calibrator.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <set>

#include "core/base/parallel.h"
#include "core/runtime/net.h"

namespace qt {

Status LoadSample(const CalibrationSample& sample, const std::map<std::string, Dims>& input_dims,
                  const Preprocess& pre, SampleTensors* tensors) {
  tensors->clear();
  for (const auto& [name, dims] : input_dims) {
    auto file = sample.find(name);
    if (file == sample.end()) return Status::InvalidArgument("no calibration file for input '" + name + "'");
    QT_RETURN_IF_ERROR(LoadInput(file->second, dims, pre, &(*tensors)[name]));
  }
  return Status::Ok();
}

namespace {

std::map<std::string, Dims> InputDims(const Net& net) {
  std::map<std::string, Dims> dims;
  for (const auto& in : net.inputs()) dims[in.name] = in.dims;
  return dims;
}

// The first file of a sample, to name it in messages.
std::string SampleName(const CalibrationSample& s) { return s.empty() ? "?" : s.begin()->second; }

// One thread's share of the pass: its own network and the ranges and histograms of the inputs it ran.
struct Worker {
  Net net;
  std::vector<BlobStats> stats;  // by tracked blob index
};

// Adds each input's means to the final statistics in input order, whichever thread finished it first. Not
// thread-safe: callers hold a lock.
class OrderedMeans {
 public:
  explicit OrderedMeans(std::vector<BlobStats>* total) : total_(total) {}
  // Returns the number of inputs reduced so far.
  size_t Add(size_t index, std::vector<std::vector<double>> means) {
    pending_[index] = std::move(means);
    while (!pending_.empty() && pending_.begin()->first == next_) {
      const auto& m = pending_.begin()->second;
      for (size_t b = 0; b < total_->size(); ++b) (*total_)[b].AddMeans(m[b]);
      pending_.erase(pending_.begin());
      ++next_;
    }
    return next_;
  }

 private:
  std::vector<BlobStats>* total_;
  std::map<size_t, std::vector<std::vector<double>>> pending_;
  size_t next_ = 0;
};

}  // namespace

Status CollectBlobStats(const Graph& graph, const std::vector<CalibrationSample>& samples,
                        const std::vector<std::string>& blobs, const Preprocess& pre,
                        const StreamingCalibration& how, const ProgressFn& progress,
                        std::map<std::string, BlobStats>* stats, std::map<size_t, SampleTensors>* kept) {
  const size_t n = samples.size();
  const int workers = how.parallel_images ? static_cast<int>(std::min<size_t>(GetNumThreads(), n)) : 1;
  std::vector<std::unique_ptr<Worker>> pool(workers);
  for (auto& w : pool) w = std::make_unique<Worker>();
  // Each worker builds its own network (weight packing and transforms are a tenth of a second for SqueezeNet).
  std::vector<Status> init(workers);
  RunConcurrently(workers, [&](int k) {
    init[k] = pool[k]->net.Init(graph);
    pool[k]->net.set_recycle_blobs(true);  // statistics are taken in the layer callback
  });
  for (const Status& s : init) QT_RETURN_IF_ERROR(s);
  // A channel Concat's statistics follow exactly from its inputs': it is not scanned again.
  const BlobDims& dims = pool[0]->net.blob_dims();
  const std::set<std::string> wanted(blobs.begin(), blobs.end());
  std::vector<std::pair<std::string, std::vector<std::string>>> derived;
  std::set<std::string> derived_names;
  for (const auto& l : graph.layers) {
    if (l.type != LayerType::kConcat || !wanted.count(l.outputs[0])) continue;
    const Dims& od = dims.at(l.outputs[0]);
    const int axis = l.Params<AxisParams>().axis;
    if (od.size() < 2 || (axis != 1 && axis != 1 - static_cast<int>(od.size()))) continue;
    const bool all_tracked = std::all_of(l.inputs.begin(), l.inputs.end(), [&](const std::string& in) {
      return wanted.count(in) && DimsCount(dims.at(in), 2) == DimsCount(od, 2);
    });
    if (!all_tracked) continue;
    derived.push_back({l.outputs[0], l.inputs});
    derived_names.insert(l.outputs[0]);
  }
  std::vector<std::string> scanned;
  for (const auto& name : blobs) {
    if (!derived_names.count(name)) scanned.push_back(name);
  }
  std::map<std::string, size_t> index;
  for (size_t b = 0; b < scanned.size(); ++b) index[scanned[b]] = b;
  // Ranges and tensor histograms are collected per worker and merged into the first worker's at the end; `total`
  // takes only the means, which must be added in input order. Channel histograms (2048 bins for each channel:
  // 115 MB for SqueezeNet, 280 MB for MobileNetV2) exist once, in `shared`, each blob's counted under its own lock:
  // counts are sums, and a histogram's range grows by merging whole bins, so they do not depend on which thread
  // counts what first.
  const bool share = workers > 1 && how.request.channel_hist;
  StatsRequest own = how.request, shared_request;
  own.channel_hist = how.request.channel_hist && !share;
  shared_request.channel_hist = share;
  std::vector<BlobStats> total, shared;
  for (const auto& name : scanned) {
    const Dims& d = dims.at(name);
    const int channels = d.size() > 1 ? d[1] : 1;
    total.emplace_back(channels, DimsCount(d, 2), StatsRequest());
    if (share) shared.emplace_back(channels, DimsCount(d, 2), shared_request);
    for (auto& w : pool) w->stats.emplace_back(channels, DimsCount(d, 2), own);
  }
  std::vector<std::mutex> locks(share ? scanned.size() : 0);
  auto update = [&](Worker& w, size_t b, const Tensor& t, std::vector<double>* means, std::vector<float>* max) {
    w.stats[b].Update(t, means, max);
    if (!share) return;
    std::lock_guard<std::mutex> lock(locks[b]);
    shared[b].AddChannelHistograms(t, *max);
  };
  const std::map<std::string, Dims> input_dims = InputDims(pool[0]->net);

  OrderedMeans means(&total);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;  // guards `means`, `first_error`, `kept` and progress calls
  Status first_error;
  size_t first_error_index = n;
  auto fail = [&](size_t i, const Status& s) {
    std::lock_guard<std::mutex> lock(mutex);
    if (i < first_error_index) {
      first_error_index = i;
      first_error = s;
    }
    failed = true;
  };

  auto run = [&](Worker& w) {
    std::vector<std::vector<double>> m(scanned.size());
    std::vector<float> channel_max;
    for (size_t i = next++; i < n && !failed; i = next++) {
      SampleTensors inputs;
      Status s = LoadSample(samples[i], input_dims, pre, &inputs);
      for (auto it = inputs.begin(); s.ok() && it != inputs.end(); ++it) {
        s = w.net.SetInput(it->first, it->second);
        auto b = index.find(it->first);
        if (b != index.end()) update(w, b->second, it->second, &m[b->second], &channel_max);
      }
      if (s.ok()) {
        s = w.net.Forward([&](const Layer& layer, const std::vector<const Tensor*>& outs) {
          for (size_t k = 0; k < layer.outputs.size(); ++k) {
            auto b = index.find(layer.outputs[k]);
            if (b == index.end()) continue;
            update(w, b->second, *outs[k], &m[b->second], &channel_max);
            if (!std::isfinite(m[b->second].back())) {
              return Status::InvalidArgument("blob '" + layer.outputs[k] + "' holds Inf or NaN");
            }
          }
          return Status::Ok();
        });
      }
      if (!s.ok()) {
        fail(i, s.WithContext(SampleName(samples[i])));
        return;
      }
      const bool keep = std::binary_search(how.keep.begin(), how.keep.end(), i);
      std::lock_guard<std::mutex> lock(mutex);
      const size_t done = means.Add(i, m);
      if (keep) (*kept)[i] = std::move(inputs);
      if (progress) progress("calibrating", done, n);
    }
  };
  if (workers == 1) {
    run(*pool[0]);
  } else {
    RunConcurrently(workers, [&](int k) { run(*pool[k]); });
  }
  if (failed) return first_error;
  stats->clear();
  for (size_t b = 0; b < scanned.size(); ++b) {
    BlobStats merged = std::move(pool[0]->stats[b]);
    for (size_t k = 1; k < pool.size(); ++k) {
      merged.Merge(pool[k]->stats[b]);
      pool[k]->stats[b] = BlobStats();
    }
    for (int c = -1; c < merged.channels(); ++c) {
      ChannelStats& to = c < 0 ? merged.mutable_tensor() : merged.mutable_channel(c);
      const ChannelStats& from = c < 0 ? total[b].tensor() : total[b].channel(c);
      to.mean_abs_sum = from.mean_abs_sum;
      to.images = from.images;
    }
    if (share) merged.TakeChannelHistograms(&shared[b]);
    (*stats)[scanned[b]] = std::move(merged);
  }
  for (const auto& [name, inputs] : derived) {
    std::vector<const BlobStats*> parts;
    for (const auto& in : inputs) parts.push_back(&stats->at(in));
    (*stats)[name] = BlobStats::ConcatChannels(parts);
  }
  return Status::Ok();
}

Status CollectTnnBlobStatistics(const Graph& graph, const std::vector<CalibrationSample>& samples,
                                const std::map<std::string, bool>& merged, bool histograms, const Preprocess& pre,
                                const ProgressFn& progress, std::map<std::string, TnnBlobStatistics>* stats) {
  Net net;
  QT_RETURN_IF_ERROR(net.Init(graph, {}, /*tnn_naive=*/true));
  net.set_recycle_blobs(true);
  stats->clear();
  for (const auto& [name, m] : merged) {
    const Dims& d = net.blob_dims().at(name);
    stats->emplace(name, TnnBlobStatistics(d.size() > 1 ? d[1] : 1, DimsCount(d, 2), m));
  }
  const std::map<std::string, Dims> input_dims = InputDims(net);
  auto pass = [&](const char* name, const std::function<void(TnnBlobStatistics&, const Tensor&)>& visit) -> Status {
    for (size_t i = 0; i < samples.size(); ++i) {
      SampleTensors inputs;
      QT_RETURN_IF_ERROR(LoadSample(samples[i], input_dims, pre, &inputs));
      for (const auto& [in, t] : inputs) {
        QT_RETURN_IF_ERROR(net.SetInput(in, t));
        auto it = stats->find(in);
        if (it != stats->end()) visit(it->second, t);
      }
      QT_RETURN_IF_ERROR(net.Forward([&](const Layer& layer, const std::vector<const Tensor*>& outs) {
        for (size_t k = 0; k < layer.outputs.size(); ++k) {
          auto it = stats->find(layer.outputs[k]);
          if (it != stats->end()) visit(it->second, *outs[k]);
        }
        return Status::Ok();
      }).WithContext(SampleName(samples[i])));
      if (progress) progress(name, i + 1, samples.size());
    }
    return Status::Ok();
  };
  QT_RETURN_IF_ERROR(pass("ranges", [](TnnBlobStatistics& s, const Tensor& t) { s.UpdateRange(t); }));
  for (auto& [name, s] : *stats) s.PrepareHistograms();
  if (histograms) {
    QT_RETURN_IF_ERROR(pass("histograms", [](TnnBlobStatistics& s, const Tensor& t) { s.UpdateHistogram(t); }));
  }
  return Status::Ok();
}

}  // namespace qt
