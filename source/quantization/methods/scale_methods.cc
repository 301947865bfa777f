#include "quantization/methods/scale_methods.h"

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__AVX512F__) && defined(__AVX512VL__)
#include <immintrin.h>
#endif

#include "core/base/parallel.h"

namespace qt {

const char* BlobMethodName(BlobMethod m) {
  switch (m) {
    case BlobMethod::kMinMax: return "Min-Max";
    case BlobMethod::kKl: return "KL";
    case BlobMethod::kAsymMinMax: return "asymmetric Min-Max";
    case BlobMethod::kAciqGauss: return "ACIQ-Gauss";
    case BlobMethod::kAciqLaplace: return "ACIQ-Laplace";
    case BlobMethod::kMse: return "MSE";
    case BlobMethod::kAuto: return "auto";
  }
  return "?";
}

const char* WeightMethodName(WeightMethod m) {
  switch (m) {
    case WeightMethod::kMinMax: return "Min-Max";
    case WeightMethod::kAdmm: return "ADMM";
    case WeightMethod::kAsymMinMax: return "asymmetric Min-Max";
  }
  return "?";
}

Status ParseBlobMethod(int id, BlobMethod* m) {
  switch (id) {
    case 0: *m = BlobMethod::kMinMax; return Status::Ok();
    case 2: *m = BlobMethod::kKl; return Status::Ok();
    case 3: *m = BlobMethod::kAsymMinMax; return Status::Ok();
    case 4: *m = BlobMethod::kAciqGauss; return Status::Ok();
    case 5: *m = BlobMethod::kAciqLaplace; return Status::Ok();
    case 6: *m = BlobMethod::kMse; return Status::Ok();
    case 7: *m = BlobMethod::kAuto; return Status::Ok();
    default:
      return Status::InvalidArgument("-b " + std::to_string(id) +
                                     " is not a blob method (0 Min-Max, 2 KL, 3 asymmetric Min-Max, 4 ACIQ-Gauss, "
                                     "5 ACIQ-Laplace, 6 MSE, 7 or 'auto' per blob; 1 ADMM is for weights only)");
  }
}

Status ParseWeightMethod(int id, WeightMethod* m) {
  switch (id) {
    case 0: *m = WeightMethod::kMinMax; return Status::Ok();
    case 1: *m = WeightMethod::kAdmm; return Status::Ok();
    case 3: *m = WeightMethod::kAsymMinMax; return Status::Ok();
    default:
      return Status::InvalidArgument("-w " + std::to_string(id) +
                                     " is not a weight method (0 Min-Max, 1 ADMM, 3 asymmetric Min-Max)");
  }
}

bool IsTnnBlobMethod(BlobMethod m) { return m != BlobMethod::kMse && m != BlobMethod::kAuto; }

namespace {

// Clamped to the symmetric int8 weight range, as value selects (no branch, so loops over it vectorise).
inline float Clamp127(float v) {
  v = v > 127.f ? 127.f : v;
  return v < -127.f ? -127.f : v;
}

// Symmetric weight quantization of one value: round(w·inv) clamped to ±127.
inline int8_t QuantizeWeight(float w, float inv) {
  return static_cast<int8_t>(std::min(127.f, std::max(-127.f, RoundHalfAway(w * inv))));
}

constexpr float kAdmmEps = 1e-9f;

float AdmmStart(const float* w, int64_t n) {
  float max = 0;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, std::fabs(w[i]));
  return static_cast<float>(max / (127 * 1.25));
}

// TNN's ADMM (§D.6): from 20 % clipped, q = round(w / s) and s = Σ w·q / Σ q² alternate exactly 1000 times, in
// float with sequential sums. Returns the scale updated after the last q.
float AdmmTnn(const float* w, int64_t n, int8_t* q) {
  float scale = AdmmStart(w, n);
  for (int iter = 0; iter < 1000; ++iter) {
    for (int64_t i = 0; i < n; ++i) {
      q[i] = static_cast<int8_t>(std::min(127.f, std::max(-127.f, RoundHalfAway(w[i] / (scale + kAdmmEps)))));
    }
    float sum1 = 0, sum2 = 0;
    for (int64_t i = 0; i < n; ++i) {
      sum1 += w[i] * q[i];
      sum2 += q[i] * q[i];
    }
    scale = sum1 / (sum2 + kAdmmEps);
  }
  return scale;
}

// The same alternation with exact (double) sums, stopped once a scale comes back: q is a function of the scale and
// the scale of q, so after a fixed point or a cycle of two nothing new can follow. Then, since the alternation only
// descends from its 20 %-clipped start, which on light-tailed weights is a worse local minimum than no clipping at
// all, Min-Max's result is kept where its squared error is lower. The loops work on float copies of q with
// explicit lanes, so they vectorise.
float AdmmFast(const float* w, int64_t n, int8_t* q) {
  constexpr int kLanes = 8;
  std::vector<float> qf(n);
  float scale = AdmmStart(w, n), before = -1.f, before2 = -1.f;
  for (int iter = 0; iter < 1000; ++iter) {
    const float d = scale + kAdmmEps;
    float* qp = qf.data();
    for (int64_t i = 0; i < n; ++i) qp[i] = Clamp127(RoundHalfAway(w[i] / d));
    double s1[kLanes] = {}, s2[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int k = 0; k < kLanes; ++k) {
        s1[k] += static_cast<double>(w[i + k]) * qp[i + k];
        s2[k] += static_cast<double>(qp[i + k]) * qp[i + k];
      }
    }
    for (int k = 0; i < n; ++i, ++k) {
      s1[k] += static_cast<double>(w[i]) * qp[i];
      s2[k] += static_cast<double>(qp[i]) * qp[i];
    }
    double sum1 = 0, sum2 = 0;
    for (int k = 0; k < kLanes; ++k) {
      sum1 += s1[k];
      sum2 += s2[k];
    }
    before2 = before;
    before = scale;
    scale = static_cast<float>(sum1 / (sum2 + kAdmmEps));
    if (scale == before || scale == before2) break;
  }
  float max_abs = 0;
  for (int64_t i = 0; i < n; ++i) max_abs = std::max(max_abs, std::fabs(w[i]));
  const float mm_scale = max_abs / 127.0f;
  const float inv = max_abs != 0 ? 1 / mm_scale : 1.0f;
  double err_admm = 0, err_mm = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float mm = std::min(127.f, std::max(-127.f, RoundHalfAway(w[i] * inv)));
    const double da = w[i] - static_cast<double>(qf[i]) * scale, dm = w[i] - static_cast<double>(mm) * mm_scale;
    err_admm += da * da;
    err_mm += dm * dm;
  }
  if (err_mm < err_admm) {
    for (int64_t i = 0; i < n; ++i) q[i] = QuantizeWeight(w[i], inv);
    return mm_scale;
  }
  for (int64_t i = 0; i < n; ++i) q[i] = static_cast<int8_t>(qf[i]);
  return scale;
}

}  // namespace

