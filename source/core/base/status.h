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
  Status(StatusCode code, std::string message) : code_(code), message_(OneLine(std::move(message))) {}
  // Messages quote names and tokens read from untrusted files; a control character among them (a newline in a
  // layer name) would break the one-line error, so it is shown escaped.
  static std::string OneLine(std::string m) {
    size_t i = 0;
    while (i < m.size() && static_cast<unsigned char>(m[i]) >= 0x20 && m[i] != 0x7f) ++i;
    if (i == m.size()) return m;
    std::string out = m.substr(0, i);
    static const char kHex[] = "0123456789abcdef";
    for (; i < m.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(m[i]);
      if (c >= 0x20 && c != 0x7f) {
        out += m[i];
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\t') {
        out += "\\t";
      } else {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  }
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace qt

#define QT_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::qt::Status qt_status_ = (expr);     \
    if (!qt_status_.ok()) return qt_status_; \
  } while (0)
