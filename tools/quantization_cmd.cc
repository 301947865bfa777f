// quantization_cmd: calibrates an fp32 model on a folder of inputs and writes a TNN int8 model.
#include <gflags/gflags.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/base/parallel.h"
#include "core/io/model_loader.h"
#include "core/io/tnn_io.h"
#include "quantization/eval/evaluator.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/quantizer/quantizer.h"
#include "quantization/quantizer/sweep.h"
#include "quantization/report/html_report.h"
#include "quantization/report/report_builder.h"
#include "quantization/writers/ncnn_table.h"
#include "tools/common/tool_util.h"

DEFINE_string(p, "", "model: .tnnproto or Caffe .prototxt (the format is detected from the content)");
DEFINE_string(proto, "", "same as -p");
DEFINE_string(m, "", "weights: .tnnmodel or .caffemodel");
DEFINE_string(model, "", "same as -m");
DEFINE_string(i, "", "folder of calibration inputs: .jpg .jpeg .png .bmp images, NCHW .txt or .npy tensors");
DEFINE_string(input_path, "", "same as -i");
DEFINE_string(b, "auto", "blob method: 0 Min-Max, 2 KL (the default with --compat tnn), 3 asymmetric Min-Max, "
                         "4 ACIQ-Gauss, 5 ACIQ-Laplace, 6 MSE, auto (or 7, the default): per blob, the threshold among "
                         "Min-Max, KL, MSE, ACIQ and percentiles that changes what the blob's consumers compute least "
                         "(doc/accuracy.md)");
DEFINE_string(blob_method, "", "same as -b");
DEFINE_bool(bias_correction, false, "fold the per-channel mean of the int8 chain's error into each int8 layer's bias");
DEFINE_string(weight_rounding, "nearest", "'nearest', or 'adaptive': round each int8 convolution weight up or down so "
                                          "that the layer's output on calibration activations moves least");
DEFINE_int32(refine_inputs, 16, "calibration inputs for --bias_correction and --weight_rounding adaptive");
DEFINE_string(refine, "auto", "'auto' (the default with -b auto; 'off' with another -b, with --compat tnn or when "
                              "--bias_correction or --weight_rounding adaptive is given): quantize with neither, "
                              "either and both of bias correction and adaptive rounding, and keep the one whose "
                              "outputs are closest to fp32 on calibration inputs the refinement did not see; 'off': "
                              "neither unless asked");
DEFINE_string(equalize, "auto", "channel equalization of rectified blobs read only by convolutions: each channel "
                                "divided by (its range / the blob's range)^alpha, undone in the weights of the next "
                                "convolutions (the fp32 model is unchanged); 'auto' (the default with -b auto and "
                                "-t 1, without --stats): alpha 0.25, else off; 'off', or an alpha in (0, 1]");
DEFINE_double(min_cosine, 0, "accuracy budget: keep the most sensitive layers in float (each reading float inputs) "
                              "until the output cosine on held-out calibration inputs reaches this value");
DEFINE_int32(max_float_layers, -1, "at most this many layers chosen for float (alone: the most sensitive ones)");
DEFINE_bool(sweep, false, "quantize with each of the 54 -b/-w/-t combinations and -b auto from the --stats file, score "
                         "each on the --report inputs, write the ranked table to <o>.sweep.md and <o>.sweep.json and "
                         "keep the best symmetric configuration as <o>.quantized.*");
DEFINE_int32(auto_inputs, 16, "-b auto: calibration inputs on which each blob's candidate thresholds are scored");
DEFINE_int32(w, 0, "weight method: 0 Min-Max, 1 ADMM, 3 asymmetric Min-Max");
DEFINE_int32(weight_method, -1, "same as -w");
DEFINE_string(t, "", "merge type: 0 per-channel blobs and weights, 1 per-channel weights with per-tensor blobs, "
                    "2 per-tensor both, auto: 1 or 0 with MSE thresholds, whichever is closer to fp32 on held-out "
                    "calibration inputs (default: auto with the default blob method and 32 inputs or more, else 1)");
DEFINE_int32(merge_type, -1, "same as -t");
DEFINE_string(n, "", "per-channel value subtracted from image pixels, e.g. 104,117,123 (default 0)");
DEFINE_string(bias, "", "same as -n");
DEFINE_string(mean, "", "same as -n");
DEFINE_string(s, "", "per-channel multiplier applied after the subtraction (default 1)");
DEFINE_string(scale, "", "same as -s");
DEFINE_int32(r, 0, "1: feed image channels in BGR order (default RGB, as TNN's tool)");
DEFINE_int32(reverse_channel, 0, "same as -r");
DEFINE_string(o, "model", "output prefix: writes <o>.quantized.tnnproto and <o>.quantized.tnnmodel");
DEFINE_string(output, "", "same as -o");
DEFINE_string(compat, "", "'tnn': reproduce TNN quantization_cmd's arithmetic exactly (truncated bias, fixed "
                          "1000 ADMM iterations, the 2047.5/2048 Min-Max factor), without its bugs");
DEFINE_string(stats, "", "calibration statistics file: reused when it exists (no forward pass; refused if made for "
                         "another model, input set or preprocessing), else collected and saved there");
DEFINE_string(fp32_layers, "", "comma-separated layers to keep in float (manual mixed precision)");
DEFINE_string(table, "", "also write ncnn's calibration table (for ncnn2int8) to this file");
DEFINE_int32(report, -1, "calibration inputs on which the int8 model is compared with fp32 layer by layer at the "
                         "end (0: no report; default 32, none when --stats reuses statistics)");
DEFINE_string(calib_parallel, "images", "calibration parallelism: 'images' (one image per thread) or 'kernels' "
                                        "(one image at a time, threads inside the layers)");