namespace {

// Squared error of quantizing the histogram's bin centres with threshold t (in bins).
// The histogram's non-empty bins: each candidate threshold sums over these only (a channel's histogram is mostly
// empty bins).
struct NonEmptyBins {
  std::vector<double> centre, count;
  explicit NonEmptyBins(const std::vector<double>& h) {
    for (size_t i = 0; i < h.size(); ++i) {
      if (h[i] == 0) continue;
      centre.push_back(i + 0.5);
      count.push_back(h[i]);
    }
  }
};

// The squared error at threshold t, summed in bin order, each term added as fma(count·d, d, error): written out so
// that the vector version below, and every compiler, computes the same bits.
double MseAt(const NonEmptyBins& h, int t) {
  const double step = t / 127.0;
  double err = 0;
  for (size_t i = 0; i < h.centre.size(); ++i) {
    const double centre = h.centre[i];
    const double q = std::min(std::round(centre / step) * step, static_cast<double>(t));
    const double d = centre - q;
    err = std::fma(h.count[i] * d, d, err);
  }
  return err;
}

// MseAt of thresholds t[0..8) at once, one per lane, each lane's terms in bin order: the same bits as MseAt.
void MseAt8(const NonEmptyBins& h, const int* t, double* err) {
#if defined(__AVX512F__) && defined(__FMA__)
  alignas(64) double tv[8], sv[8];
  for (int k = 0; k < 8; ++k) {
    tv[k] = t[k];
    sv[k] = t[k] / 127.0;
  }
  const __m512d top = _mm512_load_pd(tv), step = _mm512_load_pd(sv);
  // round(x) for x >= 0, half away from zero: x + (0.5 - 2^-54) truncated is exact (0.5 - 2^-54 keeps values just
  // below one half from rounding up in the addition).
  const __m512d half = _mm512_set1_pd(0.49999999999999994);
  __m512d acc = _mm512_setzero_pd();
  for (size_t i = 0; i < h.centre.size(); ++i) {
    const __m512d c = _mm512_set1_pd(h.centre[i]);
    const __m512d r = _mm512_roundscale_pd(_mm512_add_pd(_mm512_div_pd(c, step), half), _MM_FROUND_TO_ZERO);
    const __m512d d = _mm512_sub_pd(c, _mm512_min_pd(_mm512_mul_pd(r, step), top));
    acc = _mm512_fmadd_pd(_mm512_mul_pd(_mm512_set1_pd(h.count[i]), d), d, acc);
  }
  _mm512_storeu_pd(err, acc);
#else
  for (int k = 0; k < 8; ++k) err[k] = MseAt(h, t[k]);
#endif
}

// The thresholds' errors, eight at a time on vector lanes or one at a time.
std::vector<double> MseAtEach(const NonEmptyBins& h, const std::vector<int>& ts, bool vector_lanes) {
  std::vector<double> err(ts.size());
  size_t k = 0;
  if (vector_lanes) {
    for (; k + 8 <= ts.size(); k += 8) MseAt8(h, ts.data() + k, err.data() + k);
  }
  for (; k < ts.size(); ++k) err[k] = MseAt(h, ts[k]);
  return err;
}

int MseSearch(const std::vector<double>& hist, bool vector_lanes) {
  // The error is a smooth function of t apart from the rounding grid's ripple: every 8th t first, then every t
  // around the best of those.
  const int bins = static_cast<int>(hist.size());
  const NonEmptyBins h(hist);
  const int lo = std::min(128, bins);
  constexpr int kStride = 8;
  int best = bins;
  double best_err = MseAt(h, bins);
  auto consider = [&](const std::vector<int>& ts) {
    const std::vector<double> errs = MseAtEach(h, ts, vector_lanes);
    for (size_t k = 0; k < ts.size(); ++k) {
      if (errs[k] < best_err || (errs[k] == best_err && ts[k] < best)) {
        best_err = errs[k];
        best = ts[k];
      }
    }
  };
  std::vector<int> coarse;
  for (int t = lo; t < bins; t += kStride) coarse.push_back(t);
  consider(coarse);
  const int centre = best;
  std::vector<int> fine;
  for (int t = std::max(lo, centre - kStride + 1); t <= std::min(bins, centre + kStride - 1); ++t) fine.push_back(t);
  consider(fine);
  return best;
}

}  // namespace

