// ConvInt8, InnerProductInt8 and GemmInt8: packing, zero-point algebra, work partition and instruction-set
// dispatch around the micro-kernels of gemm_int8_*.cc.
#include <algorithm>
#include <cstring>

#include "core/base/parallel.h"
#include "core/int8/gemm_int8_isa.h"
#include "core/int8/kernels_int8.h"
#include "core/kernels/kernel_util.h"
#include "core/kernels/pool_max.h"

namespace qt {
namespace {

const Int8MicroKernel& MicroKernel(Int8Isa isa) {
  switch (isa) {
#if QT_X86_KERNELS
    case Int8Isa::kAvx2: return Int8MicroKernelAvx2();
    case Int8Isa::kAvx512Vnni: return Int8MicroKernelAvx512Vnni();
#else
    case Int8Isa::kAvx2:
    case Int8Isa::kAvx512Vnni:
#endif
    case Int8Isa::kScalar: break;
  }
  return Int8MicroKernelScalar();
}

bool CpuRuns(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::kScalar: return true;
#if QT_X86_KERNELS
    case Int8Isa::kAvx2: return __builtin_cpu_supports("avx2");
    case Int8Isa::kAvx512Vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#else
    case Int8Isa::kAvx2:
    case Int8Isa::kAvx512Vnni: return false;
#endif
  }
  return false;
}


// Per-thread buffers that only grow, reused by every Run (the caller's thread owns them while its ParallelFor
// workers fill disjoint parts).
struct Scratch {
  std::vector<int8_t> planes, out;
  std::vector<uint8_t> packed;
  std::vector<int32_t> col_sum;
};
Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}
template <typename T>
T* Grow(std::vector<T>* v, int64_t size) {
  if (static_cast<int64_t>(v->size()) < size) v->resize(static_cast<size_t>(size));
  return v->data();
}

bool AnyNonZero(const std::vector<int8_t>& v) {
  return std::any_of(v.begin(), v.end(), [](int8_t x) { return x != 0; });
}

// Bytes of packed B for `groups` k-groups of `plane` columns each, so that a tile at the grid's end
// (`grid_n` columns, rounded up to the kernel's nr) and any tap offset up to `max_offset` stays inside.
int64_t PackedBytes(const Int8MicroKernel& mk, int64_t groups, int64_t plane, int64_t max_offset, int64_t grid_n) {
  return mk.b_column_bytes * std::max(groups * plane, (groups - 1) * plane + max_offset + RoundUp(grid_n, mk.nr));
}

// Packs `channels` plain planes into the kernel's B layout; the slack past the packed k-groups is zeroed so that
// discarded columns read defined values.
void PackPlanes(const Int8MicroKernel& mk, const int8_t* plain, int64_t channels, int64_t stride, int64_t count,
                int64_t bytes, uint8_t* dst) {
  const int64_t groups = (channels + mk.kgroup - 1) / mk.kgroup;
  ParallelFor(groups, [&](int64_t q0, int64_t q1) { mk.pack_b(plain, channels, stride, count, q0, q1, count, dst); });
  const int64_t filled = groups * count * mk.b_column_bytes;
  std::fill(dst + filled, dst + bytes, uint8_t{0});
}

// col_sum[j] = Σ_k plain[row_offset[k] + j] for j < n; zero up to the tile end.
void ColumnSums(const int8_t* plain, const std::vector<int64_t>& row_offset, int64_t n, int64_t nr, int32_t* col_sum) {
  std::fill(col_sum + n, col_sum + RoundUp(n, nr), 0);
  ParallelFor((n + 255) / 256, [&](int64_t b0, int64_t b1) {
    const int64_t j0 = b0 * 256, j1 = std::min(n, b1 * 256);
    std::fill(col_sum + j0, col_sum + j1, 0);
    for (int64_t off : row_offset) {
      const int8_t* row = plain + off;
      for (int64_t j = j0; j < j1; ++j) col_sum[j] += row[j];
    }
  });
}

