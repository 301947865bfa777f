#include "layer_params.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace qt {
namespace {

class TokenReader {
 public:
  explicit TokenReader(const std::vector<std::string>& tokens) : tokens_(tokens) {}

  Status Int(const char* name, int* v) {
    if (pos_ >= tokens_.size()) {
      return Status::ParseError(std::string("too few params: '") + name + "' (param " + std::to_string(pos_ + 1) +
                                ") is missing");
    }
    return ParseInt(name, v);
  }
  Status IntOr(const char* name, int* v, int fallback) {
    if (pos_ >= tokens_.size()) {
      *v = fallback;
      return Status::Ok();
    }
    return ParseInt(name, v);
  }
  Status Float(const char* name, float* v) {
    if (pos_ >= tokens_.size()) {
      return Status::ParseError(std::string("too few params: '") + name + "' (param " + std::to_string(pos_ + 1) +
                                ") is missing");
    }
    return ParseFloat(name, v);
  }
  Status FloatOr(const char* name, float* v, float fallback) {
    if (pos_ >= tokens_.size()) {
      *v = fallback;
      return Status::Ok();
    }
    return ParseFloat(name, v);
  }
  // A count that sizes a following list: must lie in [lo, hi].
  Status Count(const char* name, int* v, int lo, int hi) {
    QT_RETURN_IF_ERROR(Int(name, v));
    if (*v < lo || *v > hi) {
      return Status::ParseError(std::string("param '") + name + "' is " + std::to_string(*v) + ", must be in [" +
                                std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return Status::Ok();
  }

 private:
  Status ParseInt(const char* name, int* v) {
    const std::string& t = tokens_[pos_++];
    const char* end = t.data() + t.size();
    auto [ptr, ec] = std::from_chars(t.data(), end, *v);
    if (ec != std::errc() || ptr != end) {
      return Status::ParseError(std::string("param '") + name + "' is '" + t + "', not an integer");
    }
    return Status::Ok();
  }
  Status ParseFloat(const char* name, float* v) {
    const std::string& t = tokens_[pos_++];
    const char* end = t.data() + t.size();
    auto [ptr, ec] = std::from_chars(t.data(), end, *v);
    if (ec != std::errc() || ptr != end || !std::isfinite(*v)) {
      return Status::ParseError(std::string("param '") + name + "' is '" + t + "', not a finite number");
    }
    return Status::Ok();
  }

  const std::vector<std::string>& tokens_;
  size_t pos_ = 0;
};

class TokenWriter {
 public:
  explicit TokenWriter(std::vector<std::string>* tokens) : tokens_(tokens) {}
  void Int(int v) { tokens_->push_back(std::to_string(v)); }
  void Float(float v) { tokens_->push_back(FormatFloat(v)); }

 private:
  std::vector<std::string>* tokens_;
};

// ---- Convolution / Deconvolution ----------------------------------------------------------------------------
Status Parse(TokenReader& r, ConvParams* p) {
  QT_RETURN_IF_ERROR(r.Int("group", &p->group));
  QT_RETURN_IF_ERROR(r.Int("input_channel", &p->input_channel));
  QT_RETURN_IF_ERROR(r.Int("output_channel", &p->output_channel));
  QT_RETURN_IF_ERROR(r.Int("kernel_h", &p->kernel_h));
  QT_RETURN_IF_ERROR(r.Int("kernel_w", &p->kernel_w));
  QT_RETURN_IF_ERROR(r.Int("stride_h", &p->stride_h));
  QT_RETURN_IF_ERROR(r.Int("stride_w", &p->stride_w));
  QT_RETURN_IF_ERROR(r.Int("pad_h", &p->pad_h));
  QT_RETURN_IF_ERROR(r.Int("pad_w", &p->pad_w));
  QT_RETURN_IF_ERROR(r.IntOr("has_bias", &p->has_bias, 0));
  QT_RETURN_IF_ERROR(r.IntOr("pad_type", &p->pad_type, 0));
  QT_RETURN_IF_ERROR(r.IntOr("dilation_h", &p->dilation_h, 1));
  QT_RETURN_IF_ERROR(r.IntOr("dilation_w", &p->dilation_w, 1));
  QT_RETURN_IF_ERROR(r.IntOr("activation", &p->activation, 0));
  if (p->group < 1 || p->input_channel < 1 || p->output_channel < 1 || p->output_channel % p->group != 0) {
    return Status::ParseError("group " + std::to_string(p->group) + ", input_channel " +
                              std::to_string(p->input_channel) + ", output_channel " +
                              std::to_string(p->output_channel) +
                              ": channels must be positive and output_channel divisible by group");
  }
  if (p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 ||
      p->dilation_w < 1 || p->pad_h < 0 || p->pad_w < 0) {
    return Status::ParseError("kernel, stride and dilation must be >= 1 and pads >= 0");
  }
  if ((p->pad_type < -1 || p->pad_type > 1) && p->pad_type != 3) {
    return Status::ParseError("pad_type " + std::to_string(p->pad_type) + " is not -1, 0, 1 or 3");
  }
  return Status::Ok();
}
void Write(TokenWriter& w, const ConvParams& p) {
  for (int v : {p.group, p.input_channel, p.output_channel, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_h,
                p.pad_w, p.has_bias, p.pad_type, p.dilation_h, p.dilation_w, p.activation}) {
    w.Int(v);
  }
}

// ---- Pooling ------------------------------------------------------------------------------------------------
Status Parse(TokenReader& r, PoolParams* p) {
  QT_RETURN_IF_ERROR(r.Int("pool_type", &p->pool_type));
  QT_RETURN_IF_ERROR(r.Int("kernel_h", &p->kernel_h));
  QT_RETURN_IF_ERROR(r.Int("kernel_w", &p->kernel_w));
  QT_RETURN_IF_ERROR(r.Int("stride_h", &p->stride_h));
  QT_RETURN_IF_ERROR(r.Int("stride_w", &p->stride_w));
  QT_RETURN_IF_ERROR(r.Int("pad_h", &p->pad_h));
  QT_RETURN_IF_ERROR(r.Int("pad_w", &p->pad_w));
  QT_RETURN_IF_ERROR(r.IntOr("kernel_index_h", &p->kernel_index_h, -1));
  QT_RETURN_IF_ERROR(r.IntOr("kernel_index_w", &p->kernel_index_w, -1));
  if (p->kernel_index_w == -1) p->kernel_index_w = p->kernel_index_h;
  QT_RETURN_IF_ERROR(r.IntOr("pad_type", &p->pad_type, 0));
  QT_RETURN_IF_ERROR(r.IntOr("ceil_mode", &p->ceil_mode, 0));
  QT_RETURN_IF_ERROR(r.IntOr("is_adaptive", &p->is_adaptive, 0));
  QT_RETURN_IF_ERROR(r.IntOr("output_h", &p->output_h, 0));
  QT_RETURN_IF_ERROR(r.IntOr("output_w", &p->output_w, 0));
  if (p->pool_type != 0 && p->pool_type != 1) {
    return Status::ParseError("pool_type " + std::to_string(p->pool_type) + " is not 0 (max) or 1 (average)");
  }
  if (p->kernel_h < 0 || p->kernel_w < 0 || p->stride_h < 1 || p->stride_w < 1 || p->pad_h < 0 || p->pad_w < 0) {
    return Status::ParseError("pooling kernel and pads must be >= 0 and strides >= 1");
  }
  if (p->pad_type < -1 || p->pad_type > 1) {
    return Status::ParseError("pad_type " + std::to_string(p->pad_type) + " is not -1, 0 or 1");
  }
  return Status::Ok();
}
// TNN's own writer swaps output_h/output_w (tnn_format.md §F.12); we write them in the order they are read.
void Write(TokenWriter& w, const PoolParams& p) {
  for (int v : {p.pool_type, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.kernel_index_h,
                p.kernel_index_w, p.pad_type, p.ceil_mode, p.is_adaptive, p.output_h, p.output_w}) {
    w.Int(v);
  }
}

// ---- Clip ---------------------------------------------------------------------------------------------------
Status Parse(TokenReader& r, ClipParams* p) {
  QT_RETURN_IF_ERROR(r.Float("min", &p->min));
  QT_RETURN_IF_ERROR(r.Float("max", &p->max));
  if (p->min > p->max) return Status::ParseError("clip min " + FormatFloat(p->min) + " > max " + FormatFloat(p->max));
  return Status::Ok();
}
void Write(TokenWriter& w, const ClipParams& p) {
  w.Float(p.min);
  w.Float(p.max);
}

// ---- PReLU --------------------------------------------------------------------------------------------------
Status Parse(TokenReader& r, PReluParams* p) {
  QT_RETURN_IF_ERROR(r.IntOr("channel_shared", &p->channel_shared, 0));
  return r.IntOr("has_filler", &p->has_filler, 0);
}
void Write(TokenWriter& w, const PReluParams& p) {
  w.Int(p.channel_shared);
  w.Int(p.has_filler);
}

// ---- HardSwish / HardSigmoid --------------------------------------------------------------------------------
Status Parse(TokenReader& r, HardActivationParams* p, float default_alpha) {
  QT_RETURN_IF_ERROR(r.FloatOr("alpha", &p->alpha, default_alpha));
  return r.FloatOr("beta", &p->beta, 0.5f);
}
void Write(TokenWriter& w, const HardActivationParams& p) {
  w.Float(p.alpha);
  w.Float(p.beta);
}

// ---- Add / Sub / Mul / Div ----------------------------------------------------------------------------------
Status Parse(TokenReader& r, BinaryParams* p) {
  QT_RETURN_IF_ERROR(r.IntOr("weight_input_index", &p->weight_input_index, 1));
  if (p->weight_input_index != 0 && p->weight_input_index != 1) {
    return Status::ParseError("weight_input_index " + std::to_string(p->weight_input_index) + " is not 0 or 1");
  }
  return Status::Ok();
}
void Write(TokenWriter& w, const BinaryParams& p) { w.Int(p.weight_input_index); }

// ---- Concat / Softmax / Flatten -----------------------------------------------------------------------------
Status Parse(TokenReader& r, AxisParams* p) { return r.IntOr("axis", &p->axis, 1); }
void Write(TokenWriter& w, const AxisParams& p) { w.Int(p.axis); }

// ---- InnerProduct -------------------------------------------------------------------------------------------
Status Parse(TokenReader& r, InnerProductParams* p) {
  QT_RETURN_IF_ERROR(r.Int("num_output", &p->num_output));
  QT_RETURN_IF_ERROR(r.Int("has_bias", &p->has_bias));
  QT_RETURN_IF_ERROR(r.Int("transpose", &p->transpose));
  QT_RETURN_IF_ERROR(r.Int("axis", &p->axis));
  if (p->num_output < 1) return Status::ParseError("num_output " + std::to_string(p->num_output) + " must be >= 1");
  if (p->transpose != 0) return Status::Unsupported("InnerProduct with transpose=1 is not supported");
  return Status::Ok();
}
void Write(TokenWriter& w, const InnerProductParams& p) {
  for (int v : {p.num_output, p.has_bias, p.transpose, p.axis}) w.Int(v);
}

// ---- Scale --------------------------------------------------------------------------------------------------
Status Parse(TokenReader& r, ScaleParams* p) {
  QT_RETURN_IF_ERROR(r.IntOr("axis", &p->axis, 1));
  QT_RETURN_IF_ERROR(r.IntOr("num_axes", &p->num_axes, 1));
  return r.IntOr("bias_term", &p->bias_term, 0);
}
void Write(TokenWriter& w, const ScaleParams& p) {
  for (int v : {p.axis, p.num_axes, p.bias_term}) w.Int(v);
}

// ---- Reshape ------------------------------------------------------------------------------------------------
Status Parse(TokenReader& r, ReshapeParams* p) {
  QT_RETURN_IF_ERROR(r.Int("axis", &p->axis));
  QT_RETURN_IF_ERROR(r.Int("num_axes", &p->num_axes));
  int rank = 0;
  QT_RETURN_IF_ERROR(r.Count("rank", &rank, 1, 6));
  p->shape.assign(rank, 0);
  for (int i = 0; i < rank; ++i) QT_RETURN_IF_ERROR(r.Int("shape", &p->shape[i]));
  QT_RETURN_IF_ERROR(r.IntOr("reshape_type", &p->reshape_type, 0));
  if (p->reshape_type != 0) return Status::Unsupported("Reshape with reshape_type 1 (NHWC) is not supported");
  return Status::Ok();
}
void Write(TokenWriter& w, const ReshapeParams& p) {
  w.Int(p.axis);
  w.Int(p.num_axes);
  w.Int(static_cast<int>(p.shape.size()));
  for (int v : p.shape) w.Int(v);
  w.Int(p.reshape_type);
}

// ---- Permute ------------------------------------------------------------------------------------------------
Status Parse(TokenReader& r, PermuteParams* p) {
  int rank = 0;
  QT_RETURN_IF_ERROR(r.Count("rank", &rank, 1, 6));
  p->order.assign(rank, 0);
  std::vector<bool> seen(rank, false);
  for (int i = 0; i < rank; ++i) {
    QT_RETURN_IF_ERROR(r.Int("order", &p->order[i]));
    if (p->order[i] < 0 || p->order[i] >= rank || seen[p->order[i]]) {
      return Status::ParseError("permute order is not a permutation of 0.." + std::to_string(rank - 1));
    }
    seen[p->order[i]] = true;
  }
  return Status::Ok();
}
void Write(TokenWriter& w, const PermuteParams& p) {
  w.Int(static_cast<int>(p.order.size()));
  for (int v : p.order) w.Int(v);
}

// ---- Pad ----------------------------------------------------------------------------------------------------
Status Parse(TokenReader& r, PadParams* p) {
  int ignored = 0;
  QT_RETURN_IF_ERROR(r.IntOr("n1", &ignored, 0));
  QT_RETURN_IF_ERROR(r.IntOr("n2", &ignored, 0));
  QT_RETURN_IF_ERROR(r.Int("pad_t", &p->pad_t));
  QT_RETURN_IF_ERROR(r.Int("pad_b", &p->pad_b));
  QT_RETURN_IF_ERROR(r.Int("pad_l", &p->pad_l));
  QT_RETURN_IF_ERROR(r.Int("pad_r", &p->pad_r));
  QT_RETURN_IF_ERROR(r.IntOr("pad_c_begin", &p->pad_c_begin, 0));
  QT_RETURN_IF_ERROR(r.IntOr("pad_c_end", &p->pad_c_end, 0));
  QT_RETURN_IF_ERROR(r.IntOr("type", &p->type, 0));
  QT_RETURN_IF_ERROR(r.FloatOr("value", &p->value, 0.f));
  if (p->type < 0 || p->type > 2) return Status::ParseError("pad type " + std::to_string(p->type) + " is not 0, 1 or 2");
  for (int v : {p->pad_t, p->pad_b, p->pad_l, p->pad_r, p->pad_c_begin, p->pad_c_end}) {
    if (v < 0) return Status::ParseError("negative pads are not supported");
  }
  return Status::Ok();
}
void Write(TokenWriter& w, const PadParams& p) {
  for (int v : {0, 0, p.pad_t, p.pad_b, p.pad_l, p.pad_r, p.pad_c_begin, p.pad_c_end, p.type}) w.Int(v);
  w.Float(p.value);
}

// ---- Upsample -----------------------------------------------------------------------------------------------
Status Parse(TokenReader& r, UpsampleParams* p) {
  QT_RETURN_IF_ERROR(r.Int("mode", &p->mode));
  QT_RETURN_IF_ERROR(r.Float("scale_h", &p->scale_h));
  QT_RETURN_IF_ERROR(r.Float("scale_w", &p->scale_w));
  QT_RETURN_IF_ERROR(r.IntOr("align_corners", &p->align_corners, 0));
  QT_RETURN_IF_ERROR(r.IntOr("output_h", &p->output_h, 0));
  QT_RETURN_IF_ERROR(r.IntOr("output_w", &p->output_w, 0));
  if (p->mode != 1 && p->mode != 2) {
    return Status::Unsupported("Upsample mode " + std::to_string(p->mode) + " (only 1 nearest and 2 bilinear)");
  }
  if (p->output_h < 0 || p->output_w < 0 || ((p->output_h == 0 || p->output_w == 0) &&
                                              (p->scale_h <= 0.f || p->scale_w <= 0.f))) {
    return Status::ParseError("Upsample needs positive scales or output sizes");
  }
  return Status::Ok();
}
void Write(TokenWriter& w, const UpsampleParams& p) {
  w.Int(p.mode);
  w.Float(p.scale_h);
  w.Float(p.scale_w);
  w.Int(p.align_corners);
  w.Int(p.output_h);
  w.Int(p.output_w);
}

// ---- SplitV -------------------------------------------------------------------------------------------------
Status Parse(TokenReader& r, SplitVParams* p) {
  QT_RETURN_IF_ERROR(r.Int("axis", &p->axis));
  int count = 0;
  QT_RETURN_IF_ERROR(r.Count("slice_count", &count, 1, 4096));
  p->slices.assign(count, 0);
  for (int i = 0; i < count; ++i) QT_RETURN_IF_ERROR(r.Int("slice", &p->slices[i]));
  return Status::Ok();
}
void Write(TokenWriter& w, const SplitVParams& p) {
  w.Int(p.axis);
  w.Int(static_cast<int>(p.slices.size()));
  for (int v : p.slices) w.Int(v);
}

// ---- MatMul -------------------------------------------------------------------------------------------------
Status Parse(TokenReader& r, MatMulParams* p) {
  QT_RETURN_IF_ERROR(r.IntOr("weight_position", &p->weight_position, -1));
  if (p->weight_position < -1 || p->weight_position > 1) {
    return Status::ParseError("weight_position " + std::to_string(p->weight_position) + " is not -1, 0 or 1");
  }
  return Status::Ok();
}
void Write(TokenWriter& w, const MatMulParams& p) { w.Int(p.weight_position); }

}  // namespace

std::string FormatFloat(float v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  return std::string(buf, ptr);
}

LayerParams DefaultLayerParams(LayerType type) {
  switch (type) {
    case LayerType::kConvolution:
    case LayerType::kDeconvolution: return ConvParams{};
    case LayerType::kPooling: return PoolParams{};
    case LayerType::kClip: return ClipParams{};
    case LayerType::kPRelu: return PReluParams{};
    case LayerType::kHardSwish: return HardActivationParams{1.f / 6.f, 0.5f};
    case LayerType::kHardSigmoid: return HardActivationParams{0.2f, 0.5f};
    case LayerType::kAdd:
    case LayerType::kSub:
    case LayerType::kMul:
    case LayerType::kDiv: return BinaryParams{};
    case LayerType::kConcat:
    case LayerType::kSoftmax:
    case LayerType::kFlatten: return AxisParams{};
    case LayerType::kInnerProduct: return InnerProductParams{};
    case LayerType::kScale: return ScaleParams{};
    case LayerType::kReshape: return ReshapeParams{};
    case LayerType::kPermute: return PermuteParams{};
    case LayerType::kPad: return PadParams{};
    case LayerType::kUpsample: return UpsampleParams{};
    case LayerType::kSplitV: return SplitVParams{};
    case LayerType::kRelu:
    case LayerType::kRelu6:
    case LayerType::kSigmoid:
    case LayerType::kTanh:
    case LayerType::kBatchNorm:
    case LayerType::kDropout: return std::monostate{};
    case LayerType::kMaximum: return BinaryParams{};
    case LayerType::kMatMul: return MatMulParams{};
  }
  return std::monostate{};
}

Status ParseLayerParams(LayerType type, const std::vector<std::string>& tokens, LayerParams* params) {
  TokenReader r(tokens);
  *params = DefaultLayerParams(type);
  switch (type) {
    case LayerType::kConvolution:
    case LayerType::kDeconvolution: return Parse(r, &std::get<ConvParams>(*params));
    case LayerType::kPooling: return Parse(r, &std::get<PoolParams>(*params));
    case LayerType::kClip: return Parse(r, &std::get<ClipParams>(*params));
    case LayerType::kPRelu: return Parse(r, &std::get<PReluParams>(*params));
    case LayerType::kHardSwish: return Parse(r, &std::get<HardActivationParams>(*params), 1.f / 6.f);
    case LayerType::kHardSigmoid: return Parse(r, &std::get<HardActivationParams>(*params), 0.2f);
    case LayerType::kAdd:
    case LayerType::kSub:
    case LayerType::kMul:
    case LayerType::kDiv: return Parse(r, &std::get<BinaryParams>(*params));
    case LayerType::kConcat:
    case LayerType::kSoftmax:
    case LayerType::kFlatten: return Parse(r, &std::get<AxisParams>(*params));
    case LayerType::kInnerProduct: return Parse(r, &std::get<InnerProductParams>(*params));
    case LayerType::kScale: return Parse(r, &std::get<ScaleParams>(*params));
    case LayerType::kReshape: return Parse(r, &std::get<ReshapeParams>(*params));
    case LayerType::kPermute: return Parse(r, &std::get<PermuteParams>(*params));
    case LayerType::kPad: return Parse(r, &std::get<PadParams>(*params));
    case LayerType::kUpsample: return Parse(r, &std::get<UpsampleParams>(*params));
    case LayerType::kSplitV: return Parse(r, &std::get<SplitVParams>(*params));
    case LayerType::kRelu:
    case LayerType::kRelu6:
    case LayerType::kSigmoid:
    case LayerType::kTanh:
    case LayerType::kBatchNorm:
    case LayerType::kDropout: return Status::Ok();  // TNN reads no params for these; extra tokens are ignored
    case LayerType::kMaximum: return Parse(r, &std::get<BinaryParams>(*params));
    case LayerType::kMatMul: return Parse(r, &std::get<MatMulParams>(*params));
  }
  return Status::Internal("unhandled layer type");
}

void WriteLayerParams(const LayerParams& params, std::vector<std::string>* tokens) {
  TokenWriter w(tokens);
  std::visit(
      [&](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (!std::is_same_v<T, std::monostate>) Write(w, p);
      },
      params);
}

}  // namespace qt
