// ONNX ops that become layers. Each maps to the TNN layer types that express it exactly; where the TNN layer's
// semantics differ from the op's (padding, divisors, coordinate rules), the converter either composes layers
// that are exact or refuses with the reason. Output dims are checked against ONNX's own shape formula.
//
// | ONNX op                      | layers                                                                     |
// |------------------------------|----------------------------------------------------------------------------|
// | Conv                         | Convolution (symmetric pads, SAME_UPPER as pad_type 0); other pads: Pad +   |
// |                              | Convolution                                                                |
// | ConvTranspose                | Deconvolution (symmetric pads; pad_type 0 SAME, 3 SAME with the odd pad    |
// |                              | first as PyTorch's output_padding gives); output_padding/output_shape that |
// |                              | only extend the output: Deconvolution + Pad (+ Add of the bias)            |
// | MaxPool                      | Pooling (symmetric pads, SAME_UPPER); other pads: Pad(edge) + Pooling       |
// | AveragePool                  | Pooling; with pads: Pad(0) + Pooling, and for count_include_pad=0 a Mul by |
// |                              | the constant divisor correction                                            |
// | GlobalAverage/MaxPool        | Pooling (global)                                                           |
// | Relu / Sigmoid / Tanh        | ReLU / Sigmoid / Tanh                                                      |
// | LeakyRelu                    | PReLU (channel_shared, one slope)                                          |
// | PRelu                        | PReLU (one slope or one per channel); other slope shapes: ReLU, Sub, Mul,  |
// |                              | Add                                                                        |
// | Clip                         | ReLU6 (0, 6), ReLU (0, +inf), else Clip                                    |
// | HardSigmoid / HardSwish      | HardSigmoid / HardSwish                                                    |
// | Add / Sub / Mul / Div        | the same type; a constant operand goes to the resource, dims = its shape   |
// | Concat                       | Concat                                                                     |
// | Gemm                         | InnerProduct (constant B; alpha folded; C as bias or an Add); transA: a    |
// |                              | Permute first                                                              |
// | MatMul                       | InnerProduct (2-D x, constant B), else MatMul                              |
// | Flatten                      | Flatten (axis 1) or Reshape                                                |
// | Reshape / Squeeze / Unsqueeze| Reshape with the resolved dims                                             |
// | Transpose                    | Permute                                                                    |
// | Softmax                      | Softmax; opset < 13 over several axes: Reshape + Softmax + Reshape         |
// | BatchNormalization           | BatchNormCxx (scale = γ/√(var+ε), bias = β − mean·scale)                   |
// | Pad                          | Pad (4-D, constant/reflect/edge)                                           |
// | Resize / Upsample            | Upsample (nearest or bilinear where its coordinate rule is ONNX's)         |
// | Dropout                      | Dropout (removed by SimplifyGraph)                                         |
// | Identity, Cast to float      | nothing (the output is the input)                                          |
// | Slice                        | StridedSliceV2 (begins/ends normalised as ONNX clamps them)                |
// | Exp / Log / Sqrt / Abs / Neg | the same type                                                              |
// | Elu / Softplus               | Elu (alpha) / Softplus                                                     |
// | Pow                          | Power (constant scalar exponent, scale 1, shift 0)                         |
// | ReduceMean/Max/Min/Sum       | the same type (axes, keep_dims); empty axes with noop_with_empty_axes:     |
// |                              | nothing                                                                    |
// | Gather                       | Gather (constant indices in the resource)                                  |
// | Concat with constant inputs  | each constant from a Gather of resource data (the first run-time input     |
// |                              | only orders it), then Concat                                               |
#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>

#include "core/graph/shape_inference.h"
#include "core/io/onnx_internal.h"
#include "core/kernels/tensor_ops_fp32.h"