// Row blocks of packed weights that share B panels from L1 while staying in L2.
constexpr int64_t kWeightChunkBytes = 128 * 1024;

// Every tile of the GEMM, in fixed units: chunks of row blocks, column block by column block inside a chunk.
void RunTiles(const Int8MicroKernel& mk, const Int8Gemm& g) {
  const int64_t row_blocks = (g.m + mk.mr - 1) / mk.mr;
  const int64_t col_blocks = (g.n + mk.nr - 1) / mk.nr;
  const int64_t chunk_rows =
      std::clamp<int64_t>(kWeightChunkBytes / std::max<int64_t>(1, g.a_block_bytes), 1, row_blocks);
  ParallelFor(row_blocks * col_blocks, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t chunk = u / (chunk_rows * col_blocks);
      const int64_t rows = std::min(chunk_rows, row_blocks - chunk * chunk_rows);
      const int64_t v = u - chunk * chunk_rows * col_blocks;
      mk.tile(g, chunk * chunk_rows + v % rows, (v / rows) * mk.nr);
    }
  });
}

void SetRequant(const Int8Requant& r, int64_t row_base, Int8Gemm* g) {
  g->multiplier = r.multiplier.data() + row_base;
  g->out_zero = r.out_zero.data() + row_base;
  g->relu6_max = r.relu6_max.data() + row_base;
  g->activation = ActivationCode(r.activation);
  g->requant = &r;
  g->row_base = row_base;
  if (r.fusion != ConvAddFusion::kNone) {
    g->add_scale = r.add_scale.data() + row_base;
    g->add_zero = r.add_zero.data() + row_base;
    g->fusion = r.fusion == ConvAddFusion::kAddThenActivation ? 1 : 2;
  }
}

}  // namespace

const char* Int8IsaName(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::kScalar: return "scalar";
    case Int8Isa::kAvx2: return "avx2";
    case Int8Isa::kAvx512Vnni: return "avx512vnni";
  }
  return "?";
}

std::vector<Int8Isa> SupportedInt8Isas() {
  std::vector<Int8Isa> out;
  for (Int8Isa isa : {Int8Isa::kScalar, Int8Isa::kAvx2, Int8Isa::kAvx512Vnni}) {
    if (CpuRuns(isa)) out.push_back(isa);
  }
  return out;
}

Int8Isa BestInt8Isa() {
  static const Int8Isa best = SupportedInt8Isas().back();
  return best;
}

