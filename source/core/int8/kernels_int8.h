#pragma once

#include <cstdint>
#include <vector>

#include "core/base/tensor.h"
#include "core/kernels/kernels_fp32.h"

namespace qt {

// Int8 CPU kernels with the arithmetic of TNN's NAIVE device (tnn_format.md §C.8), so that our int8 outputs are
// the values TNN's reference runtime computes. Int8 values mean x = s·(q − zp). Kernels with a fast path have a
// plain reference twin `...Ref` with the same signature; integer accumulation is exact and the float
// requantization is the same expression in both, so fast paths are bit-exact with their twins.

// TNN's float2int8: adds ±0.5 in float, truncates, saturates to [−128, 127] (round half away from zero, except
// where the float addition itself rounds, which TNN's runtime shares).
inline int8_t Float2Int8(float v) {
  float r = v + (v >= 0.f ? 0.5f : -0.5f);
  r = r < 127.f ? r : 127.f;
  r = r > -128.f ? r : -128.f;
  return static_cast<int8_t>(r);
}

// Instruction-set variants of the fast int8 kernels, picked at run time; each is compiled in its own translation
// unit with its own target flags: kAvx512Vnni (vpdpbusd on x + 128 with a per-row 128·Σw correction), kAvx2
// (int16 pairs and vpmaddwd), kScalar (portable loops). Every variant the CPU supports is bit-exact with the Ref
// twins (the tests run each).
enum class Int8Isa { kScalar, kAvx2, kAvx512Vnni };
const char* Int8IsaName(Int8Isa isa);
// The variants this CPU can run, kScalar first and the fastest last.
std::vector<Int8Isa> SupportedInt8Isas();
Int8Isa BestInt8Isa();

// TNN's FusionType: kAddThenActivation (the convolution had no activation; a ReLU after the Add may be fused
// later) or kActivationThenAdd (the convolution's own ReLU/ReLU6 first, then the Add).
enum class ConvAddFusion { kNone, kAddThenActivation, kActivationThenAdd };

// Requantization of an int8 convolution or inner product, one entry per output channel (per-tensor resources are
// expanded when the layer is prepared).
struct Int8Requant {
  std::vector<float> multiplier;   // weight scale / output scale; 0 where the output scale is below FLT_MIN
  std::vector<int8_t> out_zero;    // output zero point
  std::vector<int8_t> relu6_max;   // Float2Int8(6 / output scale), the ReLU6 clamp in int8
  std::vector<int8_t> in_zero;     // input zero point per input channel
  std::vector<int8_t> weight_zero; // weight zero point per output channel
  Activation activation = Activation::kNone;
  // TNN's load-time fusion of a quantized 1x1 convolution with the quantized Add after it (ConvAddInt8): the
  // Add's other operand q_a enters as (q_a·add_scale[oc] − add_zero[oc]·add_scale[oc]), add_scale = s_a / s_out.
  ConvAddFusion fusion = ConvAddFusion::kNone;
  std::vector<float> add_scale;
  std::vector<int8_t> add_zero;
};

// The end of TNN's NaiveConvBias for channel `oc` from the float value v: ReLU (max 0), or ReLU6 (clamped in int8 to
// [0, relu6_max], returning before `after_activation` and the output zero point, as TNN does); otherwise
// v + after_activation, then the output zero point and Float2Int8.
inline int8_t RequantizeTail(float v, int oc, const Int8Requant& r, float after_activation) {
  if (r.activation == Activation::kRelu) {
    v = v > 0.f ? v : 0.f;
  } else if (r.activation == Activation::kRelu6) {
    int8_t q = Float2Int8(v);
    q = q < r.relu6_max[oc] ? q : r.relu6_max[oc];
    return q > 0 ? q : 0;
  }
  v += after_activation;
  return Float2Int8(v + static_cast<float>(r.out_zero[oc]));
}

// int32 accumulator → int8 output of channel `oc`, exactly as TNN's NaiveConvBias: float(acc)·multiplier, then
// RequantizeTail.
inline int8_t RequantizeInt8(int32_t acc, int oc, const Int8Requant& r) {
  return RequantizeTail(static_cast<float>(acc) * r.multiplier[oc], oc, r, 0.f);
}

// RequantizeInt8 of a convolution fused with an Add (TNN's NaiveConvBias with a fusion type), `add` the other
// operand's int8 value at the same position, added before the activation or after it (where TNN's ReLU6 drops it).
inline int8_t RequantizeAddInt8(int32_t acc, int oc, const Int8Requant& r, int8_t add) {
  float v = static_cast<float>(acc) * r.multiplier[oc];
  const float term = static_cast<float>(add) * r.add_scale[oc] - static_cast<float>(r.add_zero[oc]) * r.add_scale[oc];
  if (r.fusion == ConvAddFusion::kAddThenActivation) v += term;
  return RequantizeTail(v, oc, r, r.fusion == ConvAddFusion::kActivationThenAdd ? term : 0.f);
}

// Convolution on int8 NCHW data: acc = Σ (x − zp_in[ic])·(w − zp_w[oc]) over the window (padding contributes
// nothing, i.e. pads hold the real value 0) + bias[oc], then RequantizeInt8. weights [oc][ic/group][kh][kw];
// bias may be nullptr.
void Conv2dInt8Ref(const Conv2dParams& p, const int8_t* in, const int8_t* weights, const int32_t* bias,
                   const Int8Requant& r, int8_t* out);

// TNN's fused quantized convolution + Add (TNN fuses only 1x1, stride 1, no pad, one group; any window is computed
// here): the Conv2dInt8Ref accumulator, then RequantizeAddInt8 with the Add operand `add` (NCHW, the output's dims). ConvAddInt8 is ConvInt8's Init and
// Run in one call (bit-exact: the accumulation is exact and the requantization is the same expression).
void ConvAddInt8Ref(const Conv2dParams& p, const int8_t* in, const int8_t* weights, const int32_t* bias,
                    const Int8Requant& r, const int8_t* add, int8_t* out);
void ConvAddInt8(const Conv2dParams& p, const int8_t* in, const int8_t* weights, const int32_t* bias,
                 const Int8Requant& r, const int8_t* add, int8_t* out, Int8Isa isa = BestInt8Isa());

// Inner product on int8 data: input [m][k], weights [n][k]; per-tensor input zero point r.in_zero[0]. TNN's
// int8 inner product has no activation (r.activation must be kNone).
void InnerProductInt8Ref(const InnerProductParams2& p, const int8_t* in, const int8_t* weights, const int32_t* bias,
                         const Int8Requant& r, int8_t* out);


struct Int8MicroKernel;
struct Int8DepthwiseDirect;

// The fast convolution / inner product: weights packed once at Init for a register-tiled int8 GEMM with int32
// accumulation whose B operand is built from the input planes without im2col (conv_plan.h); depthwise
// convolutions take a per-channel loop. The requantization is RequantizeInt8's arithmetic. Bit-exact with the Ref
// twins for every shape; results do not depend on the thread count.
class ConvInt8 {
 public:
  // `weights` and `bias` are copied; `r` must have out_c multipliers/zero points and in_c input zero points.
  void Init(const Conv2dParams& p, const int8_t* weights, const int32_t* bias, Int8Requant r,
            Int8Isa isa = BestInt8Isa());
  // `add`: the fused Add's operand (NCHW, the output's dims) when r.fusion is not kNone, else unused.
  void Run(const int8_t* in, int8_t* out, const int8_t* add = nullptr) const;
  Int8Isa isa() const { return isa_; }

