#include "core/io/caffe_importer.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <climits>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "core/graph/graph_simplify.h"
#include "core/graph/shape_inference.h"
#include "core/io/proto/caffe.pb.h"
#include "core/io/tnn_io.h"
#include "core/kernels/detection_fp32.h"
#include "core/kernels/tensor_ops_fp32.h"

namespace qt {
namespace {

namespace cp = ::qt::caffe;
using BlobList = google::protobuf::RepeatedPtrField<cp::BlobProto>;

// ---- Reading the two files ------------------------------------------------------------------------------------

class FirstTextError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (message_.empty()) {
      message_ = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) + ": " + message;
    }
  }
  // The parser reports each skipped unknown field as a warning; skipping them is intended (fillers, engines, ...).
  void AddWarning(int, int, const std::string&) override {}
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

Status ParsePrototxt(const std::string& path, cp::NetParameter* net) {
  std::string text;
  QT_RETURN_IF_ERROR(ReadFileText(path, &text));
  FirstTextError errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.AllowUnknownField(true);
  parser.AllowUnknownExtension(true);
  bool ok = false;
  google::protobuf::LogSilencer silence_protobuf;  // as in ParseCaffemodel
  try {
    ok = parser.ParseFromString(text, net);
  } catch (const std::exception& e) {
    return Status::ParseError(path + ": cannot parse the prototxt: " + e.what());
  }
  if (!ok) {
    return Status::ParseError(path + ": not a valid Caffe prototxt: " +
                              (errors.message().empty() ? std::string("parse error") : errors.message()));
  }
  return Status::Ok();
}

Status ParseCaffemodel(const std::string& path, cp::NetParameter* net) {
  std::vector<uint8_t> bytes;
  QT_RETURN_IF_ERROR(ReadFileBytes(path, &bytes));
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return Status::Unsupported(path + ": larger than 2 GiB, the protobuf message limit");
  }
  bool ok = false;
  // libprotobuf logs to stderr on malformed input (invalid UTF-8 in a string field); the error we return is the
  // one line the user sees.
  google::protobuf::LogSilencer silence_protobuf;
  try {
    ok = net->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  } catch (const std::exception& e) {
    return Status::ParseError(path + ": cannot parse the caffemodel: " + e.what());
  }
  if (!ok) return Status::ParseError(path + ": not a binary Caffe NetParameter (corrupt or truncated caffemodel)");
  if (net->layer_size() == 0 && net->layers_size() == 0) {
    return Status::ParseError(path + ": holds no layer: not a Caffe caffemodel");
  }
  return Status::Ok();
}

// ---- V1 layers and Caffe's TEST-phase filter ------------------------------------------------------------------

// Caffe's V2 type strings of the V1 enum (upgrade_proto.cpp, UpgradeV1LayerType).
std::string V1TypeName(cp::V1LayerParameter::LayerType type) {
  using V1 = cp::V1LayerParameter;
  static const std::map<int, const char*> names = {{V1::ABSVAL, "AbsVal"},
                                                   {V1::ACCURACY, "Accuracy"},
                                                   {V1::ARGMAX, "ArgMax"},
                                                   {V1::BNLL, "BNLL"},
                                                   {V1::CONCAT, "Concat"},
                                                   {V1::CONTRASTIVE_LOSS, "ContrastiveLoss"},
                                                   {V1::CONVOLUTION, "Convolution"},
                                                   {V1::DECONVOLUTION, "Deconvolution"},
                                                   {V1::DATA, "Data"},
                                                   {V1::DROPOUT, "Dropout"},
                                                   {V1::DUMMY_DATA, "DummyData"},
                                                   {V1::EUCLIDEAN_LOSS, "EuclideanLoss"},
                                                   {V1::ELTWISE, "Eltwise"},
                                                   {V1::EXP, "Exp"},
                                                   {V1::FLATTEN, "Flatten"},
                                                   {V1::HDF5_DATA, "HDF5Data"},
                                                   {V1::HDF5_OUTPUT, "HDF5Output"},
                                                   {V1::HINGE_LOSS, "HingeLoss"},
                                                   {V1::IM2COL, "Im2col"},
                                                   {V1::IMAGE_DATA, "ImageData"},
                                                   {V1::INFOGAIN_LOSS, "InfogainLoss"},
                                                   {V1::INNER_PRODUCT, "InnerProduct"},
                                                   {V1::LRN, "LRN"},
                                                   {V1::MEMORY_DATA, "MemoryData"},
                                                   {V1::MULTINOMIAL_LOGISTIC_LOSS, "MultinomialLogisticLoss"},
                                                   {V1::MVN, "MVN"},
                                                   {V1::POOLING, "Pooling"},
                                                   {V1::POWER, "Power"},
                                                   {V1::RELU, "ReLU"},
                                                   {V1::SIGMOID, "Sigmoid"},
                                                   {V1::SIGMOID_CROSS_ENTROPY_LOSS, "SigmoidCrossEntropyLoss"},
                                                   {V1::SILENCE, "Silence"},
                                                   {V1::SOFTMAX, "Softmax"},
                                                   {V1::SOFTMAX_LOSS, "SoftmaxWithLoss"},
                                                   {V1::SPLIT, "Split"},
                                                   {V1::SLICE, "Slice"},
                                                   {V1::TANH, "TanH"},
                                                   {V1::WINDOW_DATA, "WindowData"},
                                                   {V1::THRESHOLD, "Threshold"}};
  auto it = names.find(type);
  return it == names.end() ? std::string() : it->second;
}

cp::LayerParameter UpgradeV1(const cp::V1LayerParameter& v1) {
  cp::LayerParameter l;
  l.set_name(v1.name());
  l.set_type(V1TypeName(v1.type()));
  *l.mutable_bottom() = v1.bottom();
  *l.mutable_top() = v1.top();
  *l.mutable_blobs() = v1.blobs();
  *l.mutable_include() = v1.include();
  *l.mutable_exclude() = v1.exclude();
  if (v1.has_concat_param()) *l.mutable_concat_param() = v1.concat_param();
  if (v1.has_convolution_param()) *l.mutable_convolution_param() = v1.convolution_param();
  if (v1.has_eltwise_param()) *l.mutable_eltwise_param() = v1.eltwise_param();
  if (v1.has_inner_product_param()) *l.mutable_inner_product_param() = v1.inner_product_param();
  if (v1.has_pooling_param()) *l.mutable_pooling_param() = v1.pooling_param();
  if (v1.has_relu_param()) *l.mutable_relu_param() = v1.relu_param();
  if (v1.has_softmax_param()) *l.mutable_softmax_param() = v1.softmax_param();
  if (v1.has_slice_param()) *l.mutable_slice_param() = v1.slice_param();
  if (v1.has_lrn_param()) *l.mutable_lrn_param() = v1.lrn_param();
  if (v1.has_power_param()) *l.mutable_power_param() = v1.power_param();
  if (v1.has_exp_param()) *l.mutable_exp_param() = v1.exp_param();
  return l;
}

// Caffe's StateMeetsRule for the state a deploy net runs in: phase TEST, level 0, no stages.
bool TestStateMeets(const cp::NetStateRule& rule) {
  if (rule.has_phase() && rule.phase() != cp::TEST) return false;
  if (rule.has_min_level() && 0 < rule.min_level()) return false;
  if (rule.has_max_level() && 0 > rule.max_level()) return false;
  return rule.stage_size() == 0;
}

bool IncludedInTestPhase(const cp::LayerParameter& l) {
  if (l.include_size() > 0) {
    return std::any_of(l.include().begin(), l.include().end(), TestStateMeets);
  }
  return std::none_of(l.exclude().begin(), l.exclude().end(), TestStateMeets);
}

// ---- Names ----------------------------------------------------------------------------------------------------

// Characters a .tnnproto cannot hold in a name (tnn_format.md §A.1) become '_'.
std::string SanitizeName(const std::string& name) {
  std::string s = name;
  for (char& ch : s) {
    const unsigned char u = static_cast<unsigned char>(ch);
    if (ch == ',' || ch == '"' || ch == ':' || std::isspace(u) || u < 0x20) ch = '_';
  }
  return s.empty() ? "_" : s;
}

// Hands out names that are unique within one namespace: the base itself if free, else base_1, base_2, ...
class NameTable {
 public:
  std::string Claim(const std::string& base) {
    if (used_.insert(base).second) return base;
    for (int k = 1;; ++k) {
      std::string candidate = base + "_" + std::to_string(k);
      if (used_.insert(candidate).second) return candidate;
    }
  }

 private:
  std::set<std::string> used_;
};

// ---- Blob values ----------------------------------------------------------------------------------------------

// The dims Caffe compares a stored blob with: its legacy 4-D num/channels/height/width when any is set (those
// index from the end: an InnerProduct weight is 1x1xNxK), else its shape.
bool IsLegacyBlob(const cp::BlobProto& b) { return b.has_num() || b.has_channels() || b.has_height() || b.has_width(); }

// Dims past the int range are clamped: they then fail the checks on sizes.
Dims ShapeDims(const cp::BlobShape& shape) {
  Dims d;
  for (int64_t v : shape.dim()) d.push_back(static_cast<int>(std::clamp<int64_t>(v, INT_MIN, INT_MAX)));
  return d;
}

Dims StoredDims(const cp::BlobProto& b) {
  if (IsLegacyBlob(b)) return Dims{b.num(), b.channels(), b.height(), b.width()};
  return ShapeDims(b.shape());
}

// Caffe's Blob::ShapeEquals.
bool StoredShapeMatches(const cp::BlobProto& b, const Dims& want) {
  if (!IsLegacyBlob(b)) return StoredDims(b) == want;
  if (want.size() > 4) return false;
  Dims padded(4 - want.size(), 1);
  padded.insert(padded.end(), want.begin(), want.end());
  return StoredDims(b) == padded;
}

RawBuffer FloatBuffer(const std::vector<float>& values, const Dims& dims) {
  return RawBuffer::FromFloat(values, std::vector<int32_t>(dims.begin(), dims.end()));
}

// ---- The importer ---------------------------------------------------------------------------------------------

// A Caffe blob as the import has defined it so far.
struct BlobState {
  std::string name;  // its name in the graph
  Dims dims;         // Caffe's shape
  // The rank our graph gives it: TNN's InnerProduct keeps its input's rank (the output is padded with trailing
  // 1s, [N, num_output, 1, 1]), so downstream blobs may carry trailing 1s that Caffe's shapes do not.
  int rank = 0;
};

struct LayerCtx {
  const cp::LayerParameter* lp = nullptr;
  std::string name;   // the graph name of the layer
  std::string where;  // "<prototxt>: layer 'conv1' (Convolution)"
  std::vector<BlobState> in;
  const BlobList* blobs = nullptr;  // the layer's weights, or nullptr
  std::string blob_source;          // the file they come from

  Status Error(const std::string& message) const { return Status::InvalidArgument(where + ": " + message); }
  Status Unsupported(const std::string& message) const { return Status::Unsupported(where + ": " + message); }
};

constexpr int kMany = INT_MAX;