int MseThresholdBin(const std::vector<double>& hist) { return MseSearch(hist, true); }
int MseThresholdBinReference(const std::vector<double>& hist) { return MseSearch(hist, false); }

std::vector<double> MseErrors(const std::vector<double>& hist, const std::vector<int>& thresholds, bool vector_lanes) {
  return MseAtEach(NonEmptyBins(hist), thresholds, vector_lanes);
}

std::vector<double> KlDivergencesRef(const std::vector<double>& hist) {
  const int bins = static_cast<int>(hist.size());
  constexpr int kTarget = 128;
  double total = 0;
  for (double v : hist) total += v;
  std::vector<double> p(bins);
  for (int k = 0; k < bins; ++k) p[k] = hist[k] / total;
  std::vector<double> out;
  for (int i = kTarget; i < bins; ++i) {
    std::vector<double> ref(p.begin(), p.begin() + i);
    for (int k = i; k < bins; ++k) ref[i - 1] += p[k];
    const double w = static_cast<double>(i) / kTarget;
    std::vector<double> expanded(i, 0.0);
    for (int j = 0; j < kTarget; ++j) {
      const double start = j * w, end = start + w;
      double q = 0;
      const int left_upper = static_cast<int>(std::ceil(start));
      const int right_lower = static_cast<int>(std::floor(end));
      if (left_upper > start) q += (left_upper - start) * p[left_upper - 1];
      if (right_lower < end) q += (end - right_lower) * p[right_lower];
      for (int k = left_upper; k < right_lower; ++k) q += p[k];
      const double value = q / w;
      if (left_upper > start) expanded[left_upper - 1] += value * (left_upper - start);
      if (right_lower < end) expanded[right_lower] += value * (end - right_lower);
      for (int k = left_upper; k < right_lower; ++k) expanded[k] += value;
    }
    double kl = 0;
    for (int k = 0; k < i; ++k) kl += ref[k] * std::log(ref[k] / expanded[k]);
    out.push_back(kl);
  }
  return out;
}