 private:
  void InitDepthwiseQuads();
  void RunDepthwise(const int8_t* in, int8_t* out) const;

  Conv2dParams p_;
  Int8Requant r_;
  Int8Isa isa_ = Int8Isa::kScalar;
  const Int8MicroKernel* kernel_ = nullptr;
  bool depthwise_ = false;
  bool weight_zero_ = false;        // some weight zero point is not 0: the GEMM needs column sums
  ConvPlan plan_;
  std::vector<int64_t> row_offset_; // GEMM row k → element offset into the plain planes
  std::vector<int64_t> koff_;       // k-group → byte offset into the packed B
  std::vector<int8_t> packed_;      // per group: row blocks of the kernel's layout; depthwise: [c][k]
  int64_t a_block_bytes_ = 0, group_stride_ = 0;
  std::vector<int32_t> row_add_;    // per oc: bias + every input-independent zero-point term + kernel correction
  std::vector<int32_t> weight_zero32_;
  // Depthwise on the micro-kernel's plane loop (Int8DepthwisePlane): the taps' quads, per channel their weights
  // and Σw; channels with a weight zero point take the portable loop.
  std::vector<int64_t> dw_quad_off_;
  std::vector<int32_t> dw_quad_w_;  // [c][quad]
  std::vector<int32_t> dw_w_sum_;
  // Depthwise windows read straight from the input (Int8MicroKernel::depthwise_direct or its VBMI form); nullptr:
  // the plane kernels only.
  void (*direct_)(const Int8DepthwiseDirect& a, const Int8DepthwiseDirect* b) = nullptr;
};

class InnerProductInt8 {
 public:
  void Init(const InnerProductParams2& p, const int8_t* weights, const int32_t* bias, Int8Requant r,
            Int8Isa isa = BestInt8Isa());
  void Run(const int8_t* in, int8_t* out) const;
  Int8Isa isa() const { return isa_; }