class Importer {
 public:
  Importer(std::string prototxt, std::string caffemodel, Graph* graph, const InputShapes& input_shapes)
      : prototxt_(std::move(prototxt)), caffemodel_(std::move(caffemodel)), graph_(graph),
        input_shapes_(input_shapes) {}

  Status Run(const cp::NetParameter& net, const std::vector<cp::LayerParameter>& layers,
             const std::map<std::string, const BlobList*>& weights);

  // The supported Caffe types, with their bottom and top counts.
  struct Rule {
    const char* type;
    int min_bottoms, max_bottoms, min_tops, max_tops;
    Status (Importer::*import)(LayerCtx&);
  };
  static const Rule* FindRule(const std::string& type);

 private:
  static const std::vector<Rule>& Rules();

  void PlanNames(const cp::NetParameter& net, const std::vector<cp::LayerParameter>& layers);
  Status DeclareInput(const std::string& where, const std::string& caffe_name, Dims dims);
  Status NetLevelInputs(const cp::NetParameter& net);
  Status ImportLayer(const cp::LayerParameter& lp, const std::string& layer_name,
                     const std::map<std::string, const BlobList*>& weights);
  Status CheckAgainstShapeInference() const;

  // The graph name of top `i` of the layer (the next version of that Caffe blob), recorded with its dims.
  std::string Top(const LayerCtx& c, int i, const Dims& dims, int rank);
  std::string HelperLayerName(const LayerCtx& c, const std::string& suffix) {
    return layer_names_.Claim(c.name + "_" + suffix);
  }
  std::string HelperBlobName(const LayerCtx& c, const std::string& suffix) {
    return blob_names_.Claim(c.name + "_" + suffix);
  }
  void Emit(LayerType type, const std::string& name, std::vector<std::string> inputs, std::vector<std::string> outputs,
            LayerParams params = std::monostate{});
  void EmitConstantOp(LayerType type, const std::string& name, const std::string& input, const std::string& output,
                      const std::vector<float>& values, const Dims& dims);
  // Reshapes a blob to exactly its Caffe shape (dropping trailing 1s an InnerProduct left); returns the new name.
  std::string ReshapeToCaffeRank(const LayerCtx& c, const BlobState& b, const std::string& suffix);
  // The operands' graph names, reshaped where their ranks differ so that a multi-input op sees equal ranks.
  std::vector<std::string> SameRankInputs(const LayerCtx& c, int* rank);

  Status NeedBlobs(const LayerCtx& c, int count) const;
  Status ReadBlob(const LayerCtx& c, int index, const char* what, const Dims& want, std::vector<float>* values) const;
  Status CanonicalAxis(const LayerCtx& c, const char* what, int axis, int rank, int* out) const;

  Status ImportInput(LayerCtx& c);
  Status ImportConvolution(LayerCtx& c);
  Status ImportDeconvolution(LayerCtx& c);
  Status ImportConvCommon(LayerCtx& c, bool deconv);
  Status ImportPooling(LayerCtx& c);
  Status ImportRelu(LayerCtx& c);
  Status ImportPRelu(LayerCtx& c);
  Status ImportSigmoid(LayerCtx& c);
  Status ImportTanh(LayerCtx& c);
  Status ImportEltwise(LayerCtx& c);
  Status ImportConcat(LayerCtx& c);
  Status ImportInnerProduct(LayerCtx& c);
  Status ImportSoftmax(LayerCtx& c);
  Status ImportBatchNorm(LayerCtx& c);
  Status ImportScale(LayerCtx& c);
  Status ImportFlatten(LayerCtx& c);
  Status ImportReshape(LayerCtx& c);
  Status ImportDropout(LayerCtx& c);
  Status ImportSplit(LayerCtx& c);
  Status ImportSlice(LayerCtx& c);
  Status ImportPermute(LayerCtx& c);
  Status ImportRelu6(LayerCtx& c);
  Status ImportClip(LayerCtx& c);
  Status ImportPriorBox(LayerCtx& c);
  Status ImportDetectionOutput(LayerCtx& c);
  Status ImportNormalize(LayerCtx& c);
  Status ImportShuffleChannel(LayerCtx& c);
  Status ImportLrn(LayerCtx& c);
  Status ImportCrop(LayerCtx& c);
  Status ImportInterp(LayerCtx& c);
  Status ImportUnary(LayerCtx& c, LayerType type);
  Status ImportPower(LayerCtx& c);
  Status ImportElu(LayerCtx& c);
  Status ImportAbsVal(LayerCtx& c);
  Status ImportExp(LayerCtx& c);
  Status ImportLog(LayerCtx& c);
  // y = op(scale·x + shift) · post (Caffe's Exp and Log with their base folded in): Power for the affine part when
  // it is not the identity, the op, then a Mul when post ≠ 1.
  Status ImportAffineUnary(LayerCtx& c, LayerType op, float scale, float shift, float post);
  // A Reshape to the explicit Caffe shape (the caller has checked the element count).
  void EmitReshape(const std::string& layer_name, const std::string& input, const std::string& output,
                   const Dims& out_dims, bool keep_batch);

  std::string prototxt_, caffemodel_;
  Graph* graph_;
  const InputShapes& input_shapes_;
  NameTable layer_names_, blob_names_;
  std::map<std::string, std::string> base_name_;  // Caffe blob name → its graph name as the last version
  std::map<std::string, int> writes_total_, writes_done_;
  std::set<std::string> input_names_;               // Caffe names of model inputs
  std::map<std::string, BlobState> blobs_;          // Caffe blob name → current version
  std::map<std::string, BlobState> by_graph_name_;  // graph blob name → its Caffe shape, for the final check
  // Graph blobs read for their shape only (Crop's reference): not model outputs, though no layer input names them.
  std::set<std::string> shape_only_;
};

const std::vector<Importer::Rule>& Importer::Rules() {
  static const std::vector<Rule> rules = {
      {"Input", 0, 0, 1, kMany, &Importer::ImportInput},
      {"Convolution", 1, 1, 1, 1, &Importer::ImportConvolution},
      {"Deconvolution", 1, 1, 1, 1, &Importer::ImportDeconvolution},
      // MobileNet forks spell a grouped convolution so (with the same convolution_param).
      {"DepthwiseConvolution", 1, 1, 1, 1, &Importer::ImportConvolution},
      {"ConvolutionDepthwise", 1, 1, 1, 1, &Importer::ImportConvolution},
      {"Pooling", 1, 1, 1, 1, &Importer::ImportPooling},
      {"ReLU", 1, 1, 1, 1, &Importer::ImportRelu},
      {"PReLU", 1, 1, 1, 1, &Importer::ImportPRelu},
      {"Sigmoid", 1, 1, 1, 1, &Importer::ImportSigmoid},
      {"TanH", 1, 1, 1, 1, &Importer::ImportTanh},
      {"Eltwise", 2, kMany, 1, 1, &Importer::ImportEltwise},
      {"Concat", 1, kMany, 1, 1, &Importer::ImportConcat},
      {"InnerProduct", 1, 1, 1, 1, &Importer::ImportInnerProduct},
      {"Softmax", 1, 1, 1, 1, &Importer::ImportSoftmax},
      {"BatchNorm", 1, 1, 1, 1, &Importer::ImportBatchNorm},
      {"Scale", 1, 2, 1, 1, &Importer::ImportScale},
      {"Flatten", 1, 1, 1, 1, &Importer::ImportFlatten},
      {"Reshape", 1, 1, 1, 1, &Importer::ImportReshape},
      {"Dropout", 1, 1, 1, 1, &Importer::ImportDropout},
      {"Split", 1, 1, 1, kMany, &Importer::ImportSplit},
      {"Slice", 1, 1, 1, kMany, &Importer::ImportSlice},
      {"Permute", 1, 1, 1, 1, &Importer::ImportPermute},
      {"ReLU6", 1, 1, 1, 1, &Importer::ImportRelu6},
      {"Clip", 1, 1, 1, 1, &Importer::ImportClip},
      {"PriorBox", 2, 2, 1, 1, &Importer::ImportPriorBox},
      {"DetectionOutput", 3, 3, 1, 1, &Importer::ImportDetectionOutput},
      {"Normalize", 1, 1, 1, 1, &Importer::ImportNormalize},
      {"ShuffleChannel", 1, 1, 1, 1, &Importer::ImportShuffleChannel},
      {"LRN", 1, 1, 1, 1, &Importer::ImportLrn},
      {"Crop", 2, 2, 1, 1, &Importer::ImportCrop},
      {"Interp", 1, 2, 1, 1, &Importer::ImportInterp},
      {"Power", 1, 1, 1, 1, &Importer::ImportPower},
      {"ELU", 1, 1, 1, 1, &Importer::ImportElu},
      {"AbsVal", 1, 1, 1, 1, &Importer::ImportAbsVal},
      {"Exp", 1, 1, 1, 1, &Importer::ImportExp},
      {"Log", 1, 1, 1, 1, &Importer::ImportLog},
  };
  return rules;
}

const Importer::Rule* Importer::FindRule(const std::string& type) {
  for (const auto& r : Rules()) {
    if (type == r.type) return &r;
  }
  return nullptr;
}

void Importer::PlanNames(const cp::NetParameter& net, const std::vector<cp::LayerParameter>& layers) {
  auto see_blob = [&](const std::string& caffe_name) {
    ++writes_total_[caffe_name];
    if (!base_name_.count(caffe_name)) base_name_[caffe_name] = blob_names_.Claim(SanitizeName(caffe_name));
  };
  for (const auto& in : net.input()) see_blob(in);
  for (const auto& l : layers) {
    for (const auto& t : l.top()) see_blob(t);
  }
}

std::string Importer::Top(const LayerCtx& c, int i, const Dims& dims, int rank) {
  const std::string& caffe_name = c.lp->top(i);
  const int version = writes_done_[caffe_name]++;
  const bool last = version == writes_total_[caffe_name] - 1;
  const std::string& base = base_name_.at(caffe_name);
  const std::string name =
      last && !input_names_.count(caffe_name) ? base : blob_names_.Claim(base + "_v" + std::to_string(version));
  BlobState b{name, dims, rank};
  blobs_[caffe_name] = b;
  by_graph_name_[name] = b;
  return name;
}

void Importer::Emit(LayerType type, const std::string& name, std::vector<std::string> inputs,
                    std::vector<std::string> outputs, LayerParams params) {
  Layer l;
  l.type = type;
  l.type_str = LayerTypeName(type);
  l.name = name;
  l.inputs = std::move(inputs);
  l.outputs = std::move(outputs);
  l.params = std::move(params);
  graph_->layers.push_back(std::move(l));
}

void Importer::EmitConstantOp(LayerType type, const std::string& name, const std::string& input,
                              const std::string& output, const std::vector<float>& values, const Dims& dims) {
  Emit(type, name, {input}, {output}, BinaryParams{1});
  graph_->resources[name] = BinaryResource{FloatBuffer(values, dims)};
}

