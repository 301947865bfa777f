#pragma once

#include <cstddef>
#include <cstdint>

namespace qt {

// Values are TNN's DataType ids, as stored in .tnnmodel raw buffers and in v2 input lines.
enum class DataType : int32_t {
  kFloat = 0,
  kHalf = 1,
  kInt8 = 2,
  kInt32 = 3,
  kBfp16 = 4,
  kInt64 = 5,
  kUint32 = 6,
};

// Bytes per element; 0 for an id that is not a known DataType.
size_t DataTypeSize(DataType t);
bool IsKnownDataType(int32_t id);
const char* DataTypeName(DataType t);

// IEEE binary16 <-> binary32, round to nearest even; handles subnormals, Inf and NaN.
float HalfToFloat(uint16_t h);
uint16_t FloatToHalf(float f);
float Bfp16ToFloat(uint16_t b);

}  // namespace qt
