// The int8 Pad (and PReLU): TNN's float Pad between two Reformats, computed on the bytes.
#include <cstring>

#include "core/base/parallel.h"
#include "core/int8/gemm_int8_isa.h"
#include "core/int8/kernels_int8.h"
#include "core/kernels/kernels_fp32.h"

namespace qt {
namespace {

// The index of channel c's scale and zero point: 0 for a per-tensor scale (QuantizeTensor, DequantizeTensor).
size_t ScaleIndex(const std::vector<float>& scale, int64_t c) { return scale.size() == 1 ? 0 : static_cast<size_t>(c); }
float ZeroOf(const std::vector<int8_t>& zero, size_t i) { return zero.empty() ? 0.f : static_cast<float>(zero[i]); }

// DequantizeTensor's value of q.
float Dequantized(int8_t q, float s, const std::vector<int8_t>& zero, size_t i) {
  const int zp = zero.empty() ? 0 : zero[i];
  return s * static_cast<float>(q - zp);
}

// QuantizeTensor's value of x (0 for a scale of 0).
int8_t Quantized(float x, float s, float zp) { return s == 0.f ? int8_t{0} : Float2Int8(x / s + zp); }

void MapBytesScalar(const uint8_t* table, const int8_t* src, int64_t n, int8_t* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<int8_t>(table[static_cast<uint8_t>(src[i])]);
}

}  // namespace

bool CpuHasVbmi() {
#if QT_X86_KERNELS
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vbmi");
#else
  return false;
#endif
}

MapBytesFn MapBytesFor(Int8Isa isa) {
  static const bool vbmi = CpuHasVbmi();
  return isa == Int8Isa::kAvx512Vnni && vbmi ? MapBytesAvx512Vbmi : MapBytesScalar;
}

void PadInt8Ref(const Int8Tensor& in, const PadParams4d& p, Int8Tensor* out, const std::vector<float>& prelu_slopes) {
  const int64_t in_plane = int64_t{in.dim(2)} * in.dim(3), out_plane = int64_t{out->dim(2)} * out->dim(3);
  std::vector<float> x(static_cast<size_t>(in.count())), y(static_cast<size_t>(out->count()));
  for (int64_t i = 0; i < in.count(); ++i) {
    const size_t si = ScaleIndex(in.scales, i / in_plane % in.dim(1));
    x[i] = Dequantized(in.data[i], in.scales[si], in.zero_points, si);
  }
  if (!prelu_slopes.empty()) {
    PReluFp32(x.data(), x.data(), in.dim(0), in.dim(1), in_plane, prelu_slopes.data(), prelu_slopes.size() == 1);
  }
  PadFp32Ref(x.data(), in.dims, p, y.data());
  for (int64_t i = 0; i < out->count(); ++i) {
    const size_t so = ScaleIndex(out->scales, i / out_plane % out->dim(1));
    out->data[i] = Quantized(y[i], out->scales[so], ZeroOf(out->zero_points, so));
  }
}

void PadInt8::Init(const Dims& in_dims, const PadParams4d& p, const std::vector<float>& in_scale,
                   const std::vector<int8_t>& in_zero, const std::vector<float>& out_scale,
                   const std::vector<int8_t>& out_zero, const std::vector<float>& prelu_slopes, Int8Isa isa) {
  p_ = p;
  n_ = in_dims[0];
  c_ = in_dims[1];
  h_ = in_dims[2];
  w_ = in_dims[3];
  oc_ = c_ + p.pad_c_begin + p.pad_c_end;
  oh_ = h_ + p.pad_top + p.pad_bottom;
  ow_ = w_ + p.pad_left + p.pad_right;
  auto source = [&](int i, int size) { return PadSourceIndex(i, size, p.mode); };
  source_c_.resize(oc_);
  for (int z = 0; z < oc_; ++z) source_c_[z] = source(z - p.pad_c_begin, c_);
  source_y_.resize(oh_);
  for (int y = 0; y < oh_; ++y) source_y_[y] = source(y - p.pad_top, h_);
  border_x_.clear();
  for (int x = 0; x < p.pad_left; ++x) border_x_.push_back(source(x - p.pad_left, w_));
  for (int x = p.pad_left + w_; x < ow_; ++x) border_x_.push_back(source(x - p.pad_left, w_));
  table_.assign(static_cast<size_t>(oc_) * 256, 0);
  identity_.assign(oc_, 0);
  constant_.assign(oc_, 0);
  for (int z = 0; z < oc_; ++z) {
    const size_t so = ScaleIndex(out_scale, z);
    const float s_out = out_scale[so], zo = ZeroOf(out_zero, so);
    constant_[z] = Quantized(p.value, s_out, zo);
    const int sc = source_c_[z];
    if (sc < 0) continue;
    const size_t si = ScaleIndex(in_scale, sc);
    const bool prelu = !prelu_slopes.empty();
    const float slope = prelu ? prelu_slopes[prelu_slopes.size() == 1 ? 0 : static_cast<size_t>(sc)] : 0.f;
    bool identity = true;
    for (int u = 0; u < 256; ++u) {
      const int8_t q = static_cast<int8_t>(static_cast<uint8_t>(u));
      float x = Dequantized(q, in_scale[si], in_zero, si);
      // PReluFp32's expression.
      if (prelu) x = x > 0.f ? x : x * slope;
      const int8_t v = Quantized(x, s_out, zo);
      table_[static_cast<size_t>(z) * 256 + u] = static_cast<uint8_t>(v);
      identity = identity && v == q;
    }
    identity_[z] = identity;
  }
  map_ = MapBytesFor(isa);
}

void PadInt8::Run(const int8_t* in, int8_t* out) const {
  const int64_t in_plane = int64_t{h_} * w_, out_plane = int64_t{oh_} * ow_;
  const bool spatial = oh_ != h_ || ow_ != w_;
  ParallelFor(int64_t{n_} * oc_, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const int b = static_cast<int>(plane / oc_), z = static_cast<int>(plane % oc_);
      int8_t* dst_plane = out + plane * out_plane;
      const int sc = source_c_[z];
      const int8_t constant = constant_[z];
      if (sc < 0) {
        std::memset(dst_plane, constant, static_cast<size_t>(out_plane));
        continue;
      }
      const uint8_t* table = table_.data() + static_cast<size_t>(z) * 256;
      const int8_t* src_plane = in + (int64_t{b} * c_ + sc) * in_plane;
      auto map = [&](const int8_t* src, int64_t count, int8_t* dst) {
        if (identity_[z]) {
          std::memcpy(dst, src, static_cast<size_t>(count));
        } else {
          map_(table, src, count, dst);
        }
      };
      if (!spatial) {
        map(src_plane, in_plane, dst_plane);
        continue;
      }
      for (int y = 0; y < oh_; ++y) {
        int8_t* dst = dst_plane + int64_t{y} * ow_;
        const int sy = source_y_[y];
        if (sy < 0) {
          std::memset(dst, constant, static_cast<size_t>(ow_));
          continue;
        }
        const int8_t* src = src_plane + int64_t{sy} * w_;
        map(src, w_, dst + p_.pad_left);
        auto border = [&](int k) {
          const int bx = border_x_[k];
          return bx < 0 ? constant : static_cast<int8_t>(table[static_cast<uint8_t>(src[bx])]);
        };
        for (int x = 0; x < p_.pad_left; ++x) dst[x] = border(x);
        for (int x = p_.pad_left + w_, k = p_.pad_left; x < ow_; ++x, ++k) dst[x] = border(k);
      }
    }
  });
}

}  // namespace qt