namespace qt {
namespace onnx_import {
namespace {

std::string Str(const Dims& d) { return DimsToString(d); }

Dims ToDims(const std::vector<int64_t>& v) { return Dims(v.begin(), v.end()); }

std::vector<int32_t> ToDims32(const std::vector<int64_t>& v) { return std::vector<int32_t>(v.begin(), v.end()); }

// A float value that TNN params can carry (finite): infinities become ±FLT_MAX.
float Finite(float v) {
  if (std::isinf(v)) return v > 0 ? FLT_MAX : -FLT_MAX;
  return v;
}

// Two values for the two image axes (h, w); absent: `def` for both.
Status Pair(NodeContext& c, const char* name, int64_t def, int64_t min, std::vector<int64_t>* v) {
  QT_RETURN_IF_ERROR(c.Ints(name, v));
  if (v->empty()) v->assign(2, def);
  if (v->size() != 2) {
    return c.Invalid(std::string(name) + " has " + std::to_string(v->size()) + " values, expected 2 (h, w)");
  }
  for (int64_t x : *v) {
    if (x < min) return c.Invalid(std::string(name) + " " + ShapeString(*v) + " must be >= " + std::to_string(min));
  }
  return Status::Ok();
}

// Begin/end pads per image axis, from `pads` or auto_pad. SAME_* keeps ceil(in / stride) outputs, with the odd
// pad at the end (UPPER) or the beginning (LOWER).
struct AxisPads {
  int64_t begin[2] = {0, 0}, end[2] = {0, 0};
  bool Symmetric() const { return begin[0] == end[0] && begin[1] == end[1]; }
  bool Zero() const { return !begin[0] && !begin[1] && !end[0] && !end[1]; }
};

void SamePads(int64_t in, int64_t keff, int64_t stride, bool lower, int64_t* b, int64_t* e) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t along = std::max<int64_t>(0, (out - 1) * stride + keff - in);
  *b = lower ? along - along / 2 : along / 2;
  *e = along - *b;
}

// Whether explicit pads are what TNN's SAME_UPPER (pad_type 0) computes for this input.
bool IsSameUpper(int64_t in, int64_t keff, int64_t stride, int64_t b, int64_t e) {
  int64_t sb = 0, se = 0;
  SamePads(in, keff, stride, false, &sb, &se);
  return b == sb && e == se;
}

Status ReadPads(NodeContext& c, const Dims& x, const int64_t keff[2], const std::vector<int64_t>& strides,
                AxisPads* p) {
  std::string auto_pad;
  QT_RETURN_IF_ERROR(c.Str("auto_pad", "NOTSET", &auto_pad));
  std::vector<int64_t> pads;
  QT_RETURN_IF_ERROR(c.Ints("pads", &pads));
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (int a = 0; a < 2; ++a) {
      SamePads(x[2 + a], keff[a], strides[a], auto_pad == "SAME_LOWER", &p->begin[a], &p->end[a]);
    }
    return Status::Ok();
  }
  if (auto_pad == "VALID") return Status::Ok();
  if (auto_pad != "NOTSET" && !auto_pad.empty()) return c.Invalid("auto_pad '" + auto_pad + "' is not an ONNX value");
  if (pads.empty()) return Status::Ok();
  if (pads.size() != 4) return c.Invalid("pads has " + std::to_string(pads.size()) + " values, expected 4");
  for (int64_t v : pads) {
    if (v < 0) return c.Unsupported("negative pads " + ShapeString(pads) + " (cropping) are not supported");
  }
  p->begin[0] = pads[0];
  p->begin[1] = pads[1];
  p->end[0] = pads[2];
  p->end[1] = pads[3];
  return Status::Ok();
}

Status RequireRank(NodeContext& c, const BlobInfo& x, size_t rank, const std::string& what) {
  if (x.dims.size() != rank) {
    return c.Unsupported(what + " on the " + std::to_string(x.dims.size()) + "-D input " + Str(x.dims) +
                         " is not supported: only " + std::to_string(rank) + "-D (NCHW)");
  }
  return Status::Ok();
}

// A Pad layer; output_index -1 makes an intermediate blob.
Status AddPad(NodeContext& c, const std::string& in, const AxisPads& p, float value, int64_t c_begin,
              int64_t c_end, int type, int output_index, BlobInfo* out, const Dims* expect = nullptr) {
  PadParams pp;
  pp.pad_t = static_cast<int>(p.begin[0]);
  pp.pad_b = static_cast<int>(p.end[0]);
  pp.pad_l = static_cast<int>(p.begin[1]);
  pp.pad_r = static_cast<int>(p.end[1]);
  pp.pad_c_begin = static_cast<int>(c_begin);
  pp.pad_c_end = static_cast<int>(c_end);
  pp.type = type;
  pp.value = value;
  return c.AddLayer(LayerType::kPad, pp, std::nullopt, {in}, output_index, "pad", out, expect);
}

RawBuffer Floats(const ConstTensor& t, const std::vector<int64_t>& dims) {
  return RawBuffer::FromFloat(t.ToFloats(), ToDims32(dims));
}

// ---- Conv ------------------------------------------------------------------------------------------------------
Status ConvertConv2d(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  const ConstTensor* w = nullptr;
  QT_RETURN_IF_ERROR(c.RequireConst(1, "weight", &w));
  if (x.dims.size() != 4 || w->dims.size() != 4) {
    return c.Unsupported("only 1-D and 2-D convolution are supported (3-D or 4-D input, OIL or OIHW weight); the input is " +
                         Str(x.dims) + " and the weight " + ShapeString(w->dims));
  }
  int64_t group = 1;
  QT_RETURN_IF_ERROR(c.Int("group", 1, &group));
  std::vector<int64_t> kernel, strides, dilations;
  QT_RETURN_IF_ERROR(c.Ints("kernel_shape", &kernel));
  QT_RETURN_IF_ERROR(Pair(c, "strides", 1, 1, &strides));
  QT_RETURN_IF_ERROR(Pair(c, "dilations", 1, 1, &dilations));
  const int64_t oc = w->dims[0], icg = w->dims[1], kh = w->dims[2], kw = w->dims[3];
  if (!kernel.empty() && kernel != std::vector<int64_t>{kh, kw}) {
    return c.Invalid("kernel_shape " + ShapeString(kernel) + " does not match the weight " + ShapeString(w->dims));
  }
  if (group < 1 || oc % group != 0) {
    return c.Invalid("group " + std::to_string(group) + " does not divide the " + std::to_string(oc) +
                     " output channels of the weight " + ShapeString(w->dims));
  }
  if (x.dims[1] != icg * group) {
    return c.Invalid("the input " + Str(x.dims) + " has " + std::to_string(x.dims[1]) + " channels but the weight " +
                     ShapeString(w->dims) + " with group " + std::to_string(group) + " expects " +
                     std::to_string(icg * group));
  }
  const ConstTensor* bias = nullptr;
  if (c.Has(2)) {
    QT_RETURN_IF_ERROR(c.RequireConst(2, "bias", &bias));
    if (bias->count() != oc) {
      return c.Invalid("bias has " + std::to_string(bias->count()) + " values for " + std::to_string(oc) +
                       " output channels");
    }
  }
  const int64_t keff[2] = {(kh - 1) * dilations[0] + 1, (kw - 1) * dilations[1] + 1};
  AxisPads pads;
  QT_RETURN_IF_ERROR(ReadPads(c, x.dims, keff, strides, &pads));
  int64_t out_hw[2];
  for (int a = 0; a < 2; ++a) {
    const int64_t span = x.dims[2 + a] + pads.begin[a] + pads.end[a] - keff[a];
    if (span < 0) {
      return c.Invalid("the dilated kernel " + std::to_string(keff[a]) + " does not fit the padded input " +
                       Str(x.dims));
    }
    out_hw[a] = span / strides[a] + 1;
  }
  ConvParams p;
  p.group = static_cast<int>(group);
  p.input_channel = static_cast<int>(icg);
  p.output_channel = static_cast<int>(oc);
  p.kernel_h = static_cast<int>(kh);
  p.kernel_w = static_cast<int>(kw);
  p.stride_h = static_cast<int>(strides[0]);
  p.stride_w = static_cast<int>(strides[1]);
  p.dilation_h = static_cast<int>(dilations[0]);
  p.dilation_w = static_cast<int>(dilations[1]);
  p.has_bias = bias ? 1 : 0;
  std::string in = x.name;
  if (pads.Symmetric()) {
    p.pad_type = -1;
    p.pad_h = static_cast<int>(pads.begin[0]);
    p.pad_w = static_cast<int>(pads.begin[1]);
  } else if (IsSameUpper(x.dims[2], keff[0], strides[0], pads.begin[0], pads.end[0]) &&
             IsSameUpper(x.dims[3], keff[1], strides[1], pads.begin[1], pads.end[1])) {
    p.pad_type = 0;
  } else {
    BlobInfo padded;
    QT_RETURN_IF_ERROR(AddPad(c, x.name, pads, 0.f, 0, 0, 0, -1, &padded));
    in = padded.name;
    p.pad_type = -1;
  }
  ConvResource r;
  r.filter = Floats(*w, w->dims);
  if (bias) {
    r.bias = Floats(*bias, {oc});
    r.has_bias = true;
  }
  const Dims expect{x.dims[0], static_cast<int>(oc), static_cast<int>(out_hw[0]), static_cast<int>(out_hw[1])};
  BlobInfo out;
  return c.AddLayer(LayerType::kConvolution, p, LayerResource(r), {in}, 0, "conv", &out, &expect);
}

// ---- ConvTranspose ---------------------------------------------------------------------------------------------
int64_t FloorDiv2(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

Status ConvertConvTranspose(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  const ConstTensor* w = nullptr;
  QT_RETURN_IF_ERROR(c.RequireConst(1, "weight", &w));
  if (x.dims.size() != 4 || w->dims.size() != 4) {
    return c.Unsupported("only 2-D transposed convolution is supported (4-D NCHW input and weight); the input is " +
                         Str(x.dims) + " and the weight " + ShapeString(w->dims));
  }
  int64_t group = 1;
  QT_RETURN_IF_ERROR(c.Int("group", 1, &group));
  std::vector<int64_t> kernel, strides, dilations, out_pad, out_shape;
  QT_RETURN_IF_ERROR(c.Ints("kernel_shape", &kernel));
  QT_RETURN_IF_ERROR(Pair(c, "strides", 1, 1, &strides));
  QT_RETURN_IF_ERROR(Pair(c, "dilations", 1, 1, &dilations));
  QT_RETURN_IF_ERROR(Pair(c, "output_padding", 0, 0, &out_pad));
  QT_RETURN_IF_ERROR(c.Ints("output_shape", &out_shape));
  const int64_t ic = w->dims[0], ocg = w->dims[1], kh = w->dims[2], kw = w->dims[3];
  if (!kernel.empty() && kernel != std::vector<int64_t>{kh, kw}) {
    return c.Invalid("kernel_shape " + ShapeString(kernel) + " does not match the weight " + ShapeString(w->dims));
  }
  if (group < 1 || ic % group != 0 || x.dims[1] != ic) {
    return c.Invalid("the input " + Str(x.dims) + " does not match the weight " + ShapeString(w->dims) +
                     " with group " + std::to_string(group));
  }
  const int64_t oc = ocg * group;
  const ConstTensor* bias = nullptr;
  if (c.Has(2)) {
    QT_RETURN_IF_ERROR(c.RequireConst(2, "bias", &bias));
    if (bias->count() != oc) {
      return c.Invalid("bias has " + std::to_string(bias->count()) + " values for " + std::to_string(oc) +
                       " output channels");
    }
  }
  std::string auto_pad;
  QT_RETURN_IF_ERROR(c.Str("auto_pad", "NOTSET", &auto_pad));
  std::vector<int64_t> pads;
  QT_RETURN_IF_ERROR(c.Ints("pads", &pads));
  if (!pads.empty() && pads.size() != 4) return c.Invalid("pads has " + std::to_string(pads.size()) + " values");
  if (!out_shape.empty() && out_shape.size() != 2) {
    if (out_shape.size() == 4) {
      out_shape = {out_shape[2], out_shape[3]};
    } else {
      return c.Invalid("output_shape " + ShapeString(out_shape) + " is not 2 values");
    }
  }
  // ONNX: out[o] = full[o + begin], full = the (in − 1)·stride + keff transposed convolution extended by
  // output_padding zeros at the end; a negative begin or end extends the output with zeros (bias only).
  int64_t begin[2], end[2], full[2], out_hw[2];
  for (int a = 0; a < 2; ++a) {
    const int64_t in = x.dims[2 + a], keff = ((a ? kw : kh) - 1) * dilations[a] + 1;
    full[a] = (in - 1) * strides[a] + keff;
    if (!out_shape.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const int64_t target = out_shape.empty() ? in * strides[a] : out_shape[a];
      const int64_t total = full[a] + out_pad[a] - target;
      const bool upper = auto_pad == "SAME_UPPER";
      begin[a] = upper ? FloorDiv2(total) : total - FloorDiv2(total);
      end[a] = total - begin[a];
    } else if (auto_pad == "VALID" || pads.empty()) {
      begin[a] = end[a] = 0;
    } else {
      begin[a] = pads[a];
      end[a] = pads[2 + a];
    }
    end[a] -= out_pad[a];
    out_hw[a] = full[a] - begin[a] - end[a];
    if (out_hw[a] < 1) return c.Invalid("the output would be empty");
  }
  ConvParams p;
  p.group = static_cast<int>(group);
  p.input_channel = static_cast<int>(ic / group);
  p.output_channel = static_cast<int>(oc);
  p.kernel_h = static_cast<int>(kh);
  p.kernel_w = static_cast<int>(kw);
  p.stride_h = static_cast<int>(strides[0]);
  p.stride_w = static_cast<int>(strides[1]);
  p.dilation_h = static_cast<int>(dilations[0]);
  p.dilation_w = static_cast<int>(dilations[1]);
  p.pad_type = -1;
  ConvResource r;
  r.filter = Floats(*w, w->dims);
  const Dims expect{x.dims[0], static_cast<int>(oc), static_cast<int>(out_hw[0]), static_cast<int>(out_hw[1])};
  BlobInfo out;
  const bool crop_only = begin[0] >= 0 && begin[1] >= 0 && end[0] >= 0 && end[1] >= 0;
  const bool extend_only = begin[0] <= 0 && begin[1] <= 0 && end[0] <= 0 && end[1] <= 0;
  if (crop_only && begin[0] == end[0] && begin[1] == end[1]) {
    p.pad_h = static_cast<int>(begin[0]);
    p.pad_w = static_cast<int>(begin[1]);
  } else if (crop_only && out_hw[0] == x.dims[2] * strides[0] && out_hw[1] == x.dims[3] * strides[1] &&
             begin[0] == (full[0] - out_hw[0]) / 2 && begin[1] == (full[1] - out_hw[1]) / 2) {
    p.pad_type = 0;  // TNN's SAME: output in·stride, begin = ⌊total/2⌋
  } else if (crop_only && out_hw[0] == x.dims[2] * strides[0] && out_hw[1] == x.dims[3] * strides[1] &&
             end[0] == (full[0] - out_hw[0]) / 2 && end[1] == (full[1] - out_hw[1]) / 2) {
    p.pad_type = 3;  // TNN's SAME for output_padding: begin = ⌈total/2⌉
  } else if (extend_only) {
    // Transposed convolution without bias, zeros around it, then the bias everywhere.
    BlobInfo deconv, padded;
    QT_RETURN_IF_ERROR(c.AddLayer(LayerType::kDeconvolution, p, LayerResource(r), {x.name}, -1, "deconv", &deconv));
    AxisPads ext;
    for (int a = 0; a < 2; ++a) {
      ext.begin[a] = -begin[a];
      ext.end[a] = -end[a];
    }
    if (!bias) return AddPad(c, deconv.name, ext, 0.f, 0, 0, 0, 0, &out, &expect);
    QT_RETURN_IF_ERROR(AddPad(c, deconv.name, ext, 0.f, 0, 0, 0, -1, &padded));
    BinaryResource b;
    b.element = Floats(*bias, {1, oc, 1, 1});
    return c.AddLayer(LayerType::kAdd, BinaryParams{1}, LayerResource(b), {padded.name}, 0, "bias", &out, &expect);
  } else {
    return c.Unsupported("pads/output_padding that crop the transposed convolution on one side (begin " +
                         std::to_string(begin[0]) + "," + std::to_string(begin[1]) + ", end " +
                         std::to_string(end[0]) + "," + std::to_string(end[1]) +
                         ") and differ from TNN's symmetric and SAME rules are not supported");
  }
  if (bias) {
    r.bias = Floats(*bias, {oc});
    r.has_bias = true;
    p.has_bias = 1;
  }
  return c.AddLayer(LayerType::kDeconvolution, p, LayerResource(r), {x.name}, 0, "deconv", &out, &expect);
}

// ---- MaxPool / AveragePool ---------------------------------------------------------------------------------------
Status ConvertPool2d(NodeContext& c) {
  const bool is_max = c.op() == "MaxPool";
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  std::vector<int64_t> kernel, strides, dilations;
  QT_RETURN_IF_ERROR(c.Ints("kernel_shape", &kernel));
  if (kernel.size() != 2 || x.dims.size() != 4) {
    return c.Unsupported("only 1-D and 2-D pooling are supported (3-D or 4-D input); the input is " + Str(x.dims) +
                         " and kernel_shape " + ShapeString(kernel));
  }
  if (is_max && c.OutputUsed(1)) return c.Unsupported("MaxPool's Indices output is not supported");
  QT_RETURN_IF_ERROR(Pair(c, "strides", 1, 1, &strides));
  QT_RETURN_IF_ERROR(Pair(c, "dilations", 1, 1, &dilations));
  if (dilations[0] != 1 || dilations[1] != 1) {
    return c.Unsupported("pooling dilations " + ShapeString(dilations) + " are not supported");
  }
  for (int64_t k : kernel) {
    if (k < 1) return c.Invalid("kernel_shape " + ShapeString(kernel) + " must be positive");
  }
  int64_t ceil_mode = 0, count_include_pad = 0;
  QT_RETURN_IF_ERROR(c.Int("ceil_mode", 0, &ceil_mode));
  QT_RETURN_IF_ERROR(c.Int("count_include_pad", 0, &count_include_pad));
  const int64_t keff[2] = {kernel[0], kernel[1]};
  AxisPads pads;
  QT_RETURN_IF_ERROR(ReadPads(c, x.dims, keff, strides, &pads));
  int64_t out_hw[2];
  for (int a = 0; a < 2; ++a) {
    const int64_t span = x.dims[2 + a] + pads.begin[a] + pads.end[a] - kernel[a];
    if (span < 0) return c.Invalid("the kernel " + ShapeString(kernel) + " does not fit the padded input " + Str(x.dims));
    out_hw[a] = (ceil_mode ? (span + strides[a] - 1) / strides[a] : span / strides[a]) + 1;
    if (pads.begin[a] >= kernel[a] || pads.end[a] >= kernel[a]) {
      return c.Unsupported("pads " + std::to_string(pads.begin[a]) + "/" + std::to_string(pads.end[a]) +
                           " as large as the kernel are not supported");
    }
  }
  const Dims expect{x.dims[0], x.dims[1], static_cast<int>(out_hw[0]), static_cast<int>(out_hw[1])};
  PoolParams p;
  p.pool_type = is_max ? 0 : 1;
  p.kernel_h = static_cast<int>(kernel[0]);
  p.kernel_w = static_cast<int>(kernel[1]);
  p.stride_h = static_cast<int>(strides[0]);
  p.stride_w = static_cast<int>(strides[1]);
  p.pad_type = -1;
  p.ceil_mode = static_cast<int>(ceil_mode);
  BlobInfo out;
  if (is_max) {
    if (pads.Symmetric()) {
      p.pad_h = static_cast<int>(pads.begin[0]);
      p.pad_w = static_cast<int>(pads.begin[1]);
      return c.AddLayer(LayerType::kPooling, p, std::nullopt, {x.name}, 0, "pool", &out, &expect);
    }
    if (!ceil_mode && IsSameUpper(x.dims[2], kernel[0], strides[0], pads.begin[0], pads.end[0]) &&
        IsSameUpper(x.dims[3], kernel[1], strides[1], pads.begin[1], pads.end[1])) {
      p.pad_type = 0;
      return c.AddLayer(LayerType::kPooling, p, std::nullopt, {x.name}, 0, "pool", &out, &expect);
    }
    // Edge padding repeats values the window already holds (pads are smaller than the kernel), so the maxima
    // are ONNX's; unlike a -inf constant it keeps the blob's range, which int8 calibration measures.
    BlobInfo padded;
    QT_RETURN_IF_ERROR(AddPad(c, x.name, pads, 0.f, 0, 0, 2, -1, &padded));
    return c.AddLayer(LayerType::kPooling, p, std::nullopt, {padded.name}, 0, "pool", &out, &expect);
  }
  // Average pooling: TNN's runtime divides by the input elements under the window, Caffe and this engine by the
  // window clipped to the padded input. Both agree when the padding is explicit zeros, so pads become a Pad
  // layer; ONNX's default count_include_pad=0 then needs the constant correction clipped/valid per output.
  if (pads.Zero()) return c.AddLayer(LayerType::kPooling, p, std::nullopt, {x.name}, 0, "pool", &out, &expect);
  BlobInfo padded, pooled;
  QT_RETURN_IF_ERROR(AddPad(c, x.name, pads, 0.f, 0, 0, 0, -1, &padded));
  if (count_include_pad) {
    return c.AddLayer(LayerType::kPooling, p, std::nullopt, {padded.name}, 0, "pool", &out, &expect);
  }
  QT_RETURN_IF_ERROR(c.AddLayer(LayerType::kPooling, p, std::nullopt, {padded.name}, -1, "pool", &pooled, &expect));
  std::vector<float> corr(out_hw[0] * out_hw[1]);
  for (int64_t oy = 0; oy < out_hw[0]; ++oy) {
    for (int64_t ox = 0; ox < out_hw[1]; ++ox) {
      int64_t clipped = 1, valid = 1;
      const int64_t o[2] = {oy, ox};
      for (int a = 0; a < 2; ++a) {
        const int64_t in = x.dims[2 + a], padded_len = in + pads.begin[a] + pads.end[a];
        const int64_t s = o[a] * strides[a], e = std::min(s + kernel[a], padded_len);
        clipped *= e - s;
        valid *= std::max<int64_t>(0, std::min(e, pads.begin[a] + in) - std::max(s, pads.begin[a]));
      }
      if (valid == 0) return c.Unsupported("an average pooling window lies entirely in the padding");
      corr[oy * out_hw[1] + ox] = static_cast<float>(clipped) / static_cast<float>(valid);
    }
  }
  BinaryResource r;
  r.element = RawBuffer::FromFloat(corr, {1, 1, static_cast<int32_t>(out_hw[0]), static_cast<int32_t>(out_hw[1])});
  return c.AddLayer(LayerType::kMul, BinaryParams{1}, LayerResource(r), {pooled.name}, 0, "divisor", &out, &expect);
}

// ---- 1-D convolution and pooling -------------------------------------------------------------------------------
// An N x C x L input runs as an N x C x 1 x L plane through the 2-D converter (so the int8 convolution kernels and
// every padding rule apply), with the node's attributes and a convolution's weight given a height of 1; Reshapes
// on both sides. TNN files spell the same computation Convolution1D / Pooling1D, which read as their own kinds.
Status ConvertAs2d(NodeContext& c, Converter convert_2d) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  if (c.node().output_size() > 1 && c.OutputUsed(1)) return c.Unsupported("MaxPool's Indices output is not supported");
  Builder& b = c.builder();
  ReshapeParams up;
  up.axis = 0;
  up.num_axes = 4;
  up.shape = {0, 0, 1, x.dims[2]};
  BlobInfo plane;
  const Dims plane_dims{x.dims[0], x.dims[1], 1, x.dims[2]};
  QT_RETURN_IF_ERROR(c.AddLayer(LayerType::kReshape, up, std::nullopt, {x.name}, -1, "to2d", &plane, &plane_dims));
  onnx::NodeProto node = c.node();
  const std::string suffix = "__as2d";
  node.set_input(0, node.input(0) + suffix);
  b.SetBlob(node.input(0), plane);
  if (c.Has(1)) {
    const ConstTensor* w = nullptr;
    QT_RETURN_IF_ERROR(c.RequireConst(1, "weight", &w));
    if (w->dims.size() != 3) return c.Invalid("a 1-D convolution's weight must be OIL, got " + ShapeString(w->dims));
    ConstTensor w2 = *w;
    w2.dims = {w->dims[0], w->dims[1], 1, w->dims[2]};
    node.set_input(1, node.input(1) + suffix);
    b.SetConst(node.input(1), std::move(w2));
  }
  while (node.output_size() > 1) node.mutable_output()->RemoveLast();
  node.set_output(0, node.output(0) + suffix);
  for (auto& a : *node.mutable_attribute()) {
    if (a.name() == "kernel_shape" || a.name() == "strides" || a.name() == "dilations") {
      const int64_t v = a.ints_size() == 1 ? a.ints(0) : -1;
      if (v < 0) return c.Invalid("attribute " + a.name() + " of a 1-D op must have one value");
      a.clear_ints();
      a.add_ints(1);
      a.add_ints(v);
    } else if (a.name() == "pads") {
      if (a.ints_size() != 2) return c.Invalid("pads of a 1-D op must have two values");
      const int64_t begin = a.ints(0), end = a.ints(1);
      a.clear_ints();
      for (int64_t v : {int64_t{0}, begin, int64_t{0}, end}) a.add_ints(v);
    }
  }
  NodeContext c2(b, node, c.opset());
  QT_RETURN_IF_ERROR(convert_2d(c2));
  const BlobInfo* y = b.FindBlob(node.output(0));
  if (!y || y->dims.size() != 4 || y->dims[2] != 1) return Status::Internal("the 2-D form gave no N x C x 1 x L output");
  ReshapeParams down;
  down.axis = 0;
  down.num_axes = 3;
  down.shape = {0, 0, y->dims[3]};
  const Dims out_dims{y->dims[0], y->dims[1], y->dims[3]};
  BlobInfo out;
  return c.AddLayer(LayerType::kReshape, down, std::nullopt, {y->name}, 0, "to1d", &out, &out_dims);
}

Status ConvertConv(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  return x.dims.size() == 3 ? ConvertAs2d(c, ConvertConv2d) : ConvertConv2d(c);
}

Status ConvertPool(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  return x.dims.size() == 3 ? ConvertAs2d(c, ConvertPool2d) : ConvertPool2d(c);
}

// ---- InstanceNormalization, LRN -----------------------------------------------------------------------------------
Status ConvertInstanceNorm(NodeContext& c) {
  BlobInfo x, out;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  if (x.dims.size() < 3) return c.Invalid("needs an N x C x D1 ... input, got " + Str(x.dims));
  const ConstTensor *scale = nullptr, *bias = nullptr;
  QT_RETURN_IF_ERROR(c.RequireConst(1, "scale", &scale));
  QT_RETURN_IF_ERROR(c.RequireConst(2, "bias", &bias));
  if (scale->count() != x.dims[1] || bias->count() != x.dims[1]) {
    return c.Invalid("scale and bias need " + std::to_string(x.dims[1]) + " values, got " +
                     std::to_string(scale->count()) + " and " + std::to_string(bias->count()));
  }
  float eps = 1e-5f;
  QT_RETURN_IF_ERROR(c.Float("epsilon", 1e-5f, &eps));
  if (!(eps >= 0.f) || !std::isfinite(eps)) return c.Invalid("epsilon must be finite and >= 0");
  BatchNormResource r;
  r.scale = RawBuffer::FromFloat(scale->ToFloats(), {x.dims[1]});
  r.bias = RawBuffer::FromFloat(bias->ToFloats(), {x.dims[1]});
  return c.AddLayer(LayerType::kInstanceNorm, InstanceNormParams{x.dims[1], eps}, LayerResource(r), {x.name}, 0, "norm",
                    &out, &x.dims);
}

// ONNX's window is floor((size-1)/2) channels before and ceil((size-1)/2) after; TNN's is (size-1)/2 on each side,
// the same for an odd size only.
Status ConvertLrn(NodeContext& c) {
  BlobInfo x, out;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  int64_t size = 0;
  QT_RETURN_IF_ERROR(c.Int("size", 0, &size));
  if (size < 1 || size > 4096) return c.Invalid("size " + std::to_string(size) + " must be in [1, 4096]");
  if (size % 2 == 0) {
    return c.Unsupported("an even LRN size (" + std::to_string(size) +
                         "): ONNX's window then differs from TNN's, which this tool writes");
  }
  LrnLayerParams p;
  p.size = static_cast<int>(size);
  QT_RETURN_IF_ERROR(c.Float("alpha", 1e-4f, &p.alpha));
  QT_RETURN_IF_ERROR(c.Float("beta", 0.75f, &p.beta));
  QT_RETURN_IF_ERROR(c.Float("bias", 1.f, &p.bias));
  return c.AddLayer(LayerType::kLrn, p, std::nullopt, {x.name}, 0, "lrn", &out, &x.dims);
}

Status ConvertGlobalPool(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  QT_RETURN_IF_ERROR(RequireRank(c, x, 4, c.op()));
  PoolParams p;
  p.pool_type = c.op() == "GlobalMaxPool" ? 0 : 1;
  p.kernel_h = p.kernel_w = 0;
  p.pad_type = -1;
  const Dims expect{x.dims[0], x.dims[1], 1, 1};
  BlobInfo out;
  return c.AddLayer(LayerType::kPooling, p, std::nullopt, {x.name}, 0, "pool", &out, &expect);
}

// ---- activations -------------------------------------------------------------------------------------------------
Status Unary(NodeContext& c, LayerType type, LayerParams params = std::monostate{},
             std::optional<LayerResource> res = std::nullopt) {
  BlobInfo x, out;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  return c.AddLayer(type, std::move(params), std::move(res), {x.name}, 0, "act", &out, &x.dims);
}

Status ConvertRelu(NodeContext& c) { return Unary(c, LayerType::kRelu); }
Status ConvertSigmoid(NodeContext& c) { return Unary(c, LayerType::kSigmoid); }
Status ConvertTanh(NodeContext& c) { return Unary(c, LayerType::kTanh); }

Status ConvertHardSigmoid(NodeContext& c) {
  HardActivationParams p;
  QT_RETURN_IF_ERROR(c.Float("alpha", 0.2f, &p.alpha));
  QT_RETURN_IF_ERROR(c.Float("beta", 0.5f, &p.beta));
  return Unary(c, LayerType::kHardSigmoid, p);
}

Status ConvertHardSwish(NodeContext& c) { return Unary(c, LayerType::kHardSwish, HardActivationParams{1.f / 6.f, 0.5f}); }

Status ConvertLeakyRelu(NodeContext& c) {
  float alpha = 0.01f;
  QT_RETURN_IF_ERROR(c.Float("alpha", 0.01f, &alpha));
  PReluResource r;
  r.slope = RawBuffer::FromFloat({alpha}, {1});
  return Unary(c, LayerType::kPRelu, PReluParams{1, 0}, LayerResource(r));
}

Status ConvertPRelu(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  const ConstTensor* slope = nullptr;
  QT_RETURN_IF_ERROR(c.RequireConst(1, "slope", &slope));
  const int channels = x.dims.size() > 1 ? x.dims[1] : 1;
  // Per channel when the slope, aligned to the input's last axis, is 1 everywhere but on axis 1.
  bool per_channel = x.dims.size() >= 2 && slope->dims.size() <= x.dims.size() && slope->count() == channels;
  for (size_t k = 0; per_channel && k < slope->dims.size(); ++k) {
    const size_t axis = x.dims.size() - slope->dims.size() + k;
    per_channel = slope->dims[k] == (axis == 1 ? channels : 1);
  }
  // Before opset 7 a slope of C values is per channel whatever its shape.
  if (c.opset() < 7 && slope->count() == channels) per_channel = true;
  if (slope->count() == 1 || per_channel) {
    PReluResource r;
    r.slope = RawBuffer::FromFloat(slope->ToFloats(), {static_cast<int32_t>(slope->count())});
    return Unary(c, LayerType::kPRelu, PReluParams{slope->count() == 1 ? 1 : 0, 0}, LayerResource(r));
  }
  // Any other broadcast: y = relu(x) + slope·(x − relu(x)), exact (one of the two terms is zero).
  Dims bc;
  const std::vector<int64_t> sd = slope->dims;
  if (!BroadcastShapes(x.dims, ToDims(sd), &bc).ok() || bc != x.dims) {
    return c.Invalid("slope " + ShapeString(sd) + " does not broadcast to the input " + Str(x.dims));
  }
  BlobInfo r, neg, scaled, out;
  QT_RETURN_IF_ERROR(c.AddLayer(LayerType::kRelu, std::monostate{}, std::nullopt, {x.name}, -1, "pos", &r));
  QT_RETURN_IF_ERROR(c.AddLayer(LayerType::kSub, BinaryParams{}, std::nullopt, {x.name, r.name}, -1, "neg", &neg));
  BinaryResource b;
  b.element = Floats(*slope, sd.empty() ? std::vector<int64_t>{1} : sd);
  QT_RETURN_IF_ERROR(
      c.AddLayer(LayerType::kMul, BinaryParams{1}, LayerResource(b), {neg.name}, -1, "scaled", &scaled));
  return c.AddLayer(LayerType::kAdd, BinaryParams{}, std::nullopt, {r.name, scaled.name}, 0, "sum", &out, &x.dims);
}

Status ConvertClip(NodeContext& c) {
  float lo = -FLT_MAX, hi = FLT_MAX;
  if (c.opset() < 11) {
    QT_RETURN_IF_ERROR(c.Float("min", -FLT_MAX, &lo));
    QT_RETURN_IF_ERROR(c.Float("max", FLT_MAX, &hi));
  } else {
    for (int i : {1, 2}) {
      if (!c.Has(i)) continue;
      const ConstTensor* v = nullptr;
      QT_RETURN_IF_ERROR(c.RequireConst(i, i == 1 ? "min" : "max", &v));
      if (v->count() != 1) return c.Invalid(std::string(i == 1 ? "min" : "max") + " must be a scalar");
      (i == 1 ? lo : hi) = static_cast<float>(v->At(0));
    }
  }
  if (std::isnan(lo) || std::isnan(hi)) return c.Invalid("min or max is NaN");
  lo = Finite(lo);
  hi = Finite(hi);
  if (lo > hi) return c.Unsupported("Clip with min " + FormatFloat(lo) + " > max " + FormatFloat(hi));
  if (lo == 0.f && hi == 6.f) return Unary(c, LayerType::kRelu6);
  if (lo == 0.f && hi == FLT_MAX) return Unary(c, LayerType::kRelu);
  return Unary(c, LayerType::kClip, ClipParams{lo, hi});
}

// ---- Add / Sub / Mul / Div ---------------------------------------------------------------------------------------
Status ConvertBinary(NodeContext& c) {
  const std::string& op = c.op();
  const LayerType type = op == "Add" ? LayerType::kAdd : op == "Sub" ? LayerType::kSub
                                                       : op == "Mul" ? LayerType::kMul : LayerType::kDiv;
  const ConstTensor* ca = c.Const(0);
  const ConstTensor* cb = c.Const(1);
  BlobInfo a, b, out;
  if (!ca) QT_RETURN_IF_ERROR(c.RequireBlob(0, &a));
  if (!cb) QT_RETURN_IF_ERROR(c.RequireBlob(1, &b));
  std::vector<int64_t> b_shape = cb ? cb->dims : std::vector<int64_t>(b.dims.begin(), b.dims.end());
  const Dims a_dims = ca ? ToDims(ca->dims) : a.dims;
  // Before opset 7 a broadcast B aligns at `axis` of A (default: at its last axes, as numpy does).
  int64_t broadcast = 0, axis = -1;
  if (c.opset() < 7) {
    QT_RETURN_IF_ERROR(c.Int("broadcast", 0, &broadcast));
    QT_RETURN_IF_ERROR(c.Int("axis", -1, &axis));
  }
  if (broadcast && axis >= 0) {
    std::vector<int64_t> d(axis, 1);
    d.insert(d.end(), b_shape.begin(), b_shape.end());
    while (d.size() < a_dims.size()) d.push_back(1);
    if (!cb && d != b_shape) return c.Unsupported("legacy axis broadcast of a run-time operand");
    b_shape = d;
  }
  Dims expect;
  QT_RETURN_IF_ERROR(BroadcastShapes(a_dims, ToDims(b_shape), &expect));
  if (!ca && !cb) {
    return c.AddLayer(type, BinaryParams{}, std::nullopt, {a.name, b.name}, 0, "op", &out, &expect);
  }
  const ConstTensor& k = ca ? *ca : *cb;
  std::vector<int64_t> kd = ca ? ca->dims : b_shape;
  if (kd.empty()) kd = {1};
  BinaryResource r;
  r.element = Floats(k, kd);
  return c.AddLayer(type, BinaryParams{ca ? 0 : 1}, LayerResource(r), {ca ? b.name : a.name}, 0, "op", &out,
                    &expect);
}

Status ConstantBlob(NodeContext& c, const ConstTensor& k, const std::string& after, const std::string& suffix,
                    BlobInfo* out);

Status ConvertConcat(NodeContext& c) {
  std::vector<std::string> names;
  std::vector<Dims> dims;
  std::string first_blob;
  for (int i = 0; i < c.node().input_size(); ++i) {
    if (c.Has(i) && !c.Const(i) && first_blob.empty()) {
      BlobInfo b;
      QT_RETURN_IF_ERROR(c.RequireBlob(i, &b));
      first_blob = b.name;
    }
  }
  if (first_blob.empty()) return c.Invalid("Concat has no run-time input");
  for (int i = 0; i < c.node().input_size(); ++i) {
    if (!c.Has(i)) continue;
    BlobInfo b;
    if (const ConstTensor* k = c.Const(i)) {
      if (k->count() == 0) continue;  // an empty constant adds nothing
      QT_RETURN_IF_ERROR(ConstantBlob(c, *k, first_blob, "const" + std::to_string(i), &b));
    } else {
      QT_RETURN_IF_ERROR(c.RequireBlob(i, &b));
    }
    names.push_back(b.name);
    dims.push_back(b.dims);
  }
  int64_t axis = 0;
  QT_RETURN_IF_ERROR(c.Int("axis", c.opset() < 4 ? 1 : 0, &axis));
  const int64_t rank = static_cast<int64_t>(dims[0].size());
  if (axis < -rank || axis >= rank) return c.Invalid("axis " + std::to_string(axis) + " is out of range");
  if (axis < 0) axis += rank;
  if (names.size() == 1) return c.Alias(0, BlobInfo{names[0], dims[0]});
  Dims expect = dims[0];
  for (size_t k = 1; k < dims.size(); ++k) {
    if (dims[k].size() != dims[0].size()) return c.Invalid("inputs differ in rank");
    expect[axis] += dims[k][axis];
  }
  BlobInfo out;
  return c.AddLayer(LayerType::kConcat, AxisParams{static_cast<int>(axis)}, std::nullopt, names, 0, "concat", &out,
                    &expect);
}

// ---- Gemm / MatMul -----------------------------------------------------------------------------------------------
// InnerProduct weights [n][k] of alpha · B, from B stored [k][n] (or [n][k] when trans_b): x · B = x · Wᵀ.
RawBuffer InnerProductWeight(const std::vector<float>& bv, int64_t n, int64_t k, bool trans_b, float alpha) {
  std::vector<float> w(n * k);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t q = 0; q < k; ++q) w[j * k + q] = alpha * (trans_b ? bv[j * k + q] : bv[q * n + j]);
  }
  return RawBuffer::FromFloat(w, {static_cast<int32_t>(n), static_cast<int32_t>(k)});
}

