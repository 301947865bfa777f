#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/io/tnn_io.h"

namespace qt {

Status WriteFilesAtomically(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> temps;
  auto cleanup = [&]() {
    for (const auto& t : temps) std::remove(t.c_str());
  };
  for (const auto& [path, content] : files) {
    const std::string tmp = path + ".tmp." + std::to_string(getpid());
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) {
      const std::string why = std::strerror(errno);
      cleanup();
      return Status::IoError(path + ": cannot write (" + why + ")");
    }
    temps.push_back(tmp);
    const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
    if (std::fclose(f) != 0 || !ok) {
      cleanup();
      return Status::IoError(path + ": write failed (disk full?)");
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (std::rename(temps[i].c_str(), files[i].first.c_str()) != 0) {
      const std::string why = std::strerror(errno);
      for (size_t j = 0; j < i; ++j) std::remove(files[j].first.c_str());
      cleanup();
      return Status::IoError(files[i].first + ": cannot rename into place (" + why + ")");
    }
  }
  return Status::Ok();
}

Status ReadTnnModel(const std::string& proto_path, const std::string& model_path, Graph* graph) {
  std::string text;
  QT_RETURN_IF_ERROR(ReadFileText(proto_path, &text));
  QT_RETURN_IF_ERROR(ParseTnnProto(text, proto_path, graph));
  std::vector<uint8_t> bytes;
  QT_RETURN_IF_ERROR(ReadFileBytes(model_path, &bytes));
  QT_RETURN_IF_ERROR(ParseTnnModel(bytes, model_path, graph));
  return graph->Validate().WithContext(proto_path);
}

Status WriteTnnModel(const Graph& graph, const std::string& proto_path, const std::string& model_path) {
  const std::vector<uint8_t> model = SerializeTnnModel(graph);
  return WriteFilesAtomically(
      {{proto_path, SerializeTnnProto(graph)}, {model_path, std::string(model.begin(), model.end())}});
}

}  // namespace qt