DEFINE_int32(threads, 0, "threads (default: all cores)");
DEFINE_string(json, "", "also write the run as JSON (flags, per-layer methods, scales and report, histograms, "
                        "local and chain error per layer; doc/quantization_json.md)");
DEFINE_string(html, "", "also write a one-page HTML report: histograms with each method's threshold, local and "
                        "chain error per layer, float layers, weight ranges (doc/report.md)");

namespace qt {
namespace {

namespace fs = std::filesystem;

int PickInt(int short_value, int long_value) { return long_value >= 0 ? long_value : short_value; }

std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f s", s);
  return buf;
}

// -t takes 0, 1, 2 and 'auto'. Unset, it is auto for the default configuration (-b auto outside compat mode, no
// ncnn table, which has per-tensor scales only, no statistics file, no sweep), else 1. QuantizeGraph holds inputs
// out for auto only when there are 32 or more and otherwise quantizes with merge type 1.
Status ParseMergeFlag(const std::string& value, QuantizeOptions* options) {
  options->merge = MergeType::kMixed;
  options->merge_auto = false;
  if (value.empty() || value == "auto") {
    const bool default_configuration = !options->tnn_compat && options->blob_method == BlobMethod::kAuto;
    if (value == "auto" && !default_configuration) {
      return Status::InvalidArgument("-t auto chooses the blob method with the merge type: it needs -b auto outside "
                                     "--compat tnn");
    }
    // A statistics file describes the inputs it was collected on; auto calibrates on fewer.
    options->merge_auto =
        default_configuration && (value == "auto" || (FLAGS_table.empty() && FLAGS_stats.empty() && !FLAGS_sweep));
    return Status::Ok();
  }
  if (value != "0" && value != "1" && value != "2") {
    return Status::InvalidArgument("-t " + value + " is not 0, 1, 2 or auto");
  }
  options->merge = static_cast<MergeType>(value[0] - '0');
  return Status::Ok();
}

// -b takes TNN's numbers and 'auto'.
// --equalize: 'auto' is part of the default configuration only (-b auto, -t 1, outside compat mode), so that an
// explicit method or merge type runs as it did before; an explicit alpha needs -t 1, the only merge type with one
// scale for a blob and one per channel for the weights that read it.
Status ParseEqualize(const std::string& value, const QuantizeOptions& options, double* alpha) {
  *alpha = 0;
  if (value == "off") return Status::Ok();
  if (value == "auto") {
    if (!options.tnn_compat && options.blob_method == BlobMethod::kAuto && options.merge == MergeType::kMixed) {
      // A statistics file serves every method and merge type (a sweep): it describes the model as given.
      if (options.stats_path.empty()) {
        *alpha = 0.25;
      } else {
        std::fprintf(stderr, "note: no channel equalization with --stats (the statistics describe the model as "
                             "given; --equalize ALPHA makes a file for that alpha)\n");
      }
    }
    return Status::Ok();
  }
  char* end = nullptr;
  const double a = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !(a > 0 && a <= 1)) {
    return Status::InvalidArgument("--equalize '" + value + "' is not 'auto', 'off' or an alpha in (0, 1]");
  }
  if (options.tnn_compat || options.merge != MergeType::kMixed) {
    return Status::InvalidArgument("--equalize needs -t 1 outside --compat tnn (per-tensor blob scales, per-channel "
                                   "weight scales)");
  }
  *alpha = a;
  return Status::Ok();
}

Status ParseBlobFlag(const std::string& value, BlobMethod* m) {
  if (value == "auto") {
    *m = BlobMethod::kAuto;
    return Status::Ok();
  }
  char* end = nullptr;
  const long id = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || id < 0 || id > 99) {
    return Status::InvalidArgument("-b '" + value + "' is not a blob method number or 'auto'");
  }
  return ParseBlobMethod(static_cast<int>(id), m);
}

// The method a blob's scale came from, as the closing table and the JSON name it: "auto: KL" for a choice of -b auto.
std::string BlobMethodLabel(const QuantizeResult& q, const std::string& blob) {
  auto c = q.blob_choice.find(blob);
  if (c != q.blob_choice.end()) return "auto: " + c->second;
  auto m = q.blob_methods.find(blob);
  return m == q.blob_methods.end() ? "merged" : BlobMethodName(m->second);
}

// The closing table: every quantized layer with the method of its output scale, the scale range, and (when the
// report ran) the share of fp32 values that clip and the cosine of the int8 chain against fp32.
void PrintLayerTable(const QuantizeResult& q, const EvalSummary* eval) {
  std::map<std::string, const LayerAgreement*> by_layer;
  if (eval) {
    for (const auto& l : eval->layers) by_layer[l.layer] = &l;
  }
  std::fprintf(stderr, "\n%-28s %-12s %-20s %12s %12s", "quantized layer", "type", "output scale method",
               "min scale", "max scale");
  if (eval) std::fprintf(stderr, " %9s %9s", "clipped", "cosine");
  std::fputc('\n', stderr);
  for (const auto& l : q.graph.layers) {
    if (!l.quantized) continue;
    const auto& s = q.graph.blob_scales.at(l.outputs[0]).scale;
    std::fprintf(stderr, "%-28s %-12s %-20s %12.6g %12.6g", l.name.c_str(), LayerTypeName(l.type),
                 BlobMethodLabel(q, l.outputs[0]).c_str(),
                 *std::min_element(s.begin(), s.end()), *std::max_element(s.begin(), s.end()));
    auto a = by_layer.find(l.name);
    if (a != by_layer.end()) {
      std::fprintf(stderr, " %8.4f%% %9.5f", 100 * a->second->clipped, a->second->cosine);
    } else if (eval) {
      // Its output blob does not exist at run time: TNN's runtime (and ours) fuse it into the layer after it.
      std::fprintf(stderr, "  (fused with the next layer at run time)");
    }
    std::fputc('\n', stderr);
  }
  if (!eval || eval->layers.empty()) return;
  std::fprintf(stderr, "on %d calibration inputs: ", eval->inputs);
  if (eval->classifier) {
    std::fprintf(stderr, "top-1 agreement with fp32 %.1f %%, ", 100.0 * eval->top1_agreement / std::max(eval->inputs, 1));
  }
  for (const auto& d : eval->detections) {
    std::fprintf(stderr, "%s detections: fp32 %lld, int8 %lld, precision %.1f %%, recall %.1f %%; ", d.blob.c_str(),
                 static_cast<long long>(d.fp32), static_cast<long long>(d.int8), 100 * d.precision(),
                 100 * d.recall());
  }
  std::fprintf(stderr, "min output cosine %.5f; layers that lose most:", eval->MinOutputCosine());
  for (size_t i = 0; i < eval->layers.size() && i < 3; ++i) {
    std::fprintf(stderr, "%s %s (%.5f)", i ? "," : "", eval->layers[i].layer.c_str(), eval->layers[i].cosine);
  }
  // The input of lowest cosine on the output of lowest mean cosine.
  const OutputAgreement* low = nullptr;
  for (const auto& o : eval->outputs) {
    if (!o.worst.empty() && (!low || o.cosine < low->cosine)) low = &o;
  }
  if (low && eval->inputs > 1) {
    std::fprintf(stderr, "; lowest input on %s: %s (%.5f, output norm %.3g of its mean)", low->name.c_str(),
                 low->worst[0].input.c_str(), low->worst[0].cosine, low->worst[0].norm_ratio);
  }
  std::fputc('\n', stderr);
}

