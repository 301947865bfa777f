// Int8 executors of quantized layers, with TNN's NAIVE-device semantics (tnn_format.md §C.8), created by one
// switch. Prepare turns the stored scales into per-channel requantization parameters once.
#include <cfloat>

#include "core/graph/shape_inference.h"
#include "core/int8/kernels_int8.h"
#include "core/runtime/layer_exec.h"

namespace qt {
namespace {

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

Status BlobScaleOf(const LayerContext& ctx, const std::string& blob, const BlobScale** scale) {
  auto it = ctx.graph.blob_scales.find(blob);
  if (it == ctx.graph.blob_scales.end()) {
    return Status::InvalidArgument("blob '" + blob + "' has no " + blob + kBlobScaleSuffix + " resource");
  }
  if (it->second.scale.empty()) return Status::InvalidArgument("blob '" + blob + "' has an empty scale");
  *scale = &it->second;
  return Status::Ok();
}

// The requantization of a conv / inner product whose int8 weights carry `weight_scale` and `weight_zero`
// (1 or out_c values), from input blob `in` (in_channels zero points) to output blob `out`.
Status MakeRequant(const LayerContext& ctx, const RawBuffer& weight_scale, const RawBuffer& weight_zero, int out_c,
                   int in_channels, int activation, Int8Requant* r) {
  const BlobScale *in = nullptr, *out = nullptr;
  QT_RETURN_IF_ERROR(BlobScaleOf(ctx, ctx.layer.inputs[0], &in));
  QT_RETURN_IF_ERROR(BlobScaleOf(ctx, ctx.layer.outputs[0], &out));
  if (weight_scale.dtype() != DataType::kFloat) return Status::InvalidArgument("weight scale is not float32");
  if (!weight_zero.empty() && weight_zero.dtype() != DataType::kInt8) {
    return Status::InvalidArgument("weight zero point is not int8");
  }
  std::vector<float> ws, so;
  QT_RETURN_IF_ERROR(Expand(weight_scale.As<float>(), out_c, "weight scale", &ws));
  QT_RETURN_IF_ERROR(Expand(out->scale, out_c, "output blob '" + ctx.layer.outputs[0] + "' scale", &so));
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

class ConvInt8Exec : public LayerExec {
 public:
  bool is_int8() const override { return true; }
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<ConvParams>();
    auto it = ctx.graph.resources.find(ctx.layer.name);
    const auto* res = it == ctx.graph.resources.end() ? nullptr : std::get_if<ConvResource>(&it->second);
    if (!res) return Status::InvalidArgument("no weights");
    if (res->filter.dtype() != DataType::kInt8) return Status::InvalidArgument("is Quantized but its weights are not int8");
    const Dims& in = ctx.in_dims[0];
    WindowGeometry g;
    QT_RETURN_IF_ERROR(ConvGeometry(p, in[2], in[3], &g));
    const Conv2dParams cp{in[0], in[1], in[2], in[3], p.output_channel, g.out_h, g.out_w, p.kernel_h, p.kernel_w,
                          p.stride_h, p.stride_w, g.pad_top, g.pad_left, p.dilation_h, p.dilation_w, p.group,
                          Activation::kNone};
    Int8Requant r;
    QT_RETURN_IF_ERROR(MakeRequant(ctx, res->scale, res->zero_point, p.output_channel, in[1], p.activation, &r));
    const std::vector<int32_t> bias = Int32Bias(res->bias);
    if (!bias.empty() && static_cast<int>(bias.size()) != p.output_channel) {
      return Status::InvalidArgument("int32 bias has " + std::to_string(bias.size()) + " values for " +
                                     std::to_string(p.output_channel) + " output channels");
    }
    const std::vector<int8_t> w = res->filter.As<int8_t>();
    conv_.Init(cp, w.data(), bias.empty() ? nullptr : bias.data(), std::move(r));
    return Status::Ok();
  }
  Status ForwardInt8(const std::vector<const Int8Tensor*>& in, const std::vector<Int8Tensor*>& out) override {
    conv_.Run(in[0]->data.data(), out[0]->data.data());
    return Status::Ok();
  }

 private:
  ConvInt8 conv_;
};

class InnerProductInt8Exec : public LayerExec {
 public:
  bool is_int8() const override { return true; }
  Status Prepare(const LayerContext& ctx) override {
    const auto& p = ctx.layer.Params<InnerProductParams>();
    auto it = ctx.graph.resources.find(ctx.layer.name);
    const auto* res = it == ctx.graph.resources.end() ? nullptr : std::get_if<InnerProductResource>(&it->second);
    if (!res) return Status::InvalidArgument("no weights");
    if (res->weight.dtype() != DataType::kInt8) return Status::InvalidArgument("is Quantized but its weights are not int8");
    const Dims& in = ctx.in_dims[0];
    const int axis = p.axis < 0 ? p.axis + static_cast<int>(in.size()) : p.axis;
    InnerProductParams2 ip;
    ip.m = static_cast<int>(DimsCount(Dims(in.begin(), in.begin() + axis)));
    ip.k = static_cast<int>(DimsCount(in, axis));
    ip.n = p.num_output;
    if (res->weight.count() != int64_t{ip.n} * ip.k) {
      return Status::InvalidArgument("weights hold " + std::to_string(res->weight.count()) + " values but the input " +
                                     DimsToString(in) + " needs " + std::to_string(int64_t{ip.n} * ip.k));
    }
    // TNN indexes the input zero point by the channel of each input element (dim 1).
    const int channels = in.size() > 1 ? in[1] : 1;
    Int8Requant r;
    QT_RETURN_IF_ERROR(MakeRequant(ctx, res->scale, res->zero_point, ip.n, channels, kActivationNone, &r));
    const int64_t per_channel = ip.k / std::max(channels, 1);
    std::vector<int8_t> zk(ip.k);
    for (int k = 0; k < ip.k; ++k) zk[k] = r.in_zero[std::min<int64_t>(k / std::max<int64_t>(per_channel, 1), channels - 1)];
    r.in_zero = std::move(zk);
    std::vector<int32_t> bias = p.has_bias ? Int32Bias(res->bias) : std::vector<int32_t>();
    if (!bias.empty() && static_cast<int>(bias.size()) != ip.n) {
      return Status::InvalidArgument("int32 bias has " + std::to_string(bias.size()) + " values for " +
                                     std::to_string(ip.n) + " outputs");
    }
    const std::vector<int8_t> w = res->weight.As<int8_t>();
    fc_.Init(ip, w.data(), bias.empty() ? nullptr : bias.data(), std::move(r));
    return Status::Ok();
  }
  Status ForwardInt8(const std::vector<const Int8Tensor*>& in, const std::vector<Int8Tensor*>& out) override {
    fc_.Run(in[0]->data.data(), out[0]->data.data());
    return Status::Ok();
  }

