#pragma once
// Internals of the ONNX importer (onnx_importer.cc, onnx_ops.cc, onnx_fold.cc); not part of the public API.
// Only these files include the protobuf-generated ONNX headers.

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/graph/graph.h"

namespace qt {
namespace onnx_import {

// Truncates toward zero as C++ does, but a value from a file may be NaN or past int64 (undefined behaviour in a
// plain cast): NaN gives 0, out-of-range values saturate.
int64_t SaturatingInt64(double v);

// A tensor known at import time: an initializer, a Constant node's value or a folded result. Float types
// (FLOAT, FLOAT16, BFLOAT16, DOUBLE) hold their values as float32 in `f`, integer and bool types as int64 in `i`.
struct ConstTensor {
  int32_t dtype = onnx::TensorProto::FLOAT;
  std::vector<int64_t> dims;
  std::vector<float> f;
  std::vector<int64_t> i;

  static bool IsFloatType(int32_t dtype);
  bool is_float() const { return IsFloatType(dtype); }
  int64_t count() const { return is_float() ? static_cast<int64_t>(f.size()) : static_cast<int64_t>(i.size()); }
  double At(int64_t k) const { return is_float() ? static_cast<double>(f[k]) : static_cast<double>(i[k]); }
  int64_t IntAt(int64_t k) const { return is_float() ? SaturatingInt64(f[k]) : i[k]; }
  // A tensor of `dims` with zero values.
  static ConstTensor Zeros(int32_t dtype, std::vector<int64_t> dims);
  // Copies element `from` of `src` (same storage kind) into element `to`.
  void CopyElement(int64_t to, const ConstTensor& src, int64_t from);
  std::vector<float> ToFloats() const;
  std::vector<int64_t> ToInts() const;
};

const char* DtypeName(int32_t dtype);
std::string ShapeString(const std::vector<int64_t>& dims);
int64_t ShapeCount(const std::vector<int64_t>& dims);

// Decodes an initializer or attribute tensor (raw_data or the typed fields). Errors name the rule broken
// (unsupported element type, external data, byte count that does not match the dims); the caller adds the name.
Status DecodeTensor(const onnx::TensorProto& t, ConstTensor* out);

// Ops evaluated at import time when all their inputs are constants (shape arithmetic, constant subgraphs).
bool IsFoldableOp(const std::string& op);
// Evaluates one foldable node on constant inputs (nullptr for an absent optional input). `outputs` receives one
// tensor per node output.
Status FoldNode(const onnx::NodeProto& node, int opset, const std::vector<const ConstTensor*>& inputs,
                std::vector<ConstTensor>* outputs);
// Output dims of Reshape (0 copies the input dim unless allowzero, one -1 is inferred), Squeeze (no axes: every
// dim of size 1) and Unsqueeze. Errors say which dims do not fit.
Status ReshapeDims(const std::vector<int64_t>& in, const std::vector<int64_t>& shape, bool allowzero,
                   std::vector<int64_t>* out);
Status SqueezeDims(const std::vector<int64_t>& in, const std::vector<int64_t>& axes, std::vector<int64_t>* out);
Status UnsqueezeDims(const std::vector<int64_t>& in, const std::vector<int64_t>& axes, std::vector<int64_t>* out);
// Cast's target type: an INT attribute, or before opset 6 the type's name ("FLOAT").
Status CastTarget(const onnx::NodeProto& node, int64_t* to);
// The value of a Constant node.
Status ConstantNodeValue(const onnx::NodeProto& node, ConstTensor* out);
// Shape's output for a tensor of `dims` (start/end of opset 15 clamped as ONNX specifies).
ConstTensor ShapeOf(const std::vector<int64_t>& dims, const onnx::NodeProto& node);

// Attribute access with type checks. Errors say which attribute has which wrong type.
const onnx::AttributeProto* FindAttr(const onnx::NodeProto& node, const std::string& name);
Status AttrInt(const onnx::NodeProto& node, const std::string& name, int64_t def, int64_t* v);
Status AttrFloat(const onnx::NodeProto& node, const std::string& name, float def, float* v);
Status AttrString(const onnx::NodeProto& node, const std::string& name, const std::string& def, std::string* v);
// Absent attribute: empty vector.
Status AttrInts(const onnx::NodeProto& node, const std::string& name, std::vector<int64_t>* v);
Status AttrFloats(const onnx::NodeProto& node, const std::string& name, std::vector<float>* v);

// A tensor computed at run time: the graph blob holding it and its (static) dims.
struct BlobInfo {
  std::string name;
  Dims dims;
};

class Builder;

// One ONNX node during conversion: its inputs as constants or blobs, its attributes, and the helpers that emit
// layers for it. Layer and blob names derive from the node's (sanitized) name and output names.
class NodeContext {
 public:
  NodeContext(Builder& builder, const onnx::NodeProto& node, int opset);

