#include "core/int8/kernels_int8.h"

#include <algorithm>
#include <cstring>

#include "core/base/parallel.h"


namespace qt {

namespace {

// The exact int32 accumulator of every output, handed to emit(acc, oc, output index) in NCHW order.
template <typename Emit>
void ConvAccumulateRef(const Conv2dParams& p, const int8_t* in, const int8_t* w, const int32_t* bias,
                       const Int8Requant& r, Emit emit) {
  const int icg = p.in_c / p.group, ocg = p.out_c / p.group;
  for (int n = 0; n < p.batch; ++n) {
    for (int oc = 0; oc < p.out_c; ++oc) {
      const int g = oc / ocg;
      const int32_t zw = r.weight_zero[oc];
      for (int oy = 0; oy < p.out_h; ++oy) {
        for (int ox = 0; ox < p.out_w; ++ox) {
          int32_t acc = 0;
          for (int ic = 0; ic < icg; ++ic) {
            const int c = g * icg + ic;
            const int32_t zi = r.in_zero[c];
            for (int ky = 0; ky < p.kernel_h; ++ky) {
              const int iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
              if (iy < 0 || iy >= p.in_h) continue;
              for (int kx = 0; kx < p.kernel_w; ++kx) {
                const int ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
                if (ix < 0 || ix >= p.in_w) continue;
                const int32_t x = in[((int64_t{n} * p.in_c + c) * p.in_h + iy) * p.in_w + ix];
                const int32_t wv = w[((int64_t{oc} * icg + ic) * p.kernel_h + ky) * p.kernel_w + kx];
                acc += (x - zi) * (wv - zw);
              }
            }
          }
          if (bias) acc += bias[oc];
          emit(acc, oc, ((int64_t{n} * p.out_c + oc) * p.out_h + oy) * p.out_w + ox);
        }
      }
    }
  }
}

}  // namespace

void Conv2dInt8Ref(const Conv2dParams& p, const int8_t* in, const int8_t* w, const int32_t* bias, const Int8Requant& r,
                   int8_t* out) {
  ConvAccumulateRef(p, in, w, bias, r, [&](int32_t acc, int oc, int64_t o) { out[o] = RequantizeInt8(acc, oc, r); });
}

void InnerProductInt8Ref(const InnerProductParams2& p, const int8_t* in, const int8_t* w, const int32_t* bias,
                         const Int8Requant& r, int8_t* out) {
  for (int m = 0; m < p.m; ++m) {
    for (int n = 0; n < p.n; ++n) {
      int32_t acc = 0;
      for (int k = 0; k < p.k; ++k) {
        acc += (int32_t{in[int64_t{m} * p.k + k]} - r.in_zero[k]) * (int32_t{w[int64_t{n} * p.k + k]} - r.weight_zero[n]);
      }
      if (bias) acc += bias[n];
      out[int64_t{m} * p.n + n] = RequantizeInt8(acc, n, r);
    }
  }
}

void GemmInt8Ref(int64_t m, int64_t n, int64_t k, const int8_t* a, const int8_t* b, int32_t* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      int32_t acc = 0;
      for (int64_t kk = 0; kk < k; ++kk) acc += int32_t{a[i * k + kk]} * b[kk * n + j];
      c[i * ldc + j] = acc;
    }
  }
}

namespace {

int64_t SpatialOf(const Dims& d) {
  int64_t s = 1;
  for (size_t i = 2; i < d.size() && i < 4; ++i) s *= d[i];
  return s;
}

}  // namespace

void AddInt8Ref(const std::vector<const Int8Tensor*>& in, Int8Tensor* out) {
  const Dims& d = out->dims;
  const int batch = d.empty() ? 1 : d[0];
  const int channels = d.size() > 1 ? d[1] : 1;
  const int64_t count = SpatialOf(d);
  const bool per_tensor = in[0]->scales.size() == 1;
  for (int n = 0; n < batch; ++n) {
    for (int c = 0; c < channels; ++c) {
      const int64_t offset = (int64_t{n} * channels + c) * count;
      const int s = per_tensor ? 0 : c;
      for (int64_t i = 0; i < count; ++i) {
        float acc = 0.f;
        for (size_t k = 0; k < in.size(); ++k) {
          const float zp = in[k]->zero_points.empty() ? 0.f : static_cast<float>(in[k]->zero_points[s]);
          const float v = in[k]->scales[s] * (static_cast<float>(in[k]->data[offset + i]) - zp);
          acc = k == 0 ? v : acc + v;
        }
        const float zo = out->zero_points.empty() ? 0.f : static_cast<float>(out->zero_points[s]);
        out->data[offset + i] = Float2Int8(acc / out->scales[s] + zo);
      }
    }
  }
}

