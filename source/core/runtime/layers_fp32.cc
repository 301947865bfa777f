// Float executors, one small class per layer type, created by one switch.
#include <algorithm>

#include "core/graph/shape_inference.h"
#include "core/kernels/kernels_fp32.h"
#include "core/runtime/layer_exec.h"

namespace qt {
namespace {

Activation ToActivation(int a, Status* s) {
  switch (a) {
    case kActivationNone: return Activation::kNone;
    case kActivationRelu: return Activation::kRelu;
    case kActivationRelu6: return Activation::kRelu6;
    default:
      *s = Status::Unsupported("fused activation " + std::to_string(a) + " is not supported");
      return Activation::kNone;
  }
}

template <typename T>
const T* FindResource(const LayerContext& ctx) {
  auto it = ctx.graph.resources.find(ctx.layer.name);
  return it == ctx.graph.resources.end() ? nullptr : std::get_if<T>(&it->second);
}

int NormalizeAxis(int axis, size_t rank) { return axis < 0 ? axis + static_cast<int>(rank) : axis; }

class ConvExec : public LayerExec {
 public:
  ConvExec(bool deconv, bool tnn_naive) : deconv_(deconv), tnn_naive_(tnn_naive) {}
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<ConvParams>();
    const auto* r = FindResource<ConvResource>(ctx);
    if (!r) return Status::InvalidArgument("no weights");
    if (r->filter.dtype() == DataType::kInt8) {
      return Status::InvalidArgument("has int8 weights but is not marked Quantized");
    }
    weights_ = r->filter.ToFloat();
    if (r->has_bias) bias_ = r->bias.ToFloat();
    const Dims& in = ctx.in_dims[0];
    WindowGeometry g;
    QT_RETURN_IF_ERROR(deconv_ ? DeconvGeometry(p, in[2], in[3], &g) : ConvGeometry(p, in[2], in[3], &g));
    Status s;
    cp_ = Conv2dParams{in[0], in[1], in[2], in[3], p.output_channel, g.out_h, g.out_w, p.kernel_h, p.kernel_w,
                       p.stride_h, p.stride_w, g.pad_top, g.pad_left, p.dilation_h, p.dilation_w, p.group,
                       ToActivation(p.activation, &s)};
    if (deconv_ && weights_.size() != static_cast<size_t>(in[1]) * (p.output_channel / p.group) * p.kernel_h * p.kernel_w) {
      return Status::InvalidArgument("deconvolution weights do not match [in_c][out_c/group][kh][kw]");
    }
    if (s.ok() && !deconv_ && !tnn_naive_) {
      conv_.Init(cp_, weights_.data(), bias_.empty() ? nullptr : bias_.data());
      // The packed copy is all this path reads; the float weights would otherwise be held twice.
      std::vector<float>().swap(weights_);
      std::vector<float>().swap(bias_);
    }
    return s;
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const float* b = bias_.empty() ? nullptr : bias_.data();
    if (deconv_) {
      Deconv2dFp32Ref(cp_, in[0]->data.data(), weights_.data(), b, out[0]->data.data());
    } else if (tnn_naive_) {
      Conv2dFp32Tnn(cp_, in[0]->data.data(), weights_.data(), b, out[0]->data.data());
    } else {
      conv_.Run(in[0]->data.data(), out[0]->data.data());
    }
    return Status::Ok();
  }

 private:
  bool deconv_;
  bool tnn_naive_;
  Conv2dParams cp_;
  std::vector<float> weights_, bias_;  // the deconvolution and TNN-naive paths only
  ConvFp32 conv_;  // weights packed once at Prepare
};

}  // namespace

Status MakePool2dParams(const PoolParams& p, const Dims& in, bool count_include_pad, Pool2dParams* out) {
  WindowGeometry g;
  int kh = 0, kw = 0;
  QT_RETURN_IF_ERROR(PoolGeometry(p, in[2], in[3], &g, &kh, &kw));
  *out = Pool2dParams{in[0], in[1], in[2], in[3], g.out_h, g.out_w, kh, kw, p.stride_h, p.stride_w,
                      g.pad_top, g.pad_left, g.pad_bottom, g.pad_right,
                      p.pool_type == 0 ? PoolType::kMax : PoolType::kAvg, count_include_pad};
  return Status::Ok();
}

