// The .txt tensor reader (whitespace-separated floats) for a 1x1x4x4 input.
#include "quantization/inputs/input_loader.h"
#include "test/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qt;
  const std::string path = fuzz::WriteTemp(".txt", data, size);
  Tensor t;
  const Status s = LoadInput(path, {1, 1, 4, 4}, Preprocess(), &t);
  if (!s.ok()) fuzz::CheckOneLine(s.message());
  return 0;
}
