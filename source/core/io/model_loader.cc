#include "core/io/model_loader.h"

#include "core/io/caffe_importer.h"
#include "core/io/onnx_importer.h"
#include "core/io/tnn_io.h"

namespace qt {
namespace {

// A .tnnproto is text whose first segment is `"1 <blob count> 1 <magic> ,"` (quotes optional).
bool LooksLikeTnnProto(const std::vector<uint8_t>& bytes) {
  size_t k = 0;
  while (k < bytes.size() && (bytes[k] == ' ' || bytes[k] == '\t' || bytes[k] == '\r' || bytes[k] == '\n')) ++k;
  if (k < bytes.size() && bytes[k] == '"') ++k;
  return k + 1 < bytes.size() && bytes[k] == '1' && bytes[k + 1] == ' ';
}

Status CheckInputShapes(const std::string& source, const InputShapes& shapes, const Graph& graph) {
  for (const auto& [name, dims] : shapes) {
    if (graph.FindInput(name)) continue;
    std::string names;
    for (const auto& in : graph.inputs) names += (names.empty() ? "" : ", ") + in.name;
    return Status::InvalidArgument(source + ": an input shape is given for '" + name +
                                   "', which is not an input of the model (its inputs: " + names + ")");
  }
  return Status::Ok();
}

Status LoadAnyModel(const std::string& proto_path, const std::string& model_path, const InputShapes& input_shapes,
                    Graph* graph) {
  if (proto_path.empty()) return Status::InvalidArgument("no model given (-p)");
  std::vector<uint8_t> bytes;
  QT_RETURN_IF_ERROR(ReadFileBytes(proto_path, &bytes));
  if (LooksLikeTnnProto(bytes)) {
    if (model_path.empty()) {
      return Status::InvalidArgument(proto_path + ": a TNN model needs its .tnnmodel file too (-m)");
    }
    QT_RETURN_IF_ERROR(ReadTnnModel(proto_path, model_path, graph));
    for (auto& in : graph->inputs) {
      auto it = input_shapes.find(in.name);
      if (it != input_shapes.end()) in.dims = it->second;
    }
    return Status::Ok();
  }
  const std::string head(bytes.begin(), bytes.begin() + std::min<size_t>(bytes.size(), 4096));
  if (LooksLikeCaffePrototxt(head)) return ImportCaffeModel(proto_path, model_path, graph, input_shapes);
  if (!model_path.empty()) {
    return Status::InvalidArgument(proto_path + ": neither a TNN .tnnproto (text beginning with \"1 \") nor a Caffe "
                                   "prototxt; an ONNX model is a single file, given with -p alone");
  }
  return ImportOnnxModel(bytes, proto_path, graph, input_shapes);
}

}  // namespace

Status LoadModel(const std::string& proto_path, const std::string& model_path, Graph* graph,
                 const InputShapes& input_shapes) {
  for (const auto& [name, dims] : input_shapes) {
    if (dims.empty() || dims.size() > 6) {
      return Status::InvalidArgument("the input shape given for '" + name + "' has " + std::to_string(dims.size()) +
                                     " dims, must have 1 to 6");
    }
    for (int d : dims) {
      if (d < 1 || d > (1 << 20)) {
        return Status::InvalidArgument("the input shape given for '" + name + "' is " + DimsToString(dims) +
                                       ": each dim must be in [1, 2^20]");
      }
    }
  }
  QT_RETURN_IF_ERROR(LoadAnyModel(proto_path, model_path, input_shapes, graph));
  return CheckInputShapes(proto_path, input_shapes, *graph);
}

}  // namespace qt