 private:
  InnerProductParams2 p_;
  Int8Requant r_;
  Int8Isa isa_ = Int8Isa::kScalar;
  const Int8MicroKernel* kernel_ = nullptr;
  bool weight_zero_ = false;
  std::vector<int64_t> koff_;
  std::vector<int8_t> packed_;
  int64_t a_block_bytes_ = 0;
  std::vector<int32_t> row_add_;
  std::vector<int32_t> weight_zero32_;
};

// C[m][n] (row stride ldc) = Σ_k A[m][k]·B[k][n], int8 operands, exact int32 accumulation. A row-major [m][k],
// B row-major [k][n]. The fast version packs both operands on every call.
void GemmInt8Ref(int64_t m, int64_t n, int64_t k, const int8_t* a, const int8_t* b, int32_t* c, int64_t ldc);
void GemmInt8(int64_t m, int64_t n, int64_t k, const int8_t* a, const int8_t* b, int32_t* c, int64_t ldc,
              Int8Isa isa = BestInt8Isa());

// Elementwise add of same-shape int8 tensors with TNN's CPU_ADD_BIAS: every input is dequantized, summed in
// float in input order, divided by the output scale, offset by its zero point, Float2Int8. The scale index
// follows the first input's scale count (1: element 0 of every scale, else the channel) as TNN's kernel does.
void AddInt8Ref(const std::vector<const Int8Tensor*>& in, Int8Tensor* out);
// The same in parallel over planes, two inputs on the micro-kernel's plane loop where it has one (float lanes in
// the reference's order).
void AddInt8(const std::vector<const Int8Tensor*>& in, Int8Tensor* out, Int8Isa isa = BestInt8Isa());

// dst[i] = table[(uint8_t)src[i]] for i < n (a Pad, PReLU or Concat on the bytes): 64 bytes per step on the
// AVX-512 variant of a CPU with VBMI, a plain loop otherwise.
using MapBytesFn = void (*)(const uint8_t* table, const int8_t* src, int64_t n, int8_t* dst);
MapBytesFn MapBytesFor(Int8Isa isa);

// Concat of int8 tensors along `axis` (TNN): when every input has a single scale each value is requantized
// (q − zp_in)·s_in / s_out + zp_out; otherwise the bytes are copied unchanged. The fast version maps each input's
// 256 possible bytes once through the same expression (a copy where that map is the identity, a table lookup
// 64 bytes at a time on AVX-512 VBMI), in parallel.
void ConcatInt8Ref(const std::vector<const Int8Tensor*>& in, int axis, Int8Tensor* out);
void ConcatInt8(const std::vector<const Int8Tensor*>& in, int axis, Int8Tensor* out, Int8Isa isa = BestInt8Isa());

// TNN NaivePooling on int8: max starts at −127 (not −128) and takes the window clipped to the input; average
// divides the int32 sum of the clipped window by its size (C integer division). The fast version is a separable
// max over rows then columns (exact; 2x2 stride-2 windows on the micro-kernel's row kernel where it has one) and
// the reference per plane for average, planes in parallel.
void Pool2dInt8Ref(const Pool2dParams& p, const int8_t* in, int8_t* out);
void Pool2dInt8(const Pool2dParams& p, const int8_t* in, int8_t* out, Int8Isa isa = BestInt8Isa());
// Max pooling (p.type kMax) of quantized values that equals quantizing the float max pooling of their values
// wherever the quantization is non-decreasing (positive scales): from −128, and −128 for a window clipped away
// entirely (the float pooling's −FLT_MAX, quantized). Pool2dInt8 follows TNN's int8 pooling instead (from −127,
// 0 for an empty window).
void MaxPool2dInt8(const Pool2dParams& p, const int8_t* in, int8_t* out, Int8Isa isa = BestInt8Isa());

// max(0, q), zero points ignored, as TNN's int8 ReLU.
void ReluInt8Ref(const int8_t* in, int8_t* out, int64_t n);

// A Pad between int8 layers, which TNN's runtime runs in float between two Reformats: its output blob holds
// QuantizeTensor(PadFp32(DequantizeTensor(in))), i.e. at every position the value the Pad moves there,
// Float2Int8(s_in·(q − zp_in) / s_out + zp_out), or the constant Float2Int8(value / s_out + zp_out), and 0 in an
// output channel whose scale is 0 (reformat.cc's expressions). PadInt8Ref computes that element by element through
// PadFp32Ref; `out` comes with its dims, scales and zero points. PadInt8 maps the bytes through a table per
// output channel made at Init (a copy where the table is the identity), planes in parallel. Scales and zero
// points are per tensor (1) or per channel; zero points may be empty (0). Non-empty `prelu_slopes` (one shared or
// one per input channel) apply PReluFp32 to the dequantized values first: with no pads, that is a float PReLU
// between int8 layers (FaceMesh's), which TNN's runtime runs between Reformats too.
void PadInt8Ref(const Int8Tensor& in, const PadParams4d& p, Int8Tensor* out,
                const std::vector<float>& prelu_slopes = {});
class PadInt8 {
 public:
  void Init(const Dims& in_dims, const PadParams4d& p, const std::vector<float>& in_scale,
            const std::vector<int8_t>& in_zero, const std::vector<float>& out_scale,
            const std::vector<int8_t>& out_zero, const std::vector<float>& prelu_slopes = {},
            Int8Isa isa = BestInt8Isa());
  void Run(const int8_t* in, int8_t* out) const;

 private:
  int n_ = 0, c_ = 0, h_ = 0, w_ = 0, oc_ = 0, oh_ = 0, ow_ = 0;
  PadParams4d p_;
  std::vector<int> source_c_;      // per output channel: its input channel, −1 for the constant
  std::vector<int> source_y_;      // per output row: its input row, −1 for the constant
  std::vector<int> border_x_;      // the left then the right border columns: input column, −1 for the constant
  std::vector<uint8_t> table_;     // [output channel][input byte as unsigned]
  std::vector<uint8_t> identity_;  // per output channel: the table maps every byte to itself
  std::vector<int8_t> constant_;   // per output channel
  MapBytesFn map_ = nullptr;
};

}  // namespace qt
