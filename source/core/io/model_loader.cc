#include "core/io/model_loader.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/io/caffe_importer.h"
#include "core/io/tnn_io.h"

namespace qt {
namespace {

// The first bytes of a file, enough to tell the formats apart.
Status FileHead(const std::string& path, std::string* head) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return Status::IoError(path + ": cannot open (" + std::strerror(errno) + ")");
  head->assign(4096, '\0');
  in.read(head->data(), static_cast<std::streamsize>(head->size()));
  head->resize(in ? head->size() : static_cast<size_t>(in.gcount()));
  return Status::Ok();
}

}  // namespace

Status LoadModel(const std::string& proto_path, const std::string& model_path, Graph* graph) {
  if (proto_path.empty()) return Status::InvalidArgument("no model given (-p)");
  std::string head;
  QT_RETURN_IF_ERROR(FileHead(proto_path, &head));
  if (LooksLikeCaffePrototxt(head)) return ImportCaffeModel(proto_path, model_path, graph);
  if (model_path.empty()) {
    return Status::InvalidArgument(proto_path + ": a TNN model needs its .tnnmodel file too (-m)");
  }
  return ReadTnnModel(proto_path, model_path, graph);
}

}  // namespace qt
