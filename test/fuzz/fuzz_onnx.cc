// The ONNX importer: protobuf parsing, value table, op converters, constant folding at import, shape inference.
#include "core/io/onnx_importer.h"
#include "test/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qt;
  Graph g;
  const Status s = ImportOnnxModel(std::vector<uint8_t>(data, data + size), "fuzz.onnx", &g);
  if (!s.ok()) fuzz::CheckOneLine(s.message());
  return 0;
}