Status ConvertGemm(NodeContext& c) {
  BlobInfo a;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &a));
  const ConstTensor* b = nullptr;
  QT_RETURN_IF_ERROR(c.RequireConst(1, "B", &b));
  float alpha = 1.f, beta = 1.f;
  int64_t trans_a = 0, trans_b = 0;
  QT_RETURN_IF_ERROR(c.Float("alpha", 1.f, &alpha));
  QT_RETURN_IF_ERROR(c.Float("beta", 1.f, &beta));
  QT_RETURN_IF_ERROR(c.Int("transA", 0, &trans_a));
  QT_RETURN_IF_ERROR(c.Int("transB", 0, &trans_b));
  if (a.dims.size() != 2 || b->dims.size() != 2) {
    return c.Invalid("Gemm needs 2-D A and B, got " + Str(a.dims) + " and " + ShapeString(b->dims));
  }
  const int64_t m = trans_a ? a.dims[1] : a.dims[0], k = trans_a ? a.dims[0] : a.dims[1];
  const int64_t n = trans_b ? b->dims[0] : b->dims[1];
  if ((trans_b ? b->dims[1] : b->dims[0]) != k) {
    return c.Invalid("A " + Str(a.dims) + (trans_a ? " (transposed)" : "") + " and B " + ShapeString(b->dims) +
                     (trans_b ? " (transposed)" : "") + " do not multiply");
  }
  InnerProductResource r;
  r.weight = InnerProductWeight(b->ToFloats(), n, k, trans_b, alpha);
  InnerProductParams p{static_cast<int>(n), 0, 0, 1};
  const ConstTensor* cc = nullptr;
  if (c.Has(2)) QT_RETURN_IF_ERROR(c.RequireConst(2, "C", &cc));
  if (beta == 0.f) cc = nullptr;
  Dims c_dims;
  if (cc) {
    c_dims = ToDims(cc->dims);
    Dims bc;
    if (!BroadcastShapes(c_dims, Dims{static_cast<int>(m), static_cast<int>(n)}, &bc).ok() ||
        bc != Dims{static_cast<int>(m), static_cast<int>(n)}) {
      return c.Invalid("C " + ShapeString(cc->dims) + " does not broadcast to [" + std::to_string(m) + "," +
                       std::to_string(n) + "]");
    }
  }
  const bool per_output = cc && (cc->count() == 1 || (cc->count() == n && (c_dims.size() == 1 || c_dims[0] == 1)));
  if (per_output) {
    std::vector<float> bias = cc->ToFloats();
    if (bias.size() == 1) bias.assign(n, bias[0]);
    for (float& v : bias) v *= beta;
    r.bias = RawBuffer::FromFloat(bias, {static_cast<int32_t>(n)});
    p.has_bias = 1;
  }
  std::string in = a.name;
  if (trans_a) {
    BlobInfo t;
    QT_RETURN_IF_ERROR(c.AddLayer(LayerType::kPermute, PermuteParams{{1, 0}}, std::nullopt, {a.name}, -1, "transA", &t));
    in = t.name;
  }
  const Dims expect{static_cast<int>(m), static_cast<int>(n)};
  BlobInfo out;
  if (!cc || per_output) {
    return c.AddLayer(LayerType::kInnerProduct, p, LayerResource(r), {in}, 0, "fc", &out, &expect);
  }
  BlobInfo fc;
  QT_RETURN_IF_ERROR(c.AddLayer(LayerType::kInnerProduct, p, LayerResource(r), {in}, -1, "fc", &fc, &expect));
  std::vector<float> cv = cc->ToFloats();
  for (float& v : cv) v *= beta;
  BinaryResource br;
  br.element = RawBuffer::FromFloat(cv, ToDims32(cc->dims));
  return c.AddLayer(LayerType::kAdd, BinaryParams{1}, LayerResource(br), {fc.name}, 0, "bias", &out, &expect);
}

