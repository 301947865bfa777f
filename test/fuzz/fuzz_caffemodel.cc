// The Caffe importer on a fuzzed caffemodel with a fixed prototxt (the tiny seed model: convolutions, BatchNorm,
// Scale, PReLU, InnerProduct take weights): protobuf parsing, blob shapes against the layers, weight folding.
#include "core/io/caffe_importer.h"
#include "test/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qt;
  static const std::string prototxt = [] {
    const std::string text = fuzz::SourceFile("test/fuzz/corpus/fuzz_caffe_prototxt/tiny_caffe.prototxt");
    return fuzz::WriteTemp(".fixed.prototxt", reinterpret_cast<const uint8_t*>(text.data()), text.size());
  }();
  const std::string caffemodel = fuzz::WriteTemp(".caffemodel", data, size);
  Graph g;
  const Status s = ImportCaffeModel(prototxt, caffemodel, &g);
  if (!s.ok()) fuzz::CheckOneLine(s.message());
  return 0;
}
