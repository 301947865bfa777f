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

}  // namespace

Status LoadModel(const std::string& proto_path, const std::string& model_path, Graph* graph) {
  if (proto_path.empty()) return Status::InvalidArgument("no model given (-p)");
  std::vector<uint8_t> bytes;
  QT_RETURN_IF_ERROR(ReadFileBytes(proto_path, &bytes));
  if (LooksLikeTnnProto(bytes)) {
    if (model_path.empty()) {
      return Status::InvalidArgument(proto_path + ": a TNN model needs its .tnnmodel file too (-m)");
    }
    return ReadTnnModel(proto_path, model_path, graph);
  }
  const std::string head(bytes.begin(), bytes.begin() + std::min<size_t>(bytes.size(), 4096));
  if (LooksLikeCaffePrototxt(head)) return ImportCaffeModel(proto_path, model_path, graph);
  if (!model_path.empty()) {
    return Status::InvalidArgument(proto_path + ": neither a TNN .tnnproto (text beginning with \"1 \") nor a Caffe "
                                   "prototxt; an ONNX model is a single file, given with -p alone");
  }
  return ImportOnnxModel(bytes, proto_path, graph);
}

}  // namespace qt
