#include "quantization/inputs/preprocess.h"

#include <cmath>
#include <cstdlib>

namespace qt {

Status Preprocess::Validate(int channels, const std::string& input_name) const {
  for (const auto* list : {&mean, &scale}) {
    if (list->size() > 1 && static_cast<int>(list->size()) != channels) {
      return Status::InvalidArgument(std::string(list == &mean ? "-n" : "-s") + " has " +
                                     std::to_string(list->size()) + " values but input '" + input_name + "' has " +
                                     std::to_string(channels) + " channels");
    }
  }
  return Status::Ok();
}

Status ParseFloatList(const std::string& text, const std::string& flag, std::vector<float>* values) {
  values->clear();
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
    char* end = nullptr;
    const float v = item.empty() ? 0.f : std::strtof(item.c_str(), &end);
    if (item.empty() || end != item.c_str() + item.size() || !std::isfinite(v)) {
      return Status::InvalidArgument(flag + " value '" + item + "' in '" + text + "' is not a finite number");
    }
    values->push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return Status::Ok();
}

Status ParsePreprocess(const std::string& mean, const std::string& scale, bool reverse_channel, Preprocess* pre) {
  *pre = Preprocess();
  if (!mean.empty()) QT_RETURN_IF_ERROR(ParseFloatList(mean, "-n", &pre->mean));
  if (!scale.empty()) QT_RETURN_IF_ERROR(ParseFloatList(scale, "-s", &pre->scale));
  pre->reverse_channel = reverse_channel;
  return Status::Ok();
}

}  // namespace qt
