// model_run: runs a model (fp32 or quantized) on one input and writes every output blob to a text file.
#include <gflags/gflags.h>

#include <algorithm>
#include <cstdio>

#include "core/base/parallel.h"
#include "core/io/model_loader.h"
#include "core/io/tnn_io.h"
#include "core/layers/detection_output.h"
#include "core/runtime/net.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/inputs/preprocess.h"
#include "tools/common/tool_util.h"

DEFINE_string(p, "", "model: .tnnproto or Caffe .prototxt (the format is detected from the content)");
DEFINE_string(proto, "", "same as -p");
DEFINE_string(m, "", "weights: .tnnmodel or .caffemodel");
DEFINE_string(model, "", "same as -m");
DEFINE_string(i, "", "input file: image (.jpg .jpeg .png .bmp), NCHW .txt or .npy; for several model inputs, "
                     "a comma-separated list in input-name order");
DEFINE_string(input, "", "same as -i");
DEFINE_string(n, "", "per-channel value subtracted from image pixels, e.g. 104,117,123 (default 0)");
DEFINE_string(bias, "", "same as -n");
DEFINE_string(mean, "", "same as -n");
DEFINE_string(s, "", "per-channel multiplier applied after the subtraction, e.g. 0.0078125 (default 1)");
DEFINE_string(scale, "", "same as -s");
DEFINE_int32(r, 0, "1: feed image channels in BGR order (default RGB, as TNN's tool)");
DEFINE_int32(reverse_channel, 0, "same as -r");
DEFINE_string(o, "", "output text file: per output blob (by name) '# <name> <dims...>' then one value per line "
                     "(of a DetectionOutput, only its rows that are not padding)");
DEFINE_string(output, "", "same as -o");
DEFINE_int32(threads, 0, "threads (default: all cores)");

namespace qt {
namespace {

Status Run() {
  std::string proto, model, input, mean, mean2, scale, output;
  QT_RETURN_IF_ERROR(PickFlag("p", FLAGS_p, "proto", FLAGS_proto, &proto));
  QT_RETURN_IF_ERROR(PickFlag("m", FLAGS_m, "model", FLAGS_model, &model));
  QT_RETURN_IF_ERROR(PickFlag("i", FLAGS_i, "input", FLAGS_input, &input));
  QT_RETURN_IF_ERROR(PickFlag("n", FLAGS_n, "bias", FLAGS_bias, &mean2));
  QT_RETURN_IF_ERROR(PickFlag("n", mean2, "mean", FLAGS_mean, &mean));
  QT_RETURN_IF_ERROR(PickFlag("s", FLAGS_s, "scale", FLAGS_scale, &scale));
  QT_RETURN_IF_ERROR(PickFlag("o", FLAGS_o, "output", FLAGS_output, &output));
  if (input.empty()) return Status::InvalidArgument("no input file given (-i)");
  if (output.empty()) return Status::InvalidArgument("no output file given (-o)");
  if (FLAGS_threads > 0) SetNumThreads(FLAGS_threads);

  Graph graph;
  InputShapes shapes;
  QT_RETURN_IF_ERROR(InputShapesFlag(&shapes));
  QT_RETURN_IF_ERROR(LoadModel(proto, model, &graph, shapes));
  Net net;
  QT_RETURN_IF_ERROR(net.Init(graph));
  net.set_recycle_blobs(true);  // only the outputs are read

  const auto files = SplitList(input);
  if (files.size() != net.inputs().size()) {
    return Status::InvalidArgument("the model has " + std::to_string(net.inputs().size()) + " inputs but -i names " +
                                   std::to_string(files.size()) + " files");
  }
  std::vector<InputSpec> inputs = net.inputs();
  std::sort(inputs.begin(), inputs.end(), [](const InputSpec& a, const InputSpec& b) { return a.name < b.name; });
  Preprocess pre;
  QT_RETURN_IF_ERROR(ParsePreprocess(mean, scale, FLAGS_r == 1 || FLAGS_reverse_channel == 1, &pre));
  for (size_t k = 0; k < inputs.size(); ++k) {
    const auto& dims = net.blob_dims().at(inputs[k].name);
    Tensor t;
    QT_RETURN_IF_ERROR(LoadInput(files[k], dims, pre, &t));
    QT_RETURN_IF_ERROR(net.SetInput(inputs[k].name, t));
  }
  QT_RETURN_IF_ERROR(net.Forward());

  std::vector<std::string> outputs = net.outputs();
  std::sort(outputs.begin(), outputs.end());
  std::string text;
  char buf[64];
  for (const auto& name : outputs) {
    Tensor t;
    QT_RETURN_IF_ERROR(net.GetBlob(name, &t));
    // A DetectionOutput's rows past its detections are padding of a static shape: written as TNN's runtime
    // reports the blob, with dims[2] the kept count.
    bool detections = false;
    for (const auto& l : graph.layers) {
      detections = detections || (l.type == LayerType::kDetectionOutput && l.outputs[0] == name);
    }
    if (detections) {
      const int rows = DetectionOutputValidRows(t);
      t.data.resize(static_cast<size_t>(rows) * 7);
      t.dims = {1, 1, rows, 7};
    }
    text += "# " + name;
    for (int d : t.dims) text += " " + std::to_string(d);
    text += "\n";
    for (float v : t.data) {
      std::snprintf(buf, sizeof(buf), "%.9g\n", v);
      text += buf;
    }
  }
  return WriteFilesAtomically({{output, text}});
}

}  // namespace
}  // namespace qt

int main(int argc, char** argv) {
  return qt::ToolMain(
      "model_run",
      "runs a model on one input and writes its outputs\n"
      "  model_run -p model.tnnproto -m model.tnnmodel -i input.jpg [-n 104,117,123] [-s 1,1,1] [-r 1] -o out.txt\n"
      "  (-p deploy.prototxt -m weights.caffemodel reads a Caffe model, -p model.onnx an ONNX model)",
      argc, argv, qt::Run);
}
