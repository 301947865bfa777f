#pragma once

#include <cstdint>
#include <vector>

#include "core/base/status.h"
#include "core/base/tensor.h"
#include "core/kernels/conv_plan.h"

namespace qt {

// FP32 CPU kernels on NCHW float buffers. Output sizes are computed by the caller (shape inference) and passed
// in; kernels never allocate their output. Kernels with a fast path have a plain reference twin `...Ref` with
// the same signature, used as the test oracle. Fast paths partition work so that each output element is
// computed by one thread in a fixed order: results do not depend on the thread count.

enum class Activation { kNone, kRelu, kRelu6 };

struct Conv2dParams {
  int batch = 1, in_c = 0, in_h = 0, in_w = 0;
  int out_c = 0, out_h = 0, out_w = 0;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0;  // bottom/right padding is implied by out_h/out_w
  int dilation_h = 1, dilation_w = 1;
  int group = 1;
  Activation activation = Activation::kNone;
};

// Instruction-set variants of the fast fp32 kernels, picked at run time; each is compiled in its own translation
// unit with its own target flags. Every variant the CPU supports meets the same contract (the tests run each).
enum class Fp32Isa { kScalar, kAvx2, kAvx512 };
const char* Fp32IsaName(Fp32Isa isa);
// The variants this CPU can run, kScalar first and the fastest last.
std::vector<Fp32Isa> SupportedFp32Isas();
Fp32Isa BestFp32Isa();

// weights [out_c][in_c/group][kh][kw]; bias [out_c] or nullptr.
// Conv2dFp32 is ConvFp32's Init and Run in one call (it packs the weights every time).
void Conv2dFp32(const Conv2dParams& p, const float* in, const float* weights, const float* bias, float* out);
void Conv2dFp32Ref(const Conv2dParams& p, const float* in, const float* weights, const float* bias, float* out);

struct Fp32MicroKernel;
struct Fp32Gemm;
struct Fp32WinogradTransforms;

// How ConvFp32 computes a convolution. kDirect: the packed GEMM over the input planes (conv_plan.h), or the
// depthwise loop. kWinograd: F(4x4, 3x3) Winograd (conv_winograd.cc), only for 3x3 windows with stride 1,
// dilation 1 and one group; its float rounding differs from direct summation (see kernels_fp32_test.cc for the
// bound). kAuto: whichever ChooseConvAlgo picks.
enum class ConvAlgo { kAuto, kDirect, kWinograd };
const char* ConvAlgoName(ConvAlgo algo);
bool WinogradApplies(const Conv2dParams& p);
// The path ConvFp32 takes for `p` on `isa` under kAuto (never kAuto): Winograd where it was measured to beat
// the direct GEMM (the rule and its measurements are in conv_winograd.cc), kDirect otherwise.
ConvAlgo ChooseConvAlgo(const Conv2dParams& p, Fp32Isa isa);

// The fast convolution: weights packed once for a register-tiled GEMM whose B operand is the input itself (1x1),
// shifted views of the padded input (other windows, conv_plan.h) or, where those waste too much, im2col rows;
// depthwise convolutions take a per-channel vector loop; 3x3 stride-1 layers may take Winograd F(4x4, 3x3).
// Matches Conv2dFp32Ref within float rounding; each output is summed in a fixed order, so results do not depend
// on the thread count.
struct Pool2dParams;
struct Fp32DepthwiseGrid;
class ConvFp32 {
 public:
  // `algo` kWinograd where WinogradApplies is false falls back to kDirect; algo() tells the path taken.
  void Init(const Conv2dParams& p, const float* weights, const float* bias, Fp32Isa isa = BestFp32Isa(),
            ConvAlgo algo = ConvAlgo::kAuto);
  void Run(const float* in, float* out) const;
  Fp32Isa isa() const { return isa_; }
  ConvAlgo algo() const { return algo_; }
  const Conv2dParams& params() const { return p_; }