void Importer::EmitReshape(const std::string& layer_name, const std::string& input, const std::string& output,
                           const Dims& out_dims, bool keep_batch) {
  ReshapeParams p;
  p.axis = 0;
  p.num_axes = static_cast<int>(out_dims.size());
  p.shape = out_dims;
  // 0 copies the input's batch dim, so the reshape does not pin the batch size.
  if (keep_batch) p.shape[0] = 0;
  Emit(LayerType::kReshape, layer_name, {input}, {output}, p);
}

std::string Importer::ReshapeToCaffeRank(const LayerCtx& c, const BlobState& b, const std::string& suffix) {
  const std::string name = HelperBlobName(c, suffix);
  EmitReshape(HelperLayerName(c, suffix), b.name, name, b.dims, true);
  by_graph_name_[name] = BlobState{name, b.dims, static_cast<int>(b.dims.size())};
  return name;
}

std::vector<std::string> Importer::SameRankInputs(const LayerCtx& c, int* rank) {
  std::vector<std::string> names;
  bool same = true;
  for (const auto& b : c.in) same = same && b.rank == c.in[0].rank;
  for (size_t i = 0; i < c.in.size(); ++i) {
    const BlobState& b = c.in[i];
    const bool reshape = !same && b.rank != static_cast<int>(b.dims.size());
    names.push_back(reshape ? ReshapeToCaffeRank(c, b, "reshape" + std::to_string(i)) : b.name);
  }
  *rank = same ? c.in[0].rank : static_cast<int>(c.in[0].dims.size());
  return names;
}

Status Importer::NeedBlobs(const LayerCtx& c, int count) const {
  if (!c.blobs || c.blobs->empty()) {
    if (caffemodel_.empty()) return c.Error("has no weights: no caffemodel was given (-m)");
    return c.Error("has no weights: " + caffemodel_ + " has no layer named '" + c.lp->name() + "'");
  }
  if (c.blobs->size() != count) {
    return c.Error(c.blob_source + " holds " + std::to_string(c.blobs->size()) + " weight blobs for it, expected " +
                   std::to_string(count));
  }
  return Status::Ok();
}

Status Importer::ReadBlob(const LayerCtx& c, int index, const char* what, const Dims& want,
                          std::vector<float>* values) const {
  const cp::BlobProto& b = c.blobs->Get(index);
  if (!StoredShapeMatches(b, want)) {
    return c.Error(std::string(what) + " blob in " + c.blob_source + " has shape " + DimsToString(StoredDims(b)) +
                   " but the layer needs " + DimsToString(want));
  }
  const int64_t n = DimsCount(want);
  const int64_t have = b.data_size() > 0 ? b.data_size() : b.double_data_size();
  if (have != n) {
    return c.Error(std::string(what) + " blob in " + c.blob_source + " holds " + std::to_string(have) +
                   " values, its shape " + DimsToString(want) + " needs " + std::to_string(n));
  }
  values->resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double v = b.data_size() > 0 ? b.data(static_cast<int>(i)) : b.double_data(static_cast<int>(i));
    if (!std::isfinite(v)) {
      return c.Error(std::string(what) + " blob in " + c.blob_source + " holds a NaN or Inf at index " +
                     std::to_string(i));
    }
    (*values)[i] = static_cast<float>(v);
  }
  return Status::Ok();
}

// Caffe's CanonicalAxisIndex: axis in [-rank, rank), negative counting from the end.
Status Importer::CanonicalAxis(const LayerCtx& c, const char* what, int axis, int rank, int* out) const {
  if (axis < -rank || axis >= rank) {
    return c.Error(std::string(what) + " " + std::to_string(axis) + " is out of range for a " + std::to_string(rank) +
                   "-D input");
  }
  *out = axis < 0 ? axis + rank : axis;
  return Status::Ok();
}

Status Importer::DeclareInput(const std::string& where, const std::string& caffe_name, Dims dims) {
  if (input_names_.count(caffe_name) || blobs_.count(caffe_name)) {
    return Status::InvalidArgument(where + ": input '" + caffe_name + "' is declared twice");
  }
  if (dims.empty() || dims.size() > 6) {
    return Status::InvalidArgument(where + ": input '" + caffe_name + "' has " + std::to_string(dims.size()) +
                                   " dims, must have 1 to 6");
  }
  auto given = input_shapes_.find(caffe_name);
  if (given != input_shapes_.end()) {
    dims = given->second;
  } else {
    dims[0] = 1;  // one sample at a time (see the header)
  }
  for (int d : dims) {
    if (d < 1 || d > (1 << 20)) {
      return Status::InvalidArgument(where + ": input '" + caffe_name + "' has dims " + DimsToString(dims) +
                                     ", each must be in [1, 2^20]");
    }
  }
  input_names_.insert(caffe_name);
  ++writes_done_[caffe_name];
  const std::string& name = base_name_.at(caffe_name);
  BlobState b{name, dims, static_cast<int>(dims.size())};
  blobs_[caffe_name] = b;
  by_graph_name_[name] = b;
  graph_->inputs.push_back(InputSpec{name, dims, DataType::kFloat});
  return Status::Ok();
}

Status Importer::NetLevelInputs(const cp::NetParameter& net) {
  const int n = net.input_size();
  if (n == 0) return Status::Ok();
  const bool by_dim = net.input_dim_size() > 0;
  if (by_dim && net.input_shape_size() > 0) {
    return Status::InvalidArgument(prototxt_ + ": the net gives both input_dim and input_shape");
  }
  if (by_dim ? net.input_dim_size() != 4 * n : net.input_shape_size() != n) {
    return Status::InvalidArgument(
        prototxt_ + ": the net declares " + std::to_string(n) + " input(s) but " +
        (by_dim ? std::to_string(net.input_dim_size()) + " input_dim values (4 per input)"
                : std::to_string(net.input_shape_size()) + " input_shape entries (1 per input)"));
  }
  for (int i = 0; i < n; ++i) {
    Dims dims;
    if (by_dim) {
      for (int k = 0; k < 4; ++k) dims.push_back(net.input_dim(4 * i + k));
    } else {
      dims = ShapeDims(net.input_shape(i));
    }
    QT_RETURN_IF_ERROR(DeclareInput(prototxt_, net.input(i), dims));
  }
  return Status::Ok();
}

// ---- Per-type imports ---------------------------------------------------------------------------------------

Status Importer::ImportInput(LayerCtx& c) {
  const auto& p = c.lp->input_param();
  const int tops = c.lp->top_size();
  if (p.shape_size() != 1 && p.shape_size() != tops) {
    return c.Error("has " + std::to_string(tops) + " tops but " + std::to_string(p.shape_size()) +
                   " shapes (input_param needs one shape, or one per top)");
  }
  for (int i = 0; i < tops; ++i) {
    QT_RETURN_IF_ERROR(DeclareInput(c.where, c.lp->top(i), ShapeDims(p.shape(p.shape_size() == 1 ? 0 : i))));
  }
  return Status::Ok();
}

// A spatial parameter given as a repeated field: none (the fallback), one value for both axes, or {h, w}.
Status SpatialPair(const LayerCtx& c, const char* what, const google::protobuf::RepeatedField<uint32_t>& values,
                   int fallback, int* h, int* w) {
  if (values.size() > 2) {
    return c.Error("has " + std::to_string(values.size()) + " " + what + " values: only 2-D convolution is supported");
  }
  *h = values.empty() ? fallback : static_cast<int>(std::min<uint32_t>(values.Get(0), INT_MAX));
  *w = values.empty() ? fallback : static_cast<int>(std::min<uint32_t>(values.Get(values.size() - 1), INT_MAX));
  return Status::Ok();
}

Status Importer::ImportConvolution(LayerCtx& c) { return ImportConvCommon(c, false); }
Status Importer::ImportDeconvolution(LayerCtx& c) { return ImportConvCommon(c, true); }

Status Importer::ImportConvCommon(LayerCtx& c, bool deconv) {
  const auto& p = c.lp->convolution_param();
  const Dims& x = c.in[0].dims;
  if (x.size() != 4) return c.Error("needs a 4-D NCHW input, got " + DimsToString(x));
  if (p.axis() != 1) return c.Unsupported("axis " + std::to_string(p.axis()) + " (only 1, the channel axis)");
  ConvParams cp;
  if (p.has_kernel_h() || p.has_kernel_w()) {
    if (p.kernel_size_size() > 0) return c.Error("gives both kernel_size and kernel_h/kernel_w");
    if (!p.has_kernel_h() || !p.has_kernel_w()) return c.Error("needs both kernel_h and kernel_w");
    cp.kernel_h = static_cast<int>(std::min<uint32_t>(p.kernel_h(), INT_MAX));
    cp.kernel_w = static_cast<int>(std::min<uint32_t>(p.kernel_w(), INT_MAX));
  } else {
    if (p.kernel_size_size() == 0) return c.Error("has no kernel_size");
    QT_RETURN_IF_ERROR(SpatialPair(c, "kernel_size", p.kernel_size(), 0, &cp.kernel_h, &cp.kernel_w));
  }
  if (p.has_stride_h() || p.has_stride_w()) {
    if (p.stride_size() > 0) return c.Error("gives both stride and stride_h/stride_w");
    if (!p.has_stride_h() || !p.has_stride_w()) return c.Error("needs both stride_h and stride_w");
    cp.stride_h = static_cast<int>(std::min<uint32_t>(p.stride_h(), INT_MAX));
    cp.stride_w = static_cast<int>(std::min<uint32_t>(p.stride_w(), INT_MAX));
  } else {
    QT_RETURN_IF_ERROR(SpatialPair(c, "stride", p.stride(), 1, &cp.stride_h, &cp.stride_w));
  }
  if (p.has_pad_h() || p.has_pad_w()) {
    if (p.pad_size() > 0) return c.Error("gives both pad and pad_h/pad_w");
    cp.pad_h = static_cast<int>(std::min<uint32_t>(p.pad_h(), INT_MAX));
    cp.pad_w = static_cast<int>(std::min<uint32_t>(p.pad_w(), INT_MAX));
  } else {
    QT_RETURN_IF_ERROR(SpatialPair(c, "pad", p.pad(), 0, &cp.pad_h, &cp.pad_w));
  }
  QT_RETURN_IF_ERROR(SpatialPair(c, "dilation", p.dilation(), 1, &cp.dilation_h, &cp.dilation_w));
  const int limit = 1 << 16;
  for (int v : {cp.kernel_h, cp.kernel_w, cp.stride_h, cp.stride_w, cp.dilation_h, cp.dilation_w}) {
    if (v < 1 || v > limit) return c.Error("kernel, stride and dilation must be in [1, 65536]");
  }
  if (cp.pad_h > limit || cp.pad_w > limit) return c.Error("pad must be at most 65536");
  const int channels = x[1];
  const int group = static_cast<int>(std::min<uint32_t>(p.group(), INT_MAX));
  const int num_output = static_cast<int>(std::min<uint32_t>(p.num_output(), INT_MAX));
  if (num_output < 1) return c.Error("num_output must be >= 1");
  if (group < 1 || channels % group != 0 || num_output % group != 0) {
    return c.Error("group " + std::to_string(group) + " must divide the " + std::to_string(channels) +
                   " input channels and num_output " + std::to_string(num_output));
  }
  cp.group = group;
  cp.output_channel = num_output;
  cp.input_channel = channels / group;
  cp.has_bias = p.bias_term() ? 1 : 0;
  cp.pad_type = -1;

  // The runtime's own geometry; a kernel that does not fit is reported below, in Caffe's terms.
  WindowGeometry g;
  const bool fits = (deconv ? DeconvGeometry(cp, x[2], x[3], &g) : ConvGeometry(cp, x[2], x[3], &g)).ok();
  const int oh = fits ? g.out_h : 0, ow = fits ? g.out_w : 0;
  if (oh < 1 || ow < 1) {
    return c.Error("kernel " + std::to_string(cp.kernel_h) + "x" + std::to_string(cp.kernel_w) + " with pad " +
                   std::to_string(cp.pad_h) + "x" + std::to_string(cp.pad_w) + " gives an empty output for the " +
                   DimsToString(x) + " input");
  }
  QT_RETURN_IF_ERROR(NeedBlobs(c, cp.has_bias ? 2 : 1));
  const Dims weight_dims = deconv ? Dims{channels, num_output / group, cp.kernel_h, cp.kernel_w}
                                  : Dims{num_output, channels / group, cp.kernel_h, cp.kernel_w};
  ConvResource r;
  std::vector<float> w, b;
  QT_RETURN_IF_ERROR(ReadBlob(c, 0, "weight", weight_dims, &w));
  r.filter = FloatBuffer(w, weight_dims);
  if (cp.has_bias) {
    QT_RETURN_IF_ERROR(ReadBlob(c, 1, "bias", {num_output}, &b));
    r.bias = FloatBuffer(b, {num_output});
    r.has_bias = true;
  }
  const std::string out = Top(c, 0, {x[0], num_output, oh, ow}, 4);
  Emit(deconv ? LayerType::kDeconvolution : LayerType::kConvolution, c.name, {c.in[0].name}, {out}, cp);
  graph_->resources[c.name] = std::move(r);
  return Status::Ok();
}

