#include "core/base/file_io.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace qt {

Status ReadFileBytes(const std::string& path, std::vector<uint8_t>* bytes) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Status::IoError(path + ": cannot open (" + std::strerror(errno) + ")");
  if (S_ISDIR(st.st_mode)) return Status::IoError(path + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot open (" + std::strerror(errno) + ")");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  bytes->resize(static_cast<size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes->data()), size)) {
    return Status::IoError(path + ": read failed");
  }
  return Status::Ok();
}

Status ReadFileText(const std::string& path, std::string* text) {
  std::vector<uint8_t> bytes;
  QT_RETURN_IF_ERROR(ReadFileBytes(path, &bytes));
  text->assign(bytes.begin(), bytes.end());
  return Status::Ok();
}

}  // namespace qt
