// model_eval: accuracy of an fp32 model and of its int8 model on a labelled folder, their top-1 agreement, and
// how far every quantized layer of the int8 model drifts from the fp32 model.
#include <gflags/gflags.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/base/parallel.h"
#include "core/io/model_loader.h"
#include "core/io/tnn_io.h"
#include "quantization/eval/evaluator.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/quantizer/calibrator.h"
#include "quantization/quantizer/equalization.h"
#include "quantization/report/html_report.h"
#include "quantization/report/report_builder.h"
#include "tools/common/tool_util.h"

DEFINE_string(p, "", "fp32 model: .tnnproto");
DEFINE_string(proto, "", "same as -p");
DEFINE_string(m, "", "fp32 weights: .tnnmodel");
DEFINE_string(model, "", "same as -m");
DEFINE_string(int8_proto, "", "int8 model: <prefix>.quantized.tnnproto (optional)");
DEFINE_string(int8_model, "", "int8 weights: <prefix>.quantized.tnnmodel");
DEFINE_string(i, "", "folder of inputs: images, or NCHW .txt/.npy tensors when it holds no image");
DEFINE_string(input_path, "", "same as -i");
DEFINE_string(labels, "", "labels file, lines '<file> <class index>' (default: <folder>/labels.txt if present)");
DEFINE_string(n, "", "per-channel value subtracted from image pixels, e.g. 104,117,123 (default 0)");
DEFINE_string(bias, "", "same as -n");
DEFINE_string(mean, "", "same as -n");
DEFINE_string(s, "", "per-channel multiplier applied after the subtraction (default 1)");
DEFINE_string(scale, "", "same as -s");
DEFINE_int32(r, 0, "1: feed image channels in BGR order (default RGB, as TNN's tool)");
DEFINE_int32(reverse_channel, 0, "same as -r");
DEFINE_string(json, "", "also write the results as JSON to this file");
DEFINE_int32(threads, 0, "threads (default: all cores)");
DEFINE_string(html, "", "also write a one-page HTML report (needs the int8 model): histograms of the blobs on the "
                        "inputs with each method's threshold and the stored one, local and chain error per layer, "
                        "float layers, weight ranges (doc/report.md)");
DEFINE_int32(html_inputs, 16, "inputs (the first ones) on which --html measures each layer's local and chain error");