Status ConvertMatMul(NodeContext& c) {
  const ConstTensor* ca = c.Const(0);
  const ConstTensor* cb = c.Const(1);
  BlobInfo a, b, out;
  if (!ca) QT_RETURN_IF_ERROR(c.RequireBlob(0, &a));
  if (!cb) QT_RETURN_IF_ERROR(c.RequireBlob(1, &b));
  const Dims ad = ca ? ToDims(ca->dims) : a.dims, bd = cb ? ToDims(cb->dims) : b.dims;
  Dims expect;
  QT_RETURN_IF_ERROR(MatMulShape(ad, bd, &expect));
  if (!ca && !cb) {
    return c.AddLayer(LayerType::kMatMul, MatMulParams{-1}, std::nullopt, {a.name, b.name}, 0, "matmul", &out,
                      &expect);
  }
  if (cb && cb->dims.size() == 2 && a.dims.size() == 2) {
    // x · B is an InnerProduct with weight Bᵀ. Only for a 2-D x: TNN's CPU InnerProduct flattens from axis 1.
    const int64_t k = cb->dims[0], n = cb->dims[1];
    InnerProductResource r;
    r.weight = InnerProductWeight(cb->ToFloats(), n, k, /*trans_b=*/false, 1.f);
    InnerProductParams p{static_cast<int>(n), 0, 0, 1};
    return c.AddLayer(LayerType::kInnerProduct, p, LayerResource(r), {a.name}, 0, "fc", &out, &expect);
  }
  MatMulResource r;
  r.weight = Floats(ca ? *ca : *cb, ca ? ca->dims : cb->dims);
  return c.AddLayer(LayerType::kMatMul, MatMulParams{ca ? 0 : 1}, LayerResource(r), {ca ? b.name : a.name}, 0,
                    "matmul", &out, &expect);
}

