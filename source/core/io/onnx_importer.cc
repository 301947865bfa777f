// ONNX → Graph: parsing, the value table (constants and blobs), one pass that refuses unsupported ops all at
// once, the node-by-node conversion (onnx_ops.cc) with import-time folding (onnx_fold.cc), then clean-up passes.
#include "core/io/onnx_importer.h"

#include <algorithm>
#include <climits>
#include <exception>

#include <google/protobuf/stubs/logging.h>

#include "core/graph/graph_simplify.h"
#include "core/graph/shape_inference.h"
#include "core/io/onnx_internal.h"

namespace qt {
namespace onnx_import {

std::string SanitizeName(const std::string& raw) {
  std::string s = raw;
  for (char& ch : s) {
    const unsigned char u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7f || ch == ',' || ch == '"' || ch == ':') ch = '_';
  }
  return s.empty() ? "unnamed" : s;
}

namespace {

std::string Unique(const std::string& raw, std::set<std::string>* taken) {
  const std::string base = SanitizeName(raw);
  std::string name = base;
  for (int k = 1; taken->count(name); ++k) name = base + "_" + std::to_string(k);
  taken->insert(name);
  return name;
}

// The model's declared dims agree with the computed ones (unknown and symbolic declared dims are -1).
Status CheckDeclared(Builder& b, const std::string& value, const Dims& dims) {
  auto it = b.declared_shapes().find(value);
  if (it == b.declared_shapes().end()) return Status::Ok();
  const auto& d = it->second;
  bool ok = d.size() == dims.size();
  for (size_t k = 0; ok && k < d.size(); ++k) ok = d[k] < 0 || d[k] == dims[k];
  if (ok) return Status::Ok();
  std::string decl = "[";
  for (size_t k = 0; k < d.size(); ++k) decl += (k ? "," : "") + (d[k] < 0 ? std::string("?") : std::to_string(d[k]));
  return Status::InvalidArgument("value '" + value + "' is declared " + decl + "] but computes to " +
                                 DimsToString(dims) + " (inconsistent shapes)");
}

}  // namespace

const ConstTensor* Builder::FindConst(const std::string& value) const {
  auto it = consts_.find(value);
  return it == consts_.end() ? nullptr : it->second.get();
}

const BlobInfo* Builder::FindBlob(const std::string& value) const {
  auto it = blobs_.find(value);
  return it == blobs_.end() ? nullptr : &it->second;
}

void Builder::SetConst(const std::string& value, ConstTensor c) {
  consts_[value] = std::make_shared<const ConstTensor>(std::move(c));
}

std::string Builder::UniqueBlobName(const std::string& raw) { return Unique(raw, &blob_names_); }
std::string Builder::UniqueLayerName(const std::string& raw) { return Unique(raw, &layer_names_); }

// ---- NodeContext -----------------------------------------------------------------------------------------------

NodeContext::NodeContext(Builder& builder, const onnx::NodeProto& node, int opset)
    : b_(builder), node_(node), opset_(opset) {}

bool NodeContext::Has(int i) const { return i < node_.input_size() && !node_.input(i).empty(); }

const ConstTensor* NodeContext::Const(int i) const { return Has(i) ? b_.FindConst(node_.input(i)) : nullptr; }

Status NodeContext::RequireConst(int i, const char* role, const ConstTensor** c) const {
  if (!Has(i)) return Status::InvalidArgument(std::string("the ") + role + " input (" + std::to_string(i) + ") is missing");
  *c = b_.FindConst(node_.input(i));
  if (!*c) {
    return Status::Unsupported(std::string("the ") + role + " input '" + node_.input(i) +
                               "' is computed at run time; it must be a constant (initializer)");
  }
  return Status::Ok();
}

Status NodeContext::RequireBlob(int i, BlobInfo* b) const {
  if (!Has(i)) return Status::InvalidArgument("input " + std::to_string(i) + " is missing");
  if (const BlobInfo* found = b_.FindBlob(node_.input(i))) {
    *b = *found;
    return Status::Ok();
  }
  if (b_.FindConst(node_.input(i))) {
    return Status::Unsupported("input '" + node_.input(i) + "' is a constant; " + node_.op_type() +
                               " is only supported on run-time tensors");
  }
  return Status::InvalidArgument("input '" + node_.input(i) + "' is not defined");
}

bool NodeContext::OutputUsed(int i) const {
  if (i >= node_.output_size() || node_.output(i).empty()) return false;
  return b_.IsConsumed(node_.output(i)) || b_.IsGraphOutput(node_.output(i));
}

void NodeContext::SetConst(int i, ConstTensor c) {
  if (i < node_.output_size() && !node_.output(i).empty()) b_.SetConst(node_.output(i), std::move(c));
}

Status NodeContext::AddLayer(LayerType type, LayerParams params, std::optional<LayerResource> resource,
                             const std::vector<std::string>& inputs, int output_index, const std::string& suffix,
                             BlobInfo* out, const Dims* expect) {
  const std::string base = !node_.name().empty()       ? node_.name()
                           : node_.output_size() > 0 ? node_.output(0)
                                                     : node_.op_type();
  Layer l;
  l.type = type;
  l.type_str = LayerTypeName(type);
  l.name = b_.UniqueLayerName(layers_emitted_ == 0 ? base : base + "_" + suffix);
  l.inputs = inputs;
  l.params = std::move(params);
  const std::string blob =
      b_.UniqueBlobName(output_index >= 0 ? node_.output(output_index) : base + "_" + suffix);
  l.outputs = {blob};

  // The engine's own shape inference on this layer alone: it checks weights against the input (channels,
  // resource sizes) exactly as the runtime will.
  Graph one;
  for (const auto& in : inputs) {
    if (one.FindInput(in)) continue;
    const Dims* d = b_.BlobDimsOf(in);
    if (!d) return Status::Internal("blob '" + in + "' has no dims");
    one.inputs.push_back({in, *d, DataType::kFloat});
  }
  // The layer and its weights move through the check graph and on into the model (a failure ends the import).
  const std::string name = l.name;
  if (resource) one.resources[name] = std::move(*resource);
  one.layers.push_back(std::move(l));
  QT_RETURN_IF_ERROR(one.Validate());
  BlobDims dims;
  QT_RETURN_IF_ERROR(InferShapes(one, {}, &dims));
  const Dims& od = dims.at(blob);
  if (expect && od != *expect) {
    return Status::Unsupported(std::string("the ") + one.layers[0].type_str + " layer would compute " +
                               DimsToString(od) + " where ONNX gives " + DimsToString(*expect));
  }
  Graph* g = b_.graph();
  if (resource) g->resources[name] = std::move(one.resources[name]);
  g->layers.push_back(std::move(one.layers[0]));
  b_.SetBlobDims(blob, od);
  *out = BlobInfo{blob, od};
  ++layers_emitted_;
  if (output_index >= 0) {
    const std::string& value = node_.output(output_index);
    b_.SetBlob(value, *out);
    QT_RETURN_IF_ERROR(CheckDeclared(b_, value, od));
  }
  return Status::Ok();
}

Status NodeContext::Alias(int i, const BlobInfo& blob) {
  if (i >= node_.output_size() || node_.output(i).empty()) return Status::Ok();
  const std::string& value = node_.output(i);
  if (b_.IsGraphOutput(value)) {
    BlobInfo out;
    return AddLayer(LayerType::kDropout, std::monostate{}, std::nullopt, {blob.name}, i, "identity", &out,
                    &blob.dims);
  }
  b_.SetBlob(value, blob);
  return CheckDeclared(b_, value, blob.dims);
}

namespace {

// ---- the pass that finds everything unsupported before converting anything -------------------------------------

std::string NodeLabel(const onnx::NodeProto& n, int index) {
  if (!n.name().empty()) return n.name();
  return "#" + std::to_string(index) + (n.output_size() > 0 ? " (output '" + n.output(0) + "')" : std::string());
}

Status FindUnsupported(const onnx::GraphProto& g, const std::set<std::string>& initializers,
                       const std::set<std::string>& inputs, const std::string& source) {
  std::set<std::string> defined(inputs.begin(), inputs.end()), constant(initializers.begin(), initializers.end());
  defined.insert(initializers.begin(), initializers.end());
  std::vector<std::pair<std::string, std::vector<std::string>>> found;  // kind → nodes, in order of appearance
  auto report = [&](const std::string& kind, const std::string& node) {
    for (auto& f : found) {
      if (f.first == kind) {
        f.second.push_back(node);
        return;
      }
    }
    found.push_back({kind, {node}});
  };
  const auto& converters = LayerConverters();
  for (int k = 0; k < g.node_size(); ++k) {
    const onnx::NodeProto& n = g.node(k);
    const std::string label = NodeLabel(n, k);
    if (std::all_of(n.output().begin(), n.output().end(), [](const std::string& o) { return o.empty(); })) {
      return Status::InvalidArgument(source + ": node '" + label + "' (" + n.op_type() + ") has no output");
    }
    bool all_const = true;
    for (int i = 0; i < n.input_size(); ++i) {
      const std::string& in = n.input(i);
      if (in.empty()) continue;
      if (!defined.count(in)) {
        return Status::InvalidArgument(source + ": node '" + label + "' (" + n.op_type() + ") reads '" + in +
                                       "', which is not a graph input, an initializer or an output of an earlier "
                                       "node (missing initializer or dangling input)");
      }
      all_const = all_const && constant.count(in);
    }
    const std::string& op = n.op_type();
    const bool default_domain = n.domain().empty() || n.domain() == "ai.onnx";
    const bool is_layer = default_domain && converters.count(op);
    const bool foldable = default_domain && IsFoldableOp(op);
    bool outputs_const = false;
    if (!default_domain) {
      report(n.domain() + "." + op, label);
    } else if (op == "Constant" || op == "Shape" || op == "Size") {
      outputs_const = true;
    } else if (foldable && all_const) {
      outputs_const = true;
    } else if (is_layer) {
      bool data_const = true, has_data = false;
      for (int i = 0; i < n.input_size(); ++i) {
        if (n.input(i).empty()) continue;
        if (InputMustBeConstant(op, i)) {
          if (!constant.count(n.input(i))) report(op + " with a run-time input " + std::to_string(i), label);
        } else {
          has_data = true;
          data_const = data_const && constant.count(n.input(i));
        }
      }
      if (has_data && data_const) report(op + " on constant inputs", label);
    } else if (foldable) {
      report(op + " on a run-time tensor (only folded when its inputs are constants)", label);
    } else {
      report(op, label);
    }
    for (const auto& o : n.output()) {
      if (o.empty()) continue;
      if (!defined.insert(o).second) {
        return Status::InvalidArgument(source + ": node '" + label + "' (" + n.op_type() + ") writes '" + o +
                                       "', which is already defined (each ONNX value has one producer)");
      }
      if (outputs_const) constant.insert(o);
    }
  }
  if (found.empty()) return Status::Ok();
  std::string msg = source + ": unsupported ONNX ops, nothing was converted: ";
  for (size_t f = 0; f < found.size(); ++f) {
    const auto& nodes = found[f].second;
    msg += (f ? "; " : "") + found[f].first + " (node" + (nodes.size() > 1 ? "s " : " ");
    const size_t shown = std::min<size_t>(nodes.size(), 8);
    for (size_t k = 0; k < shown; ++k) msg += (k ? ", '" : "'") + nodes[k] + "'";
    if (nodes.size() > shown) msg += " and " + std::to_string(nodes.size() - shown) + " more";
    msg += ")";
  }
  return Status::Unsupported(msg);
}

// ---- conversion --------------------------------------------------------------------------------------------------

Status ConvertNode(Builder& b, const onnx::NodeProto& n, int opset) {
  NodeContext c(b, n, opset);
  const std::string& op = n.op_type();
  std::vector<const ConstTensor*> in;
  bool all_const = true;
  for (int i = 0; i < n.input_size(); ++i) {
    in.push_back(c.Const(i));
    if (c.Has(i) && !in.back()) all_const = false;
  }
  if ((op == "Shape" || op == "Size") && !all_const) {
    BlobInfo x;
    QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
    const std::vector<int64_t> dims(x.dims.begin(), x.dims.end());
    if (op == "Shape") {
      c.SetConst(0, ShapeOf(dims, n));
    } else {
      ConstTensor t = ConstTensor::Zeros(onnx::TensorProto::INT64, {});
      t.i[0] = ShapeCount(dims);
      c.SetConst(0, std::move(t));
    }
    return Status::Ok();
  }
  if (op == "Constant" || (all_const && IsFoldableOp(op))) {
    std::vector<ConstTensor> outs;
    QT_RETURN_IF_ERROR(FoldNode(n, opset, in, &outs));
    for (size_t k = 0; k < outs.size(); ++k) c.SetConst(static_cast<int>(k), std::move(outs[k]));
    return Status::Ok();
  }
  auto it = LayerConverters().find(op);
  if (it == LayerConverters().end()) return Status::Internal("no converter for " + op);
  return it->second(c);
}

// Removes layers whose outputs nothing reads (e.g. branches that only fed folded shape computations).
void PruneDeadLayers(Graph* g) {
  std::set<std::string> needed(g->outputs.begin(), g->outputs.end());
  for (size_t k = g->layers.size(); k-- > 0;) {
    const Layer& l = g->layers[k];
    const bool live = std::any_of(l.outputs.begin(), l.outputs.end(), [&](const std::string& o) { return needed.count(o); });
    if (live) {
      needed.insert(l.inputs.begin(), l.inputs.end());
    } else {
      g->resources.erase(l.name);
      g->layers.erase(g->layers.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
}

// Folds a constant Add/Sub that follows a Convolution or InnerProduct along its output channels into the bias
// (exporters often write Conv/MatMul + Add), so that Conv+ReLU fusion and int8 quantization see one layer.
int FoldBiasAdds(Graph* g) {
  BlobDims dims;
  if (!InferShapes(*g, {}, &dims).ok()) return 0;
  int folded = 0;
  for (size_t k = 0; k < g->layers.size(); ++k) {
    Layer& add = g->layers[k];
    if ((add.type != LayerType::kAdd && add.type != LayerType::kSub) || add.inputs.size() != 1 ||
        add.Params<BinaryParams>().weight_input_index != 1) {
      continue;
    }
    Layer* prod = nullptr;
    for (auto& l : g->layers) {
      if (l.outputs.size() == 1 && l.outputs[0] == add.inputs[0]) prod = &l;
    }
    if (!prod || prod->quantized || g->Consumers(add.inputs[0]).size() != 1 ||
        std::count(g->outputs.begin(), g->outputs.end(), add.inputs[0])) {
      continue;
    }
    int channels = 0;
    size_t channel_axis = 0;
    if (prod->type == LayerType::kConvolution && prod->Params<ConvParams>().activation == kActivationNone) {
      channels = prod->Params<ConvParams>().output_channel;
      channel_axis = 1;
    } else if (prod->type == LayerType::kInnerProduct) {
      channels = prod->Params<InnerProductParams>().num_output;
      channel_axis = static_cast<size_t>(prod->Params<InnerProductParams>().axis);
    } else {
      continue;
    }
    const Dims& out = dims.at(add.inputs[0]);
    const auto& element = std::get<BinaryResource>(g->resources.at(add.name)).element;
    const std::vector<int32_t>& cd = element.dims();
    if (cd.size() > out.size() || channel_axis >= out.size() || dims.at(add.outputs[0]) != out) continue;
    bool per_channel = element.count() == 1 || element.count() == channels;
    for (size_t d = 0; per_channel && d < cd.size(); ++d) {
      const size_t axis = out.size() - cd.size() + d;
      per_channel = cd[d] == 1 || (axis == channel_axis && cd[d] == channels);
    }
    if (!per_channel) continue;
    std::vector<float> c = element.ToFloat();
    if (c.size() == 1) c.assign(channels, c[0]);
    const float sign = add.type == LayerType::kSub ? -1.f : 1.f;
    auto plus_constant = [&](const RawBuffer& bias, bool has_bias) {
      std::vector<float> b = has_bias ? bias.ToFloat() : std::vector<float>(channels, 0.f);
      for (int o = 0; o < channels; ++o) b[o] += sign * c[o];
      return RawBuffer::FromFloat(b, {channels});
    };
    LayerResource& res = g->resources.at(prod->name);
    if (auto* conv = std::get_if<ConvResource>(&res)) {
      if (conv->filter.dtype() == DataType::kInt8) continue;
      conv->bias = plus_constant(conv->bias, conv->has_bias);
      conv->has_bias = true;
      prod->Params<ConvParams>().has_bias = 1;
    } else if (auto* fc = std::get_if<InnerProductResource>(&res)) {
      if (fc->weight.dtype() == DataType::kInt8) continue;
      auto& p = prod->Params<InnerProductParams>();
      fc->bias = plus_constant(fc->bias, p.has_bias);
      p.has_bias = 1;
    } else {
      continue;
    }
    prod->outputs[0] = add.outputs[0];
    g->resources.erase(add.name);
    g->layers.erase(g->layers.begin() + static_cast<std::ptrdiff_t>(k));
    --k;
    ++folded;
  }
  return folded;
}

std::vector<int64_t> DeclaredDims(const onnx::TypeProto& t) {
  std::vector<int64_t> d;
  for (const auto& dim : t.tensor_type().shape().dim()) d.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
  return d;
}

Status Import(const onnx::ModelProto& model, const std::string& source, const InputShapes& input_shapes,
              Graph* out) {
  if (!model.has_graph() || model.graph().node_size() == 0) {
    return Status::ParseError(source + ": not an ONNX model: the ModelProto has no graph nodes");
  }
  if (model.ir_version() <= 0) return Status::ParseError(source + ": not an ONNX model: no ir_version");
  int opset = -1;
  for (const auto& o : model.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = static_cast<int>(o.version());
  }
  if (opset < 0) {
    if (model.ir_version() >= 3) {
      return Status::ParseError(source + ": the model imports no opset of the default ONNX domain");
    }
    opset = 1;
  }
  if (opset < 1 || opset > 17) {
    return Status::Unsupported(source + ": opset " + std::to_string(opset) +
                               " of the default domain is not supported (1 to 17)");
  }
  const onnx::GraphProto& gp = model.graph();
  if (gp.sparse_initializer_size() > 0) return Status::Unsupported(source + ": sparse initializers are not supported");

  Graph graph;
  Builder b(&graph);
  std::set<std::string> initializer_names, input_names, output_names, consumed;
  for (const auto& t : gp.initializer()) {
    if (t.name().empty()) return Status::InvalidArgument(source + ": an initializer has no name");
    if (!initializer_names.insert(t.name()).second) {
      return Status::InvalidArgument(source + ": initializer '" + t.name() + "' is defined twice");
    }
    ConstTensor c;
    QT_RETURN_IF_ERROR(DecodeTensor(t, &c).WithContext(source + ": initializer '" + t.name() + "'"));
    b.SetConst(t.name(), std::move(c));
  }
  for (const auto& vi : gp.value_info()) {
    if (vi.type().has_tensor_type() && vi.type().tensor_type().has_shape()) {
      b.declared_shapes()[vi.name()] = DeclaredDims(vi.type());
    }
  }
  for (const auto& vi : gp.output()) {
    output_names.insert(vi.name());
    if (vi.type().has_tensor_type() && vi.type().tensor_type().has_shape()) {
      b.declared_shapes()[vi.name()] = DeclaredDims(vi.type());
    }
  }
  for (const auto& vi : gp.input()) {
    const std::string where = source + ": input '" + vi.name() + "'";
    if (initializer_names.count(vi.name())) {
      // Before IR 4 every initializer is also listed as an input: a constant, whose declared shape must agree.
      const ConstTensor* c = b.FindConst(vi.name());
      if (vi.type().tensor_type().has_shape()) {
        const auto d = DeclaredDims(vi.type());
        bool ok = d.size() == c->dims.size();
        for (size_t k = 0; ok && k < d.size(); ++k) ok = d[k] < 0 || d[k] == c->dims[k];
        if (!ok) {
          return Status::InvalidArgument(where + " is declared " + ShapeString(d) + " but its initializer is " +
                                         ShapeString(c->dims) + " (inconsistent shapes)");
        }
      }
      continue;
    }
    if (!input_names.insert(vi.name()).second) return Status::InvalidArgument(where + " is declared twice");
    if (!vi.type().has_tensor_type()) return Status::Unsupported(where + " is not a tensor");
    const auto& tt = vi.type().tensor_type();
    if (tt.elem_type() != onnx::TensorProto::FLOAT) {
      return Status::Unsupported(where + " is " + DtypeName(tt.elem_type()) +
                                 "; only float (FLOAT) inputs are supported");
    }
    if (!tt.has_shape()) return Status::Unsupported(where + " declares no shape, so its rank is unknown");
    Dims dims;
    auto given = input_shapes.find(vi.name());
    if (given != input_shapes.end()) {
      dims = given->second;
    } else {
      for (const auto& dim : tt.shape().dim()) {
        if (dim.has_dim_value() && dim.dim_value() == 0) return Status::Unsupported(where + " has a dim of size 0");
        if (dim.has_dim_value() && dim.dim_value() > INT_MAX) {
          return Status::InvalidArgument(where + " has a dim too large");
        }
        // A symbolic or unknown batch (axis 0) is 1: shapes are static from here on, one sample at a time.
        // Any other symbolic dim (a dynamic H x W) has no size we could guess.
        const bool known = dim.has_dim_value() && dim.dim_value() > 0;
        if (!known && !dims.empty()) {
          return Status::InvalidArgument(
              where + " has a symbolic dim '" + (dim.has_dim_param() ? dim.dim_param() : std::string("?")) +
              "' at axis " + std::to_string(dims.size()) + ": give the input's size (--input_shape " + vi.name() +
              ":1,3,H,W in the tools)");
        }
        dims.push_back(known ? static_cast<int>(dim.dim_value()) : 1);
      }
    }
    if (dims.empty() || dims.size() > 6) {
      return Status::Unsupported(where + " has rank " + std::to_string(dims.size()) + " (1 to 6 are supported)");
    }
    const std::string name = b.UniqueBlobName(vi.name());
    graph.inputs.push_back({name, dims, DataType::kFloat});
    b.SetBlob(vi.name(), {name, dims});
  }
  if (graph.inputs.empty()) return Status::Unsupported(source + ": the model has no run-time input");
  for (const auto& n : gp.node()) {
    for (const auto& in : n.input()) {
      if (!in.empty()) consumed.insert(in);
    }
  }
  b.SetGraphOutputs(output_names);
  b.SetConsumed(consumed);
  QT_RETURN_IF_ERROR(FindUnsupported(gp, initializer_names, input_names, source));

  for (int k = 0; k < gp.node_size(); ++k) {
    const onnx::NodeProto& n = gp.node(k);
    QT_RETURN_IF_ERROR(
        ConvertNode(b, n, opset).WithContext(source + ": node '" + NodeLabel(n, k) + "' (" + n.op_type() + ")"));
  }
  for (const auto& vi : gp.output()) {
    if (b.FindConst(vi.name())) {
      return Status::Unsupported(source + ": output '" + vi.name() +
                                 "' is a constant (computed entirely at import): there is nothing to run");
    }
    const BlobInfo* blob = b.FindBlob(vi.name());
    if (!blob) return Status::InvalidArgument(source + ": output '" + vi.name() + "' is produced by no node");
    graph.outputs.push_back(blob->name);
  }
  PruneDeadLayers(&graph);
  FoldBiasAdds(&graph);
  SimplifyGraph(&graph);
  graph.RefreshBlobNames();
  QT_RETURN_IF_ERROR(graph.Validate().WithContext(source));
  BlobDims dims;
  QT_RETURN_IF_ERROR(InferShapes(graph, {}, &dims).WithContext(source));
  *out = std::move(graph);
  return Status::Ok();
}

}  // namespace
}  // namespace onnx_import

Status ImportOnnxModel(const std::vector<uint8_t>& bytes, const std::string& source, Graph* graph,
                       const InputShapes& input_shapes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return Status::Unsupported(source + ": ONNX files of 2 GB or more (external data) are not supported");
  }
  onnx::ModelProto model;
  bool parsed = false;
  // libprotobuf logs to stderr on malformed input (invalid UTF-8 in a string field); the error we return is the
  // one line the user sees.
  google::protobuf::LogSilencer silence_protobuf;
  try {
    parsed = model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  } catch (const std::exception& e) {
    return Status::ParseError(source + ": not an ONNX model: protobuf parsing failed (" + e.what() + ")");
  }
  if (!parsed) {
    return Status::ParseError(source + ": not an ONNX model: the bytes do not parse as an ONNX ModelProto "
                              "(malformed or truncated protobuf)");
  }
  try {
    return onnx_import::Import(model, source, input_shapes, graph);
  } catch (const std::exception& e) {
    return Status::Internal(source + ": ONNX import failed: " + e.what());
  }
}

bool OnnxInputMustBeConstant(const std::string& op_type, int index) {
  return onnx_import::InputMustBeConstant(op_type, index);
}

}  // namespace qt
