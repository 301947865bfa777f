#include "core/io/model_loader.h"

#include "core/io/tnn_io.h"

namespace qt {

Status LoadModel(const std::string& proto_path, const std::string& model_path, Graph* graph) {
  if (proto_path.empty()) return Status::InvalidArgument("no model given (-p)");
  if (model_path.empty()) {
    return Status::InvalidArgument(proto_path + ": a TNN model needs its .tnnmodel file too (-m)");
  }
  return ReadTnnModel(proto_path, model_path, graph);
}

}  // namespace qt
