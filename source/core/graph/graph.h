#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/base/data_type.h"
#include "core/base/raw_buffer.h"
#include "core/base/status.h"
#include "core/base/tensor.h"
#include "core/graph/layer_params.h"
#include "core/graph/layer_resource.h"
#include "core/graph/layer_type.h"

namespace qt {

constexpr uint32_t kTnnMagicV1 = 0xFABC0002u;
constexpr uint32_t kTnnMagicV2 = 0xFABC0004u;

struct InputSpec {
  std::string name;
  Dims dims;  // NCHW
  DataType dtype = DataType::kFloat;
};

// Input dims given by the user by input name (the tools' --input_shape), fixing symbolic or wrong declared dims.
using InputShapes = std::map<std::string, Dims>;

struct Layer {
  LayerType type = LayerType::kRelu;
  // The type string as the model spells it, without the "Quantized" prefix (e.g. "SoftmaxCaffe").
  std::string type_str;
  std::string name;
  bool quantized = false;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  LayerParams params;

  template <typename T>
  const T& Params() const { return std::get<T>(params); }
  template <typename T>
  T& Params() { return std::get<T>(params); }
};

// A model: the layer list in execution order, named blobs, and the resources keyed by layer name and blob name.
struct Graph {
  uint32_t magic = kTnnMagicV2;     // of the proto as read; written models are always v2
  std::vector<InputSpec> inputs;     // the writer emits them in name order, as TNN does
  std::vector<std::string> outputs;  // the model's output blobs
  // The proto's declared blob list. TNN does not prune it when it fuses layers (§A.2), so it may name blobs
  // that no layer produces any more; kept for faithful rewriting and refreshed by RefreshBlobNames().
  std::vector<std::string> blob_names;
  std::vector<Layer> layers;
  std::map<std::string, LayerResource> resources;  // by layer name
  std::map<std::string, BlobScale> blob_scales;    // by blob name
  std::map<std::string, RawBuffer> constants;      // the optional constant map of the model file

  const Layer* FindLayer(const std::string& name) const;
  Layer* FindLayer(const std::string& name);
  const InputSpec* FindInput(const std::string& name) const;
  // Names of layers consuming a blob, in layer order.
  std::vector<const Layer*> Consumers(const std::string& blob) const;
  // The layer producing a blob, or nullptr for a model input or unknown blob.
  const Layer* Producer(const std::string& blob) const;

  // Sets blob_names to the union of the declared list and every blob the graph uses (sorted).
  void RefreshBlobNames();

  // Structural checks: unique layer names, every layer input is a model input or produced by an earlier
  // layer, every output is produced, each layer has the inputs/resources its type needs, params agree with
  // resource sizes. Messages name the layer and the rule.
  Status Validate() const;
};

}  // namespace qt