Status Importer::ImportPooling(LayerCtx& c) {
  const auto& p = c.lp->pooling_param();
  const Dims& x = c.in[0].dims;
  if (x.size() != 4) return c.Error("needs a 4-D NCHW input, got " + DimsToString(x));
  if (p.pool() == cp::PoolingParameter::STOCHASTIC) return c.Unsupported("STOCHASTIC pooling is not supported");
  PoolParams pp;
  pp.pool_type = p.pool() == cp::PoolingParameter::MAX ? 0 : 1;
  int kh = 0, kw = 0;
  if (p.global_pooling()) {
    if (p.has_kernel_size() || p.has_kernel_h() || p.has_kernel_w()) {
      return c.Error("global_pooling cannot have a kernel size");
    }
    kh = x[2];
    kw = x[3];
  } else if (p.has_kernel_size() && !p.has_kernel_h() && !p.has_kernel_w()) {
    kh = kw = static_cast<int>(std::min<uint32_t>(p.kernel_size(), INT_MAX));
  } else if (!p.has_kernel_size() && p.has_kernel_h() && p.has_kernel_w()) {
    kh = static_cast<int>(std::min<uint32_t>(p.kernel_h(), INT_MAX));
    kw = static_cast<int>(std::min<uint32_t>(p.kernel_w(), INT_MAX));
  } else {
    return c.Error("needs kernel_size, or both kernel_h and kernel_w (not both forms)");
  }
  if ((p.has_pad_h() || p.has_pad_w()) && (p.has_pad() || !p.has_pad_h() || !p.has_pad_w())) {
    return c.Error("needs pad, or both pad_h and pad_w (not both forms)");
  }
  if ((p.has_stride_h() || p.has_stride_w()) && (p.has_stride() || !p.has_stride_h() || !p.has_stride_w())) {
    return c.Error("needs stride, or both stride_h and stride_w (not both forms)");
  }
  const bool hw_pad = p.has_pad_h();
  const bool hw_stride = p.has_stride_h();
  pp.pad_h = static_cast<int>(std::min<uint32_t>(hw_pad ? p.pad_h() : p.pad(), INT_MAX));
  pp.pad_w = static_cast<int>(std::min<uint32_t>(hw_pad ? p.pad_w() : p.pad(), INT_MAX));
  pp.stride_h = static_cast<int>(std::min<uint32_t>(hw_stride ? p.stride_h() : p.stride(), INT_MAX));
  pp.stride_w = static_cast<int>(std::min<uint32_t>(hw_stride ? p.stride_w() : p.stride(), INT_MAX));
  const int limit = 1 << 16;
  for (int v : {kh, kw, pp.stride_h, pp.stride_w}) {
    if (v < 1 || v > limit) return c.Error("kernel and stride must be in [1, 65536]");
  }
  if (p.global_pooling() && (pp.pad_h || pp.pad_w || pp.stride_h != 1 || pp.stride_w != 1)) {
    return c.Error("global_pooling needs pad 0 and stride 1");
  }
  if (pp.pad_h >= kh || pp.pad_w >= kw) return c.Error("pad must be smaller than the kernel");
  // Caffe's output size: rounded up (CEIL, the default) or down, then a last window that would start in the
  // bottom/right padding is dropped. The dropped case always equals the floor size, so TNN's ceil_mode expresses
  // it exactly.
  auto caffe_out = [&](int in, int k, int pad, int stride, int* out) {
    const int span = in + 2 * pad - k;
    if (span < 0) return false;
    const bool ceil = p.round_mode() == cp::PoolingParameter::CEIL;
    int o = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
    if (pad > 0 && (o - 1) * stride >= in + pad) --o;
    *out = o;
    return true;
  };
  int oh = 0, ow = 0;
  if (!caffe_out(x[2], kh, pp.pad_h, pp.stride_h, &oh) || !caffe_out(x[3], kw, pp.pad_w, pp.stride_w, &ow)) {
    return c.Error("kernel " + std::to_string(kh) + "x" + std::to_string(kw) + " does not fit the " + DimsToString(x) +
                   " input");
  }
  pp.kernel_h = p.global_pooling() ? 0 : kh;
  pp.kernel_w = p.global_pooling() ? 0 : kw;
  pp.pad_type = -1;
  auto same_output = [&]() {
    WindowGeometry g;
    int gkh = 0, gkw = 0;
    return PoolGeometry(pp, x[2], x[3], &g, &gkh, &gkw).ok() && g.out_h == oh && g.out_w == ow;
  };
  // A global pooling has a single window either way; TNN's converters write it with ceil_mode 0.
  pp.ceil_mode = p.global_pooling() ? 0 : 1;
  if (!same_output()) {
    pp.ceil_mode = 0;
    if (!same_output()) {
      return Status::Internal(c.where + ": no TNN ceil_mode reproduces Caffe's output " + std::to_string(oh) + "x" +
                              std::to_string(ow));
    }
  }
  const std::string out = Top(c, 0, {x[0], x[1], oh, ow}, 4);
  Emit(LayerType::kPooling, c.name, {c.in[0].name}, {out}, pp);
  return Status::Ok();
}

Status Importer::ImportUnary(LayerCtx& c, LayerType type) {
  const std::string out = Top(c, 0, c.in[0].dims, c.in[0].rank);
  Emit(type, c.name, {c.in[0].name}, {out}, DefaultLayerParams(type));
  return Status::Ok();
}

Status Importer::ImportRelu(LayerCtx& c) {
  const float slope = c.lp->relu_param().negative_slope();
  if (!std::isfinite(slope)) return c.Error("negative_slope is not finite");
  if (slope == 0.f) return ImportUnary(c, LayerType::kRelu);
  // A leaky ReLU is a PReLU with one shared slope.
  const std::string out = Top(c, 0, c.in[0].dims, c.in[0].rank);
  Emit(LayerType::kPRelu, c.name, {c.in[0].name}, {out}, PReluParams{1, 0});
  graph_->resources[c.name] = PReluResource{FloatBuffer({slope}, {1})};
  return Status::Ok();
}

Status Importer::ImportPRelu(LayerCtx& c) {
  const Dims& x = c.in[0].dims;
  const bool shared = c.lp->prelu_param().channel_shared();
  if (!shared && x.size() < 2) return c.Error("needs an input with a channel axis, got " + DimsToString(x));
  QT_RETURN_IF_ERROR(NeedBlobs(c, 1));
  std::vector<float> slopes;
  // Caffe stores a shared slope as a scalar blob (shape []).
  QT_RETURN_IF_ERROR(ReadBlob(c, 0, "slope", shared ? Dims{} : Dims{x[1]}, &slopes));
  const std::string out = Top(c, 0, x, c.in[0].rank);
  Emit(LayerType::kPRelu, c.name, {c.in[0].name}, {out}, PReluParams{shared ? 1 : 0, 0});
  graph_->resources[c.name] = PReluResource{FloatBuffer(slopes, {static_cast<int>(slopes.size())})};
  return Status::Ok();
}

Status Importer::ImportSigmoid(LayerCtx& c) { return ImportUnary(c, LayerType::kSigmoid); }
Status Importer::ImportAbsVal(LayerCtx& c) { return ImportUnary(c, LayerType::kAbs); }

Status Importer::ImportPower(LayerCtx& c) {
  const auto& p = c.lp->power_param();
  if (!std::isfinite(p.power()) || !std::isfinite(p.scale()) || !std::isfinite(p.shift())) {
    return c.Error("power, scale and shift must be finite");
  }
  const std::string out = Top(c, 0, c.in[0].dims, c.in[0].rank);
  Emit(LayerType::kPower, c.name, {c.in[0].name}, {out}, PowerParams{p.power(), p.scale(), p.shift()});
  return Status::Ok();
}

Status Importer::ImportElu(LayerCtx& c) {
  const float alpha = c.lp->elu_param().alpha();
  if (!std::isfinite(alpha)) return c.Error("alpha is not finite");
  const std::string out = Top(c, 0, c.in[0].dims, c.in[0].rank);
  Emit(LayerType::kElu, c.name, {c.in[0].name}, {out}, EluParams{alpha});
  return Status::Ok();
}

Status Importer::ImportAffineUnary(LayerCtx& c, LayerType op, float scale, float shift, float post) {
  if (!std::isfinite(scale) || !std::isfinite(shift) || !std::isfinite(post)) {
    return c.Error("base, scale and shift must give finite factors");
  }
  const Dims& dims = c.in[0].dims;
  std::string x = c.in[0].name;
  if (scale != 1.f || shift != 0.f) {
    const std::string affine = HelperBlobName(c, "affine");
    Emit(LayerType::kPower, HelperLayerName(c, "affine"), {x}, {affine}, PowerParams{1.f, scale, shift});
    x = affine;
  }
  const std::string out = Top(c, 0, dims, c.in[0].rank);
  if (post == 1.f) {
    Emit(op, c.name, {x}, {out}, DefaultLayerParams(op));
    return Status::Ok();
  }
  const std::string mid = HelperBlobName(c, "op");
  Emit(op, c.name, {x}, {mid}, DefaultLayerParams(op));
  EmitConstantOp(LayerType::kMul, HelperLayerName(c, "base"), mid, out, {post}, {1});
  return Status::Ok();
}

