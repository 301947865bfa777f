#pragma once

#include <memory>
#include <vector>

#include "core/base/status.h"
#include "core/base/tensor.h"
#include "core/graph/graph.h"
#include "core/kernels/kernels_fp32.h"

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
};

// The pooling kernel's geometry for a Pooling layer on an NCHW input of dims `in` (shared by the float and int8
// executors, which differ only in how an average counts the padding).
Status MakePool2dParams(const PoolParams& p, const Dims& in, bool count_include_pad, Pool2dParams* out);

// The float executor of a layer type (one switch over LayerType).
std::unique_ptr<LayerExec> CreateFp32LayerExec(const Layer& layer, bool tnn_naive = false);
// The int8 executor of a quantized layer, or an error naming a quantized type the runtime cannot run.
Status CreateInt8LayerExec(const Layer& layer, std::unique_ptr<LayerExec>* exec);

}  // namespace qt
