#include <algorithm>
#include <vector>

#include "core/base/parallel.h"
#include "core/kernels/kernel_util.h"
#include "core/kernels/kernels_fp32.h"

// This file is built with -ffp-contract=off (CMakeLists.txt): each product is rounded before it is added, as TNN's
// NAIVE deconvolution (cpu_deconv_layer_acc.cc, built without FMA) does in the same order, so that a float
// deconvolution feeding int8 layers (hair segmentation's upsamplings) gives TNN's values and they quantize to TNN's
// bytes. Contracted into FMAs, one value next to a rounding boundary on one image in eight went to the other int8
// value and moved the output by 0.036 of its range.

namespace qt {

void Deconv2dFp32Ref(const Conv2dParams& p, const float* in, const float* w, const float* bias, float* out) {
  const int icg = p.in_c / p.group, ocg = p.out_c / p.group;
  for (int n = 0; n < p.batch; ++n) {
    for (int oc = 0; oc < p.out_c; ++oc) {
      float* dst = out + (int64_t{n} * p.out_c + oc) * p.out_h * p.out_w;
      std::fill(dst, dst + int64_t{p.out_h} * p.out_w, bias ? bias[oc] : 0.f);
    }
    for (int ic = 0; ic < p.in_c; ++ic) {
      const int g = ic / icg;
      for (int iy = 0; iy < p.in_h; ++iy) {
        for (int ix = 0; ix < p.in_w; ++ix) {
          const float v = in[((int64_t{n} * p.in_c + ic) * p.in_h + iy) * p.in_w + ix];
          for (int o = 0; o < ocg; ++o) {
            const int oc = g * ocg + o;
            for (int ky = 0; ky < p.kernel_h; ++ky) {
              const int oy = iy * p.stride_h - p.pad_top + ky * p.dilation_h;
              if (oy < 0 || oy >= p.out_h) continue;
              for (int kx = 0; kx < p.kernel_w; ++kx) {
                const int ox = ix * p.stride_w - p.pad_left + kx * p.dilation_w;
                if (ox < 0 || ox >= p.out_w) continue;
                out[((int64_t{n} * p.out_c + oc) * p.out_h + oy) * p.out_w + ox] +=
                    v * w[((int64_t{ic} * ocg + o) * p.kernel_h + ky) * p.kernel_w + kx];
              }
            }
          }
        }
      }
    }
    const int64_t total = int64_t{p.out_c} * p.out_h * p.out_w;
    float* o = out + int64_t{n} * total;
    for (int64_t i = 0; i < total; ++i) o[i] = Activate(o[i], p.activation);
  }
}

namespace {

// dst[i] += x[i]·w for i < n. The pointers do not overlap: with that said the compiler vectorises the loop (at -O2 it
// does not add the run-time overlap check that it would need otherwise).
void AddProducts(const float* __restrict x, float w, int n, float* __restrict dst) {
  for (int i = 0; i < n; ++i) dst[i] += x[i] * w;
}

}  // namespace

void Deconv2dFp32(const Conv2dParams& p, const float* in, const float* w, const float* bias, float* out) {
  // Output row oy of channel oc adds, for each input channel of its group and each input row iy whose window row
  // ky = oy + pad_top − iy·stride_h (times the dilation) lands on it, the products of that input row with the
  // window row's taps. An output column takes one product per (input row, tap) pair, from input column
  // ix = (ox + pad_left − kx·dilation_w) / stride_w: taps in descending kx visit a column's input columns in
  // ascending order, as the reference does. The columns of one tap are every stride_w-th output column, so the row
  // is summed as stride_w phase rows (output column phase + stride_w·j at phase row `phase`, column j), each tap's
  // products a contiguous run of one phase row, then interleaved.
  const int icg = p.in_c / p.group, ocg = p.out_c / p.group;
  const int sw = p.stride_w;
  const int64_t phase_w = (p.out_w + sw - 1) / sw;
  const int64_t in_hw = int64_t{p.in_h} * p.in_w, out_hw = int64_t{p.out_h} * p.out_w;
  ParallelFor(int64_t{p.batch} * p.out_c * p.out_h, [&](int64_t r0, int64_t r1) {
    thread_local std::vector<float> phases;
    phases.resize(static_cast<size_t>(sw * phase_w));
    for (int64_t r = r0; r < r1; ++r) {
      const int oy = static_cast<int>(r % p.out_h);
      const int64_t plane = r / p.out_h;
      const int oc = static_cast<int>(plane % p.out_c), n = static_cast<int>(plane / p.out_c);
      const int g = oc / ocg, o = oc % ocg;
      std::fill(phases.begin(), phases.end(), bias ? bias[oc] : 0.f);
      for (int ic = g * icg; ic < (g + 1) * icg; ++ic) {
        const float* src = in + (int64_t{n} * p.in_c + ic) * in_hw;
        const float* wc = w + (int64_t{ic} * ocg + o) * p.kernel_h * p.kernel_w;
        // The input rows whose window reaches row oy: dy = oy + pad_top − iy·stride_h in [0, (kh − 1)·dilation_h].
        const int reach = oy + p.pad_top, span = (p.kernel_h - 1) * p.dilation_h;
        const int iy0 = std::max(0, reach - span <= 0 ? 0 : (reach - span + p.stride_h - 1) / p.stride_h);
        const int iy1 = std::min(p.in_h - 1, reach < 0 ? -1 : reach / p.stride_h);
        for (int iy = iy0; iy <= iy1; ++iy) {
          const int dy = reach - iy * p.stride_h;  // ky·dilation_h
          if (dy % p.dilation_h != 0) continue;
          const float* row = src + int64_t{iy} * p.in_w;
          const float* wr = wc + (dy / p.dilation_h) * p.kernel_w;
          for (int kx = p.kernel_w - 1; kx >= 0; --kx) {
            // ox = ix·sw − pad_left + kx·dilation_w, within [0, out_w) and ix within [0, in_w).
            const int shift = kx * p.dilation_w - p.pad_left;
            const int ix0 = std::max(0, shift >= 0 ? 0 : (-shift + sw - 1) / sw);
            const int ix1 = std::min(p.in_w, (p.out_w - 1 - shift) >= 0 ? (p.out_w - 1 - shift) / sw + 1 : 0);
            if (ix0 >= ix1) continue;
            const int first = ix0 * sw + shift;  // the first output column
            float* dst = phases.data() + (first % sw) * phase_w + first / sw;
            AddProducts(row + ix0, wr[kx], ix1 - ix0, dst);
          }
        }
      }
      float* dst = out + (int64_t{n} * p.out_c + oc) * out_hw + int64_t{oy} * p.out_w;
      for (int phase = 0; phase < sw; ++phase) {
        const float* src = phases.data() + phase * phase_w;
        for (int ox = phase, j = 0; ox < p.out_w; ox += sw, ++j) dst[ox] = Activate(src[j], p.activation);
      }
    }
  });
}

}  // namespace qt