namespace {

class PoolExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<PoolParams>();
    QT_RETURN_IF_ERROR(MakePool2dParams(p, ctx.in_dims[0], true, &pp_));
    // Caffe's average divisor counts the symmetric pad, not the extra bottom/right rows ceil mode adds.
    if (p.pad_type == -1) {
      pp_.pad_bottom = p.pad_h;
      pp_.pad_right = p.pad_w;
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    Pool2dFp32(pp_, in[0]->data.data(), out[0]->data.data());
    return Status::Ok();
  }

 private:
  Pool2dParams pp_;
};

class UnaryExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    type_ = ctx.layer.type;
    if (type_ == LayerType::kClip) clip_ = ctx.layer.Params<ClipParams>();
    if (type_ == LayerType::kHardSwish || type_ == LayerType::kHardSigmoid) {
      hard_ = ctx.layer.Params<HardActivationParams>();
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const float* x = in[0]->data.data();
    float* y = out[0]->data.data();
    const int64_t n = in[0]->count();
    switch (type_) {
      case LayerType::kRelu: ReluFp32(x, y, n); break;
      case LayerType::kRelu6: ClipFp32(x, y, n, 0.f, 6.f); break;
      case LayerType::kClip: ClipFp32(x, y, n, clip_.min, clip_.max); break;
      case LayerType::kSigmoid: SigmoidFp32(x, y, n); break;
      case LayerType::kTanh: TanhFp32(x, y, n); break;
      case LayerType::kHardSwish: HardSwishFp32(x, y, n, hard_.alpha, hard_.beta); break;
      case LayerType::kHardSigmoid: HardSigmoidFp32(x, y, n, hard_.alpha, hard_.beta); break;
      default: std::copy(x, x + n, y); break;
    }
    return Status::Ok();
  }

 private:
  LayerType type_ = LayerType::kRelu;
  ClipParams clip_;
  HardActivationParams hard_;
};

class AffineExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const int channels = ctx.in_dims[0].size() > 1 ? ctx.in_dims[0][1] : 1;
    if (ctx.layer.type == LayerType::kPRelu) {
      const auto* r = FindResource<PReluResource>(ctx);
      if (!r) return Status::InvalidArgument("no slope");
      scale_ = r->slope.ToFloat();
      prelu_ = true;
      shared_ = ctx.layer.Params<PReluParams>().channel_shared != 0 || scale_.size() == 1;
    } else if (ctx.layer.type == LayerType::kBatchNorm) {
      const auto* r = FindResource<BatchNormResource>(ctx);
      if (!r) return Status::InvalidArgument("no batch norm resource");
      scale_ = r->scale.ToFloat();
      bias_ = r->bias.ToFloat();
    } else {
      const auto* r = FindResource<ScaleResource>(ctx);
      if (!r) return Status::InvalidArgument("no scale resource");
      scale_ = r->scale.ToFloat();
      if (r->bias_term) bias_ = r->bias.ToFloat();
    }
    // A single value is shared by every channel.
    if (!prelu_ && scale_.size() == 1) scale_.assign(channels, scale_[0]);
    if (bias_.size() == 1) bias_.assign(channels, bias_[0]);
    if ((!shared_ && static_cast<int>(scale_.size()) != channels) ||
        (!bias_.empty() && static_cast<int>(bias_.size()) != channels)) {
      return Status::InvalidArgument("has " + std::to_string(scale_.size()) + " per-channel values for " +
                                     std::to_string(channels) + " channels");
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const Tensor& x = *in[0];
    if (prelu_) {
      PReluFp32(x.data.data(), out[0]->data.data(), x.batch(), x.channels(), x.spatial(), scale_.data(), shared_);
    } else {
      ChannelAffineFp32(x.data.data(), out[0]->data.data(), x.batch(), x.channels(), x.spatial(), scale_.data(),
                        bias_.empty() ? nullptr : bias_.data());
    }
    return Status::Ok();
  }

 private:
  bool prelu_ = false, shared_ = false;
  std::vector<float> scale_, bias_;
};

class BinaryExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    switch (ctx.layer.type) {
      case LayerType::kAdd: op_ = BinaryOp::kAdd; break;
      case LayerType::kSub: op_ = BinaryOp::kSub; break;
      case LayerType::kMul: op_ = BinaryOp::kMul; break;
      case LayerType::kMaximum: op_ = BinaryOp::kMax; break;
      default: op_ = BinaryOp::kDiv; break;
    }
    out_dims_ = ctx.out_dims[0];
    if (ctx.layer.inputs.size() == 1) {
      const auto* r = FindResource<BinaryResource>(ctx);
      if (!r) return Status::InvalidArgument("no constant operand");
      constant_ = r->element.ToFloat();
      QT_RETURN_IF_ERROR(ResolveConstantDims(r->element, ctx.in_dims[0], &constant_dims_));
      constant_first_ = ctx.layer.Params<BinaryParams>().weight_input_index == 0;
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const Tensor& a = *in[0];
    if (in.size() == 2) {
      BinaryFp32(op_, a.data.data(), a.dims, in[1]->data.data(), in[1]->dims, out[0]->data.data(), out_dims_);
    } else if (constant_first_) {
      BinaryFp32(op_, constant_.data(), constant_dims_, a.data.data(), a.dims, out[0]->data.data(), out_dims_);
    } else {
      BinaryFp32(op_, a.data.data(), a.dims, constant_.data(), constant_dims_, out[0]->data.data(), out_dims_);
    }
    return Status::Ok();
  }

 private:
  BinaryOp op_ = BinaryOp::kAdd;
  Dims out_dims_, constant_dims_;
  std::vector<float> constant_;
  bool constant_first_ = false;
};

class ConcatExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    axis_ = NormalizeAxis(ctx.layer.Params<AxisParams>().axis, ctx.in_dims[0].size());
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    std::vector<const float*> ptrs;
    std::vector<Dims> dims;
    for (const Tensor* t : in) {
      ptrs.push_back(t->data.data());
      dims.push_back(t->dims);
    }
    ConcatFp32(ptrs, dims, axis_, out[0]->data.data());
    return Status::Ok();
  }

 private:
  int axis_ = 1;
};

class SplitExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<SplitVParams>();
    axis_ = NormalizeAxis(p.axis, ctx.in_dims[0].size());
    slices_ = p.slices;
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    std::vector<float*> ptrs;
    for (Tensor* t : out) ptrs.push_back(t->data.data());
    SplitFp32(in[0]->data.data(), in[0]->dims, axis_, ptrs, slices_);
    return Status::Ok();
  }

 private:
  int axis_ = 1;
  std::vector<int> slices_;
};

class SoftmaxExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    axis_ = NormalizeAxis(ctx.layer.Params<AxisParams>().axis, ctx.in_dims[0].size());
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    SoftmaxFp32(in[0]->data.data(), out[0]->data.data(), in[0]->dims, axis_);
    return Status::Ok();
  }

 private:
  int axis_ = 1;
};

class InnerProductExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<InnerProductParams>();
    const auto* r = FindResource<InnerProductResource>(ctx);
    if (!r) return Status::InvalidArgument("no weights");
    if (r->weight.dtype() == DataType::kInt8) return Status::InvalidArgument("has int8 weights but is not Quantized");
    weights_ = r->weight.ToFloat();
    if (p.has_bias) bias_ = r->bias.ToFloat();
    const Dims& in = ctx.in_dims[0];
    const int axis = NormalizeAxis(p.axis, in.size());
    ip_.m = static_cast<int>(DimsCount(Dims(in.begin(), in.begin() + axis)));
    ip_.k = static_cast<int>(DimsCount(in, axis));
    ip_.n = p.num_output;
    if (static_cast<int64_t>(weights_.size()) != int64_t{ip_.n} * ip_.k) {
      return Status::InvalidArgument("weights hold " + std::to_string(weights_.size()) + " values but the input " +
                                     DimsToString(in) + " needs " + std::to_string(int64_t{ip_.n} * ip_.k));
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    InnerProductFp32(ip_, in[0]->data.data(), weights_.data(), bias_.empty() ? nullptr : bias_.data(),
                     out[0]->data.data());
    return Status::Ok();
  }

 private:
  InnerProductParams2 ip_;
  std::vector<float> weights_, bias_;
};

// Flatten, Reshape and Dropout move no data: the output is the input under new dims.
class CopyExec : public LayerExec {
 public:
  Status Prepare(const LayerContext&) override { return Status::Ok(); }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    std::copy(in[0]->data.begin(), in[0]->data.end(), out[0]->data.begin());
    return Status::Ok();
  }
};

class PermuteExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    order_ = ctx.layer.Params<PermuteParams>().order;
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    PermuteFp32(in[0]->data.data(), in[0]->dims, order_, out[0]->data.data());
    return Status::Ok();
  }

 private:
  std::vector<int> order_;
};

class PadExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<PadParams>();
    pp_ = PadParams4d{p.pad_t, p.pad_b, p.pad_l, p.pad_r, p.pad_c_begin, p.pad_c_end,
                      p.type == 0 ? PadMode::kConstant : p.type == 1 ? PadMode::kReflect : PadMode::kEdge, p.value};
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    PadFp32(in[0]->data.data(), in[0]->dims, pp_, out[0]->data.data());
    return Status::Ok();
  }

 private:
  PadParams4d pp_;
};

class UpsampleExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<UpsampleParams>();
    const Dims& in = ctx.in_dims[0];
    const Dims& o = ctx.out_dims[0];
    rp_ = ResizeParams{in[0], in[1], in[2], in[3], o[2], o[3],
                       p.mode == 1 ? ResizeMode::kNearest : ResizeMode::kLinear, p.align_corners != 0};
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    ResizeFp32(rp_, in[0]->data.data(), out[0]->data.data());
    return Status::Ok();
  }

 private:
  ResizeParams rp_;
};

class MatMulExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    out_dims_ = ctx.out_dims[0];
    a_dims_ = ctx.in_dims[0];
    if (ctx.layer.inputs.size() == 1) {
      const auto* r = FindResource<MatMulResource>(ctx);
      if (!r) return Status::InvalidArgument("no constant operand");
      constant_ = r->weight.ToFloat();
      constant_dims_.assign(r->weight.dims().begin(), r->weight.dims().end());
      constant_first_ = ctx.layer.Params<MatMulParams>().weight_position == 0;
    } else {
      b_dims_ = ctx.in_dims[1];
    }
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const float* x = in[0]->data.data();
    float* y = out[0]->data.data();
    if (in.size() == 2) {
      MatMulFp32(x, a_dims_, in[1]->data.data(), b_dims_, y, out_dims_);
    } else if (constant_first_) {
      MatMulFp32(constant_.data(), constant_dims_, x, a_dims_, y, out_dims_);
    } else {
      MatMulFp32(x, a_dims_, constant_.data(), constant_dims_, y, out_dims_);
    }
    return Status::Ok();
  }

 private:
  Dims a_dims_, b_dims_, out_dims_, constant_dims_;
  std::vector<float> constant_;
  bool constant_first_ = false;
};

}  // namespace

std::unique_ptr<LayerExec> CreateFp32LayerExec(const Layer& layer, bool tnn_naive) {
  switch (layer.type) {
    case LayerType::kConvolution: return std::make_unique<ConvExec>(false, tnn_naive);
    case LayerType::kDeconvolution: return std::make_unique<ConvExec>(true, tnn_naive);
    case LayerType::kPooling: return std::make_unique<PoolExec>();
    case LayerType::kRelu:
    case LayerType::kRelu6:
    case LayerType::kClip:
    case LayerType::kSigmoid:
    case LayerType::kTanh:
    case LayerType::kHardSwish:
    case LayerType::kHardSigmoid: return std::make_unique<UnaryExec>();
    case LayerType::kPRelu:
    case LayerType::kBatchNorm:
    case LayerType::kScale: return std::make_unique<AffineExec>();
    case LayerType::kAdd:
    case LayerType::kSub:
    case LayerType::kMul:
    case LayerType::kDiv: return std::make_unique<BinaryExec>();
    case LayerType::kConcat: return std::make_unique<ConcatExec>();
    case LayerType::kSplitV: return std::make_unique<SplitExec>();
    case LayerType::kSoftmax: return std::make_unique<SoftmaxExec>();
    case LayerType::kInnerProduct: return std::make_unique<InnerProductExec>();
    case LayerType::kFlatten:
    case LayerType::kReshape:
    case LayerType::kDropout: return std::make_unique<CopyExec>();
    case LayerType::kPermute: return std::make_unique<PermuteExec>();
    case LayerType::kPad: return std::make_unique<PadExec>();
    case LayerType::kUpsample: return std::make_unique<UpsampleExec>();
    case LayerType::kMaximum: return std::make_unique<BinaryExec>();
    case LayerType::kMatMul: return std::make_unique<MatMulExec>();
  }
  return std::make_unique<CopyExec>();
}

}  // namespace qt
