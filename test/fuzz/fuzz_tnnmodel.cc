// The .tnnmodel binary parser with a fixed proto (the tiny Caffe model quantized: int8 convolutions and inner
// product, blob scales, float layers), then the graph's Validate.
#include "core/io/tnn_io.h"
#include "test/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qt;
  static const Graph proto = [] {
    Graph g;
    if (!ParseTnnProto(fuzz::SourceFile("test/fuzz/tnnmodel_fixed.tnnproto"), "tnnmodel_fixed.tnnproto", &g).ok()) {
      std::abort();
    }
    return g;
  }();
  Graph g = proto;
  const Status s = ParseTnnModel(std::vector<uint8_t>(data, data + size), "fuzz.tnnmodel", &g);
  if (!s.ok()) {
    fuzz::CheckOneLine(s.message());
    return 0;
  }
  const Status v = g.Validate();
  if (!v.ok()) fuzz::CheckOneLine(v.message());
  return 0;
}
