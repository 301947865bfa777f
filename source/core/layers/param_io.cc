#include "core/layers/param_io.h"

#include <charconv>
#include <cmath>

namespace qt {
namespace {

Status TooFew(const char* name, size_t pos) {
  return Status::ParseError(std::string("too few params: '") + name + "' (param " + std::to_string(pos + 1) +
                            ") is missing");
}

}  // namespace

Status ParamReader::Int(const char* name, int* v) {
  if (AtEnd()) return TooFew(name, pos_);
  return ParseInt(name, v);
}

Status ParamReader::IntOr(const char* name, int* v, int fallback) {
  if (AtEnd()) {
    *v = fallback;
    return Status::Ok();
  }
  return ParseInt(name, v);
}

Status ParamReader::Float(const char* name, float* v) {
  if (AtEnd()) return TooFew(name, pos_);
  return ParseFloat(name, v);
}

Status ParamReader::FloatOr(const char* name, float* v, float fallback) {
  if (AtEnd()) {
    *v = fallback;
    return Status::Ok();
  }
  return ParseFloat(name, v);
}

Status ParamReader::Count(const char* name, int* v, int lo, int hi) {
  QT_RETURN_IF_ERROR(Int(name, v));
  if (*v < lo || *v > hi) {
    return Status::ParseError(std::string("param '") + name + "' is " + std::to_string(*v) + ", must be in [" +
                              std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return Status::Ok();
}

Status ParamReader::ParseInt(const char* name, int* v) {
  const std::string& t = tokens_[pos_++];
  const char* end = t.data() + t.size();
  auto [ptr, ec] = std::from_chars(t.data(), end, *v);
  if (ec != std::errc() || ptr != end) {
    return Status::ParseError(std::string("param '") + name + "' is '" + t + "', not an integer");
  }
  return Status::Ok();
}

Status ParamReader::ParseFloat(const char* name, float* v) {
  const std::string& t = tokens_[pos_++];
  const char* end = t.data() + t.size();
  auto [ptr, ec] = std::from_chars(t.data(), end, *v);
  if (ec != std::errc() || ptr != end || !std::isfinite(*v)) {
    return Status::ParseError(std::string("param '") + name + "' is '" + t + "', not a finite number");
  }
  return Status::Ok();
}

void ParamWriter::Float(float v) { tokens_->push_back(FormatFloat(v)); }

std::string FormatFloat(float v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  return std::string(buf, ptr);
}

}  // namespace qt
