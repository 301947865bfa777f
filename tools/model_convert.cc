// model_convert: reads any model the tools read (Caffe, TNN) and writes it as an fp32 TNN model.
#include <gflags/gflags.h>

#include <cstdio>

#include "core/graph/shape_inference.h"
#include "core/io/model_loader.h"
#include "core/io/tnn_io.h"
#include "tools/common/tool_util.h"

DEFINE_string(p, "", "model: Caffe .prototxt or .tnnproto (the format is detected from the content)");
DEFINE_string(proto, "", "same as -p");
DEFINE_string(m, "", "weights: .caffemodel or .tnnmodel");
DEFINE_string(model, "", "same as -m");
DEFINE_string(o, "", "output prefix: writes <o>.tnnproto and <o>.tnnmodel");
DEFINE_string(output, "", "same as -o");

namespace qt {
namespace {

Status Run() {
  std::string proto, model, output;
  QT_RETURN_IF_ERROR(PickFlag("p", FLAGS_p, "proto", FLAGS_proto, &proto));
  QT_RETURN_IF_ERROR(PickFlag("m", FLAGS_m, "model", FLAGS_model, &model));
  QT_RETURN_IF_ERROR(PickFlag("o", FLAGS_o, "output", FLAGS_output, &output));
  if (proto.empty()) return Status::InvalidArgument("no model given (-p)");
  if (output.empty()) return Status::InvalidArgument("no output prefix given (-o)");
  QT_RETURN_IF_ERROR(CheckOutputWritable(output, "-o"));

  Graph graph;
  InputShapes shapes;
  QT_RETURN_IF_ERROR(InputShapesFlag(&shapes));
  QT_RETURN_IF_ERROR(LoadModel(proto, model, &graph, shapes));
  for (const auto& l : graph.layers) {
    if (l.quantized) {
      return Status::InvalidArgument(proto + ": layer '" + l.name + "' is quantized; model_convert writes fp32 models");
    }
  }
  // Only a model whose shapes infer is written: TNN's runtime would refuse the rest at load time.
  BlobDims dims;
  QT_RETURN_IF_ERROR(InferShapes(graph, {}, &dims).WithContext(proto));
  const std::string proto_out = output + ".tnnproto", model_out = output + ".tnnmodel";
  QT_RETURN_IF_ERROR(WriteTnnModel(graph, proto_out, model_out));
  std::fprintf(stderr, "model_convert: wrote %s and %s (%zu layers, %zu inputs, %zu outputs)\n", proto_out.c_str(),
               model_out.c_str(), graph.layers.size(), graph.inputs.size(), graph.outputs.size());
  return Status::Ok();
}

}  // namespace
}  // namespace qt

int main(int argc, char** argv) {
  return qt::ToolMain(
      "model_convert",
      "writes a model as an fp32 TNN model\n"
      "  model_convert -p deploy.prototxt -m weights.caffemodel -o out     (writes out.tnnproto, out.tnnmodel)\n"
      "  model_convert -p model.tnnproto -m model.tnnmodel -o out", argc, argv, qt::Run);
}