namespace {

// p as a step function of unit-width bins: S its integral up to each bin edge, L = Σ p·ln p up to one.
struct KlPrefix {
  std::vector<double> p, S, L;
  explicit KlPrefix(const std::vector<double>& hist) {
    const int bins = static_cast<int>(hist.size());
    double total = 0;
    for (double v : hist) total += v;
    p.resize(bins);
    S.assign(bins + 1, 0.0);
    L.assign(bins + 1, 0.0);
    for (int k = 0; k < bins; ++k) {
      p[k] = hist[k] / total;
      S[k + 1] = S[k] + p[k];
      L[k + 1] = L[k] + p[k] * std::log(p[k]);
    }
  }
};

constexpr int kKlTarget = 128;

#if defined(__AVX512F__) && defined(__AVX512VL__)
// ln of 8 positive finite doubles, fdlibm's __ieee754_log (under 1 ulp) on vector lanes: x = (1 + f)·2^k with
// 1 + f in [√½, √2), s = f/(2 + f), ln(1 + f) = f − s·(f − R(s²)) written as fdlibm writes it, R a degree-7
// minimax polynomial in s² evaluated as two interleaved halves (a shorter dependency chain than Horner's).
__m512d Log8(__m512d x) {
  const __m512d k = _mm512_getexp_pd(_mm512_mul_pd(x, _mm512_set1_pd(1.4142135623730951)));
  const __m512d f = _mm512_sub_pd(_mm512_scalef_pd(x, _mm512_sub_pd(_mm512_setzero_pd(), k)), _mm512_set1_pd(1.0));
  const __m512d s = _mm512_div_pd(f, _mm512_add_pd(_mm512_set1_pd(2.0), f));
  const __m512d z = _mm512_mul_pd(s, s), w = _mm512_mul_pd(z, z);
  auto c = [](double v) { return _mm512_set1_pd(v); };
  const __m512d t1 = _mm512_mul_pd(
      w, _mm512_fmadd_pd(w, _mm512_fmadd_pd(w, c(1.531383769920937332e-01), c(2.222219843214978396e-01)),
                         c(3.999999999940941908e-01)));
  const __m512d t2 = _mm512_mul_pd(
      z, _mm512_fmadd_pd(
             w,
             _mm512_fmadd_pd(w, _mm512_fmadd_pd(w, c(1.479819860511658591e-01), c(1.818357216161805012e-01)),
                             c(2.857142874366239149e-01)),
             c(6.666666666666735130e-01)));
  const __m512d r = _mm512_add_pd(t2, t1);
  const __m512d hfsq = _mm512_mul_pd(c(0.5), _mm512_mul_pd(f, f));
  // k·ln2_hi is exact (ln2_hi has 32 trailing zero bits); ln2_lo carries the rest of ln 2.
  const __m512d inner = _mm512_fmadd_pd(s, _mm512_add_pd(hfsq, r), _mm512_mul_pd(k, c(1.90821492927058770002e-10)));
  return _mm512_sub_pd(_mm512_mul_pd(k, c(6.93147180369123816490e-01)),
                       _mm512_sub_pd(_mm512_sub_pd(hfsq, inner), f));
}

// KlDivergences for one i, 8 target bins at a time. Target bin j spans source bins up to its right edge
// end = (j + 1)·w (w = i/128 ≥ 1): the whole bins [k0, k1), k1 = min(⌊end⌋, i − 1), then bin ⌊end⌋ when the edge
// falls inside it and it is not the last (folded) bin; k0 is where bin j − 1 stopped. So each j's terms follow from
// j alone, and ⌊end⌋ is also where the level function's integral up to `end` is read: one gather each of S and p
// per 8 target bins. The prefix sums were built as S[k + 1] = S[k] + p[k], so S at a stop past a straddled bin is
// that sum again, bit for bit.
double KlCandidate(const KlPrefix& f, int i, int bins) {
  const double* S = f.S.data();
  const double* p = f.p.data();
  const double w = static_cast<double>(i) / kKlTarget;
  alignas(64) double v[kKlTarget + 8], s_fl[kKlTarget], p_fl[kKlTarget];
  const __m512d vw = _mm512_set1_pd(w);
  const __m256i lane = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8);  // j + 1 of a block's 8 target bins
  auto edge_of = [&](int j0) { return _mm512_mul_pd(_mm512_cvtepi32_pd(_mm256_add_epi32(lane, _mm256_set1_epi32(j0))), vw); };
  __m512d prev = _mm512_setzero_pd();  // lane 7: the integral up to the block's left edge
  for (int j0 = 0; j0 < kKlTarget; j0 += 8) {
    const __m512d end = edge_of(j0);
    const __m256i fl = _mm512_cvttpd_epi32(end);
    const __m512d sf = _mm512_i32gather_pd(fl, S, 8), pf = _mm512_i32gather_pd(fl, p, 8);
    _mm512_store_pd(s_fl + j0, sf);
    _mm512_store_pd(p_fl + j0, pf);
    __m512d next = _mm512_fmadd_pd(_mm512_sub_pd(end, _mm512_cvtepi32_pd(fl)), pf, sf);
    if (j0 + 8 == kKlTarget) next = _mm512_mask_blend_pd(0x80, next, _mm512_set1_pd(S[i]));
    const __m512d before = _mm512_castsi512_pd(
        _mm512_alignr_epi64(_mm512_castpd_si512(next), _mm512_castpd_si512(prev), 7));
    _mm512_store_pd(v + j0, _mm512_div_pd(_mm512_sub_pd(next, before), vw));
    prev = next;
  }
  _mm512_store_pd(v + kKlTarget, _mm512_set1_pd(1.0));
  const __m256i last_bin = _mm256_set1_epi32(i - 1);
  const __m512d s_last = _mm512_set1_pd(S[i - 1]), one = _mm512_set1_pd(1.0);
  __m512d run_sum = _mm512_setzero_pd(), edge_sum = _mm512_setzero_pd();
  __m512d stop = _mm512_setzero_pd();  // lane 7: S where the previous block's last target bin stopped (S[0] = 0)
  for (int j0 = 0; j0 < kKlTarget; j0 += 8) {
    const __m512d end = edge_of(j0);
    const __m256i fl = _mm512_cvttpd_epi32(end);
    const __m512d flo = _mm512_cvtepi32_pd(fl);
    const __mmask8 inside = _mm256_cmplt_epi32_mask(fl, last_bin);
    const __mmask8 edge = inside & _mm512_cmp_pd_mask(flo, end, _CMP_LT_OQ);
    const __m512d pf = _mm512_load_pd(p_fl + j0);
    const __m512d s_k1 = _mm512_mask_blend_pd(inside, s_last, _mm512_load_pd(s_fl + j0));
    const __m512d s_end = _mm512_mask_add_pd(s_k1, edge, s_k1, pf);
    const __m512d s_k0 = _mm512_castsi512_pd(
        _mm512_alignr_epi64(_mm512_castpd_si512(s_end), _mm512_castpd_si512(stop), 7));
    stop = s_end;
    // No whole bin: k1 = k0, and the run's mass is exactly 0.
    run_sum = _mm512_fmadd_pd(_mm512_sub_pd(s_k1, s_k0), Log8(_mm512_load_pd(v + j0)), run_sum);
    const __m512d e = _mm512_fmadd_pd(_mm512_load_pd(v + j0), _mm512_sub_pd(end, flo),
                                      _mm512_mul_pd(_mm512_loadu_pd(v + j0 + 1), _mm512_sub_pd(_mm512_add_pd(flo, one), end)));
    edge_sum = _mm512_mask3_fmadd_pd(pf, Log8(_mm512_mask_blend_pd(edge, one, e)), edge_sum, edge);
  }
  const double last = p[i - 1] + (S[bins] - S[i]);
  return f.L[i - 1] + last * std::log(last) - _mm512_reduce_add_pd(_mm512_add_pd(run_sum, edge_sum)) -
         last * std::log(v[kKlTarget - 1]);
}
#endif

}  // namespace

