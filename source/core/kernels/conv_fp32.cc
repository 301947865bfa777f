// ConvFp32: packing, work partition and instruction-set dispatch around the micro-kernels of gemm_fp32_*.cc.
#include <algorithm>
#include <cstring>
#include <limits>

#include "core/base/parallel.h"
#include "core/kernels/gemm_fp32_isa.h"
#include "core/kernels/kernel_util.h"
#include "core/kernels/kernels_fp32.h"

namespace qt {
namespace {

const Fp32MicroKernel& MicroKernel(Fp32Isa isa) {
  switch (isa) {
#if QT_X86_KERNELS
    case Fp32Isa::kAvx2: return Fp32MicroKernelAvx2();
    case Fp32Isa::kAvx512: return Fp32MicroKernelAvx512();
#else
    case Fp32Isa::kAvx2:
    case Fp32Isa::kAvx512:
#endif
    case Fp32Isa::kScalar: break;
  }
  return Fp32MicroKernelScalar();
}

bool CpuRuns(Fp32Isa isa) {
  switch (isa) {
    case Fp32Isa::kScalar: return true;
#if QT_X86_KERNELS
    case Fp32Isa::kAvx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Fp32Isa::kAvx512: return __builtin_cpu_supports("avx512f");
#else
    case Fp32Isa::kAvx2:
    case Fp32Isa::kAvx512: return false;
#endif
  }
  return false;
}

// Each thread's offsets of the fused projection's B rows.
std::vector<int64_t>& StripOffsets() {
  thread_local std::vector<int64_t> offsets;
  return offsets;
}

// Per-thread buffers that only grow, one per use (`slot`), reused by every Run: the caller's planes, each
// thread's own plane in the depthwise loop (allocated per call, it cost page faults on every call once glibc had
// handed the freed heap top back to the system), and each thread's strip buffers of RunWithDepthwise.
enum ScratchSlot { kPlanes = 0, kThreadPlane = 1, kFusedRows = 2, kFusedOut = 3, kSlots = 4 };
float* Scratch(int64_t size, int slot = kPlanes) {
  thread_local std::vector<float> buffers[kSlots];
  std::vector<float>& buffer = buffers[slot];
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(static_cast<size_t>(size));
  return buffer.data();
}

// The caller's buffer for the shifted planes of `plan` and micro-kernels `nr` columns wide, zero past the planes.
float* PlanesBuffer(const ConvPlan& plan, int64_t nr) {
  const int64_t size = plan.BufferSize(nr);
  float* planes = Scratch(size);
  std::fill(planes + plan.channels * plan.plane, planes + size, 0.f);
  return planes;
}

// The shifted planes of one image (one group of it) `src`, channels in parallel.
void FillPlanes(const Conv2dParams& p, const ConvPlan& plan, const float* src, float* planes) {
  ParallelFor(plan.channels,
              [&](int64_t c0, int64_t c1) { BuildPlanes<float>(p, plan, src, nullptr, c0, c1, planes); });
}

// Row blocks of the weights that share B panels from L1 while their packed weights stay in L2.
constexpr int64_t kWeightChunkBytes = 128 * 1024;

}  // namespace

const char* Fp32IsaName(Fp32Isa isa) {
  switch (isa) {
    case Fp32Isa::kScalar: return "scalar";
    case Fp32Isa::kAvx2: return "avx2";
    case Fp32Isa::kAvx512: return "avx512";
  }
  return "?";
}

std::vector<Fp32Isa> SupportedFp32Isas() {
  std::vector<Fp32Isa> out;
  for (Fp32Isa isa : {Fp32Isa::kScalar, Fp32Isa::kAvx2, Fp32Isa::kAvx512}) {
    if (CpuRuns(isa)) out.push_back(isa);
  }
  return out;
}

Fp32Isa BestFp32Isa() {
  static const Fp32Isa best = SupportedFp32Isas().back();
  return best;
}

void ConvFp32::Init(const Conv2dParams& p, const float* weights, const float* bias, Fp32Isa isa, ConvAlgo algo) {
  p_ = p;
  isa_ = CpuRuns(isa) ? isa : Fp32Isa::kScalar;
  kernel_ = &MicroKernel(isa_);
  // A row block of the channel tiles reads 32 biases, also past the last channel.
  bias_.assign(p.out_c + kChannelTileRows, 0.f);
  if (bias) std::copy(bias, bias + p.out_c, bias_.begin());
  if (algo == ConvAlgo::kAuto) algo = ChooseConvAlgo(p, isa_);
  algo_ = algo == ConvAlgo::kWinograd && WinogradApplies(p) ? ConvAlgo::kWinograd : ConvAlgo::kDirect;
  depthwise_ = false;
  if (algo_ == ConvAlgo::kWinograd) {
    InitWinograd(weights);
    return;
  }
  const int icg = p.in_c / p.group, ocg = p.out_c / p.group;
  depthwise_ = p.group == p.in_c && p.group == p.out_c;
  plan_ = PlanConv(p, depthwise_ ? 16 : kernel_->nr);
  koff_ = PlanRowOffsets(plan_);
  const int64_t k = plan_.k();
  if (depthwise_) {
    packed_.assign(weights, weights + int64_t{p.out_c} * k);
    InitDepthwiseGrid();
    return;
  }
  channel_tiles_ = false;
#if QT_X86_KERNELS
  // Small planes of a multiple of 7 positions that whole vectors do not cover (7x7: 49, 14x14: 196), on which the
  // 8x32 tile spends a tail vector on 1 to 15 columns (a 17-column tail on 7x7); larger planes keep the 8x32 tile,
  // whose tile order shares B panels from L1. A last block of fewer than 32 rows is computed whole into a scratch
  // tile (its packed rows past the channels are 0) and its rows copied out: SqueezeNet's conv10, 1000 channels on
  // 14x14, 1.94-1.97 -> 1.86-1.89 ms (median, evicted caches, 1 thread), where the 8x32 tiles compute 224 columns
  // for 196.
  const int64_t n = plan_.grid_n;
  channel_tiles_ = isa_ == Fp32Isa::kAvx512 && plan_.layout == ConvPlan::Layout::kDirect && p.group == 1 &&
                   ocg >= kChannelTileRows && n % kChannelTileCols == 0 && n % 16 != 0 && n <= 196;
#endif
  const int mr = channel_tiles_ ? kChannelTileRows : kernel_->mr;
  const int64_t blocks = (ocg + mr - 1) / mr;
  group_stride_ = blocks * k * mr;
  packed_.assign(static_cast<size_t>(group_stride_ * p.group), 0.f);
  for (int g = 0; g < p.group; ++g) {
    for (int o = 0; o < ocg; ++o) {
      const float* src = weights + (int64_t{g} * ocg + o) * int64_t{icg} * p.kernel_h * p.kernel_w;
      float* dst = packed_.data() + g * group_stride_ + (o / mr) * k * mr + o % mr;
      for (int64_t kk = 0; kk < k; ++kk) dst[kk * mr] = src[kk];
    }
  }
}

void ConvFp32::InitDepthwiseGrid() {
  const Conv2dParams& p = p_;
  grid_rows_ = 0;
  grid_pair_ = nullptr;
  grid_kernel_ = nullptr;
#if QT_X86_KERNELS
  if (isa_ == Fp32Isa::kAvx2 &&
      DepthwiseGridAvx2Applies(p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w)) {
    grid_kernel_ = DepthwiseGridAvx2;
    return;
  }
  if (isa_ != Fp32Isa::kAvx512 ||
      !DepthwiseGridAvx512Applies(p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w)) {
    return;
  }
  const int span = (p.kernel_h - 1) / p.stride_h;
  grid_kernel_ = DepthwiseGridAvx512;
  grid_rows_ = DepthwiseGridRows(p.out_w);
  grid_hq_ = RoundUp(p.out_h, grid_rows_) + span;
  grid_wq_ = p.out_w + span;
  if (DepthwiseGridPairApplies(p.kernel_h, p.stride_h, p.out_w)) {
    grid_pair_ = DepthwiseGridPairAvx512;
  } else if (DepthwiseGridTwinApplies(p.kernel_h, p.stride_h, p.out_w)) {
    grid_pair_ = DepthwiseGridTwinAvx512;
  }
#endif
}

#if QT_X86_KERNELS
namespace {

// The output-channel tiles' weight prefetch: tile j of row block rb takes its share of block rb + 1's weights (the
// blocks' `tiles` tiles together cover the whole next block), one line per k step inside the tile.
void PrefetchShareOfNextBlock(const float* a, int64_t blocks, int64_t block_floats, int64_t tiles, int64_t rb,
                              int64_t j, Fp32Gemm* tile) {
  tile->prefetch_lines = 0;
  if (rb + 1 >= blocks) return;
  const int64_t share = (block_floats + tiles - 1) / tiles;
  const int64_t begin = (rb + 1) * block_floats + j * share;
  const int64_t end = std::min(begin + share, (rb + 2) * block_floats);
  tile->prefetch = a + begin;
  tile->prefetch_lines = std::max<int64_t>(0, (end - begin + 15) / 16);
}

}  // namespace
#endif

Fp32Gemm ConvFp32::GroupGemm(int g) const {
  const int ocg = p_.out_c / p_.group;
  Fp32Gemm gemm;
  gemm.a = packed_.data() + g * group_stride_;
  gemm.koff = koff_.data();
  gemm.k = plan_.k();
  gemm.m = ocg;
  gemm.bias = bias_.data() + int64_t{g} * ocg;
  gemm.activation = ActivationCode(p_.activation);
  return gemm;
}

void ConvFp32::Run(const float* in, float* out) const {
  if (algo_ == ConvAlgo::kWinograd) {
    RunWinograd(in, out);
    return;
  }
  if (depthwise_) {
    RunDepthwise(in, out);
    return;
  }
  const Conv2dParams& p = p_;
  const Fp32MicroKernel& mk = *kernel_;
  const int icg = p.in_c / p.group, ocg = p.out_c / p.group;
  const int64_t in_hw = int64_t{p.in_h} * p.in_w, out_hw = int64_t{p.out_h} * p.out_w;
  const bool direct = plan_.layout == ConvPlan::Layout::kDirect;
  float* planes = direct ? nullptr : PlanesBuffer(plan_, mk.nr);

  const int64_t row_blocks = (ocg + mk.mr - 1) / mk.mr;
  const int64_t col_blocks = (plan_.grid_n + mk.nr - 1) / mk.nr;
  const int64_t chunk_rows =
      std::clamp<int64_t>(kWeightChunkBytes / std::max<int64_t>(1, plan_.k() * mk.mr * 4), 1, row_blocks);
  const int64_t units = row_blocks * col_blocks;

  for (int n = 0; n < p.batch; ++n) {
    for (int g = 0; g < p.group; ++g) {
      const float* src = in + (int64_t{n} * p.in_c + int64_t{g} * icg) * in_hw;
      if (!direct) FillPlanes(p, plan_, src, planes);
      Fp32Gemm gemm = GroupGemm(g);
      gemm.b = direct ? src : planes;
      gemm.n = plan_.grid_n;
      gemm.out = out + (int64_t{n} * p.out_c + int64_t{g} * ocg) * out_hw;
      gemm.out_stride = out_hw;
      gemm.grid_w = plan_.grid_w;
      gemm.out_w = p.out_w;
#if QT_X86_KERNELS
      if (channel_tiles_) {
        // Tiles of 14 columns (two of 7 per k step: half the loads of A and of the loop per FMA), a last one of 7
        // where the columns are an odd multiple of 7. Tile j of a row block also prefetches a share of the next
        // block's weights (from memory in a model whose weights outgrow the cache), one line per k step inside
        // the tile.
        constexpr int64_t kWide = 2 * kChannelTileCols;
        const int64_t blocks = (ocg + kChannelTileRows - 1) / kChannelTileRows;
        const int64_t tiles = (plan_.grid_n + kWide - 1) / kWide;
        const int64_t block_floats = plan_.k() * kChannelTileRows;
        ParallelFor(blocks * tiles, [&](int64_t u0, int64_t u1) {
          Fp32Gemm tile = gemm;
          for (int64_t u = u0; u < u1; ++u) {
            const int64_t rb = u / tiles, j = u - rb * tiles;
            PrefetchShareOfNextBlock(gemm.a, blocks, block_floats, tiles, rb, j, &tile);
            const bool wide = (j + 1) * kWide <= plan_.grid_n;
            const int64_t rows = std::min<int64_t>(kChannelTileRows, ocg - rb * kChannelTileRows);
            if (rows < kChannelTileRows) {
              float part[kChannelTileRows * kWide];
              Fp32Gemm last = tile;
              last.a = gemm.a + rb * plan_.k() * kChannelTileRows;
              last.b = gemm.b + j * kWide;
              last.bias = gemm.bias + rb * kChannelTileRows;
              last.out = part;
              last.out_stride = kWide;
              if (!wide) {
                ChannelTileAvx512(last, 0, 0);
              } else if (rows <= kChannelTileRows / 2) {
                ChannelTile14HalfAvx512(last, 0, 0);
              } else {
                ChannelTile14Avx512(last, 0, 0);
              }
              const int64_t cols = wide ? kWide : kChannelTileCols;
              for (int64_t r = 0; r < rows; ++r) {
                std::memcpy(gemm.out + (rb * kChannelTileRows + r) * gemm.out_stride + j * kWide, part + r * kWide,
                            sizeof(float) * cols);
              }
            } else if (wide) {
              ChannelTile14Avx512(tile, rb, j * kWide);
            } else {
              ChannelTileAvx512(tile, rb, j * kWide);
            }
          }
        });
        continue;
      }
#endif
      if (mk.gemv && gemm.n == 1 && out_hw == 1) {
        // Groups of eight row blocks: GEMV's step.
        ParallelFor((row_blocks + 7) / 8, [&](int64_t u0, int64_t u1) {
          mk.gemv(gemm, u0 * 8, std::min(row_blocks, u1 * 8));
        });
        continue;
      }
      // Units run chunk by chunk of row blocks; inside a chunk, column block by column block, so consecutive
      // tiles share their B panel.
      // Each tile also prefetches its share of the next chunk's weights, which in a model whose weights outgrow
      // the cache come from memory (conv10's 2 MB); the AVX-512 tile one line per k step, between its FMAs.
      const int64_t chunk_floats = chunk_rows * plan_.k() * mk.mr, group_floats = row_blocks * plan_.k() * mk.mr;
      ParallelFor(units, [&](int64_t u0, int64_t u1) {
        // Unit v of a chunk is row block v % rows of the chunk and column block v / rows, stepped here without a
        // division per tile (they cost a few percent of MobileNetV2's small GEMMs).
        int64_t chunk = u0 / (chunk_rows * col_blocks), v = u0 - chunk * chunk_rows * col_blocks;
        int64_t rows = 0, r = 0, c = 0, share = 0;
        auto enter_chunk = [&] {
          rows = std::min(chunk_rows, row_blocks - chunk * chunk_rows);
          r = v % rows;
          c = v / rows;
          share = (chunk_floats + rows * col_blocks - 1) / (rows * col_blocks);
        };
        enter_chunk();
        Fp32Gemm tile = gemm;
        for (int64_t u = u0; u < u1; ++u) {
          const int64_t next = (chunk + 1) * chunk_floats;
          tile.prefetch_lines = 0;
          if (next < group_floats) {
            const int64_t begin = next + v * share, end = std::min({next + (v + 1) * share, next + chunk_floats, group_floats});
            if (isa_ == Fp32Isa::kAvx512) {
              tile.prefetch = gemm.a + begin;
              tile.prefetch_lines = std::max<int64_t>(0, (end - begin + 15) / 16);
            } else {
              for (int64_t i = begin; i < end; i += 16) __builtin_prefetch(gemm.a + i);
            }
          }
          mk.tile(tile, chunk * chunk_rows + r, c * mk.nr);
          ++v;
          if (++r == rows) {
            r = 0;
            ++c;
          }
          if (v == rows * col_blocks && u + 1 < u1) {
            ++chunk;
            v = 0;
            enter_chunk();
          }
        }
      });
    }
  }
}

void ConvFp32::RunDepthwise(const float* in, float* out) const {
  const Conv2dParams& p = p_;
  const int64_t in_hw = int64_t{p.in_h} * p.in_w, out_hw = int64_t{p.out_h} * p.out_w;
  const int64_t k = plan_.k();
  const bool direct = plan_.layout == ConvPlan::Layout::kDirect;
  const int64_t buffer_size = plan_.BufferSize(1);
  void (*plane_kernel)(const Fp32DepthwisePlane&) = nullptr;
#if QT_X86_KERNELS
  if (isa_ == Fp32Isa::kAvx512) plane_kernel = DepthwisePlaneAvx512;
  if (isa_ == Fp32Isa::kAvx2) plane_kernel = DepthwisePlaneAvx2;
#endif
#if QT_X86_KERNELS
  if (grid_kernel_) {
    ParallelFor(int64_t{p.batch} * p.out_c, [&](int64_t b, int64_t e) {
      Fp32DepthwiseGrid d;
      d.in_h = p.in_h;
      d.in_w = p.in_w;
      d.kernel = p.kernel_h;
      d.stride = p.stride_h;
      d.pad_top = p.pad_top;
      d.pad_left = p.pad_left;
      d.hq = grid_hq_;
      d.wq = grid_wq_;
      d.rows = grid_rows_;
      d.activation = ActivationCode(p.activation);
      d.out_h = p.out_h;
      d.out_w = p.out_w;
      // (DepthwiseGridScratchFloats is AVX-512 code.)
      d.planes = isa_ == Fp32Isa::kAvx512 ? Scratch(DepthwiseGridScratchFloats(d), kThreadPlane) : nullptr;
      auto channel = [&](Fp32DepthwiseGrid& g, int64_t pl) {
        const int c = static_cast<int>(pl % p.out_c);
        g.in = in + pl * in_hw;
        g.w = packed_.data() + int64_t{c} * k;
        g.bias = bias_[c];
        g.out = out + pl * out_hw;
      };
      Fp32DepthwiseGrid second = d;
      for (int64_t pl = b; pl < e; ++pl) {
        channel(d, pl);
        // A pair's channels may lie in two images: each is computed on its own.
        if (grid_pair_ && pl + 1 < e) {
          channel(second, ++pl);
          grid_pair_(d, second);
          continue;
        }
        grid_kernel_(d);
      }
    });
    return;
  }
#endif
  ParallelFor(int64_t{p.batch} * p.out_c, [&](int64_t b, int64_t e) {
    float* planes = direct ? nullptr : Scratch(buffer_size, kThreadPlane);
    constexpr int64_t kBlock = 256;
    float acc[kBlock];
    for (int64_t pl = b; pl < e; ++pl) {
      const int c = static_cast<int>(pl % p.out_c);
      const float* src = in + pl * in_hw;
      if (!direct) BuildPlanes<float>(p, plan_, src, nullptr, 0, plan_.channels, planes);
      const float* base = direct ? src : planes;
      const float* w = packed_.data() + int64_t{c} * k;
      float* dst = out + pl * out_hw;
      if (plane_kernel) {
        Fp32DepthwisePlane d;
        d.planes = base;
        d.koff = koff_.data();
        d.k = k;
        d.w = w;
        d.bias = bias_[c];
        d.activation = ActivationCode(p.activation);
        d.out_h = p.out_h;
        d.out_w = p.out_w;
        d.grid_w = plan_.grid_w;
        d.out = dst;
        plane_kernel(d);
        continue;
      }
      for (int64_t j0 = 0; j0 < plan_.grid_n; j0 += kBlock) {
        const int64_t len = std::min(kBlock, plan_.grid_n - j0);
        std::fill(acc, acc + len, 0.f);
        for (int64_t kk = 0; kk < k; ++kk) {
          const float wk = w[kk];
          const float* row = base + koff_[kk] + j0;
          for (int64_t j = 0; j < len; ++j) acc[j] += wk * row[j];
        }
        for (int64_t j = 0; j < len; ++j) {
          const int64_t jj = j0 + j, oy = jj / plan_.grid_w, ox = jj - oy * plan_.grid_w;
          if (ox < p.out_w) dst[oy * p.out_w + ox] = Activate(acc[j] + bias_[c], p.activation);
        }
      }
    }
  });
}

// Bytes of the fused intermediate per strip: about half the L2 a core has here (1 MB), so that the strip's
// rows, its share of the input and of the output stay in it.
constexpr int64_t kFusedStripBytes = 512 * 1024;

bool ConvFp32::FusesWithDepthwise(const ConvFp32& dw) const {
  const Conv2dParams &e = p_, &d = dw.p_;
  // An intermediate within one strip's budget stays in cache between the two runs anyway, and one strip would
  // leave the other threads idle.
  const bool layout = plan_.layout == ConvPlan::Layout::kDirect ||
                      (plan_.layout == ConvPlan::Layout::kShifted && e.batch == 1);
  return algo_ == ConvAlgo::kDirect && !depthwise_ && !channel_tiles_ && layout && e.group == 1 &&
         dw.grid_kernel_ && d.batch == e.batch && d.in_c == e.out_c && d.in_h == e.out_h && d.in_w == e.out_w &&
         int64_t{e.out_c} * e.out_h * e.out_w * 4 > 2 * kFusedStripBytes;
}

bool ConvFp32::FusesAfterDepthwise(const ConvFp32& dw, const ConvFp32& project) {
  const Conv2dParams &d = dw.p_, &q = project.p_;
  return project.algo_ == ConvAlgo::kDirect && !project.depthwise_ && !project.channel_tiles_ &&
         project.plan_.layout == ConvPlan::Layout::kDirect && q.group == 1 && q.batch == d.batch &&
         q.in_c == d.out_c && q.in_h == d.out_h && q.in_w == d.out_w;
}

void ConvFp32::RunGemmColumns(const float* b, const int64_t* koff, int64_t n, float* out, int64_t out_stride,
                              int64_t grid_w) const {
  const Fp32MicroKernel& mk = *kernel_;
  Fp32Gemm gemm = GroupGemm(0);
  gemm.b = b;
  gemm.koff = koff;
  gemm.n = n;
  gemm.out = out;
  gemm.out_stride = out_stride;
  gemm.grid_w = gemm.out_w = n;
  if (grid_w > 0) {
    gemm.grid_w = grid_w;
    gemm.out_w = p_.out_w;
  }
  const int64_t row_blocks = (p_.out_c + mk.mr - 1) / mk.mr;
  for (int64_t rb = 0; rb < row_blocks; ++rb) {
    for (int64_t j0 = 0; j0 < n; j0 += mk.nr) mk.tile(gemm, rb, j0);
  }
}

void ConvFp32::RunWithDepthwise(const ConvFp32& dw, const float* in, float* out, const ConvFp32* project) const {
  const Conv2dParams &e = p_, &d = dw.p_;
  const int64_t w = e.out_w, in_hw = int64_t{e.in_h} * e.in_w, out_hw = int64_t{d.out_h} * d.out_w;
  const int s = d.stride_h, kernel = d.kernel_h;
  // A window on the shifted planes (batch 1): the planes of the whole input first; a strip's rows are then grid
  // rows of them.
  const bool direct = plan_.layout == ConvPlan::Layout::kDirect;
  float* planes = nullptr;
  if (!direct) {
    planes = PlanesBuffer(plan_, kernel_->nr);
    FillPlanes(e, plan_, in, planes);
  }
  // Output rows per strip: as many as keep the rows their windows read within the budget.
  const int64_t budget_rows = std::max<int64_t>(kernel, kFusedStripBytes / (4 * int64_t{e.out_c} * w));
  // At least two strips per thread, so that the threads share the work evenly (any strip size gives the same
  // values).
  const int64_t per_thread = (d.out_h + 2 * GetNumThreads() - 1) / (2 * GetNumThreads());
  const int64_t strip = std::clamp<int64_t>((budget_rows - kernel) / s + 1, 1, std::min<int64_t>(d.out_h, per_thread));
  const int64_t strips = (d.out_h + strip - 1) / strip;
  const int span = (kernel - 1) / s;
  // Each channel's rows start at the same stride in the strip buffer whatever the strip's height, so that the rows
  // a strip shares with the one before it (kernel − stride of them) move to the top of their channel instead of
  // being computed again, when one thread runs both (a chunk of strips; at one thread, all of them). Each value
  // is the same sum wherever it is computed.
  const int64_t plane = std::min<int64_t>(d.in_h, (strip - 1) * s + kernel) * w;
  ParallelFor(int64_t{e.batch} * strips, [&](int64_t u0, int64_t u1) {
    int64_t kept_n = -1, kept_r0 = 0, kept_r1 = 0;  // image kept_n's rows [kept_r0, kept_r1) are in the buffer
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t n = u / strips, oy0 = (u % strips) * strip, oy1 = std::min<int64_t>(d.out_h, oy0 + strip);
      // Input rows [r0, r1) of the image: every row the strip's windows read inside it.
      const int64_t r0 = std::clamp<int64_t>(oy0 * s - d.pad_top, 0, d.in_h);
      const int64_t r1 = std::clamp<int64_t>((oy1 - 1) * s - d.pad_top + kernel, r0, d.in_h);
      const int64_t rows = r1 - r0;
      float* mid = Scratch(std::max<int64_t>(1, e.out_c * plane), kFusedRows);
      int64_t from = r0;  // the first row to compute
      if (kept_n == n && kept_r0 <= r0 && r0 < kept_r1 && kept_r1 <= r1) {
        if (r0 > kept_r0) {
          for (int c = 0; c < e.out_c; ++c) {
            std::memmove(mid + c * plane, mid + c * plane + (r0 - kept_r0) * w, sizeof(float) * (kept_r1 - r0) * w);
          }
        }
        from = kept_r1;
      }
      if (r1 > from && direct) {
        RunGemmColumns(in + n * e.in_c * in_hw + from * w, koff_.data(), (r1 - from) * w, mid + (from - r0) * w,
                       plane);
      }
      if (r1 > from && !direct) {
        RunGemmColumns(planes + from * plan_.grid_w, koff_.data(), (r1 - from) * plan_.grid_w, mid + (from - r0) * w,
                       plane, plan_.grid_w);
      }
      kept_n = n;
      kept_r0 = r0;
      kept_r1 = r1;
#if QT_X86_KERNELS
      Fp32DepthwiseGrid g;
      g.in_h = rows;
      g.in_w = w;
      g.kernel = kernel;
      g.stride = s;
      // The strip's row 0 is input row r0: rows above it and below r1 are outside the image, i.e. padding.
      g.pad_top = static_cast<int>(d.pad_top + r0 - oy0 * s);
      g.pad_left = d.pad_left;
      g.out_h = oy1 - oy0;
      g.out_w = d.out_w;
      g.activation = ActivationCode(d.activation);
      // The AVX-512 kernel's row blocks and phase planes (DepthwiseGridScratchFloats is AVX-512 code).
      if (dw.isa_ == Fp32Isa::kAvx512) {
        g.rows = dw.grid_rows_;
        g.hq = RoundUp(g.out_h, g.rows) + span;
        g.wq = d.out_w + span;
        g.planes = Scratch(DepthwiseGridScratchFloats(g), kThreadPlane);
      }
      // Without a projection the strip lands in the output; with one, in a buffer of its rows.
      const int64_t strip_out = (oy1 - oy0) * d.out_w;
      float* dw_out = project ? Scratch(int64_t{d.out_c} * strip_out, kFusedOut) : nullptr;
      for (int c = 0; c < d.out_c; ++c) {
        g.in = mid + c * plane;
        g.w = dw.packed_.data() + int64_t{c} * kernel * kernel;
        g.bias = dw.bias_[c];
        g.out = project ? dw_out + c * strip_out : out + (n * d.out_c + c) * out_hw + oy0 * d.out_w;
        dw.grid_kernel_(g);
      }
      if (project) {
        std::vector<int64_t>& koff = StripOffsets();
        koff.resize(static_cast<size_t>(d.out_c));
        for (int c = 0; c < d.out_c; ++c) koff[c] = c * strip_out;
        project->RunGemmColumns(dw_out, koff.data(), strip_out,
                                out + n * project->p_.out_c * out_hw + oy0 * d.out_w, out_hw);
      }
#endif
    }
  });
}

