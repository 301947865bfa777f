#include "core/kernels/kernels_fp32.h"

#include "core/base/parallel.h"

namespace qt {

void Conv2dFp32Tnn(const Conv2dParams& p, const float* in, const float* w, const float* bias, float* out) {
  const int icg = p.in_c / p.group, ocg = p.out_c / p.group;
  ParallelFor(int64_t{p.batch} * p.out_c, [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane) {
      const int n = static_cast<int>(plane / p.out_c), oc = static_cast<int>(plane % p.out_c);
      const int g = oc / ocg;
      for (int oy = 0; oy < p.out_h; ++oy) {
        for (int ox = 0; ox < p.out_w; ++ox) {
          float acc = 0.f;
          for (int ky = 0; ky < p.kernel_h; ++ky) {
            const int iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
            if (iy < 0 || iy >= p.in_h) continue;
            for (int kx = 0; kx < p.kernel_w; ++kx) {
              const int ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
              if (ix < 0 || ix >= p.in_w) continue;
              for (int ic = 0; ic < icg; ++ic) {
                acc += in[((int64_t{n} * p.in_c + g * icg + ic) * p.in_h + iy) * p.in_w + ix] *
                       w[((int64_t{oc} * icg + ic) * p.kernel_h + ky) * p.kernel_w + kx];
              }
            }
          }
          if (bias) acc += bias[oc];
          if (p.activation == Activation::kRelu) acc = acc > 0.f ? acc : 0.f;
          if (p.activation == Activation::kRelu6) acc = acc > 6.f ? 6.f : (acc < 0.f ? 0.f : acc);
          out[((int64_t{n} * p.out_c + oc) * p.out_h + oy) * p.out_w + ox] = acc;
        }
      }
    }
  });
}

}  // namespace qt