std::vector<double> KlDivergencesScalar(const std::vector<double>& hist) {
  const int bins = static_cast<int>(hist.size());
  const KlPrefix f(hist);
  const std::vector<double>& p = f.p;
  const std::vector<double>& S = f.S;
  const std::vector<double>& L = f.L;
  auto integral = [&](double x) {  // ∫_0^x p
    const int fl = static_cast<int>(x);
    return fl >= bins ? S[bins] : S[fl] + (x - fl) * p[fl];
  };
  std::vector<double> out;
  std::vector<double> v(kKlTarget);
  for (int i = kKlTarget; i < bins; ++i) {
    const double w = static_cast<double>(i) / kKlTarget;
    // The 128 levels: the mean density of p over each target bin (TNN's count is the bin width: no bin is empty).
    double prev = 0;
    for (int j = 0; j < kKlTarget; ++j) {
      const double next = j == kKlTarget - 1 ? S[i] : integral((j + 1) * w);
      v[j] = (next - prev) / w;
      prev = next;
    }
    // KL = Σ P ln P − Σ P ln E over source bins k < i, where P is p with the tail folded into bin i − 1 and E[k] the
    // integral of the level function over bin k: the level itself inside a target bin, a blend on its edges.
    const double last = p[i - 1] + (S[bins] - S[i]);
    double kl = L[i - 1] + last * std::log(last);
    int k = 0;
    for (int j = 0; j < kKlTarget; ++j) {
      const double end = (j + 1) * w;
      const int whole_end = std::min(static_cast<int>(std::floor(end)), i - 1);  // bins [k, whole_end) lie inside
      if (whole_end > k) {
        kl -= (S[whole_end] - S[k]) * std::log(v[j]);
        k = whole_end;
      }
      if (k < i - 1 && k < end && end < k + 1) {  // bin k straddles the edge at `end`
        const double e = v[j] * (end - k) + v[j + 1] * (k + 1 - end);
        kl -= p[k] * std::log(e);
        ++k;
      }
    }
    kl -= last * std::log(v[kKlTarget - 1]);
    out.push_back(kl);
  }
  return out;
}

