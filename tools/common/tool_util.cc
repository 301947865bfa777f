#include "tools/common/tool_util.h"

#include <unistd.h>

#include <filesystem>

namespace qt {

Status PickFlag(const char* short_name, const std::string& short_value, const char* long_name,
                const std::string& long_value, std::string* value) {
  if (!short_value.empty() && !long_value.empty() && short_value != long_value) {
    return Status::InvalidArgument(std::string("-") + short_name + " and --" + long_name +
                                   " give different values ('" + short_value + "' and '" + long_value + "')");
  }
  *value = short_value.empty() ? long_value : short_value;
  return Status::Ok();
}

Status CheckOutputFolder(const std::string& prefix) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(prefix).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::IoError("-o " + prefix + ": folder '" + dir.string() + "' does not exist");
  if (access(dir.c_str(), W_OK) != 0) return Status::IoError("-o " + prefix + ": folder '" + dir.string() + "' is not writable");
  return Status::Ok();
}

}  // namespace qt