void ConvInt8::Init(const Conv2dParams& p, const int8_t* weights, const int32_t* bias, Int8Requant r, Int8Isa isa) {
  p_ = p;
  r_ = std::move(r);
  isa_ = CpuRuns(isa) ? isa : Int8Isa::kScalar;
  kernel_ = &MicroKernel(isa_);
  const Int8MicroKernel& mk = *kernel_;
  const int icg = p.in_c / p.group, ocg = p.out_c / p.group;
  const int64_t kernel = int64_t{p.kernel_h} * p.kernel_w;
  const int64_t k = icg * kernel;
  // A fused Add is applied in the GEMM's epilogue, which the depthwise loops do not have.
  depthwise_ = p.group == p.in_c && p.group == p.out_c && r_.fusion == ConvAddFusion::kNone;
  weight_zero_ = AnyNonZero(r_.weight_zero);
  weight_zero32_.assign(r_.weight_zero.begin(), r_.weight_zero.end());
  // With pads holding the input zero point, Σ(x − zi)(w − zw) = Σ x·w − zw·Σx + Σ zi·(zw − w): the last term
  // and the bias do not depend on the input.
  row_add_.assign(p.out_c, 0);
  for (int oc = 0; oc < p.out_c; ++oc) {
    const int g = oc / ocg;
    int32_t c = bias ? bias[oc] : 0;
    // Channel by channel, skipping zero points of 0 (symmetric inputs): the refinement prepares its networks' int8
    // convolutions again after each change of weights.
    for (int ic = 0; ic < icg; ++ic) {
      const int32_t zi = r_.in_zero[g * icg + ic];
      if (zi == 0) continue;
      const int8_t* w = weights + oc * k + ic * kernel;
      for (int64_t t = 0; t < kernel; ++t) c += zi * (int32_t{r_.weight_zero[oc]} - w[t]);
    }
    row_add_[oc] = c;
  }
  plan_ = PlanConv(p, depthwise_ ? 16 : mk.nr, depthwise_ && mk.depthwise);
  row_offset_ = PlanRowOffsets(plan_);
  if (depthwise_) {
    packed_.assign(weights, weights + p.out_c * k);
    InitDepthwiseQuads();
    // Windows read straight from the input where both zero points of a channel are 0: the micro-kernel's 3x3
    // kernel, or with VBMI the vpdpbusd one, 3x3 and 5x5. Measured on a Zen 4, 1 thread, int8 3x3 before -> after:
    // 16 channels of 96x96 0.052 -> 0.031 ms (stride 2: 0.018 -> 0.0095), 144 of 56x56 0.188 -> 0.117 ms, 576 of
    // 14x14 0.063 -> 0.041 ms, where the float-lane kernel had been 1.5x to 2x slower than the fp32 one.
    direct_ = nullptr;
    if (Int8DepthwiseDirectApplies(p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w)) {
      direct_ = mk.depthwise_direct;
    }
#if QT_X86_KERNELS
    static const bool vbmi = CpuHasVbmi();
    if (isa_ == Int8Isa::kAvx512Vnni && vbmi &&
        DepthwiseVbmiApplies(p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w)) {
      direct_ = DepthwiseDirectAvx512Vbmi;
    }
#endif
    return;
  }
  const int64_t groups = (plan_.channels + mk.kgroup - 1) / mk.kgroup;
  a_block_bytes_ = mk.a_block_bytes(groups * plan_.taps);
  group_stride_ = (ocg + mk.mr - 1) / mk.mr * a_block_bytes_;
  packed_.assign(static_cast<size_t>(group_stride_ * p.group), 0);
  std::vector<int32_t> correction(ocg);
  for (int g = 0; g < p.group; ++g) {
    mk.pack_a(weights + int64_t{g} * ocg * k, ocg, plan_.channels, plan_.taps, packed_.data() + g * group_stride_,
              correction.data());
    for (int o = 0; o < ocg; ++o) row_add_[g * ocg + o] += correction[o];
  }
  koff_.clear();
  for (int64_t q = 0; q < groups; ++q) {
    for (int t = 0; t < plan_.taps; ++t) koff_.push_back((q * plan_.plane + plan_.tap_offset[t]) * mk.b_column_bytes);
  }
}

void ConvInt8::InitDepthwiseQuads() {
  dw_quad_off_.clear();
  dw_quad_w_.clear();
  dw_w_sum_.clear();
  if (!kernel_->depthwise) return;
  const int64_t k = plan_.k();
  std::vector<int64_t> order(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return row_offset_[a] < row_offset_[b]; });
  // quad_of[tap] and the tap's byte within it: taps sorted by offset, a quad opened at the first one not covered.
  std::vector<int64_t> quad_of(static_cast<size_t>(k)), byte_of(static_cast<size_t>(k));
  for (int64_t i : order) {
    if (dw_quad_off_.empty() || row_offset_[i] > dw_quad_off_.back() + 3) dw_quad_off_.push_back(row_offset_[i]);
    quad_of[i] = static_cast<int64_t>(dw_quad_off_.size()) - 1;
    byte_of[i] = row_offset_[i] - dw_quad_off_.back();
  }
  const int64_t quads = static_cast<int64_t>(dw_quad_off_.size());
  dw_quad_w_.assign(static_cast<size_t>(p_.out_c * quads), 0);
  dw_w_sum_.assign(p_.out_c, 0);
  for (int c = 0; c < p_.out_c; ++c) {
    for (int64_t i = 0; i < k; ++i) {
      const int8_t w = packed_[c * k + i];
      uint32_t& word = reinterpret_cast<uint32_t&>(dw_quad_w_[c * quads + quad_of[i]]);
      word |= uint32_t{static_cast<uint8_t>(w)} << (8 * byte_of[i]);
      dw_w_sum_[c] += w;
    }
  }
}