// Caffe's ExpLayer: base^(shift + scale·x) = exp(ln(base)·shift + ln(base)·scale·x).
Status Importer::ImportExp(LayerCtx& c) {
  const auto& p = c.lp->exp_param();
  if (p.base() != -1.f && !(p.base() > 0.f)) return c.Error("base must be -1 (e) or positive");
  const float ln_base = p.base() == -1.f ? 1.f : std::log(p.base());
  return ImportAffineUnary(c, LayerType::kExp, ln_base * p.scale(), ln_base * p.shift(), 1.f);
}

// Caffe's LogLayer: log_base(shift + scale·x) = ln(shift + scale·x) / ln(base).
Status Importer::ImportLog(LayerCtx& c) {
  const auto& p = c.lp->log_param();
  if (p.base() != -1.f && !(p.base() > 0.f && p.base() != 1.f)) return c.Error("base must be -1 (e) or positive, not 1");
  const float post = p.base() == -1.f ? 1.f : 1.f / std::log(p.base());
  return ImportAffineUnary(c, LayerType::kLog, p.scale(), p.shift(), post);
}
Status Importer::ImportTanh(LayerCtx& c) { return ImportUnary(c, LayerType::kTanh); }
Status Importer::ImportDropout(LayerCtx& c) { return ImportUnary(c, LayerType::kDropout); }

Status Importer::ImportEltwise(LayerCtx& c) {
  const auto& p = c.lp->eltwise_param();
  const int n = static_cast<int>(c.in.size());
  for (const auto& b : c.in) {
    if (b.dims != c.in[0].dims) {
      return c.Error("bottoms have different shapes " + DimsToString(c.in[0].dims) + " and " + DimsToString(b.dims) +
                     " (Caffe's Eltwise does not broadcast)");
    }
  }
  const bool sum = p.operation() == cp::EltwiseParameter::SUM;
  if (p.coeff_size() > 0 && !sum) return c.Error("coefficients are only allowed with operation SUM");
  if (p.coeff_size() > 0 && p.coeff_size() != n) {
    return c.Error("has " + std::to_string(p.coeff_size()) + " coefficients for " + std::to_string(n) + " bottoms");
  }
  for (float v : p.coeff()) {
    if (!std::isfinite(v)) return c.Error("has a coefficient that is not finite");
  }
  auto coeff = [&](int i) { return p.coeff_size() > 0 ? p.coeff(i) : 1.f; };
  int rank = 0;
  const std::vector<std::string> ins = SameRankInputs(c, &rank);
  const std::string out = Top(c, 0, c.in[0].dims, rank);
  const LayerType op = sum                                           ? LayerType::kAdd
                       : p.operation() == cp::EltwiseParameter::PROD ? LayerType::kMul
                                                                     : LayerType::kMaximum;
  // Caffe accumulates in bottom order, top = c0·b0 + c1·b1 + ...; the chain keeps that order. A coefficient
  // other than 1 multiplies its bottom first; -1 on a later bottom is a subtraction.
  auto term = [&](int i) {
    const float k = coeff(i);
    if (k == 1.f || (i > 0 && k == -1.f)) return ins[i];
    const std::string scaled = HelperBlobName(c, "coeff" + std::to_string(i));
    EmitConstantOp(LayerType::kMul, HelperLayerName(c, "coeff" + std::to_string(i)), ins[i], scaled, {k},
                   Dims(std::max(rank, 1), 1));
    return scaled;
  };
  std::string acc = term(0);
  for (int i = 1; i < n; ++i) {
    const bool last = i == n - 1;
    const std::string dst = last ? out : HelperBlobName(c, std::to_string(i));
    const std::string name = last ? c.name : HelperLayerName(c, std::to_string(i));
    const LayerType type = sum && coeff(i) == -1.f ? LayerType::kSub : op;
    Emit(type, name, {acc, term(i)}, {dst}, BinaryParams{1});
    acc = dst;
  }
  return Status::Ok();
}

Status Importer::ImportConcat(LayerCtx& c) {
  const auto& p = c.lp->concat_param();
  const Dims& x = c.in[0].dims;
  const int rank = static_cast<int>(x.size());
  int axis = 0;
  if (p.has_concat_dim()) {
    axis = static_cast<int>(std::min<uint32_t>(p.concat_dim(), INT_MAX));
    if (axis >= rank) return c.Error("concat_dim " + std::to_string(axis) + " is out of range for " + DimsToString(x));
  } else {
    QT_RETURN_IF_ERROR(CanonicalAxis(c, "axis", p.axis(), rank, &axis));
  }
  Dims o = x;
  for (size_t i = 1; i < c.in.size(); ++i) {
    const Dims& y = c.in[i].dims;
    bool ok = y.size() == x.size();
    for (int d = 0; ok && d < rank; ++d) ok = d == axis || y[d] == x[d];
    if (!ok) {
      return c.Error("cannot concatenate " + DimsToString(x) + " and " + DimsToString(y) + " along axis " +
                     std::to_string(axis));
    }
    o[axis] += y[axis];
  }
  int graph_rank = 0;
  const std::vector<std::string> ins = SameRankInputs(c, &graph_rank);
  const std::string out = Top(c, 0, o, graph_rank);
  Emit(LayerType::kConcat, c.name, ins, {out}, AxisParams{axis});
  return Status::Ok();
}

Status Importer::ImportInnerProduct(LayerCtx& c) {
  const auto& p = c.lp->inner_product_param();
  const Dims& x = c.in[0].dims;
  int axis = 0;
  QT_RETURN_IF_ERROR(CanonicalAxis(c, "axis", p.axis(), static_cast<int>(x.size()), &axis));
  const int64_t k = DimsCount(x, axis);
  const int n = static_cast<int>(std::min<uint32_t>(p.num_output(), INT_MAX));
  if (n < 1) return c.Error("num_output must be >= 1");
  if (k > INT_MAX) return c.Error("input " + DimsToString(x) + " is too large");
  const int ki = static_cast<int>(k);
  QT_RETURN_IF_ERROR(NeedBlobs(c, p.bias_term() ? 2 : 1));
  std::vector<float> w, b;
  QT_RETURN_IF_ERROR(ReadBlob(c, 0, "weight", p.transpose() ? Dims{ki, n} : Dims{n, ki}, &w));
  if (p.transpose()) {
    // Caffe's transpose stores the weights [K][N]; TNN reads [N][K].
    std::vector<float> t(w.size());
    for (int r = 0; r < ki; ++r) {
      for (int col = 0; col < n; ++col) t[static_cast<size_t>(col) * ki + r] = w[static_cast<size_t>(r) * n + col];
    }
    w.swap(t);
  }
  InnerProductResource r;
  r.weight = FloatBuffer(w, {n, ki});
  if (p.bias_term()) {
    QT_RETURN_IF_ERROR(ReadBlob(c, 1, "bias", {n}, &b));
    r.bias = FloatBuffer(b, {n});
  }
  Dims o(x.begin(), x.begin() + axis);
  o.push_back(n);
  const std::string out = Top(c, 0, o, c.in[0].rank);
  Emit(LayerType::kInnerProduct, c.name, {c.in[0].name}, {out}, InnerProductParams{n, p.bias_term() ? 1 : 0, 0, axis});
  graph_->resources[c.name] = std::move(r);
  return Status::Ok();
}

Status Importer::ImportSoftmax(LayerCtx& c) {
  int axis = 0;
  QT_RETURN_IF_ERROR(
      CanonicalAxis(c, "axis", c.lp->softmax_param().axis(), static_cast<int>(c.in[0].dims.size()), &axis));
  const std::string out = Top(c, 0, c.in[0].dims, c.in[0].rank);
  Emit(LayerType::kSoftmax, c.name, {c.in[0].name}, {out}, AxisParams{axis});
  return Status::Ok();
}

Status Importer::ImportBatchNorm(LayerCtx& c) {
  const auto& p = c.lp->batch_norm_param();
  if (p.has_use_global_stats() && !p.use_global_stats()) {
    return c.Unsupported("use_global_stats: false normalizes with the statistics of the batch itself; only the "
                         "stored statistics (Caffe's TEST behaviour) are supported");
  }
  const Dims& x = c.in[0].dims;
  const int channels = x.size() > 1 ? x[1] : 1;
  QT_RETURN_IF_ERROR(NeedBlobs(c, 3));
  std::vector<float> mean, var, factor;
  QT_RETURN_IF_ERROR(ReadBlob(c, 0, "mean", {channels}, &mean));
  QT_RETURN_IF_ERROR(ReadBlob(c, 1, "variance", {channels}, &var));
  QT_RETURN_IF_ERROR(ReadBlob(c, 2, "moving-average factor", {1}, &factor));
  const float eps = p.eps();
  if (!(eps >= 0.f) || !std::isfinite(eps)) return c.Error("eps must be a finite number >= 0");
  // Caffe divides the stored sums by the moving-average factor (0 stays 0).
  const double f = factor[0] == 0.f ? 0.0 : 1.0 / factor[0];
  std::vector<float> scale(channels), bias(channels);
  for (int i = 0; i < channels; ++i) {
    const double v = var[i] * f + eps;
    if (!(v > 0.0)) return c.Error("channel " + std::to_string(i) + " has variance + eps <= 0");
    const double s = 1.0 / std::sqrt(v);
    scale[i] = static_cast<float>(s);
    bias[i] = static_cast<float>(-mean[i] * f * s);
  }
  const std::string out = Top(c, 0, x, c.in[0].rank);
  Emit(LayerType::kBatchNorm, c.name, {c.in[0].name}, {out});
  graph_->resources[c.name] = BatchNormResource{FloatBuffer(scale, {channels}), FloatBuffer(bias, {channels})};
  return Status::Ok();
}