// What adaptive rounding, bias correction and the accuracy budget did, in a few lines.
void PrintRefinementAndBudget(const QuantizeResult& q) {
  if (!q.merge_scores.empty()) {
    std::fprintf(stderr, "merge type (auto, min output cosine on %d calibration inputs held out of both): %s %.5f, "
                 "%s %.5f; kept: %s\n", q.merge_scoring_inputs,
                 q.merge_scores[0].first.c_str(), q.merge_scores[0].second, q.merge_scores[1].first.c_str(),
                 q.merge_scores[1].second,
                 q.merge_kept == MergeType::kPerChannel ? "per-channel blobs with MSE thresholds (-t 0)"
                                                        : "per-tensor blobs (-t 1)");
  }
  if (!q.refine_choice.empty()) {
    std::string scores;
    for (const auto& [name, cosine] : q.refine_scores) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), "%s%s %.5f", scores.empty() ? "" : ", ", name.c_str(), cosine);
      scores += buf;
    }
    std::fprintf(stderr, "refinement (auto, min output cosine on %d calibration inputs it did not see): %s; kept: %s\n",
                 q.refine_scoring_inputs, scores.c_str(), q.refine_choice.c_str());
  }
  int64_t flips = 0;
  int rounded = 0, corrected_layers = 0, corrected = 0;
  for (const auto& r : q.refinements) {
    flips += r.rounding_flips;
    rounded += r.rounding_flips > 0;
    corrected += r.biases_corrected;
    corrected_layers += r.biases_corrected > 0;
  }
  if (rounded) {
    std::fprintf(stderr, "adaptive rounding: %lld weights rounded the other way in %d layers\n",
                 static_cast<long long>(flips), rounded);
  }
  if (corrected_layers) {
    std::fprintf(stderr, "bias correction: %d output channels in %d layers\n", corrected, corrected_layers);
  }
  if (q.held_out_inputs > 0) {
    std::fprintf(stderr, "accuracy budget on %d held-out calibration inputs:%s\n", q.held_out_inputs,
                 q.float_steps.empty() ? " no layer kept in float" : "");
  }
  for (const auto& st : q.float_steps) {
    std::string with;
    for (size_t i = 1; i < st.layers.size(); ++i) with += (i > 1 ? ", " : " (with ") + st.layers[i];
    if (!with.empty()) with += ", so that it reads float inputs)";
    std::fprintf(stderr, "  float: %s%s: min output cosine %.5f -> %.5f\n", st.layer.c_str(), with.c_str(),
                 st.cosine_before, st.cosine_after);
  }
}

std::string FormatPercent(int n, int d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %% (%d of %d inputs)", d > 0 ? 100.0 * n / d : 0.0, n, d);
  return buf;
}

std::string FormatFixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string JsonNumber(double v);

std::string DetectionsJson(const std::vector<DetectionAgreement>& detections) {
  std::string j = "[";
  for (size_t i = 0; i < detections.size(); ++i) {
    const auto& d = detections[i];
    j += std::string(i ? ", " : "") + "{\"blob\": " + JsonString(d.blob) + ", \"fp32\": " + std::to_string(d.fp32) +
         ", \"int8\": " + std::to_string(d.int8) + ", \"matched\": " + std::to_string(d.matched) +
         ", \"precision\": " + JsonNumber(d.precision()) + ", \"recall\": " + JsonNumber(d.recall()) +
         ", \"worst_inputs\": [";
    for (size_t k = 0; k < d.worst.size(); ++k) {
      const auto& w = d.worst[k];
      j += std::string(k ? ", " : "") + "{\"input\": " + JsonString(w.input) + ", \"fp32\": " +
           std::to_string(w.fp32) + ", \"int8\": " + std::to_string(w.int8) + ", \"matched\": " +
           std::to_string(w.matched) + ", \"keep_top_k_reached\": " + (w.capped ? "true" : "false") + "}";
    }
    j += "]}";
  }
  return j + "]";
}

bool SweepHasDetections(const std::vector<SweepEntry>& sweep) {
  for (const auto& e : sweep) {
    if (!e.detections.empty()) return true;
  }
  return false;
}

