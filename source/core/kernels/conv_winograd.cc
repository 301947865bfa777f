// Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016), with the interpolation points 0, ±1, ±2, ∞:
//   Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A
// for each 4x4 output tile Y, its 6x6 input patches d_c and the 3x3 kernels g_c of the input channels c.
// - Init: U = G g Gᵀ per (output, input) channel pair, in double, rounded once to float and packed as the A operand
//   of the fp32 micro-kernels, one matrix per component (36 of them).
// - Run, per image: (1) V = Bᵀ d B of every tile and input channel, as 36 matrices [in_c][tiles]; (2) in units of
//   (block of tiles, block of output channels): the 36 GEMMs M = U·V of the block on the micro-kernel into a
//   per-thread buffer, then Aᵀ M A + bias and the activation straight into the output. Every output is computed
//   by one unit, in a fixed order, so results do not depend on the thread count.
// The transforms work on 16 tiles at a time, one per vector lane (gemm_fp32_isa.h); the AVX-512 ones are in
// winograd_fp32_avx512.cc, the AVX2 ones (two vectors of 8 tiles) in winograd_fp32_avx2.cc, the portable ones below
// serve the other instruction sets.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/base/parallel.h"
#include "core/kernels/gemm_fp32_isa.h"
#include "core/kernels/kernel_util.h"
#include "core/kernels/kernels_fp32.h"

