#include "raw_buffer.h"

namespace qt {

std::vector<float> RawBuffer::ToFloat() const {
  const int64_t n = count();
  std::vector<float> out(static_cast<size_t>(n));
  switch (dtype_) {
    case DataType::kFloat:
      if (n > 0) std::memcpy(out.data(), bytes_.data(), n * sizeof(float));
      break;
    case DataType::kHalf:
    case DataType::kBfp16: {
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, bytes_.data() + 2 * i, 2);
        out[i] = dtype_ == DataType::kHalf ? HalfToFloat(h) : Bfp16ToFloat(h);
      }
      break;
    }
    case DataType::kInt8:
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int8_t>(bytes_[i]);
      break;
    case DataType::kInt32:
      for (int64_t i = 0; i < n; ++i) {
        int32_t v;
        std::memcpy(&v, bytes_.data() + 4 * i, 4);
        out[i] = static_cast<float>(v);
      }
      break;
    case DataType::kUint32:
      for (int64_t i = 0; i < n; ++i) {
        uint32_t v;
        std::memcpy(&v, bytes_.data() + 4 * i, 4);
        out[i] = static_cast<float>(v);
      }
      break;
    case DataType::kInt64:
      for (int64_t i = 0; i < n; ++i) {
        int64_t v;
        std::memcpy(&v, bytes_.data() + 8 * i, 8);
        out[i] = static_cast<float>(v);
      }
      break;
  }
  return out;
}

}  // namespace qt