  const onnx::NodeProto& node() const { return node_; }
  const std::string& op() const { return node_.op_type(); }
  int opset() const { return opset_; }

  // Input i is present (an absent optional input is missing or has an empty name).
  bool Has(int i) const;
  const ConstTensor* Const(int i) const;
  Status RequireConst(int i, const char* role, const ConstTensor** c) const;
  Status RequireBlob(int i, BlobInfo* b) const;

  Status Int(const char* name, int64_t def, int64_t* v) const { return AttrInt(node_, name, def, v); }
  Status Float(const char* name, float def, float* v) const { return AttrFloat(node_, name, def, v); }
  Status Str(const char* name, const std::string& def, std::string* v) const {
    return AttrString(node_, name, def, v);
  }
  Status Ints(const char* name, std::vector<int64_t>* v) const { return AttrInts(node_, name, v); }

  // Output i is read by a later node or is a graph output.
  bool OutputUsed(int i) const;

  // Emits a layer reading `inputs` (blob names). With output_index >= 0 its output is ONNX output
  // `output_index` of the node; otherwise an intermediate blob named after the node and `suffix`. Infers the
  // output dims with the engine's shape inference; with `expect` set they must equal it (the ONNX shape).
  Status AddLayer(LayerType type, LayerParams params, std::optional<LayerResource> resource,
                  const std::vector<std::string>& inputs, int output_index, const std::string& suffix,
                  BlobInfo* out, const Dims* expect = nullptr);
  // Output i is the same tensor as `blob` (Identity and friends). A graph output gets a Dropout (identity) layer
  // so that it keeps its name; SimplifyGraph removes it where the producer can take the name over.
  Status Alias(int i, const BlobInfo& blob);
  void SetConst(int i, ConstTensor c);

  Builder& builder() { return b_; }

  Status Unsupported(const std::string& why) const { return Status::Unsupported(why); }
  Status Invalid(const std::string& why) const { return Status::InvalidArgument(why); }

 private:
  Builder& b_;
  const onnx::NodeProto& node_;
  int opset_;
  int layers_emitted_ = 0;
};

// Converters of ops that become layers (onnx_ops.cc).
using Converter = Status (*)(NodeContext& c);
const std::map<std::string, Converter>& LayerConverters();
// Inputs a layer converter needs as constants (weights, shapes, pads, scales).
bool InputMustBeConstant(const std::string& op, int index);

// The conversion state: ONNX values (constants and blobs), the graph under construction and its names.
class Builder {
 public:
  explicit Builder(Graph* graph) : graph_(graph) {}

  Graph* graph() { return graph_; }

  const ConstTensor* FindConst(const std::string& value) const;
  const BlobInfo* FindBlob(const std::string& value) const;
  void SetConst(const std::string& value, ConstTensor c);
  void SetBlob(const std::string& value, BlobInfo b) {
    blob_dims_[b.name] = b.dims;
    blobs_[value] = std::move(b);
  }
  // Dims of a graph blob (by blob name), nullptr if unknown.
  const Dims* BlobDimsOf(const std::string& blob) const {
    auto it = blob_dims_.find(blob);
    return it == blob_dims_.end() ? nullptr : &it->second;
  }
  void SetBlobDims(const std::string& blob, const Dims& d) { blob_dims_[blob] = d; }

  // A name valid in a .tnnproto (no ',', '"', ':', spaces or control characters), unique among blob names or
  // among layer names.
  std::string UniqueBlobName(const std::string& raw);
  std::string UniqueLayerName(const std::string& raw);

  void SetGraphOutputs(const std::set<std::string>& names) { graph_outputs_ = names; }
  bool IsGraphOutput(const std::string& value) const { return graph_outputs_.count(value) > 0; }
  void SetConsumed(std::set<std::string> names) { consumed_ = std::move(names); }
  bool IsConsumed(const std::string& value) const { return consumed_.count(value) > 0; }
  // Shapes the model declares for values (value_info, graph outputs); symbolic dims are -1.
  std::map<std::string, std::vector<int64_t>>& declared_shapes() { return declared_; }

 private:
  Graph* graph_;
  std::map<std::string, std::shared_ptr<const ConstTensor>> consts_;
  std::map<std::string, BlobInfo> blobs_;
  std::map<std::string, Dims> blob_dims_;
  std::set<std::string> blob_names_, layer_names_;
  std::set<std::string> graph_outputs_, consumed_;
  std::map<std::string, std::vector<int64_t>> declared_;
};

// A name made valid for a .tnnproto: every ',', '"', ':', space and control character becomes '_'.
std::string SanitizeName(const std::string& raw);

}  // namespace onnx_import
}  // namespace qt