void ConvInt8::Run(const int8_t* in, int8_t* out, const int8_t* add) const {
  if (depthwise_) {
    RunDepthwise(in, out);
    return;
  }
  const Conv2dParams& p = p_;
  const Int8MicroKernel& mk = *kernel_;
  const int icg = p.in_c / p.group, ocg = p.out_c / p.group;
  const int64_t in_hw = int64_t{p.in_h} * p.in_w, out_hw = int64_t{p.out_h} * p.out_w;
  const bool direct = plan_.layout == ConvPlan::Layout::kDirect;
  Scratch& scratch = ThreadScratch();
  const int64_t plain_size = plan_.BufferSize(1);
  int8_t* plain = direct ? nullptr : Grow(&scratch.planes, plain_size);
  if (!direct) std::fill(plain + plan_.channels * plan_.plane, plain + plain_size, int8_t{0});
  const int64_t groups = (plan_.channels + mk.kgroup - 1) / mk.kgroup;
  const int64_t packed_bytes = PackedBytes(mk, groups, plan_.plane, plan_.max_tap_offset, plan_.grid_n);
  uint8_t* packed = Grow(&scratch.packed, packed_bytes);
  int32_t* col_sum = weight_zero_ ? Grow(&scratch.col_sum, RoundUp(plan_.grid_n, mk.nr)) : nullptr;

  for (int n = 0; n < p.batch; ++n) {
    for (int g = 0; g < p.group; ++g) {
      const int8_t* src = in + (int64_t{n} * p.in_c + int64_t{g} * icg) * in_hw;
      if (!direct) {
        const int8_t* pad = r_.in_zero.data() + int64_t{g} * icg;
        ParallelFor(plan_.channels, [&](int64_t c0, int64_t c1) {
          BuildPlanes<int8_t>(p, plan_, src, pad, c0, c1, plain);
        });
      }
      const int8_t* planes = direct ? src : plain;
      PackPlanes(mk, planes, plan_.channels, plan_.plane, plan_.plane, packed_bytes, packed);
      if (col_sum) ColumnSums(planes, row_offset_, plan_.grid_n, mk.nr, col_sum);
      Int8Gemm gemm;
      gemm.a = packed_.data() + g * group_stride_;
      gemm.a_block_bytes = a_block_bytes_;
      gemm.b = packed;
      gemm.koff = koff_.data();
      gemm.kgroups = static_cast<int64_t>(koff_.size());
      gemm.m = ocg;
      gemm.n = plan_.grid_n;
      gemm.row_add = row_add_.data() + int64_t{g} * ocg;
      gemm.col_sum = col_sum;
      gemm.weight_zero = weight_zero32_.data() + int64_t{g} * ocg;
      SetRequant(r_, int64_t{g} * ocg, &gemm);
      gemm.out = out + (int64_t{n} * p.out_c + int64_t{g} * ocg) * out_hw;
      if (gemm.fusion) gemm.add = add + (int64_t{n} * p.out_c + int64_t{g} * ocg) * out_hw;
      gemm.out_stride = out_hw;
      gemm.grid_w = plan_.grid_w;
      gemm.out_w = p.out_w;
      RunTiles(mk, gemm);
    }
  }
}

