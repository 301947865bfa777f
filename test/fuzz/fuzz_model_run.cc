// Model loading (format detected by content, as the tools do) + shape inference + one fp32 forward on the model's
// own input dims, so that a file that parses but describes an absurd graph is caught too. The input is the -p file,
// optionally followed by the marker below and the -m file (a TNN or Caffe pair); ONNX seeds have no marker.
#include <cstring>

#include "core/base/parallel.h"
#include "core/io/model_loader.h"
#include "core/runtime/net.h"
#include "test/fuzz/fuzz_util.h"

namespace {
constexpr char kSeparator[] = "\n@@QTFUZZ-MODEL@@\n";  // keep in sync with make_seeds.py
// The forward pass is skipped for graphs whose blobs hold more values than this in all: the target exercises the
// engine on small inputs; the shape-inference bound (core/layers/layer.cc) is what guards the tools.
constexpr int64_t kForwardLimit = int64_t{1} << 22;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qt;
  static const bool single_thread = [] {
    SetNumThreads(1);
    return true;
  }();
  (void)single_thread;
  const uint8_t* sep = static_cast<const uint8_t*>(
      memmem(data, size, kSeparator, sizeof(kSeparator) - 1));
  const size_t proto_size = sep ? static_cast<size_t>(sep - data) : size;
  const std::string proto = fuzz::WriteTemp(".p", data, proto_size);
  std::string model;
  if (sep) {
    const size_t start = proto_size + sizeof(kSeparator) - 1;
    model = fuzz::WriteTemp(".m", data + start, size - start);
  }
  Graph g;
  Status s = LoadModel(proto, model, &g);
  if (!s.ok()) {
    fuzz::CheckOneLine(s.message());
    return 0;
  }
  BlobDims dims;
  s = InferShapes(g, {}, &dims);
  if (!s.ok()) {
    fuzz::CheckOneLine(s.message());
    return 0;
  }
  int64_t total = 0;
  for (const auto& [name, d] : dims) total += DimsCount(d);
  if (total > kForwardLimit) return 0;
  Net net;
  s = net.Init(g);
  if (!s.ok()) {
    fuzz::CheckOneLine(s.message());
    return 0;
  }
  for (const auto& in : net.inputs()) {
    Tensor t(dims.at(in.name));
    for (int64_t i = 0; i < t.count(); ++i) t.data[i] = static_cast<float>(i % 7 - 3) * 0.25f;
    s = net.SetInput(in.name, t);
    if (!s.ok()) {
      fuzz::CheckOneLine(s.message());
      return 0;
    }
  }
  s = net.Forward();
  if (!s.ok()) fuzz::CheckOneLine(s.message());
  return 0;
}
