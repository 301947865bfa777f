#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace qt {

// A whole file, read in one call. Errors name the file: missing or unreadable, a directory, a short read.
Status ReadFileBytes(const std::string& path, std::vector<uint8_t>* bytes);
Status ReadFileText(const std::string& path, std::string* text);

}  // namespace qt