Status Importer::ImportScale(LayerCtx& c) {
  if (c.in.size() == 2) {
    return c.Unsupported("a Scale with two bottoms (the scale comes from a blob, not from weights) is not supported");
  }
  const auto& p = c.lp->scale_param();
  const Dims& x = c.in[0].dims;
  const int rank = static_cast<int>(x.size());
  int axis = 0;
  QT_RETURN_IF_ERROR(CanonicalAxis(c, "axis", p.axis(), rank, &axis));
  if (p.num_axes() < -1) return c.Error("num_axes " + std::to_string(p.num_axes()) + " must be >= -1");
  const int end = p.num_axes() == -1 ? rank : axis + p.num_axes();
  if (end > rank) {
    return c.Error("axis " + std::to_string(axis) + " with num_axes " + std::to_string(p.num_axes()) +
                   " passes the end of the " + DimsToString(x) + " input");
  }
  const Dims shape(x.begin() + axis, x.begin() + end);
  QT_RETURN_IF_ERROR(NeedBlobs(c, p.bias_term() ? 2 : 1));
  std::vector<float> scale, bias;
  QT_RETURN_IF_ERROR(ReadBlob(c, 0, "scale", shape, &scale));
  if (p.bias_term()) QT_RETURN_IF_ERROR(ReadBlob(c, 1, "bias", shape, &bias));
  const int graph_rank = c.in[0].rank;
  if (axis == 1 && shape.size() == 1) {
    const std::string out = Top(c, 0, x, graph_rank);
    Emit(LayerType::kScale, c.name, {c.in[0].name}, {out}, ScaleParams{1, 1, p.bias_term() ? 1 : 0});
    ScaleResource r;
    r.bias_term = p.bias_term();
    r.scale = FloatBuffer(scale, shape);
    if (r.bias_term) r.bias = FloatBuffer(bias, shape);
    graph_->resources[c.name] = std::move(r);
    return Status::Ok();
  }
  // Any other span: a Mul (and an Add) by a constant shaped to broadcast along the graph's rank.
  Dims dims(axis, 1);
  dims.insert(dims.end(), shape.begin(), shape.end());
  dims.resize(std::max<size_t>(graph_rank, 1), 1);
  const std::string out = Top(c, 0, x, graph_rank);
  if (!p.bias_term()) {
    EmitConstantOp(LayerType::kMul, c.name, c.in[0].name, out, scale, dims);
    return Status::Ok();
  }
  const std::string scaled = HelperBlobName(c, "scaled");
  EmitConstantOp(LayerType::kMul, HelperLayerName(c, "mul"), c.in[0].name, scaled, scale, dims);
  EmitConstantOp(LayerType::kAdd, c.name, scaled, out, bias, dims);
  return Status::Ok();
}

Status Importer::ImportFlatten(LayerCtx& c) {
  const auto& p = c.lp->flatten_param();
  const Dims& x = c.in[0].dims;
  const int rank = static_cast<int>(x.size());
  int start = 0, end = 0;
  QT_RETURN_IF_ERROR(CanonicalAxis(c, "axis", p.axis(), rank, &start));
  QT_RETURN_IF_ERROR(CanonicalAxis(c, "end_axis", p.end_axis(), rank, &end));
  if (end < start) return c.Error("end_axis comes before axis");
  Dims o(x.begin(), x.begin() + start);
  o.push_back(static_cast<int>(DimsCount(Dims(x.begin() + start, x.begin() + end + 1))));
  o.insert(o.end(), x.begin() + end + 1, x.end());
  const std::string out = Top(c, 0, o, static_cast<int>(o.size()));
  if (end == rank - 1) {
    Emit(LayerType::kFlatten, c.name, {c.in[0].name}, {out}, AxisParams{start});
    return Status::Ok();
  }
  EmitReshape(c.name, c.in[0].name, out, o, start > 0);
  return Status::Ok();
}

Status Importer::ImportReshape(LayerCtx& c) {
  const auto& p = c.lp->reshape_param();
  const Dims& x = c.in[0].dims;
  const int rank = static_cast<int>(x.size());
  const int start = p.axis() >= 0 ? p.axis() : rank + p.axis() + 1;
  if (start < 0 || start > rank) {
    return c.Error("axis " + std::to_string(p.axis()) + " is out of range for " + DimsToString(x));
  }
  if (p.num_axes() < -1) return c.Error("num_axes " + std::to_string(p.num_axes()) + " must be >= -1");
  const int end = p.num_axes() == -1 ? rank : start + p.num_axes();
  if (end > rank) return c.Error("axis and num_axes pass the end of the " + DimsToString(x) + " input");
  Dims o(x.begin(), x.begin() + start);
  int infer = -1;
  for (int i = 0; i < p.shape().dim_size(); ++i) {
    const int64_t d = p.shape().dim(i);
    if (d == 0) {
      if (start + i >= rank) return c.Error("shape dim " + std::to_string(i) + " is 0 past the input's axes");
      o.push_back(x[start + i]);
    } else if (d == -1) {
      if (infer >= 0) return c.Error("shape has more than one -1");
      infer = static_cast<int>(o.size());
      o.push_back(1);
    } else if (d > 0 && d <= (1 << 24)) {
      o.push_back(static_cast<int>(d));
    } else {
      return c.Error("shape dim " + std::to_string(d) + " is not -1, 0 or in [1, 2^24]");
    }
  }
  o.insert(o.end(), x.begin() + end, x.end());
  if (infer >= 0) {
    const int64_t rest = DimsCount(o);
    if (DimsCount(x) % rest != 0) return c.Error("cannot infer the -1 dim: " + DimsToString(x) + " does not divide");
    o[infer] = static_cast<int>(DimsCount(x) / rest);
  }
  const bool keep_batch = start > 0 || (p.shape().dim_size() > 0 && p.shape().dim(0) == 0);
  if (DimsCount(o) != DimsCount(x)) return c.Error("cannot reshape " + DimsToString(x) + " to " + DimsToString(o));
  const std::string out = Top(c, 0, o, static_cast<int>(o.size()));
  EmitReshape(c.name, c.in[0].name, out, o, keep_batch);
  return Status::Ok();
}

Status Importer::ImportSplit(LayerCtx& c) {
  // Every top is the bottom under another name: no layer, the tops alias the bottom's graph blob.
  for (int i = 0; i < c.lp->top_size(); ++i) {
    ++writes_done_[c.lp->top(i)];
    blobs_[c.lp->top(i)] = c.in[0];
  }
  return Status::Ok();
}

Status Importer::ImportSlice(LayerCtx& c) {
  const auto& p = c.lp->slice_param();
  const Dims& x = c.in[0].dims;
  const int rank = static_cast<int>(x.size());
  int axis = 0;
  if (p.has_slice_dim()) {
    if (p.has_axis()) return c.Error("gives both axis and slice_dim (Caffe accepts one of them)");
    axis = static_cast<int>(std::min<uint32_t>(p.slice_dim(), INT_MAX));
    if (axis >= rank) return c.Error("slice_dim " + std::to_string(axis) + " is out of range for " + DimsToString(x));
  } else {
    QT_RETURN_IF_ERROR(CanonicalAxis(c, "axis", p.axis(), rank, &axis));
  }
  const int tops = c.lp->top_size();
  const int size = x[axis];
  std::vector<int> slices;
  if (p.slice_point_size() > 0) {
    if (p.slice_point_size() != tops - 1) {
      return c.Error("has " + std::to_string(p.slice_point_size()) + " slice_point values for " +
                     std::to_string(tops) + " tops, expected " + std::to_string(tops - 1));
    }
    int prev = 0;
    for (uint32_t point : p.slice_point()) {
      // Caffe's CHECK_GT(slice_point, prev); a point at or past the end would leave an empty last top.
      if (point <= static_cast<uint32_t>(prev) || point >= static_cast<uint32_t>(size)) {
        return c.Error("slice_point " + std::to_string(point) + " must be above " + std::to_string(prev) +
                       " and below the axis size " + std::to_string(size) + " of " + DimsToString(x));
      }
      slices.push_back(static_cast<int>(point) - prev);
      prev = static_cast<int>(point);
    }
    slices.push_back(size - prev);
  } else {
    if (size % tops != 0) {
      return c.Error("without slice_point, axis " + std::to_string(axis) + " of " + DimsToString(x) +
                     " must split evenly into the " + std::to_string(tops) + " tops");
    }
    slices.assign(tops, size / tops);
  }
  // The slices are always written out: TNN's even split (no slices) would also do, but explicit sizes say what
  // the layer computes.
  std::vector<std::string> outs;
  for (int i = 0; i < tops; ++i) {
    Dims o = x;
    o[axis] = slices[i];
    outs.push_back(Top(c, i, o, c.in[0].rank));
  }
  Emit(LayerType::kSplitV, c.name, {c.in[0].name}, outs, SplitVParams{axis, slices});
  return Status::Ok();
}

Status Importer::ImportPermute(LayerCtx& c) {
  const Dims& x = c.in[0].dims;
  const int rank = static_cast<int>(x.size());
  // Caffe-SSD's PermuteLayer: the listed axes, each below the rank and listed once, then the unlisted axes in
  // increasing order.
  std::vector<int> order;
  for (uint32_t o : c.lp->permute_param().order()) {
    if (o >= static_cast<uint32_t>(rank)) {
      return c.Error("order " + std::to_string(o) + " is out of range for the " + DimsToString(x) + " input");
    }
    if (std::find(order.begin(), order.end(), static_cast<int>(o)) != order.end()) {
      return c.Error("order lists axis " + std::to_string(o) + " twice");
    }
    order.push_back(static_cast<int>(o));
  }
  for (int a = 0; a < rank; ++a) {
    if (std::find(order.begin(), order.end(), a) == order.end()) order.push_back(a);
  }
  Dims o(rank);
  for (int i = 0; i < rank; ++i) o[i] = x[order[i]];
  // The permutation is of Caffe's axes: trailing 1s an InnerProduct left are dropped first.
  const std::string in =
      c.in[0].rank == rank ? c.in[0].name : ReshapeToCaffeRank(c, c.in[0], "reshape");
  const std::string out = Top(c, 0, o, rank);
  Emit(LayerType::kPermute, c.name, {in}, {out}, PermuteParams{order});
  return Status::Ok();
}

// ReLU6 is not BVLC Caffe's, but the MobileNet forks spell it so (with an empty relu6_param).
Status Importer::ImportRelu6(LayerCtx& c) { return ImportUnary(c, LayerType::kRelu6); }

Status Importer::ImportClip(LayerCtx& c) {
  const auto& p = c.lp->clip_param();
  if (!std::isfinite(p.min()) || !std::isfinite(p.max())) return c.Error("min and max must be finite");
  const std::string out = Top(c, 0, c.in[0].dims, c.in[0].rank);
  Emit(LayerType::kClip, c.name, {c.in[0].name}, {out}, ClipParams{p.min(), p.max()});
  return Status::Ok();
}

