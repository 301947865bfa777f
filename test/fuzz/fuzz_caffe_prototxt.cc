// The Caffe importer on a fuzzed prototxt with a fixed caffemodel (the weights of the tiny seed model, matched to
// layers by name): text parsing, V1/V2 layers, parameter checks, shape inference, the clean-up passes.
#include "core/io/caffe_importer.h"
#include "test/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qt;
  static const std::string caffemodel = [] {
    const std::string bytes = fuzz::SourceFile("test/fuzz/corpus/fuzz_caffemodel/tiny_caffe.caffemodel");
    return fuzz::WriteTemp(".fixed.caffemodel", reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }();
  const std::string prototxt = fuzz::WriteTemp(".prototxt", data, size);
  Graph g;
  const Status s = ImportCaffeModel(prototxt, caffemodel, &g);
  if (!s.ok()) fuzz::CheckOneLine(s.message());
  return 0;
}