// ---- shape ops ---------------------------------------------------------------------------------------------------
// A Reshape to `dims`, or nothing when they are the input's.
Status ReshapeTo(NodeContext& c, const BlobInfo& x, const std::vector<int64_t>& dims) {
  const Dims d = ToDims(dims);
  if (d == x.dims) return c.Alias(0, x);
  if (d.empty() || d.size() > 6) {
    return c.Unsupported("a " + std::to_string(d.size()) + "-D result " + Str(d) + " is not supported (rank 1 to 6)");
  }
  ReshapeParams p;
  p.axis = 0;
  p.num_axes = static_cast<int>(d.size());
  p.shape = d;
  BlobInfo out;
  return c.AddLayer(LayerType::kReshape, p, std::nullopt, {x.name}, 0, "reshape", &out, &d);
}

std::vector<int64_t> Dims64(const Dims& d) { return std::vector<int64_t>(d.begin(), d.end()); }

Status ConvertReshape(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  std::vector<int64_t> shape;
  if (c.opset() < 5) {
    QT_RETURN_IF_ERROR(c.Ints("shape", &shape));
  } else {
    const ConstTensor* s = nullptr;
    QT_RETURN_IF_ERROR(c.RequireConst(1, "shape", &s));
    shape = s->ToInts();
  }
  int64_t allowzero = 0;
  QT_RETURN_IF_ERROR(c.Int("allowzero", 0, &allowzero));
  std::vector<int64_t> dims;
  QT_RETURN_IF_ERROR(ReshapeDims(Dims64(x.dims), shape, allowzero != 0, &dims));
  return ReshapeTo(c, x, dims);
}

Status ConvertFlatten(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  int64_t axis = 1;
  QT_RETURN_IF_ERROR(c.Int("axis", 1, &axis));
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  if (axis < -rank || axis > rank) return c.Invalid("axis " + std::to_string(axis) + " is out of range");
  if (axis < 0) axis += rank;
  const int64_t outer = DimsCount(Dims(x.dims.begin(), x.dims.begin() + axis));
  const int64_t inner = DimsCount(x.dims, axis);
  if (axis == 1) {
    const Dims expect{static_cast<int>(outer), static_cast<int>(inner)};
    if (expect == x.dims) return c.Alias(0, x);
    BlobInfo out;
    return c.AddLayer(LayerType::kFlatten, AxisParams{1}, std::nullopt, {x.name}, 0, "flatten", &out, &expect);
  }
  return ReshapeTo(c, x, {outer, inner});
}