std::vector<double> KlDivergences(const std::vector<double>& hist) {
#if defined(__AVX512F__) && defined(__AVX512VL__)
  const int bins = static_cast<int>(hist.size());
  const KlPrefix f(hist);
  std::vector<double> out;
  out.reserve(std::max(0, bins - kKlTarget));
  for (int i = kKlTarget; i < bins; ++i) out.push_back(KlCandidate(f, i, bins));
  return out;
#else
  return KlDivergencesScalar(hist);
#endif
}

void LogOfEach(const double* x, int64_t n, double* out) {
  int64_t i = 0;
#if defined(__AVX512F__) && defined(__AVX512VL__)
  for (; i + 8 <= n; i += 8) _mm512_storeu_pd(out + i, Log8(_mm512_loadu_pd(x + i)));
#endif
  for (; i < n; ++i) out[i] = std::log(x[i]);
}

int KlThresholdBinFast(const std::vector<double>& histogram) {
  const std::vector<double> kl = KlDivergences(histogram);
  int best = 0;
  for (size_t i = 1; i < kl.size(); ++i) {
    if (kl[i] < kl[best]) best = static_cast<int>(i);
  }
  return best + 128;
}

int KlThresholdBin(std::vector<float> distribute) {
  const int bins = static_cast<int>(distribute.size());
  const int target = 128;
  int threshold = target;
  float sum = 0;
  for (float n : distribute) sum += n;
  for (float& n : distribute) n /= sum;

  float kl_min = 1e6f;
  float after = 0.0f;
  for (int i = target; i < bins; ++i) after += distribute[i];
  std::vector<float> ref, quantized(target), expanded;
  for (int i = target; i < bins; ++i) {
    ref.assign(distribute.begin(), distribute.begin() + i);
    ref[i - 1] += after;
    after -= distribute[i];

    std::fill(quantized.begin(), quantized.end(), 0.f);
    const float width = static_cast<float>(i) / static_cast<float>(target);
    for (int j = 0; j < target; ++j) {
      const float start = j * width;
      const float end = start + width;
      const int left_upper = static_cast<int>(std::ceil(start));
      if (left_upper > start) quantized[j] += (left_upper - start) * distribute[left_upper - 1];
      const int right_lower = static_cast<int>(std::floor(end));
      if (right_lower < end) quantized[j] += (end - right_lower) * distribute[right_lower];
      for (int k = left_upper; k < right_lower; ++k) quantized[j] += distribute[k];
    }

    expanded.assign(i, 0.f);
    for (int j = 0; j < target; ++j) {
      const float start = j * width;
      const float end = start + width;
      float count = 0;
      const int left_upper = static_cast<int>(std::ceil(start));
      float left_scale = 0.0f;
      if (left_upper > start) {
        left_scale = left_upper - start;
        if (distribute[left_upper - 1] != 0) count += left_scale;
      }
      const int right_lower = static_cast<int>(std::floor(end));
      float right_scale = 0.0f;
      if (right_lower < end) {
        right_scale = end - right_lower;
        if (distribute[right_lower] != 0) count += right_scale;
      }
      for (int k = left_upper; k < right_lower; ++k) {
        if (distribute[k] != 0) count += 1;
      }
      if (count == 0) continue;
      const float value = quantized[j] / count;
      if (left_upper > start && distribute[left_upper - 1] != 0) expanded[left_upper - 1] += value * left_scale;
      if (right_lower < end && distribute[right_lower] != 0) expanded[right_lower] += value * right_scale;
      for (int k = left_upper; k < right_lower; ++k) {
        if (distribute[k] != 0) expanded[k] += value;
      }
    }

    float kl = 0.0f;
    for (int k = 0; k < i; ++k) {
      if (ref[k] != 0) kl += expanded[k] == 0 ? 1.0f : ref[k] * std::log(ref[k] / expanded[k]);
    }
    if (kl < kl_min) {
      kl_min = kl;
      threshold = i;
    }
  }
  return threshold;
}