void ConvInt8::RunDepthwise(const int8_t* in, int8_t* out) const {
  const Conv2dParams& p = p_;
  const int64_t in_hw = int64_t{p.in_h} * p.in_w, out_hw = int64_t{p.out_h} * p.out_w;
  const int64_t k = plan_.k();
  const bool direct = plan_.layout == ConvPlan::Layout::kDirect;
  const int64_t plain_size = plan_.BufferSize(1);
  const bool fast = !dw_quad_off_.empty();
  const int64_t quads = static_cast<int64_t>(dw_quad_off_.size());
  // The plane kernel reads whole steps past the grid's end, and plain planes (also a 1x1's, copied) must cover
  // them.
  const int64_t fast_size =
      fast ? std::max(plain_size, dw_quad_off_.back() + RoundUp(plan_.grid_n, kDepthwiseBlock) + 4) : 0;
  // The micro-kernel's own phase-plane builder, for the layouts it covers.
  const bool vector_planes = kernel_->phase_planes && plan_.layout == ConvPlan::Layout::kShifted &&
                             p.stride_h == p.stride_w && (p.stride_h == 1 || p.stride_h == 2);
  const int64_t planes_size = std::max(plain_size, fast_size) + (vector_planes ? kPhasePlanesOverrun : 0);
  // Two channels per call where a channel's grid is at most half a step (7x7 outputs), both on the fast path.
  const bool pair = fast && kernel_->depthwise_pair && plan_.grid_n <= kDepthwiseBlock / 2;
  const int64_t grid_size = RoundUp(plan_.grid_n, kDepthwiseBlock);
  // Windows straight from the input (direct_), two channels per call.
  auto reads_directly = [&](int64_t pl) {
    const int c = static_cast<int>(pl % p.out_c);
    return direct_ && r_.weight_zero[c] == 0 && r_.in_zero[c] == 0;
  };
  auto describe_direct = [&](int64_t pl) {
    const int c = static_cast<int>(pl % p.out_c);
    Int8DepthwiseDirect d;
    d.in = in + pl * in_hw;
    d.w = packed_.data() + int64_t{c} * k;
    d.row_add = row_add_[c];
    d.multiplier = r_.multiplier[c];
    d.out_zero = r_.out_zero[c];
    d.relu6_max = r_.relu6_max[c];
    d.activation = ActivationCode(r_.activation);
    d.stride = p.stride_h;
    d.kernel = p.kernel_h;
    d.in_h = p.in_h;
    d.in_w = p.in_w;
    d.out_h = p.out_h;
    d.out_w = p.out_w;
    d.pad_top = p.pad_top;
    d.pad_left = p.pad_left;
    d.out = out + pl * out_hw;
    return d;
  };
  ParallelFor(int64_t{p.batch} * p.out_c, [&](int64_t b, int64_t e) {
    // Each thread's own buffers (ThreadScratch belongs to the thread running the chunk).
    Scratch& scratch = ThreadScratch();
    const int copies = pair ? 2 : 1;
    int8_t* planes = direct && !fast ? nullptr : Grow(&scratch.planes, copies * planes_size);
    int8_t* grid = fast ? Grow(&scratch.out, copies * grid_size) : nullptr;
    // Channel pl's planes (or its input, a 1x1 read in place) in `buffer`; returns where the kernel reads them.
    auto build = [&](int64_t pl, int8_t* buffer) -> const int8_t* {
      const int c = static_cast<int>(pl % p.out_c);
      const int8_t* src = in + pl * in_hw;
      if (vector_planes) {
        Int8PhasePlanes pp;
        pp.in = src;
        pp.in_h = p.in_h;
        pp.in_w = p.in_w;
        pp.stride = p.stride_h;
        pp.pad_top = p.pad_top;
        pp.pad_left = p.pad_left;
        pp.hq = plan_.hq;
        pp.wq = plan_.wq;
        pp.pad = r_.in_zero[c];
        pp.dst = buffer;
        kernel_->phase_planes(pp);
      } else if (!direct) {
        BuildPlanes<int8_t>(p, plan_, src, &r_.in_zero[c], 0, plan_.channels, buffer);
      } else if (fast) {
        std::memcpy(buffer, src, static_cast<size_t>(in_hw));
      } else {
        return src;
      }
      return buffer;
    };
    auto describe = [&](int64_t pl, const int8_t* base, int8_t* grid_buffer) {
      const int c = static_cast<int>(pl % p.out_c);
      Int8DepthwisePlane d;
      d.planes = base;
      d.quad_off = dw_quad_off_.data();
      d.quad_w = dw_quad_w_.data() + c * quads;
      d.quads = quads;
      d.row_add = row_add_[c];
      d.w_sum = dw_w_sum_[c];
      d.multiplier = r_.multiplier[c];
      d.out_zero = r_.out_zero[c];
      d.relu6_max = r_.relu6_max[c];
      d.activation = ActivationCode(r_.activation);
      d.grid_n = plan_.grid_n;
      d.grid_w = plan_.grid_w;
      d.out_h = p.out_h;
      d.out_w = p.out_w;
      d.grid = grid_buffer;
      d.out = out + pl * out_hw;
      return d;
    };
    constexpr int64_t kBlock = 256;
    int32_t acc[kBlock], sum[kBlock];
    for (int64_t pl = b; pl < e; ++pl) {
      if (reads_directly(pl)) {
        const Int8DepthwiseDirect d0 = describe_direct(pl);
        if (pl + 1 < e && reads_directly(pl + 1)) {
          const Int8DepthwiseDirect d1 = describe_direct(pl + 1);
          direct_(d0, &d1);
          ++pl;
        } else {
          direct_(d0, nullptr);
        }
        continue;
      }
      const int c = static_cast<int>(pl % p.out_c);
      const int32_t zw = r_.weight_zero[c];
      if (pair && zw == 0 && pl + 1 < e && r_.weight_zero[(pl + 1) % p.out_c] == 0) {
        const Int8DepthwisePlane d0 = describe(pl, build(pl, planes), grid);
        const Int8DepthwisePlane d1 = describe(pl + 1, build(pl + 1, planes + planes_size), grid + grid_size);
        kernel_->depthwise_pair(d0, d1);
        ++pl;
        continue;
      }
      const int8_t* base = build(pl, planes);
      if (fast && zw == 0) {
        kernel_->depthwise(describe(pl, base, grid));
        continue;
      }
      const int8_t* w = packed_.data() + int64_t{c} * k;
      int8_t* dst = out + pl * out_hw;
      for (int64_t j0 = 0; j0 < plan_.grid_n; j0 += kBlock) {
        const int64_t len = std::min(kBlock, plan_.grid_n - j0);
        std::fill(acc, acc + len, 0);
        std::fill(sum, sum + len, 0);
        for (int64_t kk = 0; kk < k; ++kk) {
          const int32_t wk = w[kk];
          const int8_t* row = base + row_offset_[kk] + j0;
          for (int64_t j = 0; j < len; ++j) {
            acc[j] += wk * row[j];
            sum[j] += row[j];
          }
        }
        for (int64_t j = 0; j < len; ++j) {
          const int64_t jj = j0 + j, oy = jj / plan_.grid_w, ox = jj - oy * plan_.grid_w;
          if (ox < p.out_w) dst[oy * p.out_w + ox] = RequantizeInt8(acc[j] + row_add_[c] - zw * sum[j], c, r_);
        }
      }
    }
  });
}