Status Importer::ImportPriorBox(LayerCtx& c) {
  const auto& p = c.lp->prior_box_param();
  const Dims& x = c.in[0].dims;
  if (x.size() != 4 || c.in[1].dims.size() != 4) {
    return c.Error("needs 4-D NCHW feature and image inputs, got " + DimsToString(x) + " and " +
                   DimsToString(c.in[1].dims));
  }
  // Caffe's PriorBoxLayer::LayerSetUp rules, then the ratios expanded as Caffe does (TNN takes the list expanded).
  PriorBoxParams k;
  k.min_sizes.assign(p.min_size().begin(), p.min_size().end());
  k.max_sizes.assign(p.max_size().begin(), p.max_size().end());
  k.aspect_ratios.assign(p.aspect_ratio().begin(), p.aspect_ratio().end());
  k.flip = p.flip();
  if (k.min_sizes.empty()) return c.Error("needs at least one min_size");
  for (float v : k.min_sizes) {
    if (!(v > 0.f) || !std::isfinite(v)) return c.Error("min_size " + FormatFloat(v) + " must be a number > 0");
  }
  if (!k.max_sizes.empty() && k.max_sizes.size() != k.min_sizes.size()) {
    return c.Error("has " + std::to_string(k.max_sizes.size()) + " max_size values for " +
                   std::to_string(k.min_sizes.size()) + " min_size values; needs none or one each");
  }
  for (size_t i = 0; i < k.max_sizes.size(); ++i) {
    if (!(k.max_sizes[i] > k.min_sizes[i]) || !std::isfinite(k.max_sizes[i])) {
      return c.Error("max_size " + FormatFloat(k.max_sizes[i]) + " must be larger than min_size " +
                     FormatFloat(k.min_sizes[i]));
    }
  }
  for (float r : k.aspect_ratios) {
    if (!(r > 0.f) || !std::isfinite(r)) return c.Error("aspect_ratio " + FormatFloat(r) + " must be a number > 0");
  }
  PriorBoxLayerParams lp;
  lp.min_sizes = k.min_sizes;
  lp.max_sizes = k.max_sizes;
  lp.aspect_ratios = PriorBoxAspectRatios(k);
  lp.flip = p.flip() ? 1 : 0;
  lp.clip = p.clip() ? 1 : 0;
  // Caffe: no variance means 0.1; one value fills all four; otherwise exactly four.
  lp.variances.assign(p.variance().begin(), p.variance().end());
  if (lp.variances.empty()) lp.variances = {0.1f};
  if (lp.variances.size() != 1 && lp.variances.size() != 4) {
    return c.Error("has " + std::to_string(lp.variances.size()) + " variance values, Caffe needs 0, 1 or 4");
  }
  for (float v : lp.variances) {
    if (!(v > 0.f) || !std::isfinite(v)) return c.Error("variance " + FormatFloat(v) + " must be a number > 0");
  }
  // img_size, or img_h with img_w (Caffe refuses both forms and one of h/w alone); 0 takes the image input's.
  if (p.has_img_size() && (p.has_img_h() || p.has_img_w())) return c.Error("gives both img_size and img_h/img_w");
  if (p.has_img_h() != p.has_img_w()) return c.Error("needs both img_h and img_w");
  const uint32_t img_h = p.has_img_size() ? p.img_size() : p.img_h();
  const uint32_t img_w = p.has_img_size() ? p.img_size() : p.img_w();
  if (img_h > (1u << 20) || img_w > (1u << 20)) return c.Error("img_h/img_w must be at most 2^20");
  lp.img_h = static_cast<int>(img_h);
  lp.img_w = static_cast<int>(img_w);
  if (p.has_step() && (p.has_step_h() || p.has_step_w())) return c.Error("gives both step and step_h/step_w");
  if (p.has_step_h() != p.has_step_w()) return c.Error("needs both step_h and step_w");
  const float step_h = p.has_step() ? p.step() : p.step_h();
  const float step_w = p.has_step() ? p.step() : p.step_w();
  for (float v : {step_h, step_w}) {
    if (!(v >= 0.f) || v > float(1 << 20)) return c.Error("step " + FormatFloat(v) + " must be in [0, 2^20]");
    // TNN reads the steps as integers.
    if (v != std::floor(v)) {
      return c.Unsupported("step " + FormatFloat(v) + " is not a whole number of pixels (TNN reads steps as ints)");
    }
  }
  lp.step_h = static_cast<int>(step_h);
  lp.step_w = static_cast<int>(step_w);
  lp.offset = p.offset();
  if (!std::isfinite(lp.offset)) return c.Error("offset is not finite");
  PriorBoxParams check;
  QT_RETURN_IF_ERROR(PriorBoxKernelParams(lp, &check).WithContext(c.where));
  const int n = x[2] * x[3] * PriorBoxNumPriors(check) * 4;
  // Caffe's top is [1, 2, n]; TNN's PriorBox adds a trailing 1.
  const std::string out = Top(c, 0, {1, 2, n}, 4);
  Emit(LayerType::kPriorBox, c.name, {c.in[0].name, c.in[1].name}, {out}, lp);
  return Status::Ok();
}

Status Importer::ImportDetectionOutput(LayerCtx& c) {
  const auto& p = c.lp->detection_output_param();
  if (!p.has_num_classes()) return c.Error("needs num_classes");
  if (p.num_classes() < 1 || p.num_classes() > (1u << 20)) return c.Error("num_classes must be in [1, 2^20]");
  DetectionOutputLayerParams d;
  d.num_classes = static_cast<int>(p.num_classes());
  d.share_location = p.share_location() ? 1 : 0;
  d.background_label_id = p.background_label_id();
  d.variance_encoded_in_target = p.variance_encoded_in_target() ? 1 : 0;
  d.code_type = static_cast<int>(p.code_type());
  d.keep_top_k = p.keep_top_k();
  // Caffe keeps every score when the threshold is not given.
  d.confidence_threshold = p.has_confidence_threshold() ? p.confidence_threshold() : -FLT_MAX;
  d.nms_threshold = p.nms_param().nms_threshold();
  d.top_k = p.nms_param().has_top_k() ? p.nms_param().top_k() : -1;
  d.eta = p.nms_param().eta();
  if (!std::isfinite(d.confidence_threshold)) return c.Error("confidence_threshold is not finite");
  if (!(d.nms_threshold >= 0.f) || !std::isfinite(d.nms_threshold)) return c.Error("nms_threshold must be >= 0");
  if (!(d.eta > 0.f && d.eta <= 1.f)) return c.Error("eta " + FormatFloat(d.eta) + " must be in (0, 1]");
  if (d.share_location && d.background_label_id == -1) {
    // Caffe aborts here; TNN would find nothing.
    return c.Error("background_label_id -1 with share_location: Caffe refuses it");
  }
  DetectionOutputParams k;
  QT_RETURN_IF_ERROR(DetectionOutputKernelParams(d, &k).WithContext(c.where));
  // The graph's own shape inference checks the three inputs against each other; the output rows are the static
  // bound of detection_output.h, not Caffe's run-time count.
  const Dims& priors = c.in[2].dims;
  const int num_priors = priors.size() >= 3 ? priors[2] / 4 : 0;
  const int batch = c.in[0].dims.empty() ? 1 : c.in[0].dims[0];
  const std::string out = Top(c, 0, {1, 1, batch * DetectionOutputRowsPerImage(d, num_priors), 7}, 4);
  Emit(LayerType::kDetectionOutput, c.name, {c.in[0].name, c.in[1].name, c.in[2].name}, {out}, d);
  return Status::Ok();
}

Status Importer::ImportNormalize(LayerCtx& c) {
  const auto& p = c.lp->norm_param();
  const Dims& x = c.in[0].dims;
  if (x.size() < 2) return c.Error("needs an input with a channel axis, got " + DimsToString(x));
  if (!(p.eps() >= 0.f) || !std::isfinite(p.eps())) return c.Error("eps must be a finite number >= 0");
  const int channels = x[1];
  QT_RETURN_IF_ERROR(NeedBlobs(c, 1));
  std::vector<float> scale;
  if (p.channel_shared()) {
    // SSD stores the shared scale with shape [1]; accept a scalar blob too.
    if (!StoredShapeMatches(c.blobs->Get(0), {})) QT_RETURN_IF_ERROR(ReadBlob(c, 0, "scale", {1}, &scale));
    else QT_RETURN_IF_ERROR(ReadBlob(c, 0, "scale", {}, &scale));
  } else {
    QT_RETURN_IF_ERROR(ReadBlob(c, 0, "scale", {channels}, &scale));
  }
  // As TNN's caffe2onnx: the norm (TNN's Normalize has no scale), then a Mul by the scale.
  const int rank = c.in[0].rank;
  NormalizeLayerParams np;
  np.across_spatial = p.across_spatial() ? 1 : 0;
  np.epsilon = p.eps();
  np.channel_shared = p.channel_shared() ? 1 : 0;
  const std::string normed = HelperBlobName(c, "norm");
  Emit(LayerType::kNormalize, HelperLayerName(c, "norm"), {c.in[0].name}, {normed}, np);
  by_graph_name_[normed] = BlobState{normed, x, rank};
  Dims dims(std::max(rank, 1), 1);
  if (!p.channel_shared()) dims[1] = channels;
  const std::string out = Top(c, 0, x, rank);
  EmitConstantOp(LayerType::kMul, c.name, normed, out, scale, dims);
  return Status::Ok();
}

Status Importer::ImportShuffleChannel(LayerCtx& c) {
  const Dims& x = c.in[0].dims;
  const int group = static_cast<int>(std::min<uint32_t>(c.lp->shuffle_channel_param().group(), INT_MAX));
  if (x.size() < 2) return c.Error("needs an input with channels, got " + DimsToString(x));
  if (group < 1 || x[1] % group != 0) {
    return c.Error("group " + std::to_string(group) + " must divide the " + std::to_string(x[1]) + " channels");
  }
  const std::string out = Top(c, 0, x, c.in[0].rank);
  Emit(LayerType::kShuffleChannel, c.name, {c.in[0].name}, {out}, ShuffleChannelParams{group});
  return Status::Ok();
}

Status Importer::ImportLrn(LayerCtx& c) {
  const auto& p = c.lp->lrn_param();
  const Dims& x = c.in[0].dims;
  if (x.size() != 4) return c.Error("needs a 4-D NCHW input, got " + DimsToString(x));
  if (p.norm_region() != cp::LRNParameter::ACROSS_CHANNELS) {
    return c.Unsupported("norm_region WITHIN_CHANNEL (TNN's LRN normalises across channels only)");
  }
  if (p.local_size() % 2 != 1 || p.local_size() > 4095) {
    return c.Error("local_size " + std::to_string(p.local_size()) + " must be odd (Caffe's rule) and below 4096");
  }
  for (float v : {p.alpha(), p.beta(), p.k()}) {
    if (!std::isfinite(v)) return c.Error("alpha, beta and k must be finite");
  }
  const std::string out = Top(c, 0, x, c.in[0].rank);
  Emit(LayerType::kLrn, c.name, {c.in[0].name}, {out},
       LrnLayerParams{p.alpha(), p.beta(), p.k(), static_cast<int>(p.local_size())});
  return Status::Ok();
}

Status Importer::ImportCrop(LayerCtx& c) {
  const auto& p = c.lp->crop_param();
  const Dims& x = c.in[0].dims;
  const int rank = static_cast<int>(x.size());
  std::vector<int> offsets;
  for (uint32_t o : p.offset()) offsets.push_back(static_cast<int>(std::min<uint32_t>(o, INT_MAX)));
  Dims o;
  const Status s = CaffeCropDims(x, c.in[1].dims, p.axis(), offsets, &o);
  if (!s.ok()) return c.Error(s.message());
  const int axis = p.axis() < 0 ? p.axis() + rank : p.axis();
  // The box as a StridedSlice of the first bottom: whole axes before `axis`, then the offsets and the reference's
  // sizes. The reference is read for its shape only.
  StridedSliceParams sp;
  for (int a = 0; a < rank; ++a) {
    const int begin = a < axis ? 0 : offsets.empty() ? 0 : offsets.size() == 1 ? offsets[0] : offsets[a - axis];
    sp.begins.push_back(begin);
    sp.ends.push_back(begin + o[a]);
    sp.strides.push_back(1);
  }
  shape_only_.insert(c.in[1].name);
  const std::string in = c.in[0].rank == rank ? c.in[0].name : ReshapeToCaffeRank(c, c.in[0], "reshape");
  const std::string out = Top(c, 0, o, rank);
  Emit(LayerType::kStridedSlice, c.name, {in}, {out}, sp);
  return Status::Ok();
}