namespace {

constexpr int kKlBins = 2048;

// What a blob scale method reads about one channel (or one merged blob).
struct ChannelView {
  float min = 0, max = 0;
  float max_abs = 0;
  double mean_abs = 0;
  int64_t values_per_image = 0;  // N of ACIQ-Gauss
};

// The methods that need no histogram. KL is handled by the callers, which own their histograms.
Status RangeScale(const ChannelView& v, BlobMethod method, const std::string& blob, float* scale, int8_t* zp) {
  *zp = 0;
  switch (method) {
    case BlobMethod::kMinMax:
      *scale = v.max_abs / 127.0f;
      return Status::Ok();
    case BlobMethod::kAsymMinMax: {
      const float lo = std::min(0.f, v.min), hi = std::max(0.f, v.max);
      if (lo == hi) return Status::InvalidArgument("blob '" + blob + "' is constant: no asymmetric range");
      *scale = (hi - lo) / 254.0f;
      const float inv = 1 / *scale;
      *zp = static_cast<int8_t>(127 - static_cast<int>(std::round(hi * inv)));
      return Status::Ok();
    }
    case BlobMethod::kAciqGauss: {
      const double gaussian_const = (0.5 * 0.35) * (1 + std::sqrt(3.14159265358979323846 * std::log(4)));
      const double sd = (v.max_abs * 2 * gaussian_const) / std::sqrt(2 * std::log(static_cast<double>(v.values_per_image)));
      const float alpha = static_cast<float>(static_cast<float>(3.92403714) * sd);
      *scale = alpha / 127.0f;
      return Status::Ok();
    }
    case BlobMethod::kAciqLaplace: {
      const float alpha = static_cast<float>(static_cast<float>(9.89675982) * static_cast<float>(v.mean_abs));
      *scale = alpha / 127.0f;
      return Status::Ok();
    }
    case BlobMethod::kKl:
    case BlobMethod::kMse:
    case BlobMethod::kAuto:
      break;
  }
  return Status::Internal("blob method without a range formula");
}

// TNN's final step for histogram methods: the threshold bin t of `interval` bins per unit → scale.
float ThresholdScale(int t, float interval) {
  return static_cast<float>((static_cast<float>(t) + 0.5) / interval / 127.0);
}

Status InvalidBlob(const std::string& blob) {
  return Status::InvalidArgument("blob '" + blob + "' is all zero (max |x| <= 1e-5) on the calibration set, so it has "
                                 "no per-tensor scale; use per-channel blobs (-t 0) or other inputs");
}

}  // namespace

Status ComputeTnnBlobScale(const TnnBlobStatistics& s, BlobMethod method, const std::string& blob,
                           ScaleResult* result) {
  const int n = s.channels();
  result->scale.assign(n, 0.f);
  result->zero_point.assign(n, 0);
  for (int c = 0; c < n; ++c) {
    if (!s.valid(c)) {
      if (s.merged()) return InvalidBlob(blob);
      continue;
    }
    if (method == BlobMethod::kMinMax || method == BlobMethod::kKl) {
      const int t = method == BlobMethod::kMinMax ? TnnBlobStatistics::kBins - 1 : KlThresholdBin(s.TnnHistogram(c));
      result->scale[c] = ThresholdScale(t, s.interval(c));
      continue;
    }
    ChannelView v;
    v.min = s.min(c);
    v.max = s.max(c);
    v.max_abs = s.max_abs(c);
    v.mean_abs = s.mean_abs(c);
    v.values_per_image = s.merged() ? s.spatial() * s.blob_channels() : s.spatial();
    QT_RETURN_IF_ERROR(RangeScale(v, method, blob, &result->scale[c], &result->zero_point[c]));
  }
  return Status::Ok();
}

