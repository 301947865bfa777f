#pragma once

#include <string>
#include <vector>

#include "core/base/status.h"

namespace qt {

// Reads the param tokens of a .tnnproto layer line in order (tnn_format.md §A.4). The `...Or` forms take the
// value TNN's interpreter uses when the line ends before the param.
class ParamReader {
 public:
  explicit ParamReader(const std::vector<std::string>& tokens) : tokens_(tokens) {}

  bool AtEnd() const { return pos_ >= tokens_.size(); }
  Status Int(const char* name, int* v);
  Status IntOr(const char* name, int* v, int fallback);
  Status Float(const char* name, float* v);
  Status FloatOr(const char* name, float* v, float fallback);
  // A count that sizes a following list: must lie in [lo, hi].
  Status Count(const char* name, int* v, int lo, int hi);

 private:
  Status ParseInt(const char* name, int* v);
  Status ParseFloat(const char* name, float* v);

  const std::vector<std::string>& tokens_;
  size_t pos_ = 0;
};

class ParamWriter {
 public:
  explicit ParamWriter(std::vector<std::string>* tokens) : tokens_(tokens) {}
  void Int(int v) { tokens_->push_back(std::to_string(v)); }
  void Float(float v);

 private:
  std::vector<std::string>* tokens_;
};

// Shortest text that reads back as the same float (so a written model re-reads bit-identically).
std::string FormatFloat(float v);

}  // namespace qt