void ConcatInt8Ref(const std::vector<const Int8Tensor*>& in, int axis, Int8Tensor* out) {
  const Dims& od = out->dims;
  const int64_t outer = DimsCount(Dims(od.begin(), od.begin() + axis));
  const int64_t inner = DimsCount(od, axis + 1);
  const int64_t out_axis = od[axis];
  bool per_tensor = true;
  for (const Int8Tensor* t : in) per_tensor = per_tensor && t->scales.size() == 1;
  int64_t offset = 0;
  for (const Int8Tensor* t : in) {
    const int64_t in_axis = t->dims[axis];
    const int64_t len = in_axis * inner;
    for (int64_t o = 0; o < outer; ++o) {
      const int8_t* src = t->data.data() + o * len;
      int8_t* dst = out->data.data() + (o * out_axis + offset) * inner;
      if (!per_tensor) {
        std::memcpy(dst, src, static_cast<size_t>(len));
        continue;
      }
      const float zi = t->zero_points.empty() ? 0.f : static_cast<float>(t->zero_points[0]);
      const float zo = out->zero_points.empty() ? 0.f : static_cast<float>(out->zero_points[0]);
      for (int64_t i = 0; i < len; ++i) {
        const float v = static_cast<float>(src[i]) - zi;
        dst[i] = Float2Int8(v * t->scales[0] / out->scales[0] + zo);
      }
    }
    offset += in_axis;
  }
}

void Pool2dInt8Ref(const Pool2dParams& p, const int8_t* in, int8_t* out) {
  for (int64_t pl = 0; pl < int64_t{p.batch} * p.channels; ++pl) {
    const int8_t* src = in + pl * p.in_h * p.in_w;
    int8_t* dst = out + pl * p.out_h * p.out_w;
    for (int oy = 0; oy < p.out_h; ++oy) {
      for (int ox = 0; ox < p.out_w; ++ox) {
        int hs = oy * p.stride_h - p.pad_top, ws = ox * p.stride_w - p.pad_left;
        const int he = std::min(hs + p.kernel_h, p.in_h), we = std::min(ws + p.kernel_w, p.in_w);
        hs = std::max(hs, 0);
        ws = std::max(ws, 0);
        int32_t v = p.type == PoolType::kMax ? -127 : 0;
        int8_t last = 0;
        for (int y = hs; y < he; ++y) {
          for (int x = ws; x < we; ++x) {
            last = src[y * p.in_w + x];
            v = p.type == PoolType::kMax ? std::max<int32_t>(v, last) : v + last;
          }
        }
        if (p.type == PoolType::kMax) {
          // TNN compares once more with the last value read (0 for a window entirely in the padding).
          v = std::max<int32_t>(v, last);
        } else {
          const int count = (he - hs) * (we - ws);
          v = count > 0 ? v / count : 0;
        }
        dst[oy * p.out_w + ox] = static_cast<int8_t>(v);
      }
    }
  }
}

void ConcatInt8(const std::vector<const Int8Tensor*>& in, int axis, Int8Tensor* out, Int8Isa isa) {
  const Dims& od = out->dims;
  const int64_t outer = DimsCount(Dims(od.begin(), od.begin() + axis));
  const int64_t inner = DimsCount(od, axis + 1);
  const int64_t out_axis = od[axis];
  bool per_tensor = true;
  for (const Int8Tensor* t : in) per_tensor = per_tensor && t->scales.size() == 1;
  const MapBytesFn map = MapBytesFor(isa);
  int64_t offset = 0;
  for (const Int8Tensor* t : in) {
    // table[(uint8_t)q]: the reference's expression for every byte value q.
    uint8_t table[256];
    bool identity = true;
    for (int q = -128; q < 128; ++q) {
      int8_t v = static_cast<int8_t>(q);
      if (per_tensor) {
        const float zi = t->zero_points.empty() ? 0.f : static_cast<float>(t->zero_points[0]);
        const float zo = out->zero_points.empty() ? 0.f : static_cast<float>(out->zero_points[0]);
        v = Float2Int8((static_cast<float>(q) - zi) * t->scales[0] / out->scales[0] + zo);
      }
      table[static_cast<uint8_t>(q)] = static_cast<uint8_t>(v);
      identity = identity && v == q;
    }
    const int64_t len = t->dims[axis] * inner;
    constexpr int64_t kBlock = 16384;
    const int64_t blocks = (len + kBlock - 1) / kBlock;
    ParallelFor(outer * blocks, [&](int64_t u0, int64_t u1) {
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t o = u / blocks, b0 = (u % blocks) * kBlock, b1 = std::min(len, b0 + kBlock);
        const int8_t* src = t->data.data() + o * len;
        int8_t* dst = out->data.data() + (o * out_axis + offset) * inner;
        if (identity) {
          std::memcpy(dst + b0, src + b0, static_cast<size_t>(b1 - b0));
        } else {
          map(table, src + b0, b1 - b0, dst + b0);
        }
      }
    });
    offset += t->dims[axis];
  }
}

void ReluInt8Ref(const int8_t* in, int8_t* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] > 0 ? in[i] : 0;
}

}  // namespace qt

namespace qt {

void ConvAddInt8Ref(const Conv2dParams& p, const int8_t* in, const int8_t* w, const int32_t* bias, const Int8Requant& r,
                    const int8_t* add, int8_t* out) {
  ConvAccumulateRef(p, in, w, bias, r,
                    [&](int32_t acc, int oc, int64_t o) { out[o] = RequantizeAddInt8(acc, oc, r, add[o]); });
}

void ConvAddInt8(const Conv2dParams& p, const int8_t* in, const int8_t* w, const int32_t* bias, const Int8Requant& r,
                 const int8_t* add, int8_t* out, Int8Isa isa) {
  ConvInt8 conv;
  conv.Init(p, w, bias, r, isa);
  conv.Run(in, out, add);
}

}  // namespace qt
