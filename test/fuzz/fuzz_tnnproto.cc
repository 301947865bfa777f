// The .tnnproto text parser, then the graph checks a reader runs on it (Validate, shape inference).
#include "core/graph/shape_inference.h"
#include "core/io/tnn_io.h"
#include "test/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qt;
  Graph g;
  const Status s = ParseTnnProto(std::string(reinterpret_cast<const char*>(data), size), "fuzz.tnnproto", &g);
  if (!s.ok()) {
    fuzz::CheckOneLine(s.message());
    return 0;
  }
  const Status v = g.Validate();
  if (!v.ok()) fuzz::CheckOneLine(v.message());
  BlobDims dims;
  const Status i = InferShapes(g, {}, &dims);
  if (!i.ok()) fuzz::CheckOneLine(i.message());
  // What the writer makes of a parsed graph must read back.
  Graph again;
  const std::string rewritten = SerializeTnnProto(g);
  const Status r = ParseTnnProto(rewritten, "rewritten.tnnproto", &again);
  if (!r.ok()) {
    std::fprintf(stderr, "the rewritten proto does not read back: %s\n%s\n", r.message().c_str(), rewritten.c_str());
    std::abort();
  }
  return 0;
}