Status AxesInput(NodeContext& c, std::vector<int64_t>* axes) {
  if (c.opset() < 13) return c.Ints("axes", axes);
  axes->clear();
  if (!c.Has(1)) return Status::Ok();
  const ConstTensor* t = nullptr;
  QT_RETURN_IF_ERROR(c.RequireConst(1, "axes", &t));
  *axes = t->ToInts();
  return Status::Ok();
}

Status ConvertSqueeze(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  std::vector<int64_t> axes, dims;
  QT_RETURN_IF_ERROR(AxesInput(c, &axes));
  QT_RETURN_IF_ERROR(c.op() == "Squeeze" ? SqueezeDims(Dims64(x.dims), axes, &dims)
                                         : UnsqueezeDims(Dims64(x.dims), axes, &dims));
  return ReshapeTo(c, x, dims);
}

Status ConvertTranspose(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  std::vector<int64_t> perm;
  QT_RETURN_IF_ERROR(c.Ints("perm", &perm));
  const size_t r = x.dims.size();
  if (perm.empty()) {
    for (size_t k = 0; k < r; ++k) perm.push_back(static_cast<int64_t>(r - 1 - k));
  }
  if (perm.size() != r) return c.Invalid("perm " + ShapeString(perm) + " does not match the input " + Str(x.dims));
  if (r > 6) return c.Unsupported("Transpose of a " + std::to_string(r) + "-D tensor (rank 1 to 6)");
  PermuteParams p;
  Dims expect(r);
  std::vector<bool> seen(r, false);
  bool identity = true;
  for (size_t k = 0; k < r; ++k) {
    if (perm[k] < 0 || perm[k] >= static_cast<int64_t>(r) || seen[perm[k]]) {
      return c.Invalid("perm " + ShapeString(perm) + " is not a permutation");
    }
    seen[perm[k]] = true;
    identity = identity && perm[k] == static_cast<int64_t>(k);
    p.order.push_back(static_cast<int>(perm[k]));
    expect[k] = x.dims[perm[k]];
  }
  if (identity) return c.Alias(0, x);
  BlobInfo out;
  return c.AddLayer(LayerType::kPermute, p, std::nullopt, {x.name}, 0, "permute", &out, &expect);
}

Status ConvertSoftmax(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  int64_t axis = 0;
  QT_RETURN_IF_ERROR(c.Int("axis", c.opset() < 13 ? 1 : -1, &axis));
  if (axis < -rank || axis >= rank) return c.Invalid("axis " + std::to_string(axis) + " is out of range");
  if (axis < 0) axis += rank;
  BlobInfo out;
  // Before opset 13 the input is viewed as 2-D [prod(dims before axis), prod(dims from axis)].
  const bool several_axes = c.opset() < 13 && DimsCount(x.dims, axis + 1) != 1;
  if (!several_axes) {
    return c.AddLayer(LayerType::kSoftmax, AxisParams{static_cast<int>(axis)}, std::nullopt, {x.name}, 0,
                      "softmax", &out, &x.dims);
  }
  ReshapeParams flat;
  flat.axis = 0;
  flat.num_axes = 2;
  flat.shape = {static_cast<int>(DimsCount(Dims(x.dims.begin(), x.dims.begin() + axis))),
                static_cast<int>(DimsCount(x.dims, axis))};
  BlobInfo two_d, soft;
  QT_RETURN_IF_ERROR(c.AddLayer(LayerType::kReshape, flat, std::nullopt, {x.name}, -1, "2d", &two_d));
  QT_RETURN_IF_ERROR(c.AddLayer(LayerType::kSoftmax, AxisParams{1}, std::nullopt, {two_d.name}, -1, "softmax", &soft));
  ReshapeParams back;
  back.axis = 0;
  back.num_axes = static_cast<int>(rank);
  back.shape = x.dims;
  return c.AddLayer(LayerType::kReshape, back, std::nullopt, {soft.name}, 0, "reshape", &out, &x.dims);
}

// ---- BatchNormalization ------------------------------------------------------------------------------------------
Status ConvertBatchNorm(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  int64_t training = 0, spatial = 1;
  QT_RETURN_IF_ERROR(c.Int("training_mode", 0, &training));
  if (c.opset() < 9) QT_RETURN_IF_ERROR(c.Int("spatial", 1, &spatial));
  if (training || c.OutputUsed(1) || c.OutputUsed(2) || c.OutputUsed(3) || c.OutputUsed(4)) {
    return c.Unsupported("BatchNormalization in training mode (batch statistics, running mean/var outputs)");
  }
  if (!spatial) return c.Unsupported("BatchNormalization with spatial=0 (per-element statistics)");
  if (x.dims.size() < 2) return c.Invalid("the input " + Str(x.dims) + " has no channel axis");
  const int64_t ch = x.dims[1];
  const char* roles[4] = {"scale", "bias", "mean", "var"};
  std::vector<float> v[4];
  for (int i = 0; i < 4; ++i) {
    const ConstTensor* t = nullptr;
    QT_RETURN_IF_ERROR(c.RequireConst(i + 1, roles[i], &t));
    if (t->count() != ch) {
      return c.Invalid(std::string(roles[i]) + " has " + std::to_string(t->count()) + " values but the input " +
                       Str(x.dims) + " has " + std::to_string(ch) + " channels");
    }
    v[i] = t->ToFloats();
  }
  float eps = 1e-5f;
  QT_RETURN_IF_ERROR(c.Float("epsilon", 1e-5f, &eps));
  std::vector<float> scale(ch), bias(ch);
  for (int64_t k = 0; k < ch; ++k) {
    const double s = static_cast<double>(v[0][k]) / std::sqrt(static_cast<double>(v[3][k]) + static_cast<double>(eps));
    scale[k] = static_cast<float>(s);
    bias[k] = static_cast<float>(static_cast<double>(v[1][k]) - static_cast<double>(v[2][k]) * s);
  }
  BatchNormResource r;
  r.scale = RawBuffer::FromFloat(scale, {static_cast<int32_t>(ch)});
  r.bias = RawBuffer::FromFloat(bias, {static_cast<int32_t>(ch)});
  return Unary(c, LayerType::kBatchNorm, std::monostate{}, LayerResource(r));
}

// ---- Pad ---------------------------------------------------------------------------------------------------------
Status ConvertPad(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  QT_RETURN_IF_ERROR(RequireRank(c, x, 4, "Pad"));
  std::string mode;
  QT_RETURN_IF_ERROR(c.Str("mode", "constant", &mode));
  std::vector<int64_t> pads;
  float value = 0.f;
  if (c.opset() < 11) {
    QT_RETURN_IF_ERROR(c.Ints(c.opset() < 2 ? "paddings" : "pads", &pads));
    QT_RETURN_IF_ERROR(c.Float("value", 0.f, &value));
  } else {
    const ConstTensor* t = nullptr;
    QT_RETURN_IF_ERROR(c.RequireConst(1, "pads", &t));
    pads = t->ToInts();
    if (c.Has(2)) {
      QT_RETURN_IF_ERROR(c.RequireConst(2, "constant_value", &t));
      if (t->count() != 1) return c.Invalid("constant_value must be a scalar");
      value = static_cast<float>(t->At(0));
    }
    if (c.Has(3)) return c.Unsupported("Pad with an axes input (opset 18) is not supported");
  }
  if (pads.size() != 8) return c.Invalid("pads has " + std::to_string(pads.size()) + " values for a 4-D input");
  for (int64_t v : pads) {
    if (v < 0) return c.Unsupported("negative pads " + ShapeString(pads) + " (cropping) are not supported");
    // Bounded before the output dims are summed from them (in int64 they could still overflow).
    if (v >= (int64_t{1} << 31)) return c.Invalid("pads " + ShapeString(pads) + " exceed 2^31");
  }
  if (pads[0] || pads[4]) return c.Unsupported("padding the batch axis is not supported");
  int type = 0;
  if (mode == "reflect") {
    type = 1;
  } else if (mode == "edge") {
    type = 2;
  } else if (mode != "constant") {
    return c.Unsupported("Pad mode '" + mode + "' is not supported (constant, reflect, edge)");
  }
  if (type != 0 && (pads[1] || pads[5])) return c.Unsupported("reflect/edge padding of the channel axis");
  if (type == 1 && (pads[2] >= x.dims[2] || pads[6] >= x.dims[2] || pads[3] >= x.dims[3] || pads[7] >= x.dims[3])) {
    return c.Invalid("reflect pads " + ShapeString(pads) + " must be smaller than the input " + Str(x.dims));
  }
  if (std::isnan(value)) return c.Unsupported("a NaN padding value is not supported");
  if (std::all_of(pads.begin(), pads.end(), [](int64_t v) { return v == 0; })) return c.Alias(0, x);
  AxisPads p;
  p.begin[0] = pads[2];
  p.begin[1] = pads[3];
  p.end[0] = pads[6];
  p.end[1] = pads[7];
  const Dims expect{x.dims[0], static_cast<int>(x.dims[1] + pads[1] + pads[5]),
                    static_cast<int>(x.dims[2] + pads[2] + pads[6]), static_cast<int>(x.dims[3] + pads[3] + pads[7])};
  BlobInfo out;
  return AddPad(c, x.name, p, Finite(value), pads[1], pads[5], type, 0, &out, &expect);
}

// ---- Resize / Upsample -------------------------------------------------------------------------------------------
// ONNX's source coordinate of output index `o` along an axis. `out_len` is the resized length before rounding
// (in · scale when scales are given, as ONNX's reference computes it).
double SourceCoord(const std::string& mode, int64_t o, double scale, int64_t in, double out_len) {
  if (mode == "align_corners") return out_len == 1 ? 0.0 : static_cast<double>(o) * (in - 1) / (out_len - 1);
  if (mode == "asymmetric") return o / scale;
  if (mode == "pytorch_half_pixel") return out_len > 1 ? (o + 0.5) / scale - 0.5 : 0.0;
  return (o + 0.5) / scale - 0.5;  // half_pixel
}

int64_t NearestIndex(const std::string& rule, double x) {
  const double fl = std::floor(x);
  if (rule == "floor") return SaturatingInt64(fl);
  if (rule == "ceil") return SaturatingInt64(std::ceil(x));
  if (x - fl == 0.5) return SaturatingInt64(rule == "round_prefer_ceil" ? fl + 1 : fl);
  return SaturatingInt64(std::round(x));
}

constexpr int64_t kMaxResizedDim = int64_t{1} << 20;