 private:
  InnerProductInt8 fc_;
};

class AddInt8Exec : public LayerExec {
 public:
  bool is_int8() const override { return true; }
  Status Prepare(const LayerContext& ctx) override {
    if (ctx.layer.inputs.size() != 2) {
      return Status::Unsupported("an int8 Add needs two input blobs (a constant operand stays float)");
    }
    if (ctx.in_dims[0] != ctx.in_dims[1]) {
      return Status::Unsupported("int8 Add of different shapes " + DimsToString(ctx.in_dims[0]) + " and " +
                                 DimsToString(ctx.in_dims[1]) + " (TNN's int8 kernel does not broadcast)");
    }
    return Status::Ok();
  }
  Status ForwardInt8(const std::vector<const Int8Tensor*>& in, const std::vector<Int8Tensor*>& out) override {
    AddInt8Ref(in, out[0]);
    return Status::Ok();
  }
};

class ConcatInt8Exec : public LayerExec {
 public:
  bool is_int8() const override { return true; }
  Status Prepare(const LayerContext& ctx) override {
    const int axis = ctx.layer.Params<AxisParams>().axis;
    axis_ = axis < 0 ? axis + static_cast<int>(ctx.in_dims[0].size()) : axis;
    return Status::Ok();
  }
  Status ForwardInt8(const std::vector<const Int8Tensor*>& in, const std::vector<Int8Tensor*>& out) override {
    ConcatInt8(in, axis_, out[0]);
    return Status::Ok();
  }

 private:
  int axis_ = 1;
};

class PoolInt8Exec : public LayerExec {
 public:
  bool is_int8() const override { return true; }
  Status Prepare(const LayerContext& ctx) override {
    return MakePool2dParams(ctx.layer.Params<PoolParams>(), ctx.in_dims[0], false, &pp_);
  }
  Status ForwardInt8(const std::vector<const Int8Tensor*>& in, const std::vector<Int8Tensor*>& out) override {
    Pool2dInt8(pp_, in[0]->data.data(), out[0]->data.data());
    return Status::Ok();
  }

 private:
  Pool2dParams pp_;
};

class ReluInt8Exec : public LayerExec {
 public:
  bool is_int8() const override { return true; }
  Status Prepare(const LayerContext&) override { return Status::Ok(); }
  Status ForwardInt8(const std::vector<const Int8Tensor*>& in, const std::vector<Int8Tensor*>& out) override {
    ReluInt8Ref(in[0]->data.data(), out[0]->data.data(), in[0]->count());
    return Status::Ok();
  }
};

}  // namespace

Status CreateInt8LayerExec(const Layer& layer, std::unique_ptr<LayerExec>* exec) {
  switch (layer.type) {
    case LayerType::kConvolution: *exec = std::make_unique<ConvInt8Exec>(); return Status::Ok();
    case LayerType::kInnerProduct: *exec = std::make_unique<InnerProductInt8Exec>(); return Status::Ok();
    case LayerType::kAdd: *exec = std::make_unique<AddInt8Exec>(); return Status::Ok();
    case LayerType::kConcat: *exec = std::make_unique<ConcatInt8Exec>(); return Status::Ok();
    case LayerType::kPooling: *exec = std::make_unique<PoolInt8Exec>(); return Status::Ok();
    case LayerType::kRelu: *exec = std::make_unique<ReluInt8Exec>(); return Status::Ok();
    default:
      return Status::Unsupported("layer '" + layer.name + "' is Quantized" + layer.type_str +
                                 ", which has no int8 kernel here (int8 layers: Convolution, InnerProduct, Add, "
                                 "Concat, Pooling, ReLU)");
  }
}

}  // namespace qt