namespace qt {
namespace {

namespace fs = std::filesystem;

bool IsImage(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

// The inputs of a one-input model: the folder's images, or, in a folder without images, its tensors except
// the labels file (an evaluation folder usually holds its labels).
Status ListEvalSamples(const std::string& dir, const std::vector<std::string>& input_names,
                       const std::string& labels_path, std::vector<CalibrationSample>* samples) {
  if (input_names.size() != 1) return ListCalibrationSamples(dir, input_names, samples);
  std::vector<std::string> files;
  QT_RETURN_IF_ERROR(ListInputFiles(dir, &files));
  const bool any_image = std::any_of(files.begin(), files.end(), [](const std::string& f) { return IsImage(f); });
  std::error_code ec;
  samples->clear();
  for (const auto& f : files) {
    if (any_image && !IsImage(f)) continue;
    if (!labels_path.empty() && fs::equivalent(f, labels_path, ec)) continue;
    samples->push_back({{input_names[0], f}});
  }
  if (samples->empty()) return Status::NotFound(dir + ": no input besides the labels file");
  return Status::Ok();
}

std::string Pct(int n, int d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%6.2f %%", d > 0 ? 100.0 * n / d : 0.0);
  return buf;
}

std::string JsonFraction(int n, int d) {
  if (d == 0) return "null";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6f", static_cast<double>(n) / d);
  return buf;
}

std::string ToJson(const EvalSummary& s, const std::vector<std::string>& rescaled) {
  char buf[64];
  std::string j = "{\"images\": " + std::to_string(s.inputs) + ", \"labelled\": " + std::to_string(s.labelled);
  j += ", \"rescaled_blobs\": [";
  for (size_t i = 0; i < rescaled.size(); ++i) j += (i ? ", " : "") + JsonString(rescaled[i]);
  j += "]";
  j += ", \"fp32\": {\"top1\": " + JsonFraction(s.fp32_top1, s.labelled) +
       ", \"top5\": " + JsonFraction(s.fp32_top5, s.labelled) + "}";
  if (!s.has_int8) {
    return j + ", \"int8\": null, \"classifier\": " + (s.classifier ? "true" : "false") +
           ", \"top1_agreement\": null, \"output_cosine\": null, \"min_output_cosine\": null, \"outputs\": [], "
           "\"detections\": [], \"layers\": []}\n";
  }
  j += ", \"int8\": {\"top1\": " + JsonFraction(s.int8_top1, s.labelled) +
       ", \"top5\": " + JsonFraction(s.int8_top5, s.labelled) + "}";
  j += ", \"classifier\": " + std::string(s.classifier ? "true" : "false");
  j += ", \"top1_agreement\": " + (s.classifier ? JsonFraction(s.top1_agreement, s.inputs) : std::string("null"));
  std::snprintf(buf, sizeof(buf), "%.6f", s.output_cosine);
  j += ", \"output_cosine\": " + std::string(buf);
  std::snprintf(buf, sizeof(buf), "%.6f", s.MinOutputCosine());
  j += ", \"min_output_cosine\": " + std::string(buf) + ", \"outputs\": [";
  for (size_t i = 0; i < s.outputs.size(); ++i) {
    const auto& o = s.outputs[i];
    char v[160];
    std::snprintf(v, sizeof(v), "\"cosine\": %.6f, \"rel_l2\": %.6g, \"max_abs\": %.6g", o.cosine, o.rel_l2,
                  o.max_abs);
    j += (i ? ", " : "") + std::string("{\"name\": ") + JsonString(o.name) + ", " + v + ", \"worst_inputs\": [";
    for (size_t k = 0; k < o.worst.size(); ++k) {
      std::snprintf(v, sizeof(v), ", \"cosine\": %.6f, \"norm_ratio\": %.6g}", o.worst[k].cosine,
                    o.worst[k].norm_ratio);
      j += (k ? ", " : "") + std::string("{\"input\": ") + JsonString(o.worst[k].input) + v;
    }
    j += "]}";
  }
  j += "], \"detections\": [";
  for (size_t i = 0; i < s.detections.size(); ++i) {
    const auto& d = s.detections[i];
    char v[200];
    std::snprintf(v, sizeof(v), "\"fp32\": %lld, \"int8\": %lld, \"matched\": %lld, \"precision\": %.6f, "
                  "\"recall\": %.6f", static_cast<long long>(d.fp32), static_cast<long long>(d.int8),
                  static_cast<long long>(d.matched), d.precision(), d.recall());
    j += (i ? ", " : "") + std::string("{\"blob\": ") + JsonString(d.blob) + ", " + v + ", \"worst_inputs\": [";
    for (size_t k = 0; k < d.worst.size(); ++k) {
      const auto& w = d.worst[k];
      std::snprintf(v, sizeof(v), ", \"fp32\": %lld, \"int8\": %lld, \"matched\": %lld, \"keep_top_k_reached\": %s}",
                    static_cast<long long>(w.fp32), static_cast<long long>(w.int8), static_cast<long long>(w.matched),
                    w.capped ? "true" : "false");
      j += (k ? ", " : "") + std::string("{\"input\": ") + JsonString(w.input) + v;
    }
    j += "]}";
  }
  j += "], \"layers\": [";
  for (size_t i = 0; i < s.layers.size(); ++i) {
    const auto& l = s.layers[i];
    j += i ? ", " : "";
    std::snprintf(buf, sizeof(buf), "%.6f", l.cosine);
    j += "{\"name\": " + JsonString(l.layer) + ", \"blob\": " + JsonString(l.blob) + ", \"cosine\": " + buf;
    std::snprintf(buf, sizeof(buf), "%.6g", l.clipped);
    j += ", \"clipped\": " + std::string(buf) + "}";
  }
  return j + "]}\n";
}

void PrintSummary(const EvalSummary& s) {
  std::printf("model_eval: %d inputs, %d labelled\n", s.inputs, s.labelled);
  if (s.labelled > 0) {
    std::printf("%-8s %9s %9s\n", "", "top-1", "top-5");
    std::printf("%-8s %9s %9s\n", "fp32", Pct(s.fp32_top1, s.labelled).c_str(), Pct(s.fp32_top5, s.labelled).c_str());
    if (s.has_int8) {
      std::printf("%-8s %9s %9s\n", "int8", Pct(s.int8_top1, s.labelled).c_str(), Pct(s.int8_top5, s.labelled).c_str());
    }
  }
  if (!s.has_int8) return;
  if (s.classifier) std::printf("top-1 agreement %s\n", Pct(s.top1_agreement, s.inputs).c_str());
  std::printf("int8 against fp32 per output (means over the inputs):\n");
  std::printf("  %-32s %10s %10s %12s\n", "output", "cosine", "rel L2", "max |diff|");
  for (const auto& o : s.outputs) {
    std::printf("  %-32s %10.6f %10.6f %12.6g\n", o.name.c_str(), o.cosine, o.rel_l2, o.max_abs);
  }
  std::printf("min output cosine %.6f, mean cosine of all outputs together %.6f\n", s.MinOutputCosine(),
              s.output_cosine);
  if (s.inputs > 1) {
    std::printf("inputs of lowest cosine per output (cosine; the fp32 output's L2 norm on the input / its mean):\n");
    for (const auto& o : s.outputs) {
      std::string line;
      for (const auto& c : o.worst) {
        char v[64];
        std::snprintf(v, sizeof(v), " %.6f (%.3g)", c.cosine, c.norm_ratio);
        line += (line.empty() ? "" : ",") + std::string(" ") + c.input + v;
      }
      std::printf("  %s:%s\n", o.name.c_str(), line.c_str());
    }
  }
  for (const auto& d : s.detections) {
    std::printf("detections of %s: fp32 %lld, int8 %lld, matched %lld (IoU >= 0.5, same label): precision %.4f, "
                "recall %.4f\n", d.blob.c_str(), static_cast<long long>(d.fp32), static_cast<long long>(d.int8),
                static_cast<long long>(d.matched), d.precision(), d.recall());
    if (!d.worst.empty()) std::printf("  inputs with the most unmatched detections (fp32 / int8 / matched):");
    for (size_t k = 0; k < d.worst.size(); ++k) {
      const auto& w = d.worst[k];
      std::printf("%s %s %lld / %lld / %lld%s", k ? "," : "", w.input.c_str(), static_cast<long long>(w.fp32),
                  static_cast<long long>(w.int8), static_cast<long long>(w.matched),
                  w.capped ? (" (keep_top_k " + std::to_string(d.keep_top_k) + " reached)").c_str() : "");
    }
    if (!d.worst.empty()) std::printf("\n");
  }
  std::printf("per-layer cosine of the int8 chain against fp32, worst first:\n");
  std::printf("  %-32s %-32s %10s %9s\n", "layer", "output blob", "cosine", "clipped");
  for (const auto& l : s.layers) {
    std::printf("  %-32s %-32s %10.6f %8.4f%%\n", l.layer.c_str(), l.blob.c_str(), l.cosine, 100 * l.clipped);
  }
}

// The report of the int8 model on the evaluated inputs: histograms over all of them, layer errors on the first
// --html_inputs. The calibration method of each blob is not in the int8 model, so the stored scale is "stored".
Status WriteHtml(const std::string& proto, const std::string& model, const std::string& dir, const Preprocess& pre,
                 const Graph& fp32, const Graph& int8, const std::vector<CalibrationSample>& samples,
                 const EvalSummary& s) {
  std::map<std::string, BlobStats> stats;
  QT_RETURN_IF_ERROR(CollectReportStats(fp32, int8, samples, pre, &stats));
  std::map<std::string, Dims> dims;
  for (const auto& in : fp32.inputs) dims[in.name] = in.dims;
  const size_t n = std::min<size_t>(samples.size(), std::max(FLAGS_html_inputs, 1));
  std::vector<SampleTensors> loaded(n);
  std::vector<const std::map<std::string, Tensor>*> inputs;
  for (size_t i = 0; i < n; ++i) {
    QT_RETURN_IF_ERROR(LoadSample(samples[i], dims, pre, &loaded[i]));
    inputs.push_back(&loaded[i]);
  }
  std::map<std::string, std::string> methods;
  for (const auto& [blob, scale] : int8.blob_scales) methods[blob] = "stored";
  QuantReport r;
  QT_RETURN_IF_ERROR(FillReport(fp32, int8, stats, methods, {}, {}, inputs, &r));
  r.tool = "model_eval";
  r.model = proto;
  r.weights = model;
  r.flags = {{"int8 model", FLAGS_int8_proto}, {"inputs", std::to_string(s.inputs) + " from " + dir}};
  if (s.labelled > 0) {
    r.figures.push_back({"fp32 top-1 / top-5", Pct(s.fp32_top1, s.labelled) + " / " + Pct(s.fp32_top5, s.labelled)});
    r.figures.push_back({"int8 top-1 / top-5", Pct(s.int8_top1, s.labelled) + " / " + Pct(s.int8_top5, s.labelled)});
  }
  if (s.classifier) r.figures.push_back({"top-1 agreement with fp32", Pct(s.top1_agreement, s.inputs)});
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6f", s.MinOutputCosine());
  r.figures.push_back({"min output cosine", buf});
  r.outputs = s.outputs;
  r.detections = s.detections;
  r.histogram_source = "all " + std::to_string(samples.size()) + " evaluated inputs";
  return WriteFilesAtomically({{FLAGS_html, RenderHtmlReport(r)}});
}

Status Run() {
  std::string proto, model, input, mean, mean2, scale;
  QT_RETURN_IF_ERROR(PickFlag("p", FLAGS_p, "proto", FLAGS_proto, &proto));
  QT_RETURN_IF_ERROR(PickFlag("m", FLAGS_m, "model", FLAGS_model, &model));
  QT_RETURN_IF_ERROR(PickFlag("i", FLAGS_i, "input_path", FLAGS_input_path, &input));
  QT_RETURN_IF_ERROR(PickFlag("n", FLAGS_n, "bias", FLAGS_bias, &mean2));
  QT_RETURN_IF_ERROR(PickFlag("n", mean2, "mean", FLAGS_mean, &mean));
  QT_RETURN_IF_ERROR(PickFlag("s", FLAGS_s, "scale", FLAGS_scale, &scale));
  if (input.empty()) return Status::InvalidArgument("no input folder given (-i)");
  if (FLAGS_int8_proto.empty() != FLAGS_int8_model.empty()) {
    return Status::InvalidArgument("--int8_proto and --int8_model go together");
  }
  if (FLAGS_threads > 0) SetNumThreads(FLAGS_threads);
  Preprocess pre;
  QT_RETURN_IF_ERROR(ParsePreprocess(mean, scale, FLAGS_r == 1 || FLAGS_reverse_channel == 1, &pre));

  Graph fp32, int8;
  InputShapes shapes;
  QT_RETURN_IF_ERROR(InputShapesFlag(&shapes));
  QT_RETURN_IF_ERROR(LoadModel(proto, model, &fp32, shapes));
  const bool with_int8 = !FLAGS_int8_proto.empty();
  if (with_int8) QT_RETURN_IF_ERROR(LoadModel(FLAGS_int8_proto, FLAGS_int8_model, &int8, shapes));
  for (const auto& in : fp32.inputs) {
    if (in.dims.size() > 1) QT_RETURN_IF_ERROR(pre.Validate(in.dims[1], in.name));
  }
  // With channel equalization (quantization_cmd's default), the int8 blobs stand for the rescaled fp32 model, which
  // computes the same outputs: per-layer figures are taken against it.
  Graph equalized;
  std::vector<std::string> rescaled;
  if (with_int8) QT_RETURN_IF_ERROR(EqualizedReference(fp32, int8, &equalized, &rescaled));
  const Graph& reference = rescaled.empty() ? fp32 : equalized;
  Evaluator eval;
  QT_RETURN_IF_ERROR(eval.Init(reference, with_int8 ? &int8 : nullptr, pre));

  std::string labels_path = FLAGS_labels;
  std::error_code ec;
  if (labels_path.empty() && fs::is_regular_file(fs::path(input) / "labels.txt", ec)) {
    labels_path = (fs::path(input) / "labels.txt").string();
  }
  std::map<std::string, int> labels;
  if (!labels_path.empty()) QT_RETURN_IF_ERROR(ReadLabels(labels_path, &labels));
  std::vector<CalibrationSample> samples;
  QT_RETURN_IF_ERROR(ListEvalSamples(input, eval.input_names(), labels_path, &samples));
  if (FLAGS_json.size()) QT_RETURN_IF_ERROR(CheckOutputWritable(FLAGS_json, "--json"));
  if (!FLAGS_html.empty()) {
    if (!with_int8) return Status::InvalidArgument("--html reports on an int8 model: give --int8_proto/--int8_model");
    QT_RETURN_IF_ERROR(CheckOutputWritable(FLAGS_html, "--html"));
  }

  Progress progress("evaluating", samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const std::string& first = samples[i].begin()->second;
    int label = -1;
    if (!labels.empty()) {
      auto it = labels.find(fs::path(first).filename().string());
      if (it == labels.end()) return Status::NotFound(labels_path + ": no label for " + first);
      label = it->second;
    }
    QT_RETURN_IF_ERROR(eval.Add(samples[i], label));
    progress.Update(i + 1);
  }
  const EvalSummary s = eval.Summary();
  PrintSummary(s);
  if (!rescaled.empty()) {
    std::printf("the int8 model rescales the channels of %zu blobs (channel equalization; the outputs are the "
                "same): its layers were compared with the fp32 model simplified and rescaled alike, the factors read "
                "from the two models' weights\n", rescaled.size());
  }
  if (!FLAGS_json.empty()) QT_RETURN_IF_ERROR(WriteFilesAtomically({{FLAGS_json, ToJson(s, rescaled)}}));
  if (!FLAGS_html.empty()) QT_RETURN_IF_ERROR(WriteHtml(proto, model, input, pre, reference, int8, samples, s));
  return Status::Ok();
}

}  // namespace
}  // namespace qt

int main(int argc, char** argv) {
  return qt::ToolMain(
      "model_eval",
      "accuracy of an fp32 model and its int8 model on a labelled folder, and per-layer agreement\n"
      "  model_eval -p model.tnnproto -m model.tnnmodel [--int8_proto q.quantized.tnnproto --int8_model "
      "q.quantized.tnnmodel] -i folder [--labels labels.txt] [-n mean] [-s scale] [-r 1] [--json out.json] "
      "[--html report.html]", argc, argv, qt::Run);
}
