#include "tools/common/tool_util.h"

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

}  // namespace qt