Status ConvertResize(NodeContext& c) {
  const bool upsample = c.op() == "Upsample";
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  QT_RETURN_IF_ERROR(RequireRank(c, x, 4, c.op()));
  std::string mode, coord = "half_pixel", nearest = "round_prefer_floor";
  QT_RETURN_IF_ERROR(c.Str("mode", "nearest", &mode));
  std::vector<float> scales;
  std::vector<int64_t> sizes;
  if (upsample) {
    if (c.opset() < 7) return c.Unsupported("Upsample before opset 7 (height_scale/width_scale) is not supported");
    coord = "asymmetric";
    nearest = "floor";
    if (c.opset() < 9) {
      QT_RETURN_IF_ERROR(AttrFloats(c.node(), "scales", &scales));
    } else {
      const ConstTensor* t = nullptr;
      QT_RETURN_IF_ERROR(c.RequireConst(1, "scales", &t));
      scales = t->ToFloats();
    }
    if (mode == "bilinear") mode = "linear";
  } else if (c.opset() < 11) {
    coord = "asymmetric";
    nearest = "floor";
    const ConstTensor* t = nullptr;
    QT_RETURN_IF_ERROR(c.RequireConst(1, "scales", &t));
    scales = t->ToFloats();
  } else {
    QT_RETURN_IF_ERROR(c.Str("coordinate_transformation_mode", "half_pixel", &coord));
    QT_RETURN_IF_ERROR(c.Str("nearest_mode", "round_prefer_floor", &nearest));
    const ConstTensor* t = nullptr;
    if (c.Has(3) && (t = c.Const(3)) && t->count() > 0) {
      sizes = t->ToInts();
    } else if (c.Has(2)) {
      QT_RETURN_IF_ERROR(c.RequireConst(2, "scales", &t));
      scales = t->ToFloats();
    }
    if (c.Has(3) && !c.Const(3)) return c.Invalid("sizes must be a constant");
  }
  if (mode != "nearest" && mode != "linear") {
    return c.Unsupported("resize mode '" + mode + "' is not supported (nearest, linear)");
  }
  if (coord != "half_pixel" && coord != "pytorch_half_pixel" && coord != "align_corners" && coord != "asymmetric") {
    return c.Unsupported("coordinate_transformation_mode '" + coord + "' is not supported");
  }
  int64_t out_hw[2];
  double scale[2];
  if (!sizes.empty()) {
    if (sizes.size() != 4 || sizes[0] != x.dims[0] || sizes[1] != x.dims[1]) {
      return c.Unsupported("sizes " + ShapeString(sizes) + " must keep N and C of the input " + Str(x.dims));
    }
    for (int a = 0; a < 2; ++a) {
      out_hw[a] = sizes[2 + a];
      scale[a] = static_cast<double>(static_cast<float>(out_hw[a]) / static_cast<float>(x.dims[2 + a]));
    }
  } else {
    if (scales.size() != 4 || scales[0] != 1.f || scales[1] != 1.f) {
      return c.Unsupported("scales [" + (scales.empty() ? std::string() : FormatFloat(scales[0])) +
                           (scales.size() > 1 ? "," + FormatFloat(scales[1]) : "") +
                           ",...] must be 4 values with 1 for N and C");
    }
    for (int a = 0; a < 2; ++a) {
      scale[a] = scales[2 + a];
      const double o = std::floor(x.dims[2 + a] * scale[a]);
      // Checked as a double: a huge or NaN scale has no int64 value.
      out_hw[a] = o >= 1 && o <= kMaxResizedDim ? static_cast<int64_t>(o) : (o >= 1 ? kMaxResizedDim + 1 : 0);
    }
  }
  for (int a = 0; a < 2; ++a) {
    if (out_hw[a] < 1 || !(scale[a] > 0)) return c.Invalid("the resized output would be empty");
    // The check below walks every output index; a model input dim has the same bound.
    if (out_hw[a] > kMaxResizedDim) return c.Invalid("the resized output is larger than 2^20 along H or W");
  }
  // The engine's Upsample: nearest takes floor(o · in/out); bilinear uses half-pixel centres clamped at 0, or
  // o·(in−1)/(out−1) with align_corners. Map only when ONNX picks the same source for every output index.
  const bool align = mode == "linear" && coord == "align_corners";
  for (int a = 0; a < 2; ++a) {
    const int64_t in = x.dims[2 + a], out = out_hw[a];
    const float ratio = static_cast<float>(in) / static_cast<float>(out);
    for (int64_t o = 0; o < out; ++o) {
      const double onnx = SourceCoord(coord, o, scale[a], in, sizes.empty() ? in * scale[a] : out);
      bool same;
      if (mode == "nearest") {
        const int64_t want = std::min(std::max<int64_t>(NearestIndex(nearest, onnx), 0), in - 1);
        const int64_t have = std::min<int64_t>(SaturatingInt64(std::floor(o * ratio)), in - 1);
        same = want == have;
      } else {
        const double have = align ? (out > 1 ? static_cast<double>(o) * (in - 1) / (out - 1) : 0.0)
                                  : std::max((o + 0.5) * ratio - 0.5, 0.0);
        const double lo = 0.0, hi = static_cast<double>(in - 1);
        same = std::fabs(std::min(std::max(onnx, lo), hi) - std::min(std::max(have, lo), hi)) < 1e-5;
      }
      if (!same) {
        return c.Unsupported(mode + " resize from " + std::to_string(in) + " to " + std::to_string(out) +
                             " with coordinate_transformation_mode " + coord +
                             (mode == "nearest" ? " and nearest_mode " + nearest : std::string()) +
                             " samples other source positions than TNN's Upsample");
      }
    }
  }
  UpsampleParams p;
  p.mode = mode == "nearest" ? 1 : 2;
  p.align_corners = align ? 1 : 0;
  p.scale_h = static_cast<float>(out_hw[0]) / static_cast<float>(x.dims[2]);
  p.scale_w = static_cast<float>(out_hw[1]) / static_cast<float>(x.dims[3]);
  p.output_h = static_cast<int>(out_hw[0]);
  p.output_w = static_cast<int>(out_hw[1]);
  const Dims expect{x.dims[0], x.dims[1], p.output_h, p.output_w};
  BlobInfo out;
  return c.AddLayer(LayerType::kUpsample, p, std::nullopt, {x.name}, 0, "upsample", &out, &expect);
}

// ---- Slice -------------------------------------------------------------------------------------------------------
Status ConvertSlice(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  std::vector<int64_t> starts, ends, axes, steps;
  if (c.opset() < 10) {
    QT_RETURN_IF_ERROR(c.Ints("starts", &starts));
    QT_RETURN_IF_ERROR(c.Ints("ends", &ends));
    QT_RETURN_IF_ERROR(c.Ints("axes", &axes));
  } else {
    const ConstTensor* t = nullptr;
    QT_RETURN_IF_ERROR(c.RequireConst(1, "starts", &t));
    starts = t->ToInts();
    QT_RETURN_IF_ERROR(c.RequireConst(2, "ends", &t));
    ends = t->ToInts();
    if (c.Has(3)) {
      QT_RETURN_IF_ERROR(c.RequireConst(3, "axes", &t));
      axes = t->ToInts();
    }
    if (c.Has(4)) {
      QT_RETURN_IF_ERROR(c.RequireConst(4, "steps", &t));
      steps = t->ToInts();
    }
  }
  if (axes.empty()) {
    for (size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
  }
  StridedSliceSpec spec;
  QT_RETURN_IF_ERROR(NormalizeOnnxSlice(x.dims, starts, ends, axes, steps, &spec));
  for (int d : spec.out_dims) {
    if (d == 0) return c.Unsupported("a Slice with an empty result " + Str(spec.out_dims));
  }
  if (spec.out_dims == x.dims && std::all_of(spec.steps.begin(), spec.steps.end(), [](int s) { return s == 1; })) {
    return c.Alias(0, x);
  }
  // The normalised begins/ends of every sliced axis, axes ascending (TNN's NAIVE kernel walks the axes in list
  // order and expects them sorted); an end before the first element is INT_MIN, TNN's spelling of it.
  StridedSliceV2Params p;
  for (size_t a = 0; a < x.dims.size(); ++a) {
    if (spec.begins[a] == 0 && spec.ends[a] == x.dims[a] && spec.steps[a] == 1) continue;
    p.begins.push_back(spec.begins[a]);
    p.ends.push_back(spec.ends[a] == -1 ? INT_MIN : spec.ends[a]);
    p.axes.push_back(static_cast<int>(a));
    p.strides.push_back(spec.steps[a]);
  }
  BlobInfo out;
  return c.AddLayer(LayerType::kStridedSliceV2, p, std::nullopt, {x.name}, 0, "slice", &out, &spec.out_dims);
}

// Split: one StridedSliceV2 per output (each a plain single-output layer, in TNN too).
Status ConvertSplit(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  int64_t axis = 0;
  QT_RETURN_IF_ERROR(c.Int("axis", 0, &axis));
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  if (axis < -rank || axis >= rank) return c.Invalid("axis " + std::to_string(axis) + " is out of range for " + Str(x.dims));
  if (axis < 0) axis += rank;
  std::vector<int64_t> sizes;
  if (c.opset() < 13) {
    QT_RETURN_IF_ERROR(c.Ints("split", &sizes));
  } else if (c.Has(1)) {
    const ConstTensor* t = nullptr;
    QT_RETURN_IF_ERROR(c.RequireConst(1, "split", &t));
    sizes = t->ToInts();
  }
  const int64_t n = c.node().output_size();
  const int64_t len = x.dims[axis];
  if (sizes.empty()) {
    if (n < 1 || len % n != 0) {
      return c.Unsupported("an uneven Split of " + std::to_string(len) + " into " + std::to_string(n) + " outputs");
    }
    sizes.assign(n, len / n);
  }
  if (static_cast<int64_t>(sizes.size()) != n) {
    return c.Invalid(std::to_string(sizes.size()) + " split sizes for " + std::to_string(n) + " outputs");
  }
  int64_t begin = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (sizes[i] < 1) return c.Unsupported("a Split with an empty output");
    if (begin + sizes[i] > len) return c.Invalid("split sizes add up to more than the axis' " + std::to_string(len));
    StridedSliceV2Params p;
    p.begins = {static_cast<int>(begin)};
    p.ends = {static_cast<int>(begin + sizes[i])};
    p.axes = {static_cast<int>(axis)};
    p.strides = {1};
    Dims dims = x.dims;
    dims[axis] = static_cast<int>(sizes[i]);
    BlobInfo out;
    QT_RETURN_IF_ERROR(c.AddLayer(LayerType::kStridedSliceV2, p, std::nullopt, {x.name}, static_cast<int>(i),
                                  "split" + std::to_string(i), &out, &dims));
    begin += sizes[i];
  }
  if (begin != len) return c.Invalid("split sizes add up to " + std::to_string(begin) + ", not the axis' " + std::to_string(len));
  return Status::Ok();
}

