#pragma once

#include <cstdint>
#include <vector>

#include "core/base/status.h"
#include "core/base/tensor.h"

namespace qt {

// Plain FP32 kernels for the tensor-manipulation, reduction, normalisation and elementwise layers, on NCHW
// (row-major) float buffers. As in kernels_fp32.h, output dims come from the caller and kernels never allocate
// their output; the shape helpers here compute those dims (and validate the parameters) once, at shape inference.
// No fast paths, so no reference twins; no threads. Unless a kernel says otherwise, `in` and `out` must not
// overlap. Sums use float accumulation in index order (the order each kernel states): deterministic, and the
// arithmetic the deployed engines (TNN, ncnn) use, which is what calibration should see.

// ---- Strided slice --------------------------------------------------------------------------------------------

// Elements along one axis of a strided slice: begin, begin + step, ... while before `end` (step > 0) or after it
// (step < 0). 0 when the range is empty; step must not be 0.
int SliceCount(int begin, int end, int step);

// One begin/end/step per input axis, already normalised: step != 0, end in [-1, dim], and begin in [0, dim)
// whenever the axis has output elements.
struct StridedSliceSpec {
  std::vector<int> begins, ends, steps;
  Dims out_dims;  // out_dims[a] = SliceCount(begins[a], ends[a], steps[a])
};

// ONNX Slice (opset 10 and later; opset 1's attributes map onto it with empty steps). `axes` empty means
// 0..starts.size()-1 and `steps` empty means all 1; axes may be negative (counted from the back) but not repeated;
// axes not listed are taken whole. Per the ONNX spec, a negative start or end has dim added once, then start is
// clamped to [0, dim] for positive steps and [0, dim-1] for negative ones, end to [0, dim] and [-1, dim-1]; so
// INT64_MAX / INT64_MIN ends mean "to the end" forward and backward. Errors: lengths that differ, an axis out of
// [-rank, rank), a repeated axis, a zero step.
Status NormalizeOnnxSlice(const Dims& in_dims, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                          const std::vector<int64_t>& axes, const std::vector<int64_t>& steps, StridedSliceSpec* spec);

// out[i0, i1, ...] = in[begins[0] + i0·steps[0], begins[1] + i1·steps[1], ...] for i in out_dims, with
// out_dims[a] == SliceCount(begins[a], ends[a], steps[a]) (as NormalizeOnnxSlice returns them). Steps may be
// negative. Output in row-major order of out_dims; `ends` is not read (out_dims carries the counts).
void StridedSliceFp32(const float* in, const Dims& in_dims, const std::vector<int>& begins,
                      const std::vector<int>& ends, const std::vector<int>& steps, float* out, const Dims& out_dims);

// ---- Gather -----------------------------------------------------------------------------------------------------

// in_dims[:axis] + indices_dims + in_dims[axis+1:]; axis already in [0, rank). Scalar indices have empty dims.
Dims GatherOutputDims(const Dims& in_dims, int axis, const Dims& indices_dims);

// ONNX Gather: out[outer, j, inner] = in[outer, indices[j], inner], j over the indices in row-major order. axis may
// be negative (counted from the back); an index in [-dim, 0) counts from the end of the axis. Every index is
// checked before anything is written: one outside [-dim, dim) is an invalid-argument error naming it, as are a
// bad axis and out_dims other than GatherOutputDims.
Status GatherFp32(const float* in, const Dims& in_dims, int axis, const int64_t* indices, const Dims& indices_dims,
                  float* out, const Dims& out_dims);

// ---- Reductions -------------------------------------------------------------------------------------------------

// Over the reduced elements x: kMean Σx/count, kMax, kMin, kSum Σx, kSumSquare Σx², kL1 Σ|x|, kL2 √Σx²,
// kLogSumExp log Σexp(x) (computed as m + log Σexp(x − m), m the max, so large inputs do not overflow),
// kProd Πx, kLogSum log Σx. Over no elements: the sum's identity (0, 1 for kProd; max −inf, min +inf; the mean is
// NaN).
enum class ReduceOp { kMean, kMax, kMin, kSum, kSumSquare, kL1, kL2, kLogSumExp, kProd, kLogSum };
const char* ReduceOpName(ReduceOp op);

// Checks axes in [-rank, rank) without repeats and returns them non-negative and ascending.
Status NormalizeAxes(const std::vector<int64_t>& axes, int rank, std::vector<int>* out);

// The reduced axes become 1 (keep_dims) or are dropped. keep_dims changes only the dims, not the output data.
Dims ReduceOutputDims(const Dims& in_dims, const std::vector<int>& axes, bool keep_dims);

// Reduces `in` over `axes` (normalised: non-negative, ascending, no repeats). Empty axes reduce nothing: each
// output is `op` over one element (ONNX's noop_with_empty_axes; its default "empty means all" is the caller's
// mapping). out holds DimsCount(ReduceOutputDims(...)) values, in row-major order of the kept axes; each is
// accumulated in float over its reduced elements in row-major order.
void ReduceFp32(ReduceOp op, const float* in, const Dims& in_dims, const std::vector<int>& axes, float* out);

// ---- ShuffleChannel ---------------------------------------------------------------------------------------------

// Caffe / ncnn ShuffleChannel (ncnn's reverse = 0): the channels viewed as [group][channels/group], transposed
// and flattened, so output channel j·group + i is input channel i·(channels/group) + j. channels % group == 0.
void ShuffleChannelFp32(const float* in, float* out, int batch, int channels, int64_t spatial, int group);

// ---- Crop -------------------------------------------------------------------------------------------------------

// Caffe Crop. axis may be negative (counted from the back); axes >= axis take the reference blob's size, from
// offset `offsets[0]` (one offset for all of them), `offsets[a − axis]` (one per cropped axis) or 0 (none).
// Errors (invalid argument): ranks that differ, axis out of range, an offset count other than 0, 1 or
// rank − axis, a negative offset, a crop that runs past the input.
Status CaffeCropDims(const Dims& in_dims, const Dims& ref_dims, int axis, const std::vector<int>& offsets,
                     Dims* out_dims);
// The crop itself; axis and offsets as for CaffeCropDims, which has accepted them and returned out_dims.
void CropFp32(const float* in, const Dims& in_dims, int axis, const std::vector<int>& offsets, float* out,
              const Dims& out_dims);

// ---- LRN --------------------------------------------------------------------------------------------------------

enum class LrnRegion { kAcrossChannels, kWithinChannel };

// b = a / (k + alpha/count · Σ a²)^beta over a window of `size` channels (across) or size×size positions
// (within), zero outside the tensor; count = size (across) or size² (within). The window spans pre_pad =
// (size−1)/2 before the centre and size−1−pre_pad after it.
//   Caffe LRN ACROSS_CHANNELS: local_size, alpha, beta, k (Caffe requires odd local_size).
//   ONNX LRN: size, alpha, beta, bias as k. ONNX's window, floor((size−1)/2) before and ceil((size−1)/2) after, is
//     the same window for every size, and its alpha/size the same scaling, so the two are one formula.
//   Caffe LRN WITHIN_CHANNEL: k = 1 (Caffe's pooling-based form adds 1; its average divides by size² for odd
//     size, the window never being clipped at the padded border); ncnn's WITHIN_CHANNEL: k = its bias.
struct LrnParams {
  LrnRegion region = LrnRegion::kAcrossChannels;
  int size = 5;
  float alpha = 1e-4f;
  float beta = 0.75f;
  float k = 1.f;
};

// dims [N, C, spatial...]; within-channel needs rank <= 4 (the window runs over dims 2 and 3). The window's sum
// of squares is accumulated in float, channel (or row, then column) ascending.
void LrnFp32(const LrnParams& p, const float* in, float* out, const Dims& dims);

// ---- InstanceNormalization --------------------------------------------------------------------------------------

// ONNX InstanceNormalization: per (n, c), y = scale[c]·(x − mean)/sqrt(var + eps) + bias[c], mean and the
// population variance over the `spatial` elements. Two passes (mean, then the mean of squared deviations) in
// float, index order: the one-pass E[x²]−E[x]² loses the variance when the mean is large. in == out is allowed.
void InstanceNormFp32(const float* in, float* out, int batch, int channels, int64_t spatial, const float* scale,
                      const float* bias, float eps);

// ---- Elementwise unary ------------------------------------------------------------------------------------------

// kExp, kLog (log 0 = −inf, negative → NaN), kSqrt, kAbs, kNeg, kElu (x > 0 ? x : alpha·(exp(x) − 1)),
// kSoftplus (log(1 + exp(x)), as max(x, 0) + log1p(exp(−|x|)) so that it neither overflows nor loses small
// values), kSwish (x·sigmoid(x)), kPower (Caffe: (shift + scale·x)^power), kReciprocal (1/x), kFloor, kCeil,
// kSign (−1, 0 or 1; NaN stays NaN), kErf, kGelu (exact: x·(1 + erf(x/√2))/2, ONNX Gelu's default).
enum class UnaryOp {
  kExp, kLog, kSqrt, kAbs, kNeg, kElu, kSoftplus, kSwish, kPower, kReciprocal, kFloor, kCeil, kSign, kErf, kGelu
};
const char* UnaryOpName(UnaryOp op);

struct UnaryParams {
  float alpha = 1.f;  // kElu
  float power = 1.f, scale = 1.f, shift = 0.f;  // kPower
};

// in == out is allowed.
void UnaryFp32(UnaryOp op, const float* in, float* out, int64_t n, const UnaryParams& p = {});

}  // namespace qt
