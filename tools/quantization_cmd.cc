// quantization_cmd: calibrates an fp32 model on a folder of inputs and writes a TNN int8 model.
#include <gflags/gflags.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "core/base/parallel.h"
#include "core/io/model_loader.h"
#include "core/io/tnn_io.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/quantizer/quantizer.h"
#include "tools/common/tool_util.h"

DEFINE_string(p, "", "model: .tnnproto or Caffe .prototxt (the format is detected from the content)");
DEFINE_string(proto, "", "same as -p");
DEFINE_string(m, "", "weights: .tnnmodel or .caffemodel");
DEFINE_string(model, "", "same as -m");
DEFINE_string(i, "", "folder of calibration inputs: .jpg .jpeg .png .bmp images, NCHW .txt or .npy tensors");
DEFINE_string(input_path, "", "same as -i");
DEFINE_int32(b, 0, "blob method: 0 Min-Max, 2 KL, 3 asymmetric Min-Max, 4 ACIQ-Gauss, 5 ACIQ-Laplace");
DEFINE_int32(blob_method, -1, "same as -b");
DEFINE_int32(w, 0, "weight method: 0 Min-Max, 1 ADMM, 3 asymmetric Min-Max");
DEFINE_int32(weight_method, -1, "same as -w");
DEFINE_int32(t, 1, "merge type: 0 per-channel blobs and weights, 1 per-channel weights with per-tensor blobs "
                   "(default: TNN's own table shows it most accurate), 2 per-tensor both");
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
DEFINE_int32(threads, 0, "threads (default: all cores)");

namespace qt {
namespace {

// True while a "\r" progress line is on the terminal, so that an error starts on a line of its own.
bool g_progress_open = false;

void Log(const std::string& line) {
  std::fputs(line.c_str(), stderr);
  if (!line.empty()) g_progress_open = line.back() != '\n';
}

int PickInt(int short_value, int long_value) { return long_value >= 0 ? long_value : short_value; }

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
  if (FLAGS_threads > 0) SetNumThreads(FLAGS_threads);

  QuantizeOptions options;
  options.tnn_compat = FLAGS_compat == "tnn";
  QT_RETURN_IF_ERROR(ParseBlobMethod(PickInt(FLAGS_b, FLAGS_blob_method), &options.blob_method));
  QT_RETURN_IF_ERROR(ParseWeightMethod(PickInt(FLAGS_w, FLAGS_weight_method), &options.weight_method));
  const int merge = PickInt(FLAGS_t, FLAGS_merge_type);
  if (merge < 0 || merge > 2) return Status::InvalidArgument("-t " + std::to_string(merge) + " is not 0, 1 or 2");
  options.merge = static_cast<MergeType>(merge);
  if (!mean.empty()) QT_RETURN_IF_ERROR(ParseFloatList(mean, "-n", &options.preprocess.mean));
  if (!scale.empty()) QT_RETURN_IF_ERROR(ParseFloatList(scale, "-s", &options.preprocess.scale));
  options.preprocess.reverse_channel = FLAGS_r == 1 || FLAGS_reverse_channel == 1;
  QT_RETURN_IF_ERROR(CheckOutputFolder(output));

  Graph fp32;
  QT_RETURN_IF_ERROR(LoadModel(proto, model, &fp32));
  for (const auto& in : fp32.inputs) {
    if (in.dims.size() > 1) QT_RETURN_IF_ERROR(options.preprocess.Validate(in.dims[1], in.name));
  }
  std::vector<std::string> input_names;
  for (const auto& in : fp32.inputs) input_names.push_back(in.name);
  std::vector<CalibrationSample> files;
  QT_RETURN_IF_ERROR(ListCalibrationSamples(input, input_names, &files));
  std::fprintf(stderr, "quantization_cmd: %zu calibration inputs, blob method %s, weight method %s, merge type %d%s\n",
               files.size(), BlobMethodName(options.blob_method), WeightMethodName(options.weight_method), merge,
               options.tnn_compat ? ", TNN-compatible arithmetic" : "");
  const auto start = std::chrono::steady_clock::now();
  Graph quantized;
  QT_RETURN_IF_ERROR(QuantizeGraph(fp32, files, options,
                                   Log, &quantized));
  QT_RETURN_IF_ERROR(WriteTnnModel(quantized, output + ".quantized.tnnproto", output + ".quantized.tnnmodel"));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::fprintf(stderr, "\n%-28s %-10s %14s %14s\n", "quantized layer", "type", "min scale", "max scale");
  for (const auto& l : quantized.layers) {
    if (!l.quantized) continue;
    const auto& s = quantized.blob_scales.at(l.outputs[0]).scale;
    std::fprintf(stderr, "%-28s %-10s %14.6g %14.6g\n", l.name.c_str(), LayerTypeName(l.type),
                 *std::min_element(s.begin(), s.end()), *std::max_element(s.begin(), s.end()));
  }
  std::fprintf(stderr, "wrote %s.quantized.tnnproto and %s.quantized.tnnmodel in %.2f s\n", output.c_str(),
               output.c_str(), secs);
  return Status::Ok();
}

}  // namespace
}  // namespace qt

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "calibrates a model and writes a TNN int8 model\n"
      "  quantization_cmd -p model.tnnproto -m model.tnnmodel -i calib_folder [-b 0|2|3|4|5] [-w 0|1|3] "
      "[-t 0|1|2] [-n mean] [-s scale] [-r 1] [-o prefix] [--compat tnn]\n"
      "  (-p deploy.prototxt -m weights.caffemodel reads a Caffe model; the output is always TNN)");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (argc > 1) {
    std::fprintf(stderr, "quantization_cmd: error: unexpected argument '%s'\n", argv[1]);
    return 1;
  }
  const qt::Status s = qt::Run();
  if (!s.ok()) {
    if (qt::g_progress_open) std::fputc('\n', stderr);
    return qt::FailWith("quantization_cmd", s);
  }
  return 0;
}