  // Whether this convolution and `dw`, which reads its whole output, can run as RunWithDepthwise: this one an
  // ungrouped convolution on the packed GEMM whose output outgrows two strips (1 MB), either 1x1 stride-1
  // unpadded or, at batch 1, a window on the shifted planes (MobileNetV2's 3x3 stride-2 stem), `dw` a depthwise
  // one on the grid kernel (AVX-512).
  bool FusesWithDepthwise(const ConvFp32& dw) const;
  // Whether `project`, which reads the whole output of `dw`, can be the third convolution of RunWithDepthwise: a
  // 1x1 stride-1 unpadded ungrouped convolution on the packed GEMM (an inverted residual block's projection).
  static bool FusesAfterDepthwise(const ConvFp32& dw, const ConvFp32& project);
  // Run(in, mid) then dw.Run(mid, out) without `mid`: strip by strip of dw's output rows, this convolution
  // computes the input rows the strip's windows read into a per-thread buffer that stays in cache, and dw reads
  // them there (rows shared by two strips are computed twice). With `project`, dw's strip goes to a second buffer
  // and project.Run of it lands in `out` (then project's output). Every value is computed as Run computes it, so
  // the output is the separate runs' bit for bit, whatever the thread count.
  void RunWithDepthwise(const ConvFp32& dw, const float* in, float* out, const ConvFp32* project = nullptr) const;
  // A direct ungrouped convolution on the AVX-512 GEMM whose output (over 1 MB) feeds a 3x3 stride-2 max pooling
  // `q` with every window inside it (SqueezeNet's conv1 and pool1).
  bool FusesWithMaxPool(const Pool2dParams& q) const;
  // Run(in, mid) then Pool2dFp32(q, mid, out) without `mid`: strips of the pooling's output rows, the convolution
  // rows they read computed into a per-thread buffer and pooled there while in cache; the row two strips share is
  // carried over, not recomputed. Every value is what the two runs give, whatever the thread count.
  void RunWithMaxPool(const Pool2dParams& q, const float* in, float* out) const;
  // A 1x1 convolution on the output-channel tiles (AVX-512) whose planes are a multiple of 14 positions, and a
  // global average pooling `q` of its output (SqueezeNet's conv10 and pool10).
  bool FusesWithGlobalAverage(const Pool2dParams& q) const;
  // Run(in, mid) then Pool2dFp32(q, mid, out) without `mid`: each row block's tiles, in column order on one thread,
  // add their outputs to the rows' sums as the pooling adds a plane's values, so the averages are the two runs'
  // bit for bit, whatever the thread count.
  void RunWithGlobalAverage(const Pool2dParams& q, const float* in, float* out) const;

 private:
  void InitWinograd(const float* weights);
  void InitDepthwiseGrid();
  // The GEMM of group g with its weights, row offsets, rows, biases and activation set; the caller sets B, the
  // columns and the output.
  Fp32Gemm GroupGemm(int g) const;
  // One GEMM of a 1x1 direct-layout convolution over `n` columns of B (row k at b + koff[k]), rows at
  // out + r·out_stride, on the calling thread.
  // With grid_w > 0, the columns are a grid of rows of grid_w columns whose first p_.out_w are outputs (the
  // shifted planes' layout); otherwise n contiguous outputs.
  void RunGemmColumns(const float* b, const int64_t* koff, int64_t n, float* out, int64_t out_stride,
                      int64_t grid_w = 0) const;
  void RunDepthwise(const float* in, float* out) const;
  void RunWinograd(const float* in, float* out) const;

  Conv2dParams p_;
  Fp32Isa isa_ = Fp32Isa::kScalar;
  bool depthwise_ = false;
  const Fp32MicroKernel* kernel_ = nullptr;
  ConvPlan plan_;
  std::vector<int64_t> koff_;    // GEMM row k → offset into the planes
  std::vector<float> packed_;    // per group: [row blocks][k][mr]; depthwise: [c][k]
  // The GEMM on ChannelTileAvx512, packed_ in its row blocks of 32 (small planes: 7x7).
  bool channel_tiles_ = false;
  std::vector<float> bias_;      // [out_c], zeros when the layer has none
  int64_t group_stride_ = 0;     // floats of packed_ per group
  ConvAlgo algo_ = ConvAlgo::kDirect;
  // Winograd: packed_ holds the transformed weights, [36 components][row blocks][in_c][mr]; koff_ the rows of V.
  const Fp32WinogradTransforms* transforms_ = nullptr;
  int64_t tiles_x_ = 0, tiles_ = 0;
  int64_t super_tiles_ = 0;  // tiles per pass of RunWinograd's two steps
  int64_t v_row_ = 0;        // floats per row of V: super_tiles_ rounded up to whole vectors
  // Depthwise on a grid kernel (nullptr: none): DepthwiseGridAvx512, with its phase planes' size and output rows
  // per block below, or DepthwiseGridAvx2, which needs neither.
  void (*grid_kernel_)(const Fp32DepthwiseGrid&) = nullptr;
  int64_t grid_hq_ = 0, grid_wq_ = 0;
  int grid_rows_ = 0;
  // Channels two at a time on DepthwiseGridPairAvx512 (7x7) or DepthwiseGridTwinAvx512 (14x14), or nullptr.
  void (*grid_pair_)(const Fp32DepthwiseGrid&, const Fp32DepthwiseGrid&) = nullptr;
};

// Transposed convolution. weights [in_c][out_c/group][kh][kw] (Caffe layout); pad_top/pad_left crop the
// full output.
void Deconv2dFp32Ref(const Conv2dParams& p, const float* in, const float* weights, const float* bias, float* out);
// The same sums in the same order, output row by output row in parallel, with contiguous inner loops: every
// output starts from its bias and adds its products in the reference's (input channel, input row, input column)
// order, so the results are the reference's bits.
void Deconv2dFp32(const Conv2dParams& p, const float* in, const float* weights, const float* bias, float* out);

enum class PoolType { kMax, kAvg };

struct Pool2dParams {
  int batch = 1, channels = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  PoolType type = PoolType::kMax;
  // Average divisor: true = Caffe/TNN (window clipped to the padded input, pads counted), false = only the
  // input elements inside the window (ONNX's default).
  bool count_include_pad = true;
};

void Pool2dFp32(const Pool2dParams& p, const float* in, float* out);
// A global average pooling: one output per plane, the window the whole plane, no padding.
bool IsGlobalAverage(const Pool2dParams& p);
void Pool2dFp32Ref(const Pool2dParams& p, const float* in, float* out);

// out[m][n] = Σ_k in[m][k] · weights[n][k] + bias[n]; bias may be nullptr.
struct InnerProductParams2 {
  int m = 1, k = 0, n = 0;
};
void InnerProductFp32(const InnerProductParams2& p, const float* in, const float* weights, const float* bias,
                      float* out);
void InnerProductFp32Ref(const InnerProductParams2& p, const float* in, const float* weights, const float* bias,
                         float* out);

// Elementwise activations; in == out is allowed.
void ReluFp32(const float* in, float* out, int64_t n);
void ClipFp32(const float* in, float* out, int64_t n, float lo, float hi);
void SigmoidFp32(const float* in, float* out, int64_t n);
void TanhFp32(const float* in, float* out, int64_t n);
// y = x·clamp(alpha·x + beta, 0, 1)
void HardSwishFp32(const float* in, float* out, int64_t n, float alpha, float beta);
// y = clamp(alpha·x + beta, 0, 1)
void HardSigmoidFp32(const float* in, float* out, int64_t n, float alpha, float beta);
// Per-channel slopes (one shared slope when `shared`).
void PReluFp32(const float* in, float* out, int batch, int channels, int64_t spatial, const float* slopes,
               bool shared);
// y = x·scale[c] + bias[c] (bias may be nullptr): BatchNorm and Scale.
void ChannelAffineFp32(const float* in, float* out, int batch, int channels, int64_t spatial, const float* scale,
                       const float* bias);

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kMax };
// Numpy broadcasting of a and b (rank <= 6) into out_dims.
void BinaryFp32(BinaryOp op, const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, float* out,
                const Dims& out_dims);