void InnerProductInt8::Init(const InnerProductParams2& p, const int8_t* weights, const int32_t* bias, Int8Requant r,
                            Int8Isa isa) {
  p_ = p;
  r_ = std::move(r);
  isa_ = CpuRuns(isa) ? isa : Int8Isa::kScalar;
  kernel_ = &MicroKernel(isa_);
  const Int8MicroKernel& mk = *kernel_;
  weight_zero_ = AnyNonZero(r_.weight_zero);
  weight_zero32_.assign(r_.weight_zero.begin(), r_.weight_zero.end());
  row_add_.assign(p.n, 0);
  for (int n = 0; n < p.n; ++n) {
    int32_t c = bias ? bias[n] : 0;
    for (int k = 0; k < p.k; ++k) {
      c += int32_t{r_.in_zero[k]} * (int32_t{r_.weight_zero[n]} - weights[int64_t{n} * p.k + k]);
    }
    row_add_[n] = c;
  }
  const int64_t groups = (p.k + mk.kgroup - 1) / mk.kgroup;
  a_block_bytes_ = mk.a_block_bytes(groups);
  packed_.assign(static_cast<size_t>((p.n + mk.mr - 1) / mk.mr * a_block_bytes_), 0);
  std::vector<int32_t> correction(p.n);
  mk.pack_a(weights, p.n, p.k, 1, packed_.data(), correction.data());
  for (int n = 0; n < p.n; ++n) row_add_[n] += correction[n];
  koff_.clear();
  for (int64_t q = 0; q < groups; ++q) koff_.push_back(q * p.m * mk.b_column_bytes);
}