bool ConvFp32::FusesWithMaxPool(const Pool2dParams& q) const {
  const Conv2dParams& p = p_;
  return isa_ == Fp32Isa::kAvx512 && algo_ == ConvAlgo::kDirect && !depthwise_ && !channel_tiles_ && p.group == 1 &&
         q.type == PoolType::kMax && q.batch == p.batch && q.channels == p.out_c && q.in_h == p.out_h &&
         q.in_w == p.out_w && q.kernel_h == 3 && q.kernel_w == 3 && q.stride_h == 2 && q.stride_w == 2 &&
         q.pad_top == 0 && q.pad_left == 0 && q.in_h >= 3 && q.in_w >= 3 && q.out_h == (q.in_h - 3) / 2 + 1 &&
         q.out_w == (q.in_w - 3) / 2 + 1 && int64_t{p.out_c} * p.out_h * p.out_w * 4 > 2 * kFusedStripBytes;
}

void ConvFp32::RunWithMaxPool(const Pool2dParams& q, const float* in, float* out) const {
#if QT_X86_KERNELS
  const Conv2dParams& p = p_;
  const Fp32MicroKernel& mk = *kernel_;
  const int64_t in_hw = int64_t{p.in_h} * p.in_w, out_w = p.out_w, pool_hw = int64_t{q.out_h} * q.out_w;
  const bool direct = plan_.layout == ConvPlan::Layout::kDirect;
  float* planes = direct ? nullptr : PlanesBuffer(plan_, mk.nr);
  // Pooled rows per strip: the 2·rows + 1 convolution rows they read within the budget.
  const int64_t strip =
      std::clamp<int64_t>((kFusedStripBytes / (4 * int64_t{p.out_c} * out_w) - 1) / 2, 1, q.out_h);
  const int64_t cap = 2 * strip + 1, strips = (q.out_h + strip - 1) / strip;
  const int64_t row_blocks = (p.out_c + mk.mr - 1) / mk.mr;
  constexpr float kLow = -std::numeric_limits<float>::max();  // Pool2dFp32's start
  for (int n = 0; n < p.batch; ++n) {
    const float* src = in + int64_t{n} * p.in_c * in_hw;
    if (!direct) FillPlanes(p, plan_, src, planes);
    ParallelFor(strips, [&](int64_t s0, int64_t s1) {
      float* rows = Scratch(int64_t{p.out_c} * cap * out_w, kFusedRows);
      Fp32Gemm gemm = GroupGemm(0);
      gemm.out_stride = cap * out_w;
      gemm.grid_w = plan_.grid_w;
      gemm.out_w = out_w;
      for (int64_t s = s0; s < s1; ++s) {
        const int64_t py0 = s * strip, py1 = std::min<int64_t>(q.out_h, py0 + strip);
        // Buffer row r is convolution row 2·py0 + r; the first strip of a thread's run computes its row 0, the
        // others take it from the previous strip's last row.
        const int64_t first = s == s0 ? 0 : 1, end = 2 * (py1 - py0) + 1;
        if (first == 1) {
          for (int c = 0; c < p.out_c; ++c) {
            float* plane = rows + c * cap * out_w;
            std::memcpy(plane, plane + 2 * strip * out_w, sizeof(float) * out_w);
          }
        }
        gemm.b = (direct ? src : planes) + (2 * py0 + first) * plan_.grid_w;
        gemm.n = (end - first) * plan_.grid_w;
        gemm.out = rows + first * out_w;
        for (int64_t j0 = 0; j0 < gemm.n; j0 += mk.nr) {
          for (int64_t rb = 0; rb < row_blocks; ++rb) mk.tile(gemm, rb, j0);
        }
        for (int c = 0; c < p.out_c; ++c) {
          const float* plane = rows + c * cap * out_w;
          float* dst = out + (int64_t{n} * p.out_c + c) * pool_hw;
          for (int64_t py = py0; py < py1; ++py) {
            MaxPool3x3s2RowAvx512(plane + 2 * (py - py0) * out_w, out_w, kLow, q.out_w, dst + py * q.out_w);
          }
        }
      }
    });
  }
#else
  (void)q;
  (void)in;
  (void)out;
#endif
}

