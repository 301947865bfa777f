#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "quantization/methods/blob_stats.h"
#include "quantization/methods/tnn_blob_statistics.h"

namespace qt {

// Blob ("activation") scale methods; ids are TNN's -b values. kMse (6) and kAuto (7) are ours: they have no TNN
// counterpart. kAuto picks, per blob, the candidate threshold whose quantization error changes the blob's consumers
// least (quantizer/auto_scale.h); it is not a formula of the statistics alone.
enum class BlobMethod { kMinMax = 0, kKl = 2, kAsymMinMax = 3, kAciqGauss = 4, kAciqLaplace = 5, kMse = 6, kAuto = 7 };

// Whether TNN's quantization_cmd has the method (so --compat tnn can reproduce it).
bool IsTnnBlobMethod(BlobMethod m);
// Weight methods; ids are TNN's -w values.
enum class WeightMethod { kMinMax = 0, kAdmm = 1, kAsymMinMax = 3 };

const char* BlobMethodName(BlobMethod m);
const char* WeightMethodName(WeightMethod m);
Status ParseBlobMethod(int id, BlobMethod* m);
Status ParseWeightMethod(int id, WeightMethod* m);

struct ScaleResult {
  std::vector<float> scale;       // one per statistics channel
  std::vector<int8_t> zero_point;
};

// Scales of a blob from TNN-exact two-pass statistics, with the reference tool's arithmetic (tnn_format.md §D.2:
// the 2047.5/2048 Min-Max factor, KL over the 1e-7-floored float histogram). Used by --compat tnn.
// An invalid channel (max |x| <= 1e-5) gets scale 0; a merged (per-tensor) blob that is invalid is an error naming
// the blob, as it would zero the whole tensor at run time.
Status ComputeTnnBlobScale(const TnnBlobStatistics& stats, BlobMethod method, const std::string& blob,
                           ScaleResult* result);

// Scales of a blob from streaming statistics (the default mode): one scale from the whole-tensor statistics when
// `merged`, else one per channel. Min-Max is max|x|/127; KL runs TNN's search on the histogram resampled to 2048
// bins over [0, max|x|]. Invalid channels and blobs as above.
Status ComputeBlobScale(const BlobStats& stats, bool merged, BlobMethod method, const std::string& blob,
                        ScaleResult* result);

// KL threshold bin of a normalized 2048-bin histogram (TNN's CalculateScalePerDis), in TNN's float arithmetic
// (--compat tnn).
int KlThresholdBin(std::vector<float> histogram);

// TNN's KL divergence between the histogram clipped to i bins (tail folded into bin i−1) and its 128-level
// quantization expanded back, for every i in [128, bins): element i − 128. The histogram must have no empty bin
// (TNN's 1e-7 floor guarantees it). The fast version computes each i in O(128) from prefix sums, 8 target bins at
// a time with a vector logarithm where AVX-512 is compiled in; KlDivergencesScalar is the same computation one bin
// at a time with std::log (the fast version elsewhere), and the Ref twin the direct O(i) transcription of TNN's
// loops. All in double.
std::vector<double> KlDivergences(const std::vector<double>& histogram);
std::vector<double> KlDivergencesScalar(const std::vector<double>& histogram);
std::vector<double> KlDivergencesRef(const std::vector<double>& histogram);
// ln of each x[k] > 0 (finite) into out[k]: KlDivergences' vector logarithm, std::log where it is not compiled in.
void LogOfEach(const double* x, int64_t n, double* out);
// The i of the smallest divergence (the earliest on ties), as TNN picks it.
int KlThresholdBinFast(const std::vector<double>& histogram);

// The clipping threshold, in bins, that minimises the squared error of symmetric 8-bit quantization over a
// histogram of |x| (bins of equal width; counts need not be normalized): for a candidate t in [128, bins], every
// bin centre is quantized with step t/127 bins and clamped to t, and the count-weighted squared errors are summed
// (as pytorch-quantization's MSE calibrator does). Candidates are searched every 8 bins, then bin by bin around
// the best of those.
int MseThresholdBin(const std::vector<double>& histogram);
// The same search one threshold at a time: the twin MseThresholdBin (eight thresholds per vector) is tested against.
int MseThresholdBinReference(const std::vector<double>& histogram);
// The squared error of each threshold (in bins), eight per vector or one at a time: for the twin test.
std::vector<double> MseErrors(const std::vector<double>& histogram, const std::vector<int>& thresholds,
                              bool vector_lanes);

// Quantizes `channels` contiguous slices of `count` weights each. q, scales and zero points are written.
// Compat: TNN's exact arithmetic (ADMM with 1000 fixed float32 iterations); default: ADMM stops when the
// quantized values stop changing (at most 1000 iterations) and keeps Min-Max's result where that has the lower
// squared error, and an all-zero slice gets scale 0 instead of failing in the asymmetric method.
Status QuantizeWeights(const float* w, int channels, int64_t count, WeightMethod method, bool tnn_compat,
                       std::vector<int8_t>* q, std::vector<float>* scales, std::vector<int8_t>* zero_points);

// std::round of a float (half away from zero), written so that loops over it vectorise: x − trunc(x) is exact,
// so the result equals std::round for every float.
inline float RoundHalfAway(float x) {
  const float t = std::trunc(x);
  const float frac = x - t;
  const float up = frac >= 0.5f ? 1.f : 0.f;
  const float down = frac <= -0.5f ? 1.f : 0.f;
  return t + up - down;
}

// int32 bias of an int8 layer: compat truncates toward zero (TNN), default rounds half away from zero;
// 0 when the weight scale is 0; saturated to the int32 range.
int32_t QuantizeBias(float bias, float weight_scale, bool tnn_compat);

}  // namespace qt