Status ComputeBlobScale(const BlobStats& stats, bool merged, BlobMethod method, const std::string& blob,
                        ScaleResult* result) {
  const int n = merged ? 1 : stats.channels();
  result->scale.assign(n, 0.f);
  result->zero_point.assign(n, 0);
  for (int c = 0; c < n; ++c) {
    const ChannelStats& cs = merged ? stats.tensor() : stats.channel(c);
    const float max_abs = cs.max_abs();
    if (!std::isfinite(max_abs)) {
      return Status::InvalidArgument("blob '" + blob + "' holds Inf or NaN on the calibration set");
    }
    if (!(max_abs > 0.00001f)) {
      if (merged) return InvalidBlob(blob);
      continue;
    }
    if (method == BlobMethod::kMse) {
      if (cs.hist.empty()) return Status::Internal("blob '" + blob + "': MSE needs a histogram that was not collected");
      // The threshold t counts bins: values beyond t bins clip.
      const int t = MseThresholdBin(cs.hist.Resample(max_abs, kKlBins));
      result->scale[c] = static_cast<float>(static_cast<double>(max_abs) * t / kKlBins / 127.0);
      continue;
    }
    if (method == BlobMethod::kKl) {
      if (cs.hist.empty()) return Status::Internal("blob '" + blob + "': KL needs a histogram that was not collected");
      // TNN floors every bin at 1e-7 so that no bin is empty; the same floor keeps its KL expansion uniform here.
      std::vector<double> h = cs.hist.Resample(max_abs, kKlBins);
      for (double& x : h) x += 1e-7;
      result->scale[c] = ThresholdScale(KlThresholdBinFast(h), static_cast<float>(kKlBins) / max_abs);
      continue;
    }
    ChannelView v;
    v.min = cs.min;
    v.max = cs.max;
    v.max_abs = max_abs;
    v.mean_abs = cs.mean_abs();
    v.values_per_image = merged ? stats.spatial() * stats.channels() : stats.spatial();
    QT_RETURN_IF_ERROR(RangeScale(v, method, blob, &result->scale[c], &result->zero_point[c]));
  }
  return Status::Ok();
}

Status QuantizeWeights(const float* w, int channels, int64_t count, WeightMethod method, bool tnn_compat,
                       std::vector<int8_t>* q, std::vector<float>* scales, std::vector<int8_t>* zero_points) {
  q->assign(channels * count, 0);
  scales->assign(channels, 0.f);
  zero_points->assign(channels, 0);
  // Channels are independent (each writes only its own slice and scale), so they run in parallel; one layer's
  // channels spread over the threads where whole layers left one thread with a model's largest layer.
  std::vector<char> all_zero(channels, 0);
  ParallelFor(channels, [&](int64_t c_begin, int64_t c_end) {
    for (int64_t c = c_begin; c < c_end; ++c) {
      const float* ws = w + c * count;
      int8_t* qs = q->data() + c * count;
      const auto mm = std::minmax_element(ws, ws + count);
      switch (method) {
        case WeightMethod::kMinMax: {
          const float max_abs = std::max(std::fabs(*mm.first), std::fabs(*mm.second));
          (*scales)[c] = max_abs / 127.0f;
          const float inv = max_abs != 0 ? 1 / (*scales)[c] : 1.0f;
          for (int64_t i = 0; i < count; ++i) {
            qs[i] = QuantizeWeight(ws[i], inv);
          }
          break;
        }
        case WeightMethod::kAdmm:
          (*scales)[c] = tnn_compat ? AdmmTnn(ws, count, qs) : AdmmFast(ws, count, qs);
          break;
        case WeightMethod::kAsymMinMax: {
          const float lo = std::min(0.f, *mm.first), hi = std::max(0.f, *mm.second);
          if (lo == hi) {
            all_zero[c] = 1;
            break;
          }
          (*scales)[c] = (hi - lo) / 254.0f;
          const float inv = 1 / (*scales)[c];
          const int8_t zp = static_cast<int8_t>(127 - static_cast<int>(std::round(hi * inv)));
          (*zero_points)[c] = zp;
          for (int64_t i = 0; i < count; ++i) {
            const int v = static_cast<int>(std::round(ws[i] * inv)) + zp;
            qs[i] = static_cast<int8_t>(std::min(127, std::max(-127, v)));
          }
          break;
        }
      }
    }
  });
  if (tnn_compat && std::find(all_zero.begin(), all_zero.end(), 1) != all_zero.end()) {
    return Status::InvalidArgument("an all-zero weight slice has no asymmetric range");
  }
  return Status::Ok();
}

int32_t QuantizeBias(float bias, float weight_scale, bool tnn_compat) {
  if (weight_scale == 0) return 0;
  const float v = bias / weight_scale;
  const double r = tnn_compat ? std::trunc(static_cast<double>(v)) : std::round(static_cast<double>(v));
  return static_cast<int32_t>(std::min<double>(std::max<double>(r, std::numeric_limits<int32_t>::min()),
                                               std::numeric_limits<int32_t>::max()));
}

}  // namespace qt