// "98.3 / 99.1 %" for each DetectionOutput output of the row (empty for a row that failed).
std::string SweepDetections(const SweepEntry& e) {
  std::string s;
  for (const auto& d : e.detections) {
    s += (s.empty() ? "" : ", ") + FormatFixed(100 * d.precision(), 1) + " / " + FormatFixed(100 * d.recall(), 1) +
         " %";
  }
  return s;
}

// The sweep's ranked configurations as a markdown table (asymmetric ones marked: TNN's NAIVE device only), with a
// column of detection precision / recall for an SSD.
std::string SweepTable(const std::vector<SweepEntry>& sweep, int inputs) {
  const bool detector = SweepHasDetections(sweep);
  std::string t = std::string("\nrank | flags | top-1 agreement | ") + (detector ? "detections P / R | " : "") +
                  "min output cosine | seconds | note\n---|---|---|---|---|---" + (detector ? "|---" : "") + "\n";
  int rank = 0;
  for (const auto& e : sweep) {
    const std::string top1 = e.classifier ? std::to_string(static_cast<int>(std::lround(e.top1_agreement * inputs))) +
                                                "/" + std::to_string(inputs)
                                          : "";
    char line[512];
    std::snprintf(line, sizeof(line), "%d | %s | %s | %s%.5f | %.2f | %s\n", ++rank, SweepFlags(e).c_str(),
                  top1.c_str(), detector ? (SweepDetections(e) + " | ").c_str() : "", e.min_output_cosine, e.seconds,
                  !e.status.ok() ? e.status.message().c_str() : e.symmetric ? "" : "asymmetric: TNN NAIVE only");
    t += line;
  }
  return t;
}

