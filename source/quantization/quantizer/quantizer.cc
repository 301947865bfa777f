#include "quantization/quantizer/quantizer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>

#include "core/base/parallel.h"
#include "core/graph/graph_simplify.h"
#include "core/graph/shape_inference.h"
#include "quantization/quantizer/equalization.h"
#include "quantization/quantizer/graph_passes.h"
#include "quantization/quantizer/stats_file.h"

namespace qt {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// At most `count` of the samples, evenly spaced over the set.
std::vector<CalibrationSample> EvenlySpaced(const std::vector<CalibrationSample>& samples, int count) {
  const size_t k = std::min<size_t>(std::max(count, 1), samples.size());
  std::vector<CalibrationSample> subset;
  for (size_t i = 0; i < k; ++i) subset.push_back(samples[i * samples.size() / k]);
  return subset;
}

// Which blobs get a scale, whether it is per tensor, and with which method after TNN's downgrades.
struct BlobPlan {
  bool merged = false;
  BlobMethod method = BlobMethod::kMinMax;
};

std::map<std::string, BlobPlan> PlanBlobs(const Graph& g, const BlobDims& dims, const QuantizeOptions& o,
                                          const std::function<void(const std::string&)>& note) {
  const auto per_tensor = PerTensorBlobs(g);
  const auto head = HeadBlobs(g, dims);
  std::map<std::string, BlobPlan> plan;
  int per_tensor_heads = 0;
  for (const auto& name : CalibratedBlobs(g)) {
    const Dims& d = dims.at(name);
    BlobPlan p;
    p.merged = o.merge != MergeType::kPerChannel || per_tensor.count(name);
    // Under -t 0 a head blob (class scores, box coordinates) would get a scale per class or coordinate fitted to the
    // few values each took on the calibration inputs, and another input's larger score would be clipped: TNN's tool
    // collapses on MobileNetV2 so. A Concat's output keeps per-channel scales, which its int8 form copies bytes into.
    const Layer* producer = g.Producer(name);
    if (!o.tnn_compat && !p.merged && head.count(name) && !(producer && producer->type == LayerType::kConcat)) {
      p.merged = true;
      ++per_tensor_heads;
    }
    p.method = o.blob_method;
    const int64_t hw = int64_t{d.size() > 2 ? d[2] : 1} * (d.size() > 3 ? d[3] : 1);
    if (g.FindInput(name) && p.method != BlobMethod::kMinMax) {
      note(std::string("note: model input '") + name + "' uses Min-Max instead of " + BlobMethodName(p.method) +
           " (its range is the preprocessed pixel range)");
      p.method = BlobMethod::kMinMax;
    } else if (!o.tnn_compat && head.count(name) && p.method != BlobMethod::kAsymMinMax &&
               p.method != BlobMethod::kMinMax) {
      note(std::string("note: blob '") + name + "' reaches the model output through float layers only: Min-Max " +
           "instead of " + BlobMethodName(p.method) + " (clipping it would cut the model's largest outputs)");
      p.method = BlobMethod::kMinMax;
    } else if (hw < 100 && p.method != BlobMethod::kAsymMinMax && p.method != BlobMethod::kMinMax &&
               p.method != BlobMethod::kAuto) {
      note(std::string("note: blob '") + name + "' has H*W = " + std::to_string(hw) + " < 100: Min-Max instead of " +
           BlobMethodName(p.method));
      p.method = BlobMethod::kMinMax;
    }
    plan[name] = p;
  }
  if (per_tensor_heads > 0) {
    note("note: " + std::to_string(per_tensor_heads) + " blobs that reach the model output through float layers only " +
         "keep one scale per tensor under -t 0 (a scale per class would clip the classes that score higher on " +
         "other inputs)");
  }
  return plan;
}

// The scale folded into a layer's weights in place of an input channel's scale 0 (a channel that was 0 on every
// calibration input, as after a ReLU that never opened). Folded in, that 0 left the output channel no way to hold
// its bias: the int8 output was 0 where fp32 gives the activated bias (UltraFace slim: local cosine 0.75 at a
// depthwise layer after four such channels). The channel's input bytes are 0 whatever the scale, so it takes the
// blob's largest channel scale, as a per-tensor input would, or 1 where the whole input was 0. TNN's tool keeps the
// 0 (--compat tnn).
float StandInScale(const BlobScale& in, bool tnn_compat) {
  if (tnn_compat) return 0.f;
  const float widest = *std::max_element(in.scale.begin(), in.scale.end());
  return widest > 0.f ? widest : 1.f;
}

Status QuantizeConv(Graph& g, const Layer& layer, const QuantizeOptions& o) {
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
  // A depthwise channel's weight scale takes the stand-in for a dead input channel. A dense convolution folds the 0
  // into the weights of the dead channel alone (they multiply zeros), unless every input channel is dead.
  const float stand_in = StandInScale(in_scale, o.tnn_compat);
  const bool all_dead = !o.tnn_compat &&
                        std::all_of(in_scale.scale.begin(), in_scale.scale.end(), [](float v) { return v == 0.f; });
  // Non-depthwise weights carry the input scale of their input channel (§D.4): float_out ≈ Σ q_w·q_x·ws[oc].
  std::vector<float> folded(w.size());
  for (int o2 = 0; o2 < oc; ++o2) {
    const int grp = o2 / ocg;
    for (int64_t i = 0; i < icg; ++i) {
      const float s = all_dead ? stand_in : per_tensor_in ? in_scale.scale[0] : in_scale.scale[grp * icg + i];
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
    for (int i = 0; i < slices; ++i) {
      const float s = in_scale.scale[per_tensor_in ? 0 : i];
      ws[i] *= s == 0.f ? stand_in : s;
    }
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

Status QuantizeInnerProduct(Graph& g, const Layer& layer, const QuantizeOptions& o) {
  auto& res = std::get<InnerProductResource>(g.resources.at(layer.name));
  const auto& p = layer.Params<InnerProductParams>();
  const BlobScale& in_scale = g.blob_scales.at(layer.inputs[0]);
  if (in_scale.scale.size() != 1) return Status::Internal("inner product input scale is not per-tensor");
  std::vector<float> w = res.weight.ToFloat();
  const float s = in_scale.scale[0] == 0.f ? StandInScale(in_scale, o.tnn_compat) : in_scale.scale[0];
  for (float& v : w) v *= s;
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

// Runs `compute` for every planned blob, blobs in parallel (a KL search is milliseconds per channel); the first
// failure in blob-name order is the one reported.
Status ComputeScales(const std::map<std::string, BlobPlan>& plan, std::map<std::string, BlobScale>* scales,
                     const std::function<Status(const std::string&, const BlobPlan&, ScaleResult*)>& compute) {
  std::vector<std::pair<std::string, BlobPlan>> items(plan.begin(), plan.end());
  std::vector<ScaleResult> results(items.size());
  std::vector<Status> status(items.size());
  ParallelFor(static_cast<int64_t>(items.size()), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) status[i] = compute(items[i].first, items[i].second, &results[i]);
  });
  for (size_t i = 0; i < items.size(); ++i) {
    QT_RETURN_IF_ERROR(status[i]);
    (*scales)[items[i].first] = BlobScale{results[i].scale, results[i].zero_point};
  }
  return Status::Ok();
}

// Blob scales from TNN-exact two-pass statistics (--compat tnn).
Status TnnScales(const Graph& g, const std::vector<CalibrationSample>& samples, const QuantizeOptions& o,
                 const std::map<std::string, BlobPlan>& plan, const ProgressFn& progress,
                 std::map<std::string, BlobScale>* scales) {
  std::map<std::string, bool> merged;
  bool histograms = false;
  for (const auto& [name, p] : plan) {
    merged[name] = p.merged;
    histograms |= p.method == BlobMethod::kKl;
  }
  std::map<std::string, TnnBlobStatistics> stats;
  QT_RETURN_IF_ERROR(CollectTnnBlobStatistics(g, samples, merged, histograms, o.preprocess, progress, &stats));
  return ComputeScales(plan, scales, [&](const std::string& name, const BlobPlan& p, ScaleResult* r) {
    return ComputeTnnBlobScale(stats.at(name), p.method, name, r);
  });
}

// Whether `stats` (none: false) has statistics for every one of `blobs`.
bool HoldsAll(const std::map<std::string, BlobStats>* stats, const std::vector<std::string>& blobs) {
  return stats && std::all_of(blobs.begin(), blobs.end(), [&](const std::string& b) { return stats->count(b) > 0; });
}

// Blob scales from streaming statistics, collected here or reused from the statistics file.
// `handed`: statistics of this graph collected by another run on the same inputs (QuantizeOptions::handed_stats),
// used instead of a forward pass when they cover every blob.
Status StreamingScales(const Graph& g, const std::vector<CalibrationSample>& samples, const QuantizeOptions& o,
                       const std::map<std::string, BlobPlan>& plan, const std::map<std::string, BlobStats>* handed,
                       const QuantizeCallbacks& cb, QuantizeResult* result, std::map<std::string, BlobScale>* scales) {
  std::vector<std::string> blobs;
  StreamingCalibration how;
  for (const auto& [name, p] : plan) {
    blobs.push_back(name);
    if (p.method == BlobMethod::kKl || p.method == BlobMethod::kMse || p.method == BlobMethod::kAuto) {
      (p.merged ? how.request.tensor_hist : how.request.channel_hist) = true;
    }
  }
  if (o.keep_stats) how.request.tensor_hist = true;
  const size_t keep = std::min<size_t>(std::max(o.keep_inputs, 0), samples.size());
  for (size_t k = 0; k < keep; ++k) how.keep.push_back(k * samples.size() / keep);
  const auto start = std::chrono::steady_clock::now();
  std::map<std::string, BlobStats> stats;
  uint64_t fingerprint = 0;
  std::error_code ec;
  const bool reuse = !o.stats_path.empty() && std::filesystem::exists(o.stats_path, ec);
  if (!o.stats_path.empty()) QT_RETURN_IF_ERROR(CalibrationFingerprint(g, samples, o.preprocess, &fingerprint));
  const std::map<std::string, BlobStats>* read = &stats;
  auto load_kept = [&]() -> Status {
    BlobDims input_dims;
    for (const auto& in : g.inputs) input_dims[in.name] = in.dims;
    for (size_t i : how.keep) {
      QT_RETURN_IF_ERROR(LoadSample(samples[i], input_dims, o.preprocess, &result->kept_inputs[i]));
    }
    return Status::Ok();
  };
  if (o.stats_path.empty() && HoldsAll(handed, blobs)) {
    read = handed;
    QT_RETURN_IF_ERROR(load_kept());
  } else if (reuse) {
    if (o.cache) {
      // Configurations of a sweep run on several threads: the first to get here reads the file for all. Their merge
      // types differ, so the shared copy keeps the per-channel histograms too.
      std::lock_guard<std::mutex> lock(o.cache->mutex);
      if (!o.cache->loaded) {
        QT_RETURN_IF_ERROR(LoadBlobStats(o.stats_path, fingerprint, true, &o.cache->stats));
        o.cache->loaded = true;
      }
      read = &o.cache->stats;
    } else {
      QT_RETURN_IF_ERROR(LoadBlobStats(o.stats_path, fingerprint, how.request.channel_hist, &stats));
    }
    for (const auto& name : blobs) {
      if (!read->count(name)) return Status::InvalidArgument(o.stats_path + ": no statistics for blob '" + name + "'");
    }
    cb.note("statistics reused from " + o.stats_path + ": no forward pass");
    result->stats_reused = true;
    QT_RETURN_IF_ERROR(load_kept());
  } else {
    if (!o.stats_path.empty()) how.request.tensor_hist = how.request.channel_hist = true;
    how.parallel_images = o.parallel_images;
    QT_RETURN_IF_ERROR(
        CollectBlobStats(g, samples, blobs, o.preprocess, how, cb.progress, &stats, &result->kept_inputs));
    if (!o.stats_path.empty()) {
      QT_RETURN_IF_ERROR(SaveBlobStats(o.stats_path, fingerprint, stats));
      cb.note("statistics saved to " + o.stats_path);
    }
  }
  result->timings.push_back({"statistics", SecondsSince(start)});
  const auto scales_start = std::chrono::steady_clock::now();
  auto& candidates = result->blob_candidates;
  for (const auto& [name, p] : plan) {
    if (p.method == BlobMethod::kAuto) candidates[name];
  }
  const std::pair<int, int> key{static_cast<int>(o.blob_method), static_cast<int>(o.merge)};
  const bool cached = o.cache && reuse && o.blob_method != BlobMethod::kAuto;
  bool hit = false;
  if (cached) {
    std::lock_guard<std::mutex> lock(o.cache->mutex);
    auto it = o.cache->scales.find(key);
    if (it != o.cache->scales.end()) {
      *scales = it->second;
      hit = true;
    }
  }
  if (!hit) {
    QT_RETURN_IF_ERROR(ComputeScales(plan, scales, [&](const std::string& name, const BlobPlan& p, ScaleResult* r) {
      if (p.method != BlobMethod::kAuto) return ComputeBlobScale(read->at(name), p.merged, p.method, name, r);
      auto& c = candidates.at(name);
      QT_RETURN_IF_ERROR(BlobScaleCandidates(read->at(name), p.merged, name, &c));
      r->scale = c[0].scale;
      r->zero_point.assign(r->scale.size(), 0);
      return Status::Ok();
    }));
    if (cached) {
      std::lock_guard<std::mutex> lock(o.cache->mutex);
      o.cache->scales[key] = *scales;
    }
  }
  result->timings.push_back({"blob scales", SecondsSince(scales_start)});
  if (!candidates.empty()) {
    const auto auto_start = std::chrono::steady_clock::now();
    QT_RETURN_IF_ERROR(
        MeasureConsumerErrors(g, EvenlySpaced(samples, o.auto_inputs), o.preprocess, cb.progress, &candidates));
    for (const auto& [name, c] : candidates) {
      const ScaleCandidate& best = c[BestCandidate(c)];
      (*scales)[name].scale = best.scale;
      result->blob_choice[name] = best.method;
    }
    result->timings.push_back({"auto scales", SecondsSince(auto_start)});
  }
  // Copies: the channel histograms (280 MB on MobileNetV2) go with `stats`, before the refinement.
  if (o.keep_stats) {
    for (const auto& [name, st] : *read) result->stats[name] = st.WithoutChannelHistograms();
  }
  return Status::Ok();
}

// The calibration inputs `EvenlySpaced(samples, count)` leaves out, at most `count` of them, evenly spaced over those.
std::vector<CalibrationSample> OthersThanEvenlySpaced(const std::vector<CalibrationSample>& samples, int count) {
  const size_t k = std::min<size_t>(std::max(count, 1), samples.size());
  std::set<size_t> used;
  for (size_t i = 0; i < k; ++i) used.insert(i * samples.size() / k);
  std::vector<CalibrationSample> rest;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (!used.count(i)) rest.push_back(samples[i]);
  }
  return EvenlySpaced(rest, count);
}

// QuantizeOptions::equalize on *g: the largest |x| per channel of each equalization group's blob over the
// calibration inputs, then the rescaling. All inputs, not a subset: a channel's maximum over fewer images
// underestimates what other images bring, and the rescaled channel would clip there.
Status Equalize(const std::vector<CalibrationSample>& calibration, const QuantizeOptions& options,
                const QuantizeCallbacks& cb, Graph* g, const BlobDims& dims, QuantizeResult* result) {
  const auto groups = FindEqualizationGroups(*g, dims);
  if (groups.empty()) return Status::Ok();
  std::vector<std::string> blobs;
  for (const auto& group : groups) blobs.push_back(group.blob);
  std::map<std::string, BlobStats> collected;
  const std::map<std::string, BlobStats>* ranges = options.handed_stats;
  if (!HoldsAll(ranges, blobs)) {
    std::map<size_t, SampleTensors> unused;
    StreamingCalibration how;
    how.parallel_images = options.parallel_images;
    QT_RETURN_IF_ERROR(
        CollectBlobStats(*g, calibration, blobs, options.preprocess, how, cb.progress, &collected, &unused));
    ranges = &collected;
  }
  std::map<std::string, std::vector<float>> channel_max;
  for (const auto& name : blobs) {
    if (channel_max.count(name)) continue;
    const BlobStats& st = ranges->at(name);
    auto& m = channel_max[name];
    for (int c = 0; c < st.channels(); ++c) m.push_back(st.channel(c).max_abs());
  }
  result->equalized = EqualizeChannels(groups, channel_max, options.equalize, g);
  char alpha[32];
  std::snprintf(alpha, sizeof(alpha), "%g", options.equalize);
  cb.note("equalized the channels of " + std::to_string(result->equalized.size()) + " rectified blobs read only by "
          "convolutions (alpha " + alpha + ")");
  return Status::Ok();
}

// The tensors of `samples` for the inputs of `g`, in the dims shape inference gives them (as the networks take them).
Status LoadInputs(const Graph& g, const std::vector<CalibrationSample>& samples, const Preprocess& pre,
                  std::vector<SampleTensors>* tensors) {
  BlobDims dims, input_dims;
  QT_RETURN_IF_ERROR(InferShapes(g, {}, &dims));
  for (const auto& in : g.inputs) input_dims[in.name] = dims.at(in.name);
  tensors->assign(samples.size(), {});
  for (size_t i = 0; i < samples.size(); ++i) QT_RETURN_IF_ERROR(LoadSample(samples[i], input_dims, pre, &(*tensors)[i]));
  return Status::Ok();
}

// QuantizeOptions::refine_auto on the int8 graph *g (quantized from `simplified`).
Status ChooseRefinement(const Graph& simplified, const std::vector<CalibrationSample>& calibration,
                        const std::vector<CalibrationSample>& held_out, const QuantizeOptions& options,
                        const QuantizeCallbacks& cb, Graph* g, QuantizeResult* result) {
  const auto refine_samples = EvenlySpaced(calibration, options.refine_inputs);
  std::vector<CalibrationSample> scoring = held_out;
  if (scoring.empty()) scoring = OthersThanEvenlySpaced(calibration, std::min(options.refine_inputs, 16));
  if (scoring.empty()) {
    cb.note("note: --refine auto scores on the refinement inputs themselves (give more calibration inputs than "
            "--refine_inputs to score on others)");
    scoring = refine_samples;
  }
  std::vector<SampleTensors> tensors;
  QT_RETURN_IF_ERROR(LoadInputs(simplified, scoring, options.preprocess, &tensors));
  std::vector<std::map<std::string, Tensor>> reference;
  QT_RETURN_IF_ERROR(GraphOutputs(simplified, tensors, &reference));
  struct Variant {
    std::string name;
    RefineOptions refine;
  };
  const std::vector<Variant> variants = {
      {"none", {false, false}}, {"bias correction", {false, true}}, {"adaptive rounding", {true, false}},
      {"both", {true, true}}};
  std::vector<SampleTensors> refine_inputs;
  QT_RETURN_IF_ERROR(LoadInputs(simplified, refine_samples, options.preprocess, &refine_inputs));
  double best = -2;
  Graph best_graph;
  std::vector<LayerRefinement> best_report;
  for (const auto& v : variants) {
    Graph trial = *g;
    std::vector<LayerRefinement> report;
    if (v.refine.adaptive_rounding || v.refine.bias_correction) {
      QT_RETURN_IF_ERROR(
          RefineWeights(simplified, refine_inputs, v.refine, cb.progress, &trial, &report));
    }
    double cosine = 0;
    QT_RETURN_IF_ERROR(HeldOutMinCosine(trial, tensors, reference, &cosine));
    result->refine_scores.push_back({v.name, cosine});
    // Ties keep the simpler variant (earlier in the list).
    if (cosine > best) {
      best = cosine;
      best_graph = std::move(trial);
      best_report = std::move(report);
      result->refine_choice = v.name;
      result->refine_kept = v.refine;
    }
  }
  *g = std::move(best_graph);
  result->refinements = std::move(best_report);
  result->refine_scoring_inputs = static_cast<int>(scoring.size());
  return Status::Ok();
}

// One quantization of `fp32` with options.merge and options.blob_method, calibrated on `calibration`; refinement
// choices are scored on `held_out` when there are any. *simplified receives the fp32 graph the int8 one was
// quantized from (simplified, and equalized when options.equalize applies).
Status QuantizeOnce(const Graph& fp32, const std::vector<CalibrationSample>& calibration,
                    const std::vector<CalibrationSample>& held_out, const QuantizeOptions& options,
                    const QuantizeCallbacks& cb, Graph* simplified_out, QuantizeResult* result) {
  *result = QuantizeResult();
  Graph g = fp32;
  // TNN's tool quantizes the graph its NAIVE runtime builds, which fuses only Conv + ReLU/ReLU6; by default the
  // weights of a following BatchNorm/Scale are folded in first, so that they are quantized once, together.
  SimplifyCounts c;
  if (options.tnn_compat) {
    c.fused_activations = FuseConvActivation(&g);
  } else {
    c = SimplifyGraph(&g);
  }
  if (c.dropouts) cb.note("removed " + std::to_string(c.dropouts) + " Dropout layers");
  if (c.folded_norms) cb.note("folded " + std::to_string(c.folded_norms) + " BatchNorm/Scale layers into convolutions");
  if (c.fused_activations) {
    cb.note("fused " + std::to_string(c.fused_activations) + " Convolution + ReLU/ReLU6 pairs, as TNN's runtime does");
  }
  QT_RETURN_IF_ERROR(g.Validate());
  BlobDims dims;
  QT_RETURN_IF_ERROR(InferShapes(g, {}, &dims));
  if (options.equalize > 0 && !options.tnn_compat && options.merge == MergeType::kMixed) {
    const auto start = std::chrono::steady_clock::now();
    QT_RETURN_IF_ERROR(Equalize(calibration, options, cb, &g, dims, result));
    if (!result->equalized.empty()) {
      result->reference = g;
      result->timings.push_back({"equalization", SecondsSince(start)});
    }
  }
  const auto plan = PlanBlobs(g, dims, options, cb.note);

  std::map<std::string, BlobScale> scales;
  if (options.tnn_compat) {
    QT_RETURN_IF_ERROR(TnnScales(g, calibration, options, plan, cb.progress, &scales));
  } else {
    const auto* handed = result->equalized.empty() ? options.handed_stats : nullptr;
    QT_RETURN_IF_ERROR(StreamingScales(g, calibration, options, plan, handed, cb, result, &scales));
  }
  for (auto& [name, s] : scales) g.blob_scales[name] = std::move(s);
  for (const auto& [name, p] : plan) result->blob_methods[name] = p.method;
  if (!options.tnn_compat) {
    const auto aligned = AlignConcatChannelScales(&g, dims);
    if (!aligned.empty()) {
      std::string names;
      for (const auto& b : aligned) names += (names.empty() ? "" : ", ") + b;
      cb.note("note: " + std::to_string(aligned.size()) + " Concat inputs take their slices of the Concat's " +
              "per-channel scales, since TNN's int8 Concat copies their bytes: " + names);
    }
    const auto shared = ShareConcatScales(&g, Int8Layers(g, dims, options.float_layers, true));
    if (!shared.empty()) {
      cb.note(std::to_string(shared.size()) + " blobs read only by an int8 Concat take its scale (rounded once, "
              "copied by the Concat)");
    }
  }

  const auto weights_start = std::chrono::steady_clock::now();
  const Graph simplified = g;
  std::vector<Layer*> weighted;
  const std::vector<bool> int8 = Int8Layers(g, dims, options.float_layers, !options.tnn_compat);
  for (size_t i = 0; i < g.layers.size(); ++i) {
    if (!int8[i]) continue;
    Layer& layer = g.layers[i];
    layer.quantized = true;
    if (layer.type == LayerType::kConvolution || layer.type == LayerType::kInnerProduct) weighted.push_back(&layer);
  }
  // One layer after the other, each layer's channels in parallel (QuantizeWeights): the first failure in layer order
  // is the one reported.
  for (const Layer* l : weighted) {
    QT_RETURN_IF_ERROR(l->type == LayerType::kConvolution ? QuantizeConv(g, *l, options)
                                                          : QuantizeInnerProduct(g, *l, options));
  }
  for (const Layer* l : weighted) {
    const auto& in = g.blob_scales.at(l->inputs[0]).scale;
    if (in.size() == 1) result->weight_input_scales[l->name] = in[0];
  }
  MergeBlobScales(&g);
  result->timings.push_back({"weights", SecondsSince(weights_start)});
  if (options.refine_auto) {
    const auto refine_start = std::chrono::steady_clock::now();
    QT_RETURN_IF_ERROR(ChooseRefinement(simplified, calibration, held_out, options, cb, &g, result));
    result->timings.push_back({"refinement", SecondsSince(refine_start)});
  } else if (options.refine.adaptive_rounding || options.refine.bias_correction) {
    const auto refine_start = std::chrono::steady_clock::now();
    std::vector<SampleTensors> inputs;
    QT_RETURN_IF_ERROR(LoadInputs(simplified, EvenlySpaced(calibration, options.refine_inputs), options.preprocess,
                                  &inputs));
    QT_RETURN_IF_ERROR(RefineWeights(simplified, inputs, options.refine, cb.progress, &g, &result->refinements));
    result->timings.push_back({"refinement", SecondsSince(refine_start)});
  }
  *simplified_out = simplified;
  result->calibrated_inputs = static_cast<int>(calibration.size());
  result->graph = std::move(g);
  return Status::Ok();
}

// QuantizeOptions::merge_auto. The per-channel file is kept when its min output cosine on the held-out inputs
// exceeds the per-tensor file's by kMergeMargin or more. On the zoo (doc/accuracy.md), smaller gains on 16 held-out
// inputs did not carry to the validation sets (FaceMesh +1.2e-4 and MTCNN det2 +3.0e-4 lost 0.04 and 0.002 there),
// larger ones did (det4 +6.8e-4 to hair segmentation +7.5e-3); a paired standard error over 16 inputs (about 1e-3 on
// BlazeFace) is too coarse to tell either.
constexpr double kMergeMargin = 5e-4;

Status ChooseMergeType(const Graph& fp32, const std::vector<CalibrationSample>& calibration,
                       const std::vector<CalibrationSample>& held_out, const QuantizeOptions& options,
                       const QuantizeCallbacks& cb, Graph* simplified, QuantizeResult* result) {
  QuantizeOptions tensor = options;
  tensor.merge_auto = false;
  tensor.merge = MergeType::kMixed;
  QuantizeOptions channel = tensor;
  channel.merge = MergeType::kPerChannel;
  channel.blob_method = BlobMethod::kMse;
  channel.equalize = 0;
  channel.keep_inputs = 0;  // the per-tensor run keeps them: the same inputs, whichever file is kept
  // The per-channel candidate first: its statistics, whole-tensor histograms included, serve the per-tensor one
  // (QuantizeOptions::handed_stats), which calibrates the same graph on the same inputs.
  channel.keep_stats = true;
  const auto channel_start = std::chrono::steady_clock::now();
  QuantizeResult per_channel;
  Graph channel_simplified;
  const Status channel_status =
      QuantizeOnce(fp32, calibration, held_out, channel, cb, &channel_simplified, &per_channel);
  const double channel_secs = SecondsSince(channel_start);
  const std::map<std::string, BlobStats> channel_stats = std::move(per_channel.stats);
  per_channel.stats.clear();
  if (channel_status.ok()) tensor.handed_stats = &channel_stats;
  const auto tensor_start = std::chrono::steady_clock::now();
  QT_RETURN_IF_ERROR(QuantizeOnce(fp32, calibration, held_out, tensor, cb, simplified, result));
  const double tensor_secs = SecondsSince(tensor_start);
  if (!channel_status.ok()) {
    // The per-tensor file stands on its own; a model the per-channel form cannot take still quantizes.
    cb.note("note: -t auto keeps per-tensor blobs: the per-channel candidate failed: " + channel_status.message());
    result->merge_kept = MergeType::kMixed;
    result->timings.push_back({"per-channel candidate", channel_secs});
    return Status::Ok();
  }

  std::vector<SampleTensors> tensors;
  QT_RETURN_IF_ERROR(LoadInputs(fp32, held_out, options.preprocess, &tensors));
  std::vector<std::map<std::string, Tensor>> reference;
  QT_RETURN_IF_ERROR(GraphOutputs(fp32, tensors, &reference));
  double min_a = 0, min_b = 0;
  QT_RETURN_IF_ERROR(HeldOutMinCosine(result->graph, tensors, reference, &min_a));
  QT_RETURN_IF_ERROR(HeldOutMinCosine(per_channel.graph, tensors, reference, &min_b));
  result->merge_scores = {{"per-tensor blobs", min_a}, {"per-channel blobs", min_b}};
  result->timings.push_back({"per-channel candidate", channel_secs});
  if (min_b - min_a >= kMergeMargin) {
    if (options.keep_stats) per_channel.stats = channel_stats;
    per_channel.kept_inputs = std::move(result->kept_inputs);
    per_channel.merge_scores = std::move(result->merge_scores);
    per_channel.timings.push_back({"per-tensor candidate", tensor_secs});
    *result = std::move(per_channel);
    *simplified = std::move(channel_simplified);
    result->merge_kept = MergeType::kPerChannel;
  } else {
    result->merge_kept = MergeType::kMixed;
  }
  result->merge_scoring_inputs = static_cast<int>(tensors.size());
  return Status::Ok();
}

}  // namespace

Status QuantizeGraph(const Graph& fp32, const std::vector<CalibrationSample>& samples, const QuantizeOptions& options,
                     const QuantizeCallbacks& callbacks, QuantizeResult* result) {
  for (const auto& l : fp32.layers) {
    if (l.quantized) {
      return Status::InvalidArgument("layer '" + l.name + "' is already quantized: give the fp32 model");
    }
  }
  if (samples.empty()) return Status::InvalidArgument("no calibration input");
  if (options.tnn_compat && !IsTnnBlobMethod(options.blob_method)) {
    return Status::InvalidArgument(std::string("-b ") + std::to_string(static_cast<int>(options.blob_method)) + " (" +
                                   BlobMethodName(options.blob_method) + ") has no TNN counterpart to reproduce "
                                   "with --compat tnn");
  }
  if (options.tnn_compat && !options.stats_path.empty()) {
    return Status::InvalidArgument("--stats works with the default arithmetic, not with --compat tnn (whose "
                                   "statistics are TNN's two-pass ones)");
  }
  for (const auto& name : options.float_layers) {
    if (!fp32.FindLayer(name)) return Status::NotFound("--fp32_layers: the model has no layer named '" + name + "'");
  }
  const bool budgeted = options.budget.min_cosine > 0 || options.budget.max_layers >= 0;
  if (budgeted && samples.size() < 4) {
    return Status::InvalidArgument("the accuracy budget (--min_cosine, --max_float_layers) holds a quarter of the "
                                   "calibration inputs out: give at least 4");
  }
  // Held-out inputs are every k-th one from the middle of each stretch, so they span the set like the others.
  std::vector<CalibrationSample> calibration, held_out;
  // The merge type is chosen on held-out inputs when there are enough to hold some out and still calibrate well.
  const bool choose_merge = options.merge_auto && samples.size() >= 32;
  const size_t held = budgeted || choose_merge ? std::min<size_t>(16, samples.size() / 4) : 0;
  std::set<size_t> held_index;
  for (size_t i = 0; i < held; ++i) held_index.insert((2 * i + 1) * samples.size() / (2 * held));
  for (size_t i = 0; i < samples.size(); ++i) (held_index.count(i) ? held_out : calibration).push_back(samples[i]);
  QuantizeCallbacks cb = callbacks;
  if (!cb.note) cb.note = [](const std::string&) {};
  if (options.merge_auto && !choose_merge) {
    cb.note("note: -t auto holds inputs out to choose the merge type and needs 32 or more; merge type 1 (" +
            std::to_string(samples.size()) + " given)");
  }
  Graph simplified;
  if (choose_merge) {
    // The file kept is the candidate as it was scored, calibrated without the held-out inputs: fitted again on all
    // of them, the refinement chosen would run on other inputs and its choice would no longer be the one measured
    // (on the zoo that cost FaceMesh and hair segmentation 0.03-0.05 of min output cosine).
    QT_RETURN_IF_ERROR(ChooseMergeType(fp32, calibration, held_out, options, cb, &simplified, result));
  } else {
    QT_RETURN_IF_ERROR(QuantizeOnce(fp32, calibration, held_out, options, cb, &simplified, result));
  }
  if (budgeted) {
    const auto budget_start = std::chrono::steady_clock::now();
    std::vector<SampleTensors> tensors;
    QT_RETURN_IF_ERROR(LoadInputs(simplified, held_out, options.preprocess, &tensors));
    QT_RETURN_IF_ERROR(
        ApplyFloatBudget(simplified, tensors, options.budget, cb.progress, &result->graph, &result->float_steps));
    result->held_out_inputs = static_cast<int>(held_out.size());
    result->timings.push_back({"float layers", SecondsSince(budget_start)});
  }
  if (!options.tnn_compat) {
    const auto matched = MatchX86AddRounding(&result->graph);
    if (!matched.empty()) {
      cb.note(std::to_string(matched.size()) + " int8 Add outputs take scales on which TNN's X86 and NAIVE devices "
              "round alike (a few units in their last places)");
    }
  }
  return Status::Ok();
}

}  // namespace qt
