#include "quantization/quantizer/sweep.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>

#include "core/base/parallel.h"
#include "core/graph/shape_inference.h"
#include "quantization/eval/evaluator.h"
#include "quantization/quantizer/mixed_precision.h"

namespace qt {

std::string SweepFlags(const SweepEntry& e) {
  const std::string b = e.blob == BlobMethod::kAuto ? "auto" : std::to_string(static_cast<int>(e.blob));
  return "-b " + b + " -w " + std::to_string(static_cast<int>(e.weight)) + " -t " +
         std::to_string(static_cast<int>(e.merge));
}

Status SweepMethods(const Graph& fp32, const std::vector<CalibrationSample>& samples, const QuantizeOptions& base,
                    const QuantizeCallbacks& callbacks, std::vector<SweepEntry>* ranked, QuantizeResult* best) {
  if (base.stats_path.empty()) return Status::InvalidArgument("--sweep needs a statistics file (--stats)");
  if (base.tnn_compat) return Status::InvalidArgument("--sweep works with the default arithmetic, not --compat tnn");
  if (base.keep_inputs <= 0) return Status::InvalidArgument("--sweep needs scoring inputs (--report > 0)");
  std::vector<SweepEntry> entries;
  for (BlobMethod b : {BlobMethod::kMinMax, BlobMethod::kKl, BlobMethod::kAsymMinMax, BlobMethod::kAciqGauss,
                       BlobMethod::kAciqLaplace, BlobMethod::kMse}) {
    for (WeightMethod w : {WeightMethod::kMinMax, WeightMethod::kAdmm, WeightMethod::kAsymMinMax}) {
      for (MergeType t : {MergeType::kPerChannel, MergeType::kMixed, MergeType::kPerTensor}) {
        SweepEntry e;
        e.blob = b;
        e.weight = w;
        e.merge = t;
        entries.push_back(e);
      }
    }
  }
  SweepEntry automatic;
  automatic.blob = BlobMethod::kAuto;
  automatic.weight = base.weight_method;
  automatic.merge = base.merge;
  entries.push_back(automatic);

  auto cache = std::make_shared<ScaleCache>();
  std::map<size_t, SampleTensors> scoring;
  std::vector<SampleTensors> inputs;
  std::vector<std::map<std::string, Tensor>> reference;  // fp32 outputs on the scoring inputs, computed once
  std::string scores;
  std::vector<QuantizeResult> results(entries.size());
  // One configuration: quantized, then scored against the fp32 outputs of the first one's scoring inputs.
  auto run = [&](size_t i) {
    SweepEntry& e = entries[i];
    e.symmetric = e.blob != BlobMethod::kAsymMinMax && e.weight != WeightMethod::kAsymMinMax;
    const auto start = std::chrono::steady_clock::now();
    QuantizeOptions o = base;
    o.blob_method = e.blob;
    o.weight_method = e.weight;
    o.merge = e.merge;
    o.keep_inputs = i == 0 ? base.keep_inputs : 0;
    // The sweep compares blob and weight methods; refinement, chosen after the method, is left out of every row.
    o.refine_auto = false;
    o.cache = cache;
    QuantizeCallbacks cb = callbacks;
    cb.progress = nullptr;
    if (i > 0) cb.note = nullptr;
    QuantizeResult r;
    e.status = QuantizeGraph(fp32, samples, o, cb, &r);
    if (e.status.ok() && i == 0) {
      scoring = r.kept_inputs;
      for (const auto& [index, tensors] : scoring) inputs.push_back(tensors);
      e.status = GraphOutputs(fp32, inputs, &reference, /*with_detections=*/true);
      BlobDims dims;
      if (e.status.ok()) e.status = InferShapes(fp32, {}, &dims);
      if (e.status.ok()) scores = ClassScoreOutput(fp32, dims);
    }
    if (e.status.ok()) {
      e.classifier = !scores.empty();
      e.status = HeldOutScore(r.graph, inputs, reference, scores, &e.min_output_cosine, &e.top1_agreement,
                              &e.detections);
      if (e.status.ok()) results[i] = std::move(r);
    }
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // The first configuration reads (or collects) the statistics and the scoring inputs for all; the others then run
  // one per thread, each configuration's file the same whichever thread makes it.
  run(0);
  if (!entries[0].status.ok()) return entries[0].status.WithContext("--sweep (" + SweepFlags(entries[0]) + ")");
  std::atomic<size_t> next{1}, done{1};
  std::mutex progress_mutex;
  RunConcurrently(std::max(1, GetNumThreads()), [&](int) {
    for (size_t i = next++; i < entries.size(); i = next++) {
      run(i);
      std::lock_guard<std::mutex> lock(progress_mutex);
      if (callbacks.progress) callbacks.progress("sweep", ++done, entries.size());
    }
  });
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const SweepEntry& x = entries[a];
    const SweepEntry& y = entries[b];
    if (x.status.ok() != y.status.ok()) return x.status.ok();
    if (x.classifier && x.top1_agreement != y.top1_agreement) return x.top1_agreement > y.top1_agreement;
    return x.min_output_cosine > y.min_output_cosine;
  });
  ranked->clear();
  bool found = false;
  for (size_t i : order) {
    ranked->push_back(entries[i]);
    if (!found && entries[i].status.ok() && entries[i].symmetric) {
      *best = std::move(results[i]);
      best->kept_inputs = scoring;
      found = true;
    }
  }
  if (!found) return Status::InvalidArgument("--sweep: no symmetric configuration quantized the model");
  return Status::Ok();
}

}  // namespace qt