void InnerProductInt8::Run(const int8_t* in, int8_t* out) const {
  // The GEMM's rows are the outputs and its columns the batch: C[n][m] = W[n][k]·Xᵀ[k][m].
  const InnerProductParams2& p = p_;
  const Int8MicroKernel& mk = *kernel_;
  if (p.m == 1 && mk.gemv && !weight_zero_ && r_.activation == Activation::kNone) {
    Int8Gemm gemm;
    gemm.a = packed_.data();
    gemm.a_block_bytes = a_block_bytes_;
    gemm.kgroups = (p.k + mk.kgroup - 1) / mk.kgroup;
    gemm.m = p.n;
    gemm.row_add = row_add_.data();
    SetRequant(r_, 0, &gemm);
    gemm.out = out;
    ParallelFor((p.n + mk.mr - 1) / mk.mr, [&](int64_t b, int64_t e) {
      for (int64_t rb = b; rb < e; ++rb) mk.gemv(gemm, in, p.k, rb);
    });
    return;
  }
  Scratch& scratch = ThreadScratch();
  const int8_t* xt = in;
  if (p.m > 1) {
    int8_t* t = Grow(&scratch.planes, int64_t{p.k} * p.m);
    for (int m = 0; m < p.m; ++m) {
      for (int k = 0; k < p.k; ++k) t[int64_t{k} * p.m + m] = in[int64_t{m} * p.k + k];
    }
    xt = t;
  }
  const int64_t groups = (p.k + mk.kgroup - 1) / mk.kgroup;
  const int64_t packed_bytes = PackedBytes(mk, groups, p.m, 0, p.m);
  uint8_t* packed = Grow(&scratch.packed, packed_bytes);
  PackPlanes(mk, xt, p.k, p.m, p.m, packed_bytes, packed);
  int32_t* col_sum = nullptr;
  if (weight_zero_) {
    col_sum = Grow(&scratch.col_sum, RoundUp(p.m, mk.nr));
    std::fill(col_sum, col_sum + RoundUp(p.m, mk.nr), 0);
    for (int m = 0; m < p.m; ++m) {
      for (int k = 0; k < p.k; ++k) col_sum[m] += in[int64_t{m} * p.k + k];
    }
  }
  int8_t* result = p.m > 1 ? Grow(&scratch.out, int64_t{p.n} * p.m) : out;
  Int8Gemm gemm;
  gemm.a = packed_.data();
  gemm.a_block_bytes = a_block_bytes_;
  gemm.b = packed;
  gemm.koff = koff_.data();
  gemm.kgroups = groups;
  gemm.m = p.n;
  gemm.n = p.m;
  gemm.row_add = row_add_.data();
  gemm.col_sum = col_sum;
  gemm.weight_zero = weight_zero32_.data();
  SetRequant(r_, 0, &gemm);
  gemm.out = result;
  gemm.out_stride = p.m;
  gemm.grid_w = gemm.out_w = p.m;
  RunTiles(mk, gemm);
  if (p.m > 1) {
    for (int m = 0; m < p.m; ++m) {
      for (int n = 0; n < p.n; ++n) out[int64_t{m} * p.n + n] = result[int64_t{n} * p.m + m];
    }
  }
}