void BinaryFp32Ref(BinaryOp op, const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, float* out,
                   const Dims& out_dims);

// Numpy matmul: a [..., M, K] times b [..., K, N] into out [..., M, N] (out_dims), batch dims broadcast (both
// ranks >= 2). Plain loops with float accumulation in k order; no fast path, so no reference twin.
void MatMulFp32(const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, float* out,
                const Dims& out_dims);

void ConcatFp32(const std::vector<const float*>& ins, const std::vector<Dims>& in_dims, int axis, float* out);
void SplitFp32(const float* in, const Dims& in_dims, int axis, const std::vector<float*>& outs,
               const std::vector<int>& slices);
void SoftmaxFp32(const float* in, float* out, const Dims& dims, int axis);
void PermuteFp32(const float* in, const Dims& in_dims, const std::vector<int>& order, float* out);

enum class PadMode { kConstant, kReflect, kEdge };
struct PadParams4d {
  int pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0, pad_c_begin = 0, pad_c_end = 0;
  PadMode mode = PadMode::kConstant;
  float value = 0.f;
};
// The input index PadFp32 reads for output index i (minus the leading pad) along an axis of `size`, or -1 where
// the constant goes; the int8 Pad maps its bytes by the same rule.
int PadSourceIndex(int i, int size, PadMode mode);
void PadFp32(const float* in, const Dims& in_dims, const PadParams4d& p, float* out);
// The element-by-element twin of PadFp32 (tests).
void PadFp32Ref(const float* in, const Dims& in_dims, const PadParams4d& p, float* out);
// An Add of `z` and a channel Pad of `x` (constant mode, no spatial pads: BlazeFace's shortcut widened to the
// next block's channels), then a ReLU when `relu`: out = z + Pad(x), or Pad(x) + z with `pad_first`, as PadFp32,
// BinaryFp32 (kAdd, same-shape operands) and ReluFp32 compute it in turn, bit for bit, without the padded
// tensor. x is [n, c, h, w]; z and out are [n, c + p.pad_c_begin + p.pad_c_end, h, w].
void AddChannelPaddedFp32(const float* z, const float* x, const Dims& x_dims, const PadParams4d& p, bool pad_first,
                          bool relu, float* out);

enum class ResizeMode { kNearest, kLinear };
struct ResizeParams {
  int batch = 1, channels = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  ResizeMode mode = ResizeMode::kNearest;
  bool align_corners = false;
};
// TNN Upsample: nearest takes src = floor(dst · in/out); bilinear uses half-pixel centres, or
// src = dst·(in−1)/(out−1) with align_corners.
void ResizeFp32(const ResizeParams& p, const float* in, float* out);

}  // namespace qt

namespace qt {

// TNN's NAIVE-device float convolution, reproduced for --compat tnn calibration: float accumulation in the
// order kernel row, kernel column, input channel, then the bias, then the activation. Slower than Conv2dFp32;
// its only purpose is activations bit-identical with TNN's reference tool, so that compat scales match it.
void Conv2dFp32Tnn(const Conv2dParams& p, const float* in, const float* weights, const float* bias, float* out);

}  // namespace qt