namespace qt {
namespace {

constexpr int kComponents = 36;
constexpr int kGroup = 16;  // tiles per transform call, one per vector lane

// Work blocks of step (2): tiles and output channels. The unit's M buffer (36 · oc block · tile block floats,
// 288 KB at the maximum) stays in L2 between its GEMMs and the output transform.
constexpr int64_t kTileBlock = 64;
constexpr int64_t kOcBlock = 32;
// Input channels per unit of step (1).
constexpr int64_t kInChunk = 16;
// Steps (1) and (2) run over super-blocks of tiles whose V fits this many bytes, i.e. stays in L2 between the
// steps: V is 36/16 of the input's size, too large to pass through the cache for large layers (64 channels of
// 112x112 need 7 MB). Every SqueezeNet layer fits in one.
constexpr int64_t kVBytes = 1 << 20;
// How many components ahead of the GEMMs the transformed weights are prefetched.
constexpr int kPrefetchAhead = 2;


enum ScratchSlot { kV = 0, kM = 1, kSlots = 2 };
// Per-thread buffers that only grow. V's is aligned to a cache line: a group of 16 tiles then owns whole lines of V
// (no line is written by two threads) and its vector loads and stores do not split lines. M's is left as the
// allocator gives it: aligned as well, fire6 to fire9 ran slower in the model (fire8 0.16-0.17 -> 0.19-0.21 ms,
// also with M's start moved 17 lines away from V's), for a reason not found, while fire2 to fire5 gained little.
float* Scratch(int64_t size, int slot) {
  constexpr int64_t kLine = 64 / sizeof(float);
  thread_local std::vector<float> buffers[kSlots];
  std::vector<float>& buffer = buffers[slot];
  if (static_cast<int64_t>(buffer.size()) < size + kLine) buffer.resize(static_cast<size_t>(size + kLine));
  if (slot != kV) return buffer.data();
  const uintptr_t address = reinterpret_cast<uintptr_t>(buffer.data());
  return buffer.data() + (kLine - address / sizeof(float) % kLine) % kLine;
}

void Prefetch(const float* p, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) __builtin_prefetch(p + i);
}

// G of F(4x4, 3x3); the kernel transform runs in double.
constexpr double kG[6][3] = {{1.0 / 4, 0, 0},
                             {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                             {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                             {1.0 / 24, 1.0 / 12, 1.0 / 6},
                             {1.0 / 24, -1.0 / 12, 1.0 / 6},
                             {0, 0, 1}};

// Bᵀ applied to 6 values: rows (4 0 −5 0 1 0) (0 −4 −4 1 1 0) (0 4 −4 −1 1 0) (0 −2 −1 2 1 0) (0 2 −1 −2 1 0)
// (0 4 0 −5 0 1), factored as the AVX-512 transform factors it.
void InputTransform1d(const float d[6], float o[6]) {
  o[0] = 4.f * d[0] - 5.f * d[2] + d[4];
  const float s1 = d[3] + d[4], t1 = d[1] + d[2];
  o[1] = s1 - 4.f * t1;
  const float s2 = d[4] - d[3], t2 = d[1] - d[2];
  o[2] = s2 + 4.f * t2;
  const float s3 = d[4] - d[2], t3 = d[3] - d[1];
  o[3] = s3 + 2.f * t3;
  o[4] = s3 - 2.f * t3;
  o[5] = 4.f * d[1] - 5.f * d[3] + d[5];
}

// Aᵀ applied to 6 values: rows (1 1 1 1 1 0) (0 1 −1 2 −2 0) (0 1 1 4 4 0) (0 1 −1 8 −8 1).
void OutputTransform1d(const float m[6], float y[4]) {
  const float t0 = m[1] + m[2], t1 = m[1] - m[2], t2 = m[3] + m[4], t3 = m[3] - m[4];
  y[0] = m[0] + t0 + t2;
  y[1] = t1 + 2.f * t3;
  y[2] = t0 + 4.f * t2;
  y[3] = m[5] + t1 + 8.f * t3;
}

void InputTransformPortable(const WinogradInput& w) {
  for (int i = 0; i < w.count; ++i) {
    const int64_t t = w.tile0 + i, ty = t / w.tiles_x, tx = t % w.tiles_x;
    const int64_t y0 = 4 * ty - w.pad_top, x0 = 4 * tx - w.pad_left;
    for (int64_t c = w.c0; c < w.c1; ++c) {
      const float* plane = w.in + c * w.in_hw;
      float h[6][6];
      for (int r = 0; r < 6; ++r) {
        float d[6];
        const int64_t y = y0 + r;
        for (int s = 0; s < 6; ++s) {
          const int64_t x = x0 + s;
          d[s] = y >= 0 && y < w.in_h && x >= 0 && x < w.in_w ? plane[y * w.in_w + x] : 0.f;
        }
        InputTransform1d(d, h[r]);  // h[r][b] = (d B)[r][b]
      }
      for (int b = 0; b < 6; ++b) {
        const float col[6] = {h[0][b], h[1][b], h[2][b], h[3][b], h[4][b], h[5][b]};
        float v[6];
        InputTransform1d(col, v);
        for (int a = 0; a < 6; ++a) w.v[(a * 6 + b) * w.comp_stride + c * w.chan_stride + i] = v[a];
      }
    }
  }
}

float ActivatePortable(float v, int activation) {
  if (activation == 1) return v > 0.f ? v : 0.f;
  if (activation == 2) return std::min(std::max(v, 0.f), 6.f);
  return v;
}

void OutputTransformPortable(const WinogradOutput& w) {
  for (int i = 0; i < w.count; ++i) {
    const int64_t t = w.tile0 + i, ty = t / w.tiles_x, tx = t % w.tiles_x;
    for (int64_t o = w.o0; o < w.o1; ++o) {
      const float* m = w.m + (o - w.o0) * w.row_stride + i;
      float z[4][6];
      for (int b = 0; b < 6; ++b) {
        float col[6], y[4];
        for (int a = 0; a < 6; ++a) col[a] = m[(a * 6 + b) * w.comp_stride];
        OutputTransform1d(col, y);
        for (int r = 0; r < 4; ++r) z[r][b] = y[r];
      }
      float* plane = w.out + o * w.out_hw;
      for (int r = 0; r < 4; ++r) {
        const int64_t oy = 4 * ty + r;
        if (oy >= w.out_h) break;
        // The bias joins column 1, whose Aᵀ column is all ones: it reaches each output once.
        z[r][1] += w.bias[o];
        float y[4];
        OutputTransform1d(z[r], y);
        for (int x = 0; x < 4 && 4 * tx + x < w.out_w; ++x) {
          plane[oy * w.out_w + 4 * tx + x] = ActivatePortable(y[x], w.activation);
        }
      }
    }
  }
}

const Fp32WinogradTransforms& WinogradTransformsPortable() {
  static const Fp32WinogradTransforms transforms{InputTransformPortable, OutputTransformPortable};
  return transforms;
}

}  // namespace

const char* ConvAlgoName(ConvAlgo algo) {
  switch (algo) {
    case ConvAlgo::kAuto: return "auto";
    case ConvAlgo::kDirect: return "direct";
    case ConvAlgo::kWinograd: return "winograd";
  }
  return "?";
}

bool WinogradApplies(const Conv2dParams& p) {
  return p.kernel_h == 3 && p.kernel_w == 3 && p.stride_h == 1 && p.stride_w == 1 && p.dilation_h == 1 &&
         p.dilation_w == 1 && p.group == 1 && p.out_h > 0 && p.out_w > 0;
}

// Measured with `quant_bench --conv_sweep` (3x3 pad 1 on 7x7 to 56x56, 4 to 256 channels in and out, 1 thread,
// with hot caches and after evicting them; doc/performance.md), Winograd time / direct time with AVX-512:
// - fewer than 16 tiles (7x7: 4 tiles) lost everywhere, 1.2x to 3.4x hot: the GEMMs' columns are the tiles, 16 to
//   a vector, so a smaller grid leaves lanes idle while the transforms and the 4x larger weights cost in full;
// - 4 input channels never won; 8 input channels, or 8 and 16 output channels, won with hot caches (0.5x to 1.0x)
//   but mostly lost after eviction, up to 2.3x: too few channels share the transforms and the reads of V;
// - from 16 tiles, 16 input and 32 output channels on: 0.39x to 0.72x hot; evicted 0.50x to 1.29x (1.51x for
//   16 -> 32 channels on 28x28). The model sits near the hot figures: SqueezeNet's expand layers take 0.54x to
//   0.69x there (0.43x to 0.55x alone, hot; 0.59x to 0.96x evicted).
// The rule misses some wins (8 or 16 output channels from 64 input channels at 56x56). With the AVX2 transforms
// (winograd_fp32_avx2.cc) on a Zen 3 the same rule holds: 0.41x to 0.69x hot from 16 tiles, 16 input and 32 output
// channels on (SqueezeNet's 16 -> 64 at 56x56 0.57x, 0.82x evicted), 1.1x to 3.8x on 7x7 outputs. The portable
// transforms were not made fast: without AVX2 the direct path stays. The rule must not depend on the thread count:
// the two paths round differently.
ConvAlgo ChooseConvAlgo(const Conv2dParams& p, Fp32Isa isa) {
  if (!WinogradApplies(p) || (isa != Fp32Isa::kAvx512 && isa != Fp32Isa::kAvx2)) return ConvAlgo::kDirect;
  const int64_t tiles = int64_t{(p.out_h + 3) / 4} * ((p.out_w + 3) / 4);
  return tiles >= 16 && p.in_c >= 16 && p.out_c >= 32 ? ConvAlgo::kWinograd : ConvAlgo::kDirect;
}

void ConvFp32::InitWinograd(const float* weights) {
  const Conv2dParams& p = p_;
  tiles_x_ = (p.out_w + 3) / 4;
  tiles_ = tiles_x_ * ((p.out_h + 3) / 4);
#if QT_X86_KERNELS
  transforms_ = isa_ == Fp32Isa::kAvx512 ? &WinogradTransformsAvx512()
                : isa_ == Fp32Isa::kAvx2  ? &WinogradTransformsAvx2()
                                          : &WinogradTransformsPortable();
  // At most 16 tiles: every GEMM has at most 16 columns, one vector, which the 16x16 kernel fills with twice the
  // rows of the 8x32 one (14x14 outputs: fire6 to fire9's GEMMs 1.35x faster).
  if (isa_ == Fp32Isa::kAvx512 && tiles_ <= kGroup) kernel_ = &Fp32MicroKernelAvx512Narrow();
#else
  transforms_ = &WinogradTransformsPortable();
#endif
  const int64_t budget = kVBytes / static_cast<int64_t>(sizeof(float) * kComponents * p.in_c);
  super_tiles_ = std::min(tiles_, std::max(kTileBlock, budget / kTileBlock * kTileBlock));
  v_row_ = RoundUp(super_tiles_, kGroup);
  const int mr = kernel_->mr;
  const int64_t ic = p.in_c, oc_block = RoundUp(kOcBlock, mr);
  packed_.assign(static_cast<size_t>(kComponents * RoundUp(p.out_c, mr) * ic), 0.f);
  for (int64_t o = 0; o < p.out_c; ++o) {
    // Each block of output channels holds its 36 components one after the other, in the order a unit of RunWinograd
    // reads them: [oc blocks][36][row blocks][in_c][mr].
    const int64_t o0 = o / oc_block * oc_block, rows = RoundUp(std::min(oc_block, p.out_c - o0), mr);
    const int64_t comp_stride = rows * ic;
    for (int64_t c = 0; c < ic; ++c) {
      const float* g = weights + (o * ic + c) * 9;
      double gt[6][3];  // G g
      for (int a = 0; a < 6; ++a) {
        for (int kx = 0; kx < 3; ++kx) {
          gt[a][kx] = kG[a][0] * g[kx] + kG[a][1] * g[3 + kx] + kG[a][2] * g[6 + kx];
        }
      }
      float* dst = packed_.data() + kComponents * o0 * ic + (o - o0) / mr * ic * mr + c * mr + (o - o0) % mr;
      for (int a = 0; a < 6; ++a) {
        for (int b = 0; b < 6; ++b) {
          const double u = gt[a][0] * kG[b][0] + gt[a][1] * kG[b][1] + gt[a][2] * kG[b][2];
          dst[(a * 6 + b) * comp_stride] = static_cast<float>(u);
        }
      }
    }
  }
  koff_.resize(static_cast<size_t>(ic));
  for (int64_t k = 0; k < ic; ++k) koff_[k] = k * v_row_;
}

void ConvFp32::RunWinograd(const float* in, float* out) const {
  const Conv2dParams& p = p_;
  const Fp32MicroKernel& mk = *kernel_;
  const Fp32WinogradTransforms& tr = *transforms_;
  const int64_t ic = p.in_c, oc = p.out_c;
  const int64_t in_hw = int64_t{p.in_h} * p.in_w, out_hw = int64_t{p.out_h} * p.out_w;
  // One cache line more than the component needs: at a power-of-two stride (64 channels of 16 tiles: 4 KB) the 36
  // stores of a channel's components all fell into one L1 set (fire8's input transform ran 4x slower).
  const int64_t v_comp_stride = ic * v_row_ + kGroup;
  float* v = Scratch(kComponents * v_comp_stride, kV);
  const int64_t in_chunks = (ic + kInChunk - 1) / kInChunk;
  const int64_t oc_block = RoundUp(kOcBlock, mk.mr), oc_blocks = (oc + oc_block - 1) / oc_block;
  const int activation = ActivationCode(p.activation);
  // The AVX-512 tiles prefetch the lines they are given one per k step, between their FMAs: measured on a Zen 4
  // with the weights evicted from the caches (as SqueezeNet's fire6 to fire9 find them), 0.33 -> 0.24 ms for
  // 64 -> 256 channels on 13x13 and 0.21 -> 0.15 ms for 48 -> 192, against a loop of prefetches before each tile,
  // which filled the miss queue. The other tiles ignore the lines: they get that loop.
  const bool spread = isa_ == Fp32Isa::kAvx512;

  for (int n = 0; n < p.batch; ++n) {
    const float* src = in + int64_t{n} * ic * in_hw;
    float* dst = out + int64_t{n} * oc * out_hw;
    for (int64_t s0 = 0; s0 < tiles_; s0 += super_tiles_) {
      const int64_t sn = std::min(super_tiles_, tiles_ - s0);  // tiles [s0, s0 + sn), V column t − s0
      const int64_t groups = (sn + kGroup - 1) / kGroup, tile_blocks = (sn + kTileBlock - 1) / kTileBlock;
      ParallelFor(groups * in_chunks, [&](int64_t u0, int64_t u1) {
        for (int64_t u = u0; u < u1; ++u) {
          const int64_t g = u / in_chunks, chunk = u % in_chunks;
          WinogradInput w;
          w.in = src;
          w.in_hw = in_hw;
          w.in_h = p.in_h;
          w.in_w = p.in_w;
          w.pad_top = p.pad_top;
          w.pad_left = p.pad_left;
          w.tiles_x = tiles_x_;
          w.tile0 = s0 + g * kGroup;
          w.count = static_cast<int>(std::min<int64_t>(kGroup, sn - g * kGroup));
          w.c0 = chunk * kInChunk;
          w.c1 = std::min(ic, w.c0 + kInChunk);
          w.v = v + g * kGroup;
          w.comp_stride = v_comp_stride;
          w.chan_stride = v_row_;
          tr.input(w);
        }
      });
      // Units take output-channel blocks innermost, so consecutive units share their tiles' V.
      ParallelFor(tile_blocks * oc_blocks, [&](int64_t u0, int64_t u1) {
        for (int64_t u = u0; u < u1; ++u) {
          const int64_t t0 = (u / oc_blocks) * kTileBlock, o0 = (u % oc_blocks) * oc_block;  // t0 within the block
          const int64_t tn = std::min(kTileBlock, sn - t0), on = std::min(oc_block, oc - o0);
          const int64_t tpad = RoundUp(tn, kGroup);
          float* m = Scratch(on * kComponents * tpad, kM);
          Fp32Gemm gemm;
          gemm.koff = koff_.data();
          gemm.k = ic;
          gemm.m = on;
          gemm.n = tn;
          gemm.out_stride = kComponents * tpad;
          gemm.grid_w = gemm.out_w = tn;
          const int64_t row_blocks = (on + mk.mr - 1) / mk.mr;
          // The unit's weights, read once per run: a stream from memory in a model whose weights outgrow the
          // cache. Each component's slice is prefetched kPrefetchAhead components ahead, a share per row block.
          const int64_t u_offset = kComponents * o0 * ic;
          const float* u_block = packed_.data() + u_offset;
          const int64_t slice = row_blocks * mk.mr * ic, share = (slice + row_blocks - 1) / row_blocks;
          for (int comp = 0; comp < kComponents; ++comp) {
            gemm.a = u_block + comp * slice;
            gemm.b = v + comp * v_comp_stride + t0;
            gemm.out = m + comp * tpad;
            // Past the unit's last component the stream runs on into the next output-channel block, the next unit
            // of this thread in most runs.
            const int64_t ahead = u_offset + (comp + kPrefetchAhead) * slice;
            const bool fetch = ahead + slice <= static_cast<int64_t>(packed_.size());
            for (int64_t rb = 0; rb < row_blocks; ++rb) {
              gemm.prefetch_lines = 0;
              if (fetch) {
                const float* lines = packed_.data() + ahead + rb * share;
                const int64_t count = std::min(share, slice - rb * share);
                if (spread) {
                  gemm.prefetch = lines;
                  gemm.prefetch_lines = (count + 15) / 16;
                } else {
                  Prefetch(lines, count);
                }
              }
              for (int64_t j0 = 0; j0 < tn; j0 += mk.nr) {
                mk.tile(gemm, rb, j0);
                gemm.prefetch_lines = 0;
              }
            }
          }
          WinogradOutput w;
          w.row_stride = kComponents * tpad;
          w.comp_stride = tpad;
          w.o0 = o0;
          w.o1 = o0 + on;
          w.bias = bias_.data();
          w.activation = activation;
          w.out = dst;
          w.out_hw = out_hw;
          w.out_h = p.out_h;
          w.out_w = p.out_w;
          w.tiles_x = tiles_x_;
          for (int64_t t = t0; t < t0 + tn; t += kGroup) {
            w.m = m + (t - t0);
            w.tile0 = s0 + t;
            w.count = static_cast<int>(std::min<int64_t>(kGroup, t0 + tn - t));
            tr.output(w);
          }
        }
      });
    }
  }
}

}  // namespace qt
