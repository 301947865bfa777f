#pragma once

#include <string>
#include <utility>

namespace qt {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kUnsupported,
  kNotFound,
  kIoError,
  kParseError,
  kInternal,
};

// The result of a library call. Messages name the file or object, the value and the rule broken, so that a
// tool can print them as its one-line error. Only tools/ turns a Status into an exit code.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return Status(StatusCode::kInvalidArgument, std::move(m)); }
  static Status Unsupported(std::string m) { return Status(StatusCode::kUnsupported, std::move(m)); }
  static Status NotFound(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
  static Status IoError(std::string m) { return Status(StatusCode::kIoError, std::move(m)); }
  static Status ParseError(std::string m) { return Status(StatusCode::kParseError, std::move(m)); }
  static Status Internal(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with context, e.g. the file name: "model.tnnmodel: <message>".
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace qt

#define QT_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::qt::Status qt_status_ = (expr);     \
    if (!qt_status_.ok()) return qt_status_; \
  } while (0)
