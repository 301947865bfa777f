#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "data_type.h"

namespace qt {

// A typed byte buffer as stored in a .tnnmodel resource: data type, optional dims, raw little-endian bytes.
// Dims are informational for weights but carry the tensor shape for binary-op constants (§B.1), so they are
// always preserved.
class RawBuffer {
 public:
  RawBuffer() = default;
  RawBuffer(DataType dtype, std::vector<int32_t> dims, std::vector<uint8_t> bytes)
      : dtype_(dtype), dims_(std::move(dims)), bytes_(std::move(bytes)) {}

  template <typename T>
  static RawBuffer From(DataType dtype, const std::vector<T>& values, std::vector<int32_t> dims = {}) {
    std::vector<uint8_t> bytes(values.size() * sizeof(T));
    if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    return RawBuffer(dtype, std::move(dims), std::move(bytes));
  }
  static RawBuffer FromFloat(const std::vector<float>& v, std::vector<int32_t> dims = {}) {
    return From(DataType::kFloat, v, std::move(dims));
  }
  static RawBuffer FromInt8(const std::vector<int8_t>& v, std::vector<int32_t> dims = {}) {
    return From(DataType::kInt8, v, std::move(dims));
  }
  static RawBuffer FromInt32(const std::vector<int32_t>& v, std::vector<int32_t> dims = {}) {
    return From(DataType::kInt32, v, std::move(dims));
  }

  DataType dtype() const { return dtype_; }
  const std::vector<int32_t>& dims() const { return dims_; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  bool empty() const { return bytes_.empty(); }
  int64_t count() const {
    const size_t s = DataTypeSize(dtype_);
    return s == 0 ? 0 : static_cast<int64_t>(bytes_.size() / s);
  }

  // Values as float32: half and bfloat16 are converted, integer types converted numerically.
  std::vector<float> ToFloat() const;

  // Elements of a buffer whose dtype is T's (caller checks dtype()).
  template <typename T>
  std::vector<T> As() const {
    std::vector<T> v(bytes_.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), bytes_.data(), v.size() * sizeof(T));
    return v;
  }

  bool operator==(const RawBuffer& o) const {
    return dtype_ == o.dtype_ && dims_ == o.dims_ && bytes_ == o.bytes_;
  }
  bool operator!=(const RawBuffer& o) const { return !(*this == o); }

 private:
  DataType dtype_ = DataType::kFloat;
  std::vector<int32_t> dims_;
  std::vector<uint8_t> bytes_;
};

}  // namespace qt
