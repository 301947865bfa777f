#pragma once

// What the tools know about a layer kind, in one place per kind. Each file under source/core/layers/ holds one kind:
// its params struct (in its header), the TNN param reader and writer, the structural check, shape inference and
// the fp32/int8 executors, and exposes them as a LayerKind table. LayerKindOf (layer.cc) is the one switch over
// LayerType that finds it. The shared micro-kernels stay in core/kernels and core/int8.

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/base/tensor.h"
#include "core/graph/graph.h"
#include "core/int8/kernels_int8.h"
#include "core/kernels/kernels_fp32.h"
#include "core/layers/param_io.h"

namespace qt {

struct LayerContext {
  const Graph& graph;
  const Layer& layer;
  std::vector<Dims> in_dims;
  std::vector<Dims> out_dims;
};

// One layer's executor. Prepare runs once (weights converted, geometry and requantization multipliers
// precomputed); Forward runs per input. An int8 executor reads and writes int8 blobs.
class LayerExec {
 public:
  virtual ~LayerExec() = default;
  virtual bool is_int8() const { return false; }
  virtual Status Prepare(const LayerContext& ctx) = 0;
  virtual Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out);
  virtual Status ForwardInt8(const std::vector<const Int8Tensor*>& in, const std::vector<Int8Tensor*>& out);
  // A float layer that can also run on an int8 blob with one scale, giving the bytes that dequantizing its input,
  // Forward and quantizing its output give (a Pad, a copy): the executor runs it so between int8 layers, where
  // TNN's runtime puts a Reformat on either side.
  virtual bool forwards_int8_exactly() const { return false; }
  virtual Status ForwardInt8Exactly(const Int8Tensor& in, Int8Tensor* out);
  // A float convolution's kernel, for the executor to fuse it with its neighbour (Net); nullptr otherwise.
  virtual const ConvFp32* fp32_conv() const { return nullptr; }
};

// Float execution options shared by every float executor.
struct Fp32Options {
  // Float convolutions with TNN's NAIVE-device summation order (Conv2dFp32Tnn), for --compat tnn calibration.
  bool tnn_naive = false;
};

struct LayerKind {
  // The string TNN's own table spells the type with (and whose "Quantized" form the runtime accepts), then the
  // other spellings TNN's loader accepts for it.
  const char* name;
  std::array<const char*, 3> aliases;
  // TNN's LayerType integer id, as written in .tnnmodel resource headers.
  int tnn_id;
  // Whether TNN's loader accepts "Quantized" + name.
  bool has_quantized_form;
  // The params a layer line without params means.
  LayerParams (*default_params)();
  // Reads the param tokens of a layer line into params that hold the defaults; errors name the param and the
  // rule broken (the caller adds file and layer).
  Status (*parse)(ParamReader& r, LayerParams* params);
  // Writes every param (defaults included) in file order.
  void (*write)(const LayerParams& params, ParamWriter& w);
  // Input/output counts and the resources the kind needs (messages name the layer and the rule).
  Status (*check)(const Graph& graph, const Layer& layer);
  // Output dims from input dims.
  Status (*infer)(const Graph& graph, const Layer& layer, const std::vector<Dims>& in, std::vector<Dims>* out);
  std::unique_ptr<LayerExec> (*create_fp32)(const Layer& layer, const Fp32Options& options);
  // nullptr: the kind has no int8 kernel.
  std::unique_ptr<LayerExec> (*create_int8)(const Layer& layer);
};

const LayerKind& LayerKindOf(LayerType type);

// The float executor of a layer type.
std::unique_ptr<LayerExec> CreateFp32LayerExec(const Layer& layer, bool tnn_naive = false);
// The int8 executor of a quantized layer, or an error naming a quantized type the runtime cannot run.
Status CreateInt8LayerExec(const Layer& layer, std::unique_ptr<LayerExec>* exec);

// ---- Helpers the kinds share ----------------------------------------------------------------------------------

// "layer 'name' (Type)", the prefix of every per-layer message.
std::string LayerWhere(const Layer& l);

template <typename T>
const T* FindResource(const Graph& graph, const Layer& layer) {
  auto it = graph.resources.find(layer.name);
  return it == graph.resources.end() ? nullptr : std::get_if<T>(&it->second);
}
template <typename T>
const T* FindResource(const LayerContext& ctx) {
  return FindResource<T>(ctx.graph, ctx.layer);
}

// A negative axis counts from the end.
inline int NormalizeAxis(int axis, size_t rank) { return axis < 0 ? axis + static_cast<int>(rank) : axis; }

Status RequireInputs(const Layer& l, size_t lo, size_t hi);
Status RequireOutputs(const Layer& l, size_t n);
Status Require4D(const Layer& l, const Dims& d);
// Missing resource of the given kind ("convolution", "scale", ...).
Status MissingResource(const Layer& l, const char* kind);
Status CheckCount(const Layer& l, const char* what, int64_t have, int64_t want);

template <typename T>
LayerParams DefaultOf() {
  return T{};
}
inline LayerParams NoParams() { return std::monostate{}; }
inline Status ParseNothing(ParamReader&, LayerParams*) { return Status::Ok(); }
inline void WriteNothing(const LayerParams&, ParamWriter&) {}
Status CheckOneInOneOut(const Graph&, const Layer& l);
// The axis line of Concat, Softmax and Flatten (axis_params.cc).
Status ParseAxisParams(ParamReader& r, LayerParams* params);
void WriteAxisParams(const LayerParams& params, ParamWriter& w);
Status InferSame(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out);

// Activation codes of fused convolutions.
Activation ToActivation(int code, Status* status);

// ---- Int8 helpers ----------------------------------------------------------------------------------------------

// Values of a per-tensor (1) or per-channel (n) vector, expanded to n; empty means zeros.
template <typename T>
Status Expand(const std::vector<T>& v, int n, const std::string& what, std::vector<T>* out) {
  if (v.empty()) {
    out->assign(n, T{0});
  } else if (v.size() == 1) {
    out->assign(n, v[0]);
  } else if (static_cast<int>(v.size()) == n) {
    *out = v;
  } else {
    return Status::InvalidArgument(what + " has " + std::to_string(v.size()) + " values, expected 1 or " +
                                   std::to_string(n));
  }
  return Status::Ok();
}

Status BlobScaleOf(const LayerContext& ctx, const std::string& blob, const BlobScale** scale);

// The requantization of a conv / inner product whose int8 weights carry `weight_scale` and `weight_zero`
// (1 or out_c values), from the layer's input blob (in_channels zero points) to its output blob (for a convolution
// fused with an Add, the Add's output).
Status MakeRequant(const LayerContext& ctx, const RawBuffer& weight_scale, const RawBuffer& weight_zero, int out_c,
                   int in_channels, int activation, Int8Requant* r);
// The int32 bias of a quantized layer, or empty when it has none.
std::vector<int32_t> Int32Bias(const RawBuffer& bias);

}  // namespace qt