bool ConvFp32::FusesWithGlobalAverage(const Pool2dParams& q) const {
  const Conv2dParams& p = p_;
  return channel_tiles_ && algo_ == ConvAlgo::kDirect && p.group == 1 &&
         plan_.grid_n % (2 * kChannelTileCols) == 0 && IsGlobalAverage(q) && q.batch == p.batch &&
         q.channels == p.out_c && q.in_h == p.out_h && q.in_w == p.out_w;
}

void ConvFp32::RunWithGlobalAverage(const Pool2dParams& q, const float* in, float* out) const {
#if QT_X86_KERNELS
  const Conv2dParams& p = p_;
  const int64_t in_hw = int64_t{p.in_h} * p.in_w;
  constexpr int64_t kWide = 2 * kChannelTileCols;
  const int64_t blocks = (p.out_c + kChannelTileRows - 1) / kChannelTileRows, tiles = plan_.grid_n / kWide;
  const int64_t block_floats = plan_.k() * kChannelTileRows;
  // Past the last channel: the sums of a last block's rows that are only its packed zeros.
  std::vector<float> sums(static_cast<size_t>(blocks * kChannelTileRows));
  const float divisor = static_cast<float>(int64_t{q.in_h} * q.in_w);
  for (int n = 0; n < p.batch; ++n) {
    std::fill(sums.begin(), sums.end(), 0.f);
    Fp32Gemm gemm = GroupGemm(0);
    gemm.b = in + int64_t{n} * p.in_c * in_hw;
    gemm.n = plan_.grid_n;
    // A row block's tiles stay on one thread, in column order; each prefetches a share of the next block's weights.
    ParallelFor(blocks, [&](int64_t b0, int64_t b1) {
      Fp32Gemm tile = gemm;
      for (int64_t rb = b0; rb < b1; ++rb) {
        for (int64_t j = 0; j < tiles; ++j) {
          PrefetchShareOfNextBlock(gemm.a, blocks, block_floats, tiles, rb, j, &tile);
          if (p.out_c - rb * kChannelTileRows <= kChannelTileRows / 2) {
            ChannelTile14HalfSumsAvx512(tile, rb, j * kWide, sums.data() + rb * kChannelTileRows);
          } else {
            ChannelTile14SumsAvx512(tile, rb, j * kWide, sums.data() + rb * kChannelTileRows);
          }
        }
      }
    });
    for (int c = 0; c < p.out_c; ++c) out[int64_t{n} * p.out_c + c] = sums[c] / divisor;
  }
#else
  (void)q;
  (void)in;
  (void)out;
#endif
}

void Conv2dFp32(const Conv2dParams& p, const float* in, const float* weights, const float* bias, float* out) {
  ConvFp32 conv;
  conv.Init(p, weights, bias);
  conv.Run(in, out);
}

}  // namespace qt
