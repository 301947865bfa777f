// The one switch over LayerType, and what the tools ask of every layer through it.
#include "core/layers/layer.h"

#include <cfloat>

#include "core/graph/shape_inference.h"

namespace qt {

const LayerKind& LayerKindOf(LayerType type) {
  switch (type) {
    case LayerType::kConvolution: return ConvolutionKind();
    case LayerType::kDeconvolution: return DeconvolutionKind();
    case LayerType::kPooling: return PoolingKind();
    case LayerType::kRelu: return ReluKind();
    case LayerType::kRelu6: return Relu6Kind();
    case LayerType::kClip: return ClipKind();
    case LayerType::kPRelu: return PReluKind();
    case LayerType::kSigmoid: return SigmoidKind();
    case LayerType::kTanh: return TanhKind();
    case LayerType::kHardSwish: return HardSwishKind();
    case LayerType::kHardSigmoid: return HardSigmoidKind();
    case LayerType::kAdd: return AddKind();
    case LayerType::kSub: return SubKind();
    case LayerType::kMul: return MulKind();
    case LayerType::kDiv: return DivKind();
    case LayerType::kConcat: return ConcatKind();
    case LayerType::kSoftmax: return SoftmaxKind();
    case LayerType::kInnerProduct: return InnerProductKind();
    case LayerType::kBatchNorm: return BatchNormKind();
    case LayerType::kScale: return ScaleKind();
    case LayerType::kFlatten: return FlattenKind();
    case LayerType::kReshape: return ReshapeKind();
    case LayerType::kPermute: return PermuteKind();
    case LayerType::kPad: return PadKind();
    case LayerType::kUpsample: return UpsampleKind();
    case LayerType::kSplitV: return SplitVKind();
    case LayerType::kDropout: return DropoutKind();
    case LayerType::kMaximum: return MaximumKind();
    case LayerType::kMatMul: return MatMulKind();
    case LayerType::kConvolution1D: return Convolution1DKind();
    case LayerType::kPooling1D: return Pooling1DKind();
    case LayerType::kInstanceNorm: return InstanceNormKind();
    case LayerType::kExp: return ExpKind();
    case LayerType::kLog: return LogKind();
    case LayerType::kSqrt: return SqrtKind();
    case LayerType::kAbs: return AbsKind();
    case LayerType::kNeg: return NegKind();
    case LayerType::kElu: return EluKind();
    case LayerType::kSoftplus: return SoftplusKind();
    case LayerType::kSwish: return SwishKind();
    case LayerType::kPower: return PowerKind();
    case LayerType::kStridedSliceV2: return StridedSliceV2Kind();
    case LayerType::kReduceMean: return ReduceMeanKind();
    case LayerType::kReduceMax: return ReduceMaxKind();
    case LayerType::kReduceMin: return ReduceMinKind();
    case LayerType::kReduceSum: return ReduceSumKind();
    case LayerType::kGather: return GatherKind();
    case LayerType::kPriorBox: return PriorBoxKind();
    case LayerType::kDetectionOutput: return DetectionOutputKind();
    case LayerType::kNormalize: return NormalizeKind();
    case LayerType::kShuffleChannel: return ShuffleChannelKind();
    case LayerType::kLrn: return LrnKind();
    case LayerType::kStridedSlice: return StridedSliceKind();
  }
  return DropoutKind();
}

// ---- Type names and ids ----------------------------------------------------------------------------------------

bool LayerTypeFromString(const std::string& type_str, LayerType* type) {
  for (LayerType t : kAllLayerTypes) {
    const LayerKind& k = LayerKindOf(t);
    bool match = type_str == k.name;
    for (const char* alias : k.aliases) match = match || (alias && type_str == alias);
    if (match) {
      *type = t;
      return true;
    }
  }
  return false;
}

const char* LayerTypeName(LayerType type) { return LayerKindOf(type).name; }

int TnnLayerTypeId(LayerType type) { return LayerKindOf(type).tnn_id; }

bool LayerTypeFromTnnId(int id, LayerType* type) {
  for (LayerType t : kAllLayerTypes) {
    if (LayerKindOf(t).tnn_id == id) {
      *type = t;
      return true;
    }
  }
  return false;
}

bool HasQuantizedForm(LayerType type) { return LayerKindOf(type).has_quantized_form; }

// ---- Params ----------------------------------------------------------------------------------------------------

LayerParams DefaultLayerParams(LayerType type) { return LayerKindOf(type).default_params(); }

Status ParseLayerParams(LayerType type, const std::vector<std::string>& tokens, LayerParams* params) {
  ParamReader r(tokens);
  *params = DefaultLayerParams(type);
  return LayerKindOf(type).parse(r, params);
}

void WriteLayerParams(LayerType type, const LayerParams& params, std::vector<std::string>* tokens) {
  ParamWriter w(tokens);
  LayerKindOf(type).write(params, w);
}

// ---- Shapes ----------------------------------------------------------------------------------------------------

namespace {

// Memory bound of shape inference (doc/robustness.md): a model file is untrusted, and dims that multiply past these
// would make the engine allocate gigabytes or overflow 32-bit index arithmetic.
constexpr int64_t kMaxBlobElements = int64_t{1} << 30;   // 4 GiB as float
constexpr int64_t kMaxTotalElements = int64_t{1} << 31;  // every blob of the graph at once: 8 GiB as float

// Values of a blob, saturating at kMaxBlobElements + 1; negative for a negative dim.
int64_t BoundedCount(const Dims& d) {
  int64_t n = 1;
  for (int v : d) {
    if (v < 0) return -1;
    n = v == 0 ? 0 : (n > kMaxBlobElements / v ? kMaxBlobElements + 1 : n * v);
  }
  return n;
}

Status CheckBlobSize(const std::string& what, const std::string& blob, const Dims& d, int64_t* total) {
  const int64_t n = BoundedCount(d);
  if (n < 0) return Status::InvalidArgument(what + ": blob '" + blob + "' gets a negative dim " + DimsToString(d));
  if (n > kMaxBlobElements) {
    return Status::InvalidArgument(what + ": blob '" + blob + "' of dims " + DimsToString(d) +
                                   " would hold more than 2^30 values, the limit of one blob");
  }
  *total += n;
  if (*total > kMaxTotalElements) {
    return Status::InvalidArgument(what + ": blob '" + blob + "' of dims " + DimsToString(d) +
                                   " takes the graph's blobs past 2^31 values in all, the limit of a model");
  }
  return Status::Ok();
}

}  // namespace

Status InferShapes(const Graph& graph, const BlobDims& input_dims, BlobDims* blob_dims) {
  blob_dims->clear();
  int64_t total = 0;
  for (const auto& in : graph.inputs) {
    auto it = input_dims.find(in.name);
    const Dims& d = it != input_dims.end() ? it->second : in.dims;
    for (int v : d) {
      if (v < 1) return Status::InvalidArgument("input '" + in.name + "' has dims " + DimsToString(d));
    }
    QT_RETURN_IF_ERROR(CheckBlobSize("input '" + in.name + "'", in.name, d, &total));
    (*blob_dims)[in.name] = d;
  }
  for (const auto& l : graph.layers) {
    std::vector<Dims> in;
    for (const auto& name : l.inputs) {
      auto it = blob_dims->find(name);
      if (it == blob_dims->end()) {
        return Status::InvalidArgument("layer '" + l.name + "' reads blob '" + name +
                                       "', which no earlier layer produces and is not a model input");
      }
      in.push_back(it->second);
    }
    if (in.empty()) return Status::InvalidArgument("layer '" + l.name + "' has no input");
    std::vector<Dims> out;
    QT_RETURN_IF_ERROR(LayerKindOf(l.type).infer(graph, l, in, &out));
    if (out.size() != l.outputs.size()) {
      return Status::InvalidArgument("layer '" + l.name + "' (" + l.type_str + ") has " +
                                     std::to_string(l.outputs.size()) + " outputs, expected " +
                                     std::to_string(out.size()));
    }
    for (size_t i = 0; i < out.size(); ++i) {
      QT_RETURN_IF_ERROR(CheckBlobSize("layer '" + l.name + "' (" + l.type_str + ")", l.outputs[i], out[i], &total));
      (*blob_dims)[l.outputs[i]] = out[i];
    }
  }
  return Status::Ok();
}

// ---- Executors -------------------------------------------------------------------------------------------------

Status LayerExec::Forward(const std::vector<const Tensor*>&, const std::vector<Tensor*>&) {
  return Status::Internal("float forward called on an int8 layer");
}
Status LayerExec::ForwardInt8(const std::vector<const Int8Tensor*>&, const std::vector<Int8Tensor*>&) {
  return Status::Internal("int8 forward called on a float layer");
}

Status LayerExec::ForwardInt8Exactly(const Int8Tensor&, Int8Tensor*) {
  return Status::Internal("exact int8 forward called on a layer without one");
}

std::unique_ptr<LayerExec> CreateFp32LayerExec(const Layer& layer, bool tnn_naive) {
  return LayerKindOf(layer.type).create_fp32(layer, Fp32Options{tnn_naive});
}

Status CreateInt8LayerExec(const Layer& layer, std::unique_ptr<LayerExec>* exec) {
  const LayerKind& kind = LayerKindOf(layer.type);
  if (kind.create_int8) {
    *exec = kind.create_int8(layer);
    return Status::Ok();
  }
  std::string have;
  for (LayerType t : kAllLayerTypes) {
    if (LayerKindOf(t).create_int8) have += std::string(have.empty() ? "" : ", ") + LayerKindOf(t).name;
  }
  return Status::Unsupported("layer '" + layer.name + "' is Quantized" + layer.type_str +
                             ", which has no int8 kernel here (int8 layers: " + have + ")");
}

// ---- Shared helpers --------------------------------------------------------------------------------------------

std::string LayerWhere(const Layer& l) { return "layer '" + l.name + "' (" + l.type_str + ")"; }

Status RequireInputs(const Layer& l, size_t lo, size_t hi) {
  const size_t n = l.inputs.size();
  if (n >= lo && n <= hi) return Status::Ok();
  if (hi == 1) return Status::InvalidArgument(LayerWhere(l) + " takes one input blob, got " + std::to_string(n));
  if (n > hi) {
    return Status::InvalidArgument(LayerWhere(l) + " has more than " + (hi == 2 ? std::string("two") : std::to_string(hi)) +
                                   " inputs");
  }
  return Status::InvalidArgument(LayerWhere(l) + " needs at least " + std::to_string(lo) + " inputs, got " +
                                 std::to_string(n));
}

Status RequireOutputs(const Layer& l, size_t n) {
  if (l.outputs.size() == n) return Status::Ok();
  return Status::InvalidArgument(LayerWhere(l) + " has " + std::to_string(l.outputs.size()) + " outputs, expected " +
                                 std::to_string(n));
}

Status Require4D(const Layer& l, const Dims& d) {
  if (d.size() != 4) {
    return Status::InvalidArgument("layer '" + l.name + "' (" + l.type_str + ") needs a 4-D NCHW input, got " +
                                   DimsToString(d));
  }
  return Status::Ok();
}

Status MissingResource(const Layer& l, const char* kind) {
  return Status::InvalidArgument(LayerWhere(l) + ": the model file has no " + kind + " resource for it");
}

Status CheckCount(const Layer& l, const char* what, int64_t have, int64_t want) {
  if (have != want) {
    return Status::InvalidArgument(LayerWhere(l) + ": " + what + " has " + std::to_string(have) + " values, expected " +
                                   std::to_string(want));
  }
  return Status::Ok();
}

Status CheckOneInOneOut(const Graph&, const Layer& l) {
  QT_RETURN_IF_ERROR(RequireInputs(l, 1, 1));
  return RequireOutputs(l, 1);
}

Status InferSame(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  out->assign(l.outputs.size(), in[0]);
  return Status::Ok();
}

Activation ToActivation(int code, Status* status) {
  switch (code) {
    case kActivationNone: return Activation::kNone;
    case kActivationRelu: return Activation::kRelu;
    case kActivationRelu6: return Activation::kRelu6;
    default:
      *status = Status::Unsupported("fused activation " + std::to_string(code) + " is not supported");
      return Activation::kNone;
  }
}

// ---- Int8 helpers ----------------------------------------------------------------------------------------------

Status BlobScaleOf(const LayerContext& ctx, const std::string& blob, const BlobScale** scale) {
  auto it = ctx.graph.blob_scales.find(blob);
  if (it == ctx.graph.blob_scales.end()) {
    return Status::InvalidArgument("blob '" + blob + "' has no " + blob + kBlobScaleSuffix + " resource");
  }
  if (it->second.scale.empty()) return Status::InvalidArgument("blob '" + blob + "' has an empty scale");
  *scale = &it->second;
  return Status::Ok();
}

Status MakeRequant(const LayerContext& ctx, const RawBuffer& weight_scale, const RawBuffer& weight_zero, int out_c,
                   int in_channels, int activation, Int8Requant* r) {
  const std::string& out_blob = ctx.layer.outputs[0];
  const BlobScale *in = nullptr, *out = nullptr;
  QT_RETURN_IF_ERROR(BlobScaleOf(ctx, ctx.layer.inputs[0], &in));
  QT_RETURN_IF_ERROR(BlobScaleOf(ctx, out_blob, &out));
  if (weight_scale.dtype() != DataType::kFloat) return Status::InvalidArgument("weight scale is not float32");
  if (!weight_zero.empty() && weight_zero.dtype() != DataType::kInt8) {
    return Status::InvalidArgument("weight zero point is not int8");
  }
  std::vector<float> ws, so;
  QT_RETURN_IF_ERROR(Expand(weight_scale.As<float>(), out_c, "weight scale", &ws));
  QT_RETURN_IF_ERROR(Expand(out->scale, out_c, "output blob '" + out_blob + "' scale", &so));
  QT_RETURN_IF_ERROR(Expand(out->zero_point, out_c, "output blob zero point", &r->out_zero));
  QT_RETURN_IF_ERROR(Expand(weight_zero.As<int8_t>(), out_c, "weight zero point", &r->weight_zero));
  QT_RETURN_IF_ERROR(
      Expand(in->zero_point, in_channels, "input blob '" + ctx.layer.inputs[0] + "' zero point", &r->in_zero));
  r->multiplier.resize(out_c);
  r->relu6_max.resize(out_c);
  for (int c = 0; c < out_c; ++c) {
    r->multiplier[c] = so[c] >= FLT_MIN ? ws[c] / so[c] : 0.f;
    r->relu6_max[c] = Float2Int8(6.0f / so[c]);
  }
  switch (activation) {
    case kActivationNone: r->activation = Activation::kNone; break;
    case kActivationRelu: r->activation = Activation::kRelu; break;
    case kActivationRelu6: r->activation = Activation::kRelu6; break;
    default:
      return Status::Unsupported("fused activation " + std::to_string(activation) +
                                 " has no int8 kernel (TNN's int8 kernels silently drop it)");
  }
  return Status::Ok();
}

std::vector<int32_t> Int32Bias(const RawBuffer& bias) {
  return bias.dtype() == DataType::kInt32 ? bias.As<int32_t>() : std::vector<int32_t>();
}

}  // namespace qt