// ---- elementwise math --------------------------------------------------------------------------------------------
Status ConvertMath(NodeContext& c) {
  static const std::map<std::string, LayerType> kTypes = {
      {"Exp", LayerType::kExp},   {"Log", LayerType::kLog}, {"Sqrt", LayerType::kSqrt},
      {"Abs", LayerType::kAbs},   {"Neg", LayerType::kNeg}, {"Softplus", LayerType::kSoftplus}};
  return Unary(c, kTypes.at(c.op()));
}

Status ConvertElu(NodeContext& c) {
  EluParams p;
  QT_RETURN_IF_ERROR(c.Float("alpha", 1.f, &p.alpha));
  return Unary(c, LayerType::kElu, p);
}

Status ConvertPow(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  const ConstTensor* e = c.Const(1);
  if (!e) return c.Unsupported("Pow with a run-time exponent (only a constant scalar exponent)");
  if (e->count() != 1) return c.Unsupported("Pow with the exponent " + ShapeString(e->dims) + " (only a scalar)");
  if (e->dims.size() > x.dims.size()) {
    return c.Unsupported("Pow whose exponent " + ShapeString(e->dims) + " raises the rank of " + Str(x.dims));
  }
  return Unary(c, LayerType::kPower, PowerParams{static_cast<float>(e->At(0)), 1.f, 0.f});
}

// ---- ReduceMean / ReduceMax / ReduceMin / ReduceSum --------------------------------------------------------------
Status ConvertReduce(NodeContext& c) {
  static const std::map<std::string, LayerType> kTypes = {{"ReduceMean", LayerType::kReduceMean},
                                                          {"ReduceMax", LayerType::kReduceMax},
                                                          {"ReduceMin", LayerType::kReduceMin},
                                                          {"ReduceSum", LayerType::kReduceSum}};
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  int64_t keepdims = 1, noop = 0;
  QT_RETURN_IF_ERROR(c.Int("keepdims", 1, &keepdims));
  QT_RETURN_IF_ERROR(c.Int("noop_with_empty_axes", 0, &noop));
  std::vector<int64_t> axes;
  const bool axes_input = c.opset() >= (c.op() == "ReduceSum" ? 13 : 18);
  if (!axes_input) {
    QT_RETURN_IF_ERROR(c.Ints("axes", &axes));
  } else if (c.Has(1)) {
    const ConstTensor* t = nullptr;
    QT_RETURN_IF_ERROR(c.RequireConst(1, "axes", &t));
    axes = t->ToInts();
  }
  if (axes.empty()) {
    if (noop) return c.Alias(0, x);
    for (size_t a = 0; a < x.dims.size(); ++a) axes.push_back(static_cast<int64_t>(a));
  }
  std::vector<int> norm;
  QT_RETURN_IF_ERROR(NormalizeAxes(axes, static_cast<int>(x.dims.size()), &norm));
  for (int a : norm) {
    if (x.dims[a] == 0) return c.Unsupported("a reduction over an empty axis");
  }
  const Dims expect = ReduceOutputDims(x.dims, norm, keepdims != 0);
  ReduceParams p;
  p.keep_dims = keepdims ? 1 : 0;
  p.axes = norm;
  BlobInfo out;
  return c.AddLayer(kTypes.at(c.op()), p, std::nullopt, {x.name}, 0, "reduce", &out, &expect);
}

// ---- Gather ------------------------------------------------------------------------------------------------------
Status ConvertGather(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  const ConstTensor* idx = c.Const(1);
  if (!idx) return c.Unsupported("Gather with run-time indices (only constant indices)");
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  int64_t axis = 0;
  QT_RETURN_IF_ERROR(c.Int("axis", 0, &axis));
  if (axis < -rank || axis >= rank) return c.Invalid("axis " + std::to_string(axis) + " is out of range");
  if (axis < 0) axis += rank;
  if (idx->count() == 0) return c.Unsupported("Gather with no indices (an empty result)");
  const int64_t dim = x.dims[axis];
  std::vector<int32_t> v;
  for (int64_t k : idx->ToInts()) {
    if (k < -dim || k >= dim) {
      return c.Invalid("index " + std::to_string(k) + " is out of range for axis " + std::to_string(axis) +
                       " of " + Str(x.dims));
    }
    v.push_back(static_cast<int32_t>(k < 0 ? k + dim : k));
  }
  GatherResource r;
  r.has_indices = true;
  r.indices = RawBuffer::FromInt32(v, ToDims32(idx->dims));
  const Dims expect = GatherOutputDims(x.dims, static_cast<int>(axis), ToDims(idx->dims));
  BlobInfo out;
  return c.AddLayer(LayerType::kGather, GatherParams{static_cast<int>(axis), 0, 1}, LayerResource(r), {x.name}, 0,
                    "gather", &out, &expect);
}

// A blob holding constant `k`: a Gather of all of the resource data along axis 0. `after` (a run-time blob) only
// orders it in the graph.
Status ConstantBlob(NodeContext& c, const ConstTensor& k, const std::string& after, const std::string& suffix,
                    BlobInfo* out) {
  if (k.dims.empty() || k.count() == 0) return c.Unsupported("a scalar or empty constant as a layer input");
  std::vector<int32_t> all(static_cast<size_t>(k.dims[0]));
  for (size_t q = 0; q < all.size(); ++q) all[q] = static_cast<int32_t>(q);
  GatherResource r;
  r.has_data = true;
  r.data = Floats(k, k.dims);
  r.has_indices = true;
  r.indices = RawBuffer::FromInt32(all, {static_cast<int32_t>(all.size())});
  const Dims expect = ToDims(k.dims);
  return c.AddLayer(LayerType::kGather, GatherParams{0, 1, 1}, LayerResource(r), {after}, -1, suffix, out, &expect);
}

// ---- identities --------------------------------------------------------------------------------------------------
Status ConvertDropout(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  if (c.OutputUsed(1)) return c.Unsupported("Dropout's mask output is not supported");
  if (c.Has(2)) {
    const ConstTensor* t = nullptr;
    QT_RETURN_IF_ERROR(c.RequireConst(2, "training_mode", &t));
    if (t->count() == 1 && t->At(0) != 0) return c.Unsupported("Dropout in training mode");
  }
  BlobInfo out;
  return c.AddLayer(LayerType::kDropout, std::monostate{}, std::nullopt, {x.name}, 0, "dropout", &out, &x.dims);
}

Status ConvertIdentity(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  return c.Alias(0, x);
}

Status ConvertCast(NodeContext& c) {
  BlobInfo x;
  QT_RETURN_IF_ERROR(c.RequireBlob(0, &x));
  int64_t to = 0;
  QT_RETURN_IF_ERROR(CastTarget(c.node(), &to));
  if (to != onnx::TensorProto::FLOAT) {
    return c.Unsupported(std::string("Cast of a run-time tensor to ") + DtypeName(static_cast<int32_t>(to)) +
                         " (the engine runs float tensors only)");
  }
  return c.Alias(0, x);
}

}  // namespace

const std::map<std::string, Converter>& LayerConverters() {
  static const std::map<std::string, Converter> table = {
      {"Conv", ConvertConv},
      {"ConvTranspose", ConvertConvTranspose},
      {"MaxPool", ConvertPool},
      {"AveragePool", ConvertPool},
      {"GlobalAveragePool", ConvertGlobalPool},
      {"GlobalMaxPool", ConvertGlobalPool},
      {"Relu", ConvertRelu},
      {"LeakyRelu", ConvertLeakyRelu},
      {"PRelu", ConvertPRelu},
      {"Clip", ConvertClip},
      {"Sigmoid", ConvertSigmoid},
      {"HardSigmoid", ConvertHardSigmoid},
      {"HardSwish", ConvertHardSwish},
      {"Tanh", ConvertTanh},
      {"Add", ConvertBinary},
      {"Sub", ConvertBinary},
      {"Mul", ConvertBinary},
      {"Div", ConvertBinary},
      {"Concat", ConvertConcat},
      {"Gemm", ConvertGemm},
      {"MatMul", ConvertMatMul},
      {"Flatten", ConvertFlatten},
      {"Reshape", ConvertReshape},
      {"Squeeze", ConvertSqueeze},
      {"Unsqueeze", ConvertSqueeze},
      {"Transpose", ConvertTranspose},
      {"Softmax", ConvertSoftmax},
      {"BatchNormalization", ConvertBatchNorm},
      {"Pad", ConvertPad},
      {"Resize", ConvertResize},
      {"Upsample", ConvertResize},
      {"Dropout", ConvertDropout},
      {"Identity", ConvertIdentity},
      {"Cast", ConvertCast},
      {"Slice", ConvertSlice},
      {"Exp", ConvertMath},
      {"Log", ConvertMath},
      {"Sqrt", ConvertMath},
      {"Abs", ConvertMath},
      {"Neg", ConvertMath},
      {"Softplus", ConvertMath},
      {"Elu", ConvertElu},
      {"Pow", ConvertPow},
      {"ReduceMean", ConvertReduce},
      {"ReduceMax", ConvertReduce},
      {"ReduceMin", ConvertReduce},
      {"ReduceSum", ConvertReduce},
      {"Gather", ConvertGather},
      {"InstanceNormalization", ConvertInstanceNorm},
      {"LRN", ConvertLrn},
      {"Split", ConvertSplit},
  };
  return table;
}

bool InputMustBeConstant(const std::string& op, int index) {
  static const std::map<std::string, int> first_constant = {
      {"Conv", 1},  {"ConvTranspose", 1}, {"BatchNormalization", 1}, {"PRelu", 1},   {"Clip", 1},
      {"Gemm", 1},  {"Reshape", 1},       {"Squeeze", 1},            {"Unsqueeze", 1}, {"Pad", 1},
      {"Resize", 1}, {"Upsample", 1},     {"Dropout", 1},            {"Slice", 1},   {"Pow", 1},
      {"Gather", 1}, {"ReduceMean", 1},   {"ReduceMax", 1},          {"ReduceMin", 1}, {"ReduceSum", 1},
      {"InstanceNormalization", 1}, {"Split", 1}};
  auto it = first_constant.find(op);
  return it != first_constant.end() && index >= it->second;
}

}  // namespace onnx_import
}  // namespace qt