void Pool2dInt8(const Pool2dParams& p, const int8_t* in, int8_t* out, Int8Isa isa) {
  // TNN starts from −127 and, for a window clipped away entirely, keeps the 0 it last read.
  PoolPlanes<int8_t>(p, in, out, -127, 0, Pool2dInt8Ref, nullptr,
                     MicroKernel(CpuRuns(isa) ? isa : Int8Isa::kScalar).max_row2s2);
}

void MaxPool2dInt8(const Pool2dParams& p, const int8_t* in, int8_t* out, Int8Isa isa) {
  PoolPlanes<int8_t>(p, in, out, -128, -128, Pool2dInt8Ref, nullptr,
                     MicroKernel(CpuRuns(isa) ? isa : Int8Isa::kScalar).max_row2s2);
}

void AddInt8(const std::vector<const Int8Tensor*>& in, Int8Tensor* out, Int8Isa isa) {
  const Int8MicroKernel& mk = MicroKernel(CpuRuns(isa) ? isa : Int8Isa::kScalar);
  if (in.size() != 2 || !mk.add_plane) {
    AddInt8Ref(in, out);
    return;
  }
  const Dims& d = out->dims;
  const int channels = d.size() > 1 ? d[1] : 1;
  int64_t spatial = 1;
  for (size_t i = 2; i < d.size() && i < 4; ++i) spatial *= d[i];
  const int64_t planes = out->count() / std::max<int64_t>(1, spatial);
  const bool per_tensor = in[0]->scales.size() == 1;
  auto zero = [](const std::vector<int8_t>& z, int s) { return z.empty() ? 0.f : static_cast<float>(z[s]); };
  ParallelFor(planes, [&](int64_t b, int64_t e) {
    for (int64_t pl = b; pl < e; ++pl) {
      const int s = per_tensor ? 0 : static_cast<int>(pl % channels);
      Int8AddPlane a;
      a.a = in[0]->data.data() + pl * spatial;
      a.b = in[1]->data.data() + pl * spatial;
      a.n = spatial;
      a.sa = in[0]->scales[s];
      a.za = zero(in[0]->zero_points, s);
      a.sb = in[1]->scales[s];
      a.zb = zero(in[1]->zero_points, s);
      a.so = out->scales[s];
      a.zo = zero(out->zero_points, s);
      a.out = out->data.data() + pl * spatial;
      mk.add_plane(a);
    }
  });
}

void GemmInt8(int64_t m, int64_t n, int64_t k, const int8_t* a, const int8_t* b, int32_t* c, int64_t ldc,
              Int8Isa isa) {
  const Int8MicroKernel& mk = MicroKernel(CpuRuns(isa) ? isa : Int8Isa::kScalar);
  const int64_t groups = (k + mk.kgroup - 1) / mk.kgroup;
  const int64_t a_block_bytes = mk.a_block_bytes(groups);
  std::vector<int8_t> packed_a(static_cast<size_t>((m + mk.mr - 1) / mk.mr * a_block_bytes));
  std::vector<int32_t> correction(static_cast<size_t>(m));
  mk.pack_a(a, m, k, 1, packed_a.data(), correction.data());
  const int64_t packed_bytes = PackedBytes(mk, groups, n, 0, n);
  std::vector<uint8_t> packed_b(static_cast<size_t>(packed_bytes));
  PackPlanes(mk, b, k, n, n, packed_bytes, packed_b.data());
  std::vector<int64_t> koff(static_cast<size_t>(groups));
  for (int64_t q = 0; q < groups; ++q) koff[q] = q * n * mk.b_column_bytes;
  Int8Gemm gemm;
  gemm.a = packed_a.data();
  gemm.a_block_bytes = a_block_bytes;
  gemm.b = packed_b.data();
  gemm.koff = koff.data();
  gemm.kgroups = groups;
  gemm.m = m;
  gemm.n = n;
  gemm.row_add = correction.data();
  gemm.c = c;
  gemm.ldc = ldc;
  gemm.grid_w = gemm.out_w = n;
  RunTiles(mk, gemm);
}

}  // namespace qt