std::string SweepJson(const std::vector<SweepEntry>& sweep, int inputs) {
  std::string j = "{\"scoring_inputs\": " + std::to_string(inputs) + ", \"ranked\": [";
  for (size_t i = 0; i < sweep.size(); ++i) {
    const auto& e = sweep[i];
    j += std::string(i ? ", " : "") + "{\"flags\": " + JsonString(SweepFlags(e)) +
         ", \"blob_method\": " + JsonString(BlobMethodName(e.blob)) +
         ", \"weight_method\": " + JsonString(WeightMethodName(e.weight)) +
         ", \"merge_type\": " + std::to_string(static_cast<int>(e.merge)) +
         ", \"symmetric\": " + (e.symmetric ? "true" : "false") +
         ", \"error\": " + (e.status.ok() ? "null" : JsonString(e.status.message())) +
         ", \"top1_agreement\": " + (e.classifier ? JsonNumber(e.top1_agreement) : "null") +
         ", \"detections\": " + DetectionsJson(e.detections) +
         ", \"min_output_cosine\": " + JsonNumber(e.min_output_cosine) + ", \"seconds\": " + JsonNumber(e.seconds) +
         "}";
  }
  return j + "]}\n";
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

// One of -t auto's or --refine auto's choices: what was kept, on how many scoring inputs, and each option's score.
std::string AutoChoiceJson(const std::string& kept, int inputs, const char* options,
                           const std::vector<std::pair<std::string, double>>& scores) {
  std::string j = "{\"kept\": " + kept + ", \"scoring_inputs\": " + std::to_string(inputs) + ", \"" + options +
                  "\": [";
  for (size_t i = 0; i < scores.size(); ++i) {
    j += std::string(i ? ", " : "") + "{\"name\": " + JsonString(scores[i].first) +
         ", \"min_output_cosine\": " + JsonNumber(scores[i].second) + "}";
  }
  return j + "]}";
}

// The run as JSON (schema in doc/quantization_json.md): the model, the flags, per quantized layer its output scale's
// method and range and, with the report, its clipped share and cosine; the report's per-output figures; the times.
std::string RunJson(const std::string& proto, const std::string& model, size_t inputs, const QuantizeOptions& o,
                    int merge, const QuantizeResult& q, const EvalSummary* eval, double secs, double report_secs,
                    long peak_mb, const std::string& extra) {
  std::map<std::string, const LayerAgreement*> by_layer;
  if (eval) {
    for (const auto& l : eval->layers) by_layer[l.layer] = &l;
  }
  std::string j = "{\"model\": " + JsonString(proto) + ", \"weights\": " + (model.empty() ? "null" : JsonString(model));
  j += ", \"calibration_inputs\": " + std::to_string(inputs);
  j += ", \"flags\": {\"blob_method\": " + JsonString(BlobMethodName(o.blob_method)) +
       ", \"weight_method\": " + JsonString(WeightMethodName(o.weight_method)) +
       ", \"merge_type\": " + std::to_string(merge) + ", \"compat_tnn\": " + (o.tnn_compat ? "true" : "false") +
       ", \"fp32_layers\": [";
  bool first = true;
  for (const auto& name : o.float_layers) {
    j += (first ? "" : ", ") + JsonString(name);
    first = false;
  }
  j += "]}, \"seconds\": {\"total\": " + JsonNumber(secs);
  for (const auto& [phase, t] : q.timings) j += ", " + JsonString(phase) + ": " + JsonNumber(t);
  if (eval) j += ", \"report\": " + JsonNumber(report_secs);
  j += "}, \"threads\": " + std::to_string(GetNumThreads()) + ", \"peak_memory_mb\": " + std::to_string(peak_mb);
  j += ", \"layers\": [";
  first = true;
  for (const auto& l : q.graph.layers) {
    if (!l.quantized) continue;
    const auto& sc = q.graph.blob_scales.at(l.outputs[0]).scale;
    auto a = by_layer.find(l.name);
    j += std::string(first ? "" : ", ") + "{\"name\": " + JsonString(l.name) +
         ", \"type\": " + JsonString(LayerTypeName(l.type)) + ", \"blob\": " + JsonString(l.outputs[0]) +
         ", \"method\": " + JsonString(BlobMethodLabel(q, l.outputs[0])) +
         ", \"scale_min\": " + JsonNumber(*std::min_element(sc.begin(), sc.end())) +
         ", \"scale_max\": " + JsonNumber(*std::max_element(sc.begin(), sc.end())) +
         ", \"clipped\": " + (a == by_layer.end() ? "null" : JsonNumber(a->second->clipped)) +
         ", \"cosine\": " + (a == by_layer.end() ? "null" : JsonNumber(a->second->cosine)) +
         ", \"fused_at_run_time\": " + (eval && a == by_layer.end() ? "true" : "false") + "}";
    first = false;
  }
  j += "], \"auto_scales\": [";
  first = true;
  for (const auto& [blob, cands] : q.blob_candidates) {
    j += std::string(first ? "" : ", ") + "{\"blob\": " + JsonString(blob) + ", \"chosen\": " +
         JsonString(q.blob_choice.count(blob) ? q.blob_choice.at(blob) : "") + ", \"candidates\": [";
    for (size_t i = 0; i < cands.size(); ++i) {
      j += std::string(i ? ", " : "") + "{\"method\": " + JsonString(cands[i].method) + ", \"threshold\": " +
           JsonNumber(127.0 * *std::max_element(cands[i].scale.begin(), cands[i].scale.end())) +
           ", \"consumer_error\": " + JsonNumber(cands[i].error) + "}";
    }
    j += "]}";
    first = false;
  }
  j += "], \"equalized\": [";
  for (size_t i = 0; i < q.equalized.size(); ++i) j += std::string(i ? ", " : "") + JsonString(q.equalized[i]);
  j += "], \"merge_auto\": " +
       (q.merge_scores.empty()
            ? std::string("null")
            : AutoChoiceJson(std::to_string(static_cast<int>(q.merge_kept)), q.merge_scoring_inputs, "candidates",
                             q.merge_scores));
  j += ", \"refine_auto\": " +
       (q.refine_choice.empty()
            ? std::string("null")
            : AutoChoiceJson(JsonString(q.refine_choice), q.refine_scoring_inputs, "variants", q.refine_scores));
  j += ", \"refinement\": [";
  for (size_t i = 0; i < q.refinements.size(); ++i) {
    const auto& r = q.refinements[i];
    j += std::string(i ? ", " : "") + "{\"layer\": " + JsonString(r.layer) + ", \"rounding_flips\": " +
         std::to_string(r.rounding_flips) + ", \"rounding_objective\": " + JsonNumber(r.rounding_objective) +
         ", \"biases_corrected\": " + std::to_string(r.biases_corrected) + ", \"mean_error_removed\": " +
         JsonNumber(r.mean_error_removed) + "}";
  }
  j += "], \"float_steps\": [";
  for (size_t i = 0; i < q.float_steps.size(); ++i) {
    const auto& st = q.float_steps[i];
    j += std::string(i ? ", " : "") + "{\"layer\": " + JsonString(st.layer) + ", \"with\": [";
    for (size_t k = 1; k < st.layers.size(); ++k) j += std::string(k > 1 ? ", " : "") + JsonString(st.layers[k]);
    j += "], \"sensitivity\": " + JsonNumber(st.sensitivity) + ", \"cosine_before\": " +
         JsonNumber(st.cosine_before) + ", \"cosine_after\": " + JsonNumber(st.cosine_after) + "}";
  }
  j += "], \"held_out_inputs\": " + std::to_string(q.held_out_inputs);
  j += ", \"report\": ";
  if (!eval) return j + "null" + extra + "}\n";
  j += "{\"inputs\": " + std::to_string(eval->inputs) + ", \"classifier\": " + (eval->classifier ? "true" : "false") +
       ", \"top1_agreement\": " +
       (eval->classifier ? JsonNumber(static_cast<double>(eval->top1_agreement) / std::max(eval->inputs, 1))
                         : std::string("null")) +
       ", \"min_output_cosine\": " + JsonNumber(eval->MinOutputCosine()) + ", \"outputs\": [";
  for (size_t i = 0; i < eval->outputs.size(); ++i) {
    const auto& out = eval->outputs[i];
    j += std::string(i ? ", " : "") + "{\"name\": " + JsonString(out.name) + ", \"cosine\": " +
         JsonNumber(out.cosine) + ", \"rel_l2\": " + JsonNumber(out.rel_l2) + ", \"max_abs\": " +
         JsonNumber(out.max_abs) + ", \"worst_inputs\": [";
    for (size_t k = 0; k < out.worst.size(); ++k) {
      j += std::string(k ? ", " : "") + "{\"input\": " + JsonString(out.worst[k].input) + ", \"cosine\": " +
           JsonNumber(out.worst[k].cosine) + ", \"norm_ratio\": " + JsonNumber(out.worst[k].norm_ratio) + "}";
    }
    j += "]}";
  }
  return j + "], \"detections\": " + DetectionsJson(eval->detections) + "}" + extra + "}\n";
}

Status CheckTableOptions(const QuantizeOptions& o) {
  if (o.merge == MergeType::kPerChannel) {
    return Status::InvalidArgument("--table writes ncnn's per-tensor blob multipliers: use -t 1 or -t 2, not -t 0");
  }
  if (o.blob_method == BlobMethod::kAsymMinMax || o.weight_method == WeightMethod::kAsymMinMax) {
    return Status::InvalidArgument("--table: ncnn's int8 is symmetric, so -b 3 / -w 3 have no table form");
  }
  return Status::Ok();
}

Status Run() {
  std::string proto, model, input, mean, mean2, scale, output;
  QT_RETURN_IF_ERROR(PickFlag("p", FLAGS_p, "proto", FLAGS_proto, &proto));
  QT_RETURN_IF_ERROR(PickFlag("m", FLAGS_m, "model", FLAGS_model, &model));
  QT_RETURN_IF_ERROR(PickFlag("i", FLAGS_i, "input_path", FLAGS_input_path, &input));
  QT_RETURN_IF_ERROR(PickFlag("n", FLAGS_n, "bias", FLAGS_bias, &mean2));
  QT_RETURN_IF_ERROR(PickFlag("n", mean2, "mean", FLAGS_mean, &mean));
  QT_RETURN_IF_ERROR(PickFlag("s", FLAGS_s, "scale", FLAGS_scale, &scale));
  QT_RETURN_IF_ERROR(PickFlag("o", FLAGS_o == "model" ? "" : FLAGS_o, "output", FLAGS_output, &output));
  if (output.empty()) output = "model";
  if (proto.empty()) return Status::InvalidArgument("no model given (-p)");
  if (input.empty()) return Status::InvalidArgument("no calibration folder given (-i)");
  if (!FLAGS_compat.empty() && FLAGS_compat != "tnn") {
    return Status::InvalidArgument("--compat '" + FLAGS_compat + "' is unknown (only 'tnn')");
  }
  if (FLAGS_calib_parallel != "images" && FLAGS_calib_parallel != "kernels") {
    return Status::InvalidArgument("--calib_parallel '" + FLAGS_calib_parallel + "' is not 'images' or 'kernels'");
  }
  if (FLAGS_threads > 0) SetNumThreads(FLAGS_threads);

  QuantizeOptions options;
  options.tnn_compat = FLAGS_compat == "tnn";
  std::string blob_flag = FLAGS_blob_method.empty() ? FLAGS_b : FLAGS_blob_method;
  // -b auto has no TNN counterpart; under --compat tnn the default is the method it had before auto existed.
  if (options.tnn_compat && FLAGS_blob_method.empty() && gflags::GetCommandLineFlagInfoOrDie("b").is_default) {
    blob_flag = "2";
  }
  QT_RETURN_IF_ERROR(ParseBlobFlag(blob_flag, &options.blob_method));
  if (FLAGS_auto_inputs < 1) return Status::InvalidArgument("--auto_inputs must be at least 1");
  options.auto_inputs = FLAGS_auto_inputs;
  if (FLAGS_weight_rounding != "nearest" && FLAGS_weight_rounding != "adaptive") {
    return Status::InvalidArgument("--weight_rounding '" + FLAGS_weight_rounding + "' is not 'nearest' or 'adaptive'");
  }
  if (FLAGS_refine_inputs < 1) return Status::InvalidArgument("--refine_inputs must be at least 1");
  options.refine.adaptive_rounding = FLAGS_weight_rounding == "adaptive";
  options.refine.bias_correction = FLAGS_bias_correction;
  if (FLAGS_refine != "off" && FLAGS_refine != "auto") {
    return Status::InvalidArgument("--refine '" + FLAGS_refine + "' is not 'off' or 'auto'");
  }
  const bool explicit_refinement = options.refine.adaptive_rounding || options.refine.bias_correction;
  if (gflags::GetCommandLineFlagInfoOrDie("refine").is_default) {
    // Part of the default configuration only: an explicit -b method is taken as it is (and timed as it was).
    options.refine_auto =
        !options.tnn_compat && !explicit_refinement && options.blob_method == BlobMethod::kAuto;
  } else {
    options.refine_auto = FLAGS_refine == "auto";
    if (options.refine_auto && explicit_refinement) {
      return Status::InvalidArgument("--refine auto chooses --bias_correction and --weight_rounding itself: give "
                                     "one or the others");
    }
  }
  options.refine_inputs = FLAGS_refine_inputs;
  if (FLAGS_min_cosine < 0 || FLAGS_min_cosine > 1) {
    return Status::InvalidArgument("--min_cosine must be in [0, 1]");
  }
  options.budget.min_cosine = FLAGS_min_cosine;
  options.budget.max_layers = FLAGS_max_float_layers;
  QT_RETURN_IF_ERROR(ParseWeightMethod(PickInt(FLAGS_w, FLAGS_weight_method), &options.weight_method));
  QT_RETURN_IF_ERROR(ParseMergeFlag(FLAGS_merge_type >= 0 ? std::to_string(FLAGS_merge_type) : FLAGS_t, &options));
  QT_RETURN_IF_ERROR(
      ParsePreprocess(mean, scale, FLAGS_r == 1 || FLAGS_reverse_channel == 1, &options.preprocess));
  options.stats_path = FLAGS_stats;
  QT_RETURN_IF_ERROR(ParseEqualize(FLAGS_equalize, options, &options.equalize));
  for (const auto& name : SplitList(FLAGS_fp32_layers)) options.float_layers.insert(name);
  options.parallel_images = FLAGS_calib_parallel == "images";
  QT_RETURN_IF_ERROR(CheckOutputWritable(output, "-o"));
  if (!FLAGS_table.empty()) {
    QT_RETURN_IF_ERROR(CheckTableOptions(options));
    QT_RETURN_IF_ERROR(CheckOutputWritable(FLAGS_table, "--table"));
  }
  if (!FLAGS_stats.empty()) QT_RETURN_IF_ERROR(CheckOutputWritable(FLAGS_stats, "--stats"));
  if (!FLAGS_json.empty()) QT_RETURN_IF_ERROR(CheckOutputWritable(FLAGS_json, "--json"));
  if (!FLAGS_html.empty()) QT_RETURN_IF_ERROR(CheckOutputWritable(FLAGS_html, "--html"));
  const bool with_report_file = !FLAGS_json.empty() || !FLAGS_html.empty();
  options.keep_stats = with_report_file;

  Graph fp32;
  InputShapes shapes;
  QT_RETURN_IF_ERROR(InputShapesFlag(&shapes));
  QT_RETURN_IF_ERROR(LoadModel(proto, model, &fp32, shapes));
  for (const auto& in : fp32.inputs) {
    if (in.dims.size() > 1) QT_RETURN_IF_ERROR(options.preprocess.Validate(in.dims[1], in.name));
  }
  std::vector<std::string> input_names;
  for (const auto& in : fp32.inputs) input_names.push_back(in.name);
  std::vector<CalibrationSample> files;
  QT_RETURN_IF_ERROR(ListCalibrationSamples(input, input_names, &files));
  std::error_code ec;
  const bool reusing = !FLAGS_stats.empty() && fs::exists(FLAGS_stats, ec);
  const int report = FLAGS_report >= 0 ? FLAGS_report : (reusing && !FLAGS_sweep ? 0 : 32);
  options.keep_inputs = report;
  std::fprintf(stderr, "quantization_cmd: %zu calibration inputs, blob method %s, weight method %s, merge type %s%s\n",
               files.size(), BlobMethodName(options.blob_method), WeightMethodName(options.weight_method),
               options.merge_auto ? "auto" : std::to_string(static_cast<int>(options.merge)).c_str(),
               options.tnn_compat ? ", TNN-compatible arithmetic" : "");
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Progress> progress;
  std::string pass;
  QuantizeCallbacks cb;
  std::vector<std::string> notes;
  cb.note = [&](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
    notes.push_back(line);
  };
  cb.progress = [&](const std::string& name, size_t done, size_t total) {
    if (!progress || name != pass) {
      if (progress) progress->Finish();
      progress = std::make_unique<Progress>(name, total);
      pass = name;
    }
    progress->Update(done);
  };
  QuantizeResult q;
  std::vector<SweepEntry> sweep;
  const Status s = FLAGS_sweep ? SweepMethods(fp32, files, options, cb, &sweep, &q)
                               : QuantizeGraph(fp32, files, options, cb, &q);
  if (progress) progress->Finish();
  QT_RETURN_IF_ERROR(s);
  int merge = static_cast<int>(options.merge_auto ? q.merge_kept : options.merge);
  const SweepEntry* kept = nullptr;
  if (FLAGS_sweep) {
    for (const auto& e : sweep) {
      if (e.status.ok() && e.symmetric) {
        kept = &e;
        options.blob_method = e.blob;
        options.weight_method = e.weight;
        options.merge = e.merge;
        merge = static_cast<int>(e.merge);
        break;
      }
    }
    const std::string table = SweepTable(sweep, report);
    QT_RETURN_IF_ERROR(WriteFilesAtomically({{output + ".sweep.md", table},
                                             {output + ".sweep.json", SweepJson(sweep, report)}}));
    std::fprintf(stderr, "%s", table.c_str());
    std::fprintf(stderr, "sweep: kept %s; ranked table in %s.sweep.md and %s.sweep.json\n",
                 SweepFlags(*kept).c_str(), output.c_str(), output.c_str());
  }
  std::vector<std::pair<std::string, std::string>> out;
  const std::vector<uint8_t> weights = SerializeTnnModel(q.graph);
  out.push_back({output + ".quantized.tnnproto", SerializeTnnProto(q.graph)});
  out.push_back({output + ".quantized.tnnmodel", std::string(weights.begin(), weights.end())});
  if (!FLAGS_table.empty()) out.push_back({FLAGS_table, NcnnTable(q.graph, q.weight_input_scales)});
  QT_RETURN_IF_ERROR(WriteFilesAtomically(out));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // The int8 blobs stand for the equalized model's blobs, whose outputs are the input model's.
  const Graph& reference = q.equalized.empty() ? fp32 : q.reference;
  EvalSummary summary;
  const bool evaluated = report > 0 && !q.kept_inputs.empty();
  const auto report_start = std::chrono::steady_clock::now();
  if (evaluated) {
    // Inputs are dealt to one evaluator per thread in a fixed order, and the evaluators merged in order.
    std::vector<const SampleTensors*> inputs;
    std::vector<std::string> names;
    for (const auto& [index, tensors] : q.kept_inputs) {
      inputs.push_back(&tensors);
      names.push_back(fs::path(files[index].begin()->second).filename().string());
    }
    const int workers = std::max(1, std::min<int>(GetNumThreads(), static_cast<int>(inputs.size())));
    std::vector<Evaluator> evals(workers);
    std::vector<Status> status(workers);
    RunConcurrently(workers, [&](int k) {
      status[k] = evals[k].Init(reference, &q.graph, options.preprocess);
      for (size_t i = k; status[k].ok() && i < inputs.size(); i += workers) status[k] = evals[k].AddTensors(*inputs[i], -1, names[i]);
    });
    for (const Status& st : status) QT_RETURN_IF_ERROR(st);
    for (int k = 1; k < workers; ++k) evals[0].Merge(evals[k]);
    summary = evals[0].Summary();
  }
  const double report_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - report_start).count();
  QuantReport rep;
  if (with_report_file) {
    const auto errors_start = std::chrono::steady_clock::now();
    std::vector<const std::map<std::string, Tensor>*> inputs;
    for (const auto& [index, tensors] : q.kept_inputs) inputs.push_back(&tensors);
    std::map<std::string, std::string> methods, reasons;
    for (const auto& [blob, m] : q.blob_methods) methods[blob] = BlobMethodLabel(q, blob);
    for (const auto& st : q.float_steps) {
      char buf[160];
      std::snprintf(buf, sizeof(buf), "accuracy budget: held-out min output cosine %.5f -> %.5f", st.cosine_before,
                    st.cosine_after);
      reasons[st.layer] = buf;
      for (size_t i = 1; i < st.layers.size(); ++i) reasons[st.layers[i]] = "so that " + st.layer + " reads float inputs";
    }
    QT_RETURN_IF_ERROR(
        FillReport(reference, q.graph, q.stats, methods, options.float_layers, reasons, inputs, &rep));
    rep.tool = "quantization_cmd";
    rep.model = proto;
    rep.weights = model;
    rep.flags = {{"calibration inputs", std::to_string(files.size()) + " from " + input},
                 {"blob method (-b)", BlobMethodName(options.blob_method)},
                 {"weight method (-w)", WeightMethodName(options.weight_method)},
                 {"merge type (-t)", q.merge_scores.empty() ? std::to_string(merge) : "auto: " + std::to_string(merge)},
                 {"compat", options.tnn_compat ? "tnn" : "none"},
                 {"weight rounding", q.refine_choice.empty()
                                         ? FLAGS_weight_rounding
                                         : std::string("auto: ") + (q.refine_kept.adaptive_rounding ? "adaptive"
                                                                                                    : "nearest")},
                 {"bias correction", q.refine_choice.empty()
                                         ? (FLAGS_bias_correction ? "on" : "off")
                                         : std::string("auto: ") + (q.refine_kept.bias_correction ? "on" : "off")},
                 {"accuracy budget", (FLAGS_min_cosine > 0 ? "--min_cosine " + std::to_string(FLAGS_min_cosine) : "") +
                                         (FLAGS_max_float_layers >= 0
                                              ? " --max_float_layers " + std::to_string(FLAGS_max_float_layers)
                                              : std::string(FLAGS_min_cosine > 0 ? "" : "none"))},
                 {"fp32 layers", FLAGS_fp32_layers.empty() ? "none" : FLAGS_fp32_layers}};
    rep.histogram_source = q.stats.empty() ? "not kept" : "all " + std::to_string(files.size()) +
                                                              " calibration inputs";
    rep.seconds = q.timings;
    if (evaluated) {
      rep.seconds.push_back({"report", report_secs});
      if (summary.classifier) {
        rep.figures.push_back({"top-1 agreement with fp32", FormatPercent(summary.top1_agreement, summary.inputs)});
      }
      rep.figures.push_back({"min output cosine", FormatFixed(summary.MinOutputCosine(), 6)});
      rep.outputs = summary.outputs;
      rep.detections = summary.detections;
    }
    rep.seconds.push_back(
        {"layer errors", std::chrono::duration<double>(std::chrono::steady_clock::now() - errors_start).count()});
    rep.notes = notes;
    if (FLAGS_sweep) {
      ReportTable table;
      table.title = "Method sweep, ranked";
      const bool detector = SweepHasDetections(sweep);
      table.columns = {"rank", "flags", "top-1 agreement", "min output cosine", "seconds", "note"};
      if (detector) table.columns.insert(table.columns.begin() + 3, "detections P / R");
      int rank = 0;
      for (const auto& e : sweep) {
        std::vector<std::string> row = {
            std::to_string(++rank), SweepFlags(e), e.classifier ? FormatFixed(100 * e.top1_agreement, 1) + " %" : "",
            FormatFixed(e.min_output_cosine, 5), FormatFixed(e.seconds, 2),
            !e.status.ok() ? e.status.message() : e.symmetric ? "" : "asymmetric: TNN NAIVE only"};
        if (detector) row.insert(row.begin() + 3, SweepDetections(e));
        table.rows.push_back(std::move(row));
      }
      table.note = "scored on " + std::to_string(report) + " calibration inputs; the first symmetric row is the file kept";
      rep.sweep = table;
    }
  }
  PrintLayerTable(q, evaluated ? &summary : nullptr);
  PrintRefinementAndBudget(q);
  std::string phases;
  for (const auto& [phase, t] : q.timings) {
    phases += phase + " " + FormatSeconds(t);
    if (phase == "statistics" && !q.stats_reused && t > 0) {
      char rate[48];
      std::snprintf(rate, sizeof(rate), " (%.0f inputs/s)",
                    (q.calibrated_inputs > 0 ? q.calibrated_inputs : static_cast<double>(files.size())) / t);
      phases += rate;
    }
    phases += ", ";
  }
  if (evaluated) phases += "report " + FormatSeconds(report_secs) + ", ";
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  if (!FLAGS_json.empty()) {
    QT_RETURN_IF_ERROR(WriteFilesAtomically({{FLAGS_json, RunJson(proto, model, files.size(), options, merge, q,
                                                                 evaluated ? &summary : nullptr, secs, report_secs,
                                                                 usage.ru_maxrss / 1024,
                                                                 ReportJsonFields(rep))}}));
  }
  if (!FLAGS_html.empty()) QT_RETURN_IF_ERROR(WriteFilesAtomically({{FLAGS_html, RenderHtmlReport(rep)}}));
  std::fprintf(stderr, "wrote %s.quantized.tnnproto and %s.quantized.tnnmodel%s%s in %.2f s (%s%d thread%s, peak "
               "memory %ld MB)\n", output.c_str(), output.c_str(), FLAGS_table.empty() ? "" : " and ",
               FLAGS_table.c_str(), secs, phases.c_str(), GetNumThreads(), GetNumThreads() == 1 ? "" : "s",
               usage.ru_maxrss / 1024);
  return Status::Ok();
}

}  // namespace
}  // namespace qt

int main(int argc, char** argv) {
  return qt::ToolMain(
      "quantization_cmd",
      "calibrates a model and writes a TNN int8 model\n"
      "  quantization_cmd -p model.tnnproto -m model.tnnmodel -i calib_folder [-b 0|2|3|4|5|6|auto] [-w 0|1|3] "
      "[-t 0|1|2] [-n mean] [-s scale] [-r 1] [-o prefix] [--stats file] [--table file] [--report n] "
      "[--fp32_layers a,b] [--compat tnn] [--threads n] [--json out.json] [--html report.html]\n"
      "  (-p deploy.prototxt -m weights.caffemodel reads a Caffe model, -p model.onnx an ONNX model)",
      argc, argv, qt::Run);
}