Status Importer::ImportInterp(LayerCtx& c) {
  const auto& p = c.lp->interp_param();
  const Dims& x = c.in[0].dims;
  if (x.size() != 4) return c.Error("needs a 4-D NCHW input, got " + DimsToString(x));
  if (p.pad_beg() != 0 || p.pad_end() != 0) {
    return c.Unsupported("pad_beg/pad_end (only 0: TNN's Upsample has no crop or padding)");
  }
  // Caffe's InterpLayer::Reshape, in its order of precedence.
  const int zoom = p.zoom_factor(), shrink = p.shrink_factor();
  if (zoom < 1 || shrink < 1) return c.Error("zoom_factor and shrink_factor must be >= 1");
  int oh = 0, ow = 0;
  if (p.has_shrink_factor() && !p.has_zoom_factor()) {
    oh = (x[2] - 1) / shrink + 1;
    ow = (x[3] - 1) / shrink + 1;
  } else if (p.has_zoom_factor() && !p.has_shrink_factor()) {
    oh = x[2] + (x[2] - 1) * (zoom - 1);
    ow = x[3] + (x[3] - 1) * (zoom - 1);
  } else if (p.has_height() && p.has_width()) {
    oh = p.height();
    ow = p.width();
  } else if (p.has_shrink_factor() && p.has_zoom_factor()) {
    oh = (x[2] - 1) / shrink + 1;
    ow = (x[3] - 1) / shrink + 1;
    oh = oh + (oh - 1) * (zoom - 1);
    ow = ow + (ow - 1) * (zoom - 1);
  } else if (c.in.size() == 2 && c.in[1].dims.size() == 4) {
    oh = c.in[1].dims[2];
    ow = c.in[1].dims[3];
  } else {
    return c.Error("needs height and width, zoom_factor, shrink_factor, or a second bottom to take the size from");
  }
  if (oh < 1 || ow < 1 || oh > (1 << 20) || ow > (1 << 20)) {
    return c.Error("output size " + std::to_string(oh) + "x" + std::to_string(ow) + " must be in [1, 2^20]");
  }
  if (c.in.size() == 2) shape_only_.insert(c.in[1].name);
  // Caffe's Interp is bilinear with the corners aligned: TNN's Upsample mode 2 with align_corners and the sizes.
  UpsampleParams up;
  up.mode = 2;
  up.scale_h = static_cast<float>(oh) / static_cast<float>(x[2]);
  up.scale_w = static_cast<float>(ow) / static_cast<float>(x[3]);
  up.align_corners = 1;
  up.output_h = oh;
  up.output_w = ow;
  const std::string out = Top(c, 0, {x[0], x[1], oh, ow}, 4);
  Emit(LayerType::kUpsample, c.name, {c.in[0].name}, {out}, up);
  return Status::Ok();
}

// ---- Driving the import ---------------------------------------------------------------------------------------

Status Importer::ImportLayer(const cp::LayerParameter& lp, const std::string& layer_name,
                             const std::map<std::string, const BlobList*>& weights) {
  const Rule* rule = FindRule(lp.type());
  LayerCtx c;
  c.lp = &lp;
  c.name = layer_name;
  c.where = prototxt_ + ": layer '" + lp.name() + "' (" + lp.type() + ")";
  const int bottoms = lp.bottom_size(), tops = lp.top_size();
  if (bottoms < rule->min_bottoms || bottoms > rule->max_bottoms) {
    return c.Error("has " + std::to_string(bottoms) + " bottoms, expected " +
                   (rule->min_bottoms == rule->max_bottoms ? std::to_string(rule->min_bottoms)
                    : rule->max_bottoms == kMany
                        ? "at least " + std::to_string(rule->min_bottoms)
                        : std::to_string(rule->min_bottoms) + " to " + std::to_string(rule->max_bottoms)));
  }
  if (tops < rule->min_tops || tops > rule->max_tops) {
    return c.Error(
        "has " + std::to_string(tops) + " tops, expected " +
        (rule->max_tops == kMany ? "at least " + std::to_string(rule->min_tops) : std::to_string(rule->min_tops)));
  }
  for (const auto& bottom : lp.bottom()) {
    auto it = blobs_.find(bottom);
    if (it == blobs_.end()) {
      return c.Error("reads blob '" + bottom + "', which no earlier layer produces and is not a model input");
    }
    c.in.push_back(it->second);
  }
  auto w = weights.find(lp.name());
  if (w != weights.end()) {
    c.blobs = w->second;
    c.blob_source = caffemodel_;
  } else if (lp.blobs_size() > 0) {
    c.blobs = &lp.blobs();
    c.blob_source = prototxt_;
  }
  return (this->*rule->import)(c);
}

Status Importer::Run(const cp::NetParameter& net, const std::vector<cp::LayerParameter>& layers,
                     const std::map<std::string, const BlobList*>& weights) {
  *graph_ = Graph();
  PlanNames(net, layers);
  std::vector<std::string> layer_names;
  for (const auto& l : layers) layer_names.push_back(layer_names_.Claim(SanitizeName(l.name())));
  QT_RETURN_IF_ERROR(NetLevelInputs(net));
  for (size_t i = 0; i < layers.size(); ++i) QT_RETURN_IF_ERROR(ImportLayer(layers[i], layer_names[i], weights));
  if (graph_->inputs.empty()) return Status::InvalidArgument(prototxt_ + ": the net declares no input");
  if (graph_->layers.empty()) return Status::InvalidArgument(prototxt_ + ": the net has no layer to run");

  // Caffe's outputs: the current version of every blob that no layer reads.
  std::set<std::string> consumed = shape_only_;
  for (const auto& l : graph_->layers) consumed.insert(l.inputs.begin(), l.inputs.end());
  std::set<std::string> produced;
  for (const auto& l : graph_->layers) produced.insert(l.outputs.begin(), l.outputs.end());
  std::set<std::string> outputs;
  for (const auto& entry : blobs_) {
    const std::string& name = entry.second.name;
    if (produced.count(name) && !consumed.count(name)) outputs.insert(name);
  }
  if (outputs.empty()) return Status::InvalidArgument(prototxt_ + ": the net has no output (every blob is read)");
  graph_->outputs.assign(outputs.begin(), outputs.end());
  std::sort(graph_->inputs.begin(), graph_->inputs.end(),
            [](const InputSpec& a, const InputSpec& b) { return a.name < b.name; });
  QT_RETURN_IF_ERROR(CheckAgainstShapeInference());
  SimplifyGraph(graph_);
  graph_->RefreshBlobNames();
  return graph_->Validate().WithContext(prototxt_);
}

// The graph must give every blob Caffe's shape (plus the trailing 1s of TNN's InnerProduct): a difference is a
// mapping bug, reported rather than run.
Status Importer::CheckAgainstShapeInference() const {
  QT_RETURN_IF_ERROR(graph_->Validate().WithContext(prototxt_));
  BlobDims dims;
  QT_RETURN_IF_ERROR(InferShapes(*graph_, {}, &dims).WithContext(prototxt_));
  for (const auto& [name, b] : by_graph_name_) {
    auto it = dims.find(name);
    if (it == dims.end()) continue;
    const Dims& got = it->second;
    bool ok = static_cast<int>(got.size()) == b.rank && got.size() >= b.dims.size();
    for (size_t i = 0; ok && i < got.size(); ++i) ok = got[i] == (i < b.dims.size() ? b.dims[i] : 1);
    if (!ok) {
      return Status::Internal(prototxt_ + ": blob '" + name + "' gets shape " + DimsToString(got) +
                              " in the imported graph but " + DimsToString(b.dims) + " in Caffe");
    }
  }
  return Status::Ok();
}

}  // namespace

bool LooksLikeCaffePrototxt(const std::string& head) {
  size_t i = 0;
  for (;;) {
    while (i < head.size() && std::isspace(static_cast<unsigned char>(head[i]))) ++i;
    if (i < head.size() && head[i] == '#') {
      while (i < head.size() && head[i] != '\n') ++i;
      continue;
    }
    break;
  }
  const size_t start = i;
  while (i < head.size() && (std::isalnum(static_cast<unsigned char>(head[i])) || head[i] == '_')) ++i;
  if (i == start || std::isdigit(static_cast<unsigned char>(head[start]))) return false;
  while (i < head.size() && (head[i] == ' ' || head[i] == '\t')) ++i;
  return i < head.size() && (head[i] == ':' || head[i] == '{');
}

Status ImportCaffeModel(const std::string& prototxt_path, const std::string& caffemodel_path, Graph* graph,
                        const InputShapes& input_shapes) {
  cp::NetParameter net;
  QT_RETURN_IF_ERROR(ParsePrototxt(prototxt_path, &net));
  if (net.layer_size() > 0 && net.layers_size() > 0) {
    return Status::InvalidArgument(prototxt_path + ": mixes V2 'layer' and V1 'layers' messages");
  }
  std::vector<cp::LayerParameter> layers;
  for (const auto& l : net.layer()) {
    if (IncludedInTestPhase(l)) layers.push_back(l);
  }
  for (const auto& v1 : net.layers()) {
    cp::LayerParameter l = UpgradeV1(v1);
    if (IncludedInTestPhase(l)) layers.push_back(std::move(l));
  }

  // Every unsupported type at once, each with the layers using it.
  std::map<std::string, std::vector<std::string>> unsupported;
  for (const auto& l : layers) {
    if (!Importer::FindRule(l.type())) unsupported[l.type()].push_back(l.name());
  }
  if (!unsupported.empty()) {
    std::string list;
    for (const auto& [type, names] : unsupported) {
      std::string joined;
      for (const auto& n : names) joined += (joined.empty() ? "" : ", ") + n;
      list += (list.empty() ? "" : "; ") + (type.empty() ? std::string("(no type)") : "'" + type + "'") + " (" +
              joined + ")";
    }
    return Status::Unsupported(prototxt_path + ": unsupported Caffe layer type" + (unsupported.size() > 1 ? "s" : "") +
                               ": " + list);
  }

  cp::NetParameter weights_net;
  std::map<std::string, const BlobList*> weights;
  if (!caffemodel_path.empty()) {
    QT_RETURN_IF_ERROR(ParseCaffemodel(caffemodel_path, &weights_net));
    // As Caffe's CopyTrainedLayersFrom: by layer name, a later layer of the same name wins.
    for (const auto& l : weights_net.layer()) {
      if (l.blobs_size() > 0) weights[l.name()] = &l.blobs();
    }
    for (const auto& l : weights_net.layers()) {
      if (l.blobs_size() > 0) weights[l.name()] = &l.blobs();
    }
  }
  return Importer(prototxt_path, caffemodel_path, graph, input_shapes).Run(net, layers, weights);
}

}  // namespace qt
