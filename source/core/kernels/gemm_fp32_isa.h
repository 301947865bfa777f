#pragma once

// Internal interface between the fp32 convolution driver (conv_fp32.cc) and its micro-kernels, one translation
// unit per instruction set, each compiled with its own target flags. The micro-kernel translation units include
// only this header, grid_runs.h and intrinsics, so that no inline function compiled for a wider instruction set
// can be picked by the linker for code that runs on any CPU.

#include <cstdint>

#include "core/kernels/grid_runs.h"

namespace qt {

// One GEMM of the packed convolution (see conv_plan.h): C[r][j] = Σ_k A[r][k]·B[k][j], then + bias[r], then the
// activation, stored at out + r·out_stride + (output position of grid column j).
struct Fp32Gemm {
  const float* a = nullptr;       // packed weights: [m / mr blocks][k][mr], rows past m zero
  const float* b = nullptr;       // B row k starts at b + koff[k]
  const int64_t* koff = nullptr;
  int64_t k = 0;
  int64_t m = 0;                  // valid rows
  int64_t n = 0;                  // grid columns; a tile never loads columns at or past n from B
  const float* bias = nullptr;    // [m] or nullptr
  int activation = 0;             // 0 none, 1 ReLU, 2 ReLU6
  float* out = nullptr;
  int64_t out_stride = 0;
  int64_t grid_w = 0, out_w = 0;  // grid column j is output (j / grid_w)·out_w + j % grid_w if j % grid_w < out_w
  // Cache lines for a kernel that takes them (the AVX-512 tiles) to prefetch while it computes: line i at
  // prefetch + 16·i, i < prefetch_lines, one per k step. A loop of prefetches before the tile stalled on the
  // full miss queue (2 % of MobileNetV2 on the prefetch itself); spread over the FMAs they overlap.
  const float* prefetch = nullptr;
  int64_t prefetch_lines = 0;
};

struct Fp32MicroKernel {
  const char* name;
  int mr, nr;
  // Computes rows [rb·mr, rb·mr + mr) ∩ [0, m) and columns [j0, j0 + nr) ∩ [0, n). The k-summation of every output
  // is sequential in k, so results do not depend on how tiles are shared among threads.
  void (*tile)(const Fp32Gemm& g, int64_t rb, int64_t j0);
  // nullptr, or for a GEMM of one column (n == 1) whose output rows are contiguous (out_stride == 1): row blocks
  // [rb0, rb1) as matrix-vector products, each output summed exactly as `tile` sums it.
  void (*gemv)(const Fp32Gemm& g, int64_t rb0, int64_t rb1);
};

// One channel of a depthwise convolution over its planes (conv_plan.h): output (oy, ox), ox < out_w, is
// activation(Σ_k w[k]·planes[koff[k] + oy·grid_w + ox] + bias), summed in k order. Reads only those positions.
struct Fp32DepthwisePlane {
  const float* planes = nullptr;
  const int64_t* koff = nullptr;
  int64_t k = 0;
  const float* w = nullptr;
  float bias = 0.f;
  int activation = 0;             // 0 none, 1 ReLU, 2 ReLU6
  int64_t out_h = 0, out_w = 0, grid_w = 0;
  float* out = nullptr;           // out_h x out_w, row-major
};
void DepthwisePlaneAvx2(const Fp32DepthwisePlane& d);

// One channel of a depthwise convolution (square kernel 3 or 5, stride 1 or 2, dilation 1) from its NCHW input
// plane, pads read as 0, in blocks of `rows` output rows (DepthwiseGridRows). Stride 1 reads the input itself;
// stride 2 reads phase planes the kernel builds in `planes`: conv_plan.h's kShifted layout (four phases of
// hq x wq), whose hq rows also cover the last block's rows. Output (oy, ox) is Σ_t w[t]·x in tap order from 0,
// + bias, then the activation (the sum of the other depthwise kernels).
struct Fp32DepthwiseGrid {
  const float* in = nullptr;  // in_h x in_w
  int64_t in_h = 0, in_w = 0;
  int kernel = 3, stride = 1, pad_top = 0, pad_left = 0;
  int64_t hq = 0, wq = 0;    // hq = RoundUp(out_h, rows) + (kernel − 1) / stride, wq = out_w + (kernel − 1) / stride
  int rows = 4;
  const float* w = nullptr;  // kernel x kernel
  float bias = 0.f;
  int activation = 0;
  int64_t out_h = 0, out_w = 0;
  float* planes = nullptr;   // scratch of DepthwiseGridScratchFloats floats
  float* out = nullptr;
};
// Output rows per block for an output row of out_w columns.
int DepthwiseGridRows(int64_t out_w);
bool DepthwiseGridAvx512Applies(int kernel_h, int kernel_w, int stride_h, int stride_w, int dilation_h,
                                int dilation_w);
// Floats of scratch a channel needs: the planes, the build's row overrun and every vector's reads.
int64_t DepthwiseGridScratchFloats(const Fp32DepthwiseGrid& d);
void DepthwiseGridAvx512(const Fp32DepthwiseGrid& d);
// The same contract on AVX2 for 3x3 windows at stride 1 or 2, dilation 1 (DepthwiseGridAvx2Applies); uses neither
// `planes`, `rows`, `hq` nor `wq` (its scratch is its own).
bool DepthwiseGridAvx2Applies(int kernel_h, int kernel_w, int stride_h, int stride_w, int dilation_h,
                              int dilation_w);
void DepthwiseGridAvx2(const Fp32DepthwiseGrid& d);
// Two channels of the same geometry (in_h, in_w, pads, stride, out_h, out_w, activation) at once, each computed
// exactly as DepthwiseGridAvx512 computes it, for planes whose output rows fit half a vector: a 3x3 window,
// out_w <= 8 and (out_w − 1)·stride + 3 <= 16 (7x7 outputs). Uses only in, w, bias and out of `b`; no scratch.
bool DepthwiseGridPairApplies(int kernel, int stride, int64_t out_w);
void DepthwiseGridPairAvx512(const Fp32DepthwiseGrid& a, const Fp32DepthwiseGrid& b);
// The same for planes whose output rows fit a vector once the window's columns are added: a 3x3 window, out_w <=
// 14 at stride 1, 15 at stride 2 (14x14 outputs); each channel in its own vectors, blocks of rows that match
// the plane's height where they can (7 for 14).
bool DepthwiseGridTwinApplies(int kernel, int stride, int64_t out_w);
void DepthwiseGridTwinAvx512(const Fp32DepthwiseGrid& a, const Fp32DepthwiseGrid& b);

void DepthwisePlaneAvx512(const Fp32DepthwisePlane& d);

// Output-channel tiles (AVX-512) for GEMMs whose columns are few and a multiple of 7 (a 1x1 convolution on 7x7
// planes: 49 columns, which the 8x32 tile covers as 32 and a 17-column tail; 14x14: 196, a 4-column tail): 32
// rows in two vectors (lane l: row rb·32 + l) x 7 columns, every lane useful. A is packed [m / 32 blocks][k][32]
// and m is a multiple of 32; the grid is contiguous (grid_w == out_w). Computes rows [rb·32, rb·32 + 32) and
// columns [j0, j0 + 7), each output Σ_k a·b from 0 in k order, + bias, then the activation (the other tiles' sum).
constexpr int kChannelTileRows = 32, kChannelTileCols = 7;
void ChannelTileAvx512(const Fp32Gemm& g, int64_t rb, int64_t j0);
// The same for columns [j0, j0 + 14): two tiles' columns per k step.
void ChannelTile14Avx512(const Fp32Gemm& g, int64_t rb, int64_t j0);
// ChannelTile14Avx512's outputs not stored but added, column after column, to sums[0, 32) (lane l: row rb·32 + l),
// as a global average pooling adds a plane's values in order: tiles of ascending j0 give each row its plane's sum.
void ChannelTile14SumsAvx512(const Fp32Gemm& g, int64_t rb, int64_t j0, float* sums);
// The two above for rows [rb·32, rb·32 + 16) only (sums[0, 16)): a last block of at most 16 channels.
void ChannelTile14HalfAvx512(const Fp32Gemm& g, int64_t rb, int64_t j0);
void ChannelTile14HalfSumsAvx512(const Fp32Gemm& g, int64_t rb, int64_t j0, float* sums);

const Fp32MicroKernel& Fp32MicroKernelScalar();
const Fp32MicroKernel& Fp32MicroKernelAvx2();
const Fp32MicroKernel& Fp32MicroKernelAvx512();
// 16x16 tiles, for GEMMs of at most 16 columns (Winograd layers of at most 16 tiles).
const Fp32MicroKernel& Fp32MicroKernelAvx512Narrow();

// Winograd F(4x4, 3x3) transforms (conv_winograd.cc) of a group of at most 16 output tiles, tiles
// [tile0, tile0 + count) in row-major order over a grid of tiles_x tiles per row; tile t covers outputs rows
// 4·(t / tiles_x) + [0, 4) and columns 4·(t % tiles_x) + [0, 4), clipped to the output. Lane i of every
// transformed vector is tile tile0 + i.

// V[comp][c][i] = (Bᵀ d B)[comp] of channel c's 6x6 input patch of tile i (rows 4·ty − pad_top + [0, 6), columns
// 4·tx − pad_left + [0, 6), zero outside the input), for channels [c0, c1). Stored at v + comp·comp_stride +
// c·chan_stride + i, lanes [0, count) only.
struct WinogradInput {
  const float* in = nullptr;  // channel c's plane at in + c·in_hw
  int64_t in_hw = 0;
  int in_h = 0, in_w = 0, pad_top = 0, pad_left = 0;
  int64_t tiles_x = 0, tile0 = 0;
  int count = 0;
  int64_t c0 = 0, c1 = 0;
  float* v = nullptr;
  int64_t comp_stride = 0, chan_stride = 0;
};

// out = activation(Aᵀ M A + bias[o]) of every tile of the group for output channels [o0, o1): M[comp] of channel o
// and tile i at m + (o − o0)·row_stride + comp·comp_stride + i (lanes at or past count are never used). Channel
// o's output plane is at out + o·out_hw; only outputs inside out_h x out_w are written.
struct WinogradOutput {
  const float* m = nullptr;
  int64_t row_stride = 0, comp_stride = 0;
  int64_t o0 = 0, o1 = 0;
  const float* bias = nullptr;  // [o], never nullptr
  int activation = 0;           // 0 none, 1 ReLU, 2 ReLU6
  float* out = nullptr;
  int64_t out_hw = 0;
  int out_h = 0, out_w = 0;
  int64_t tiles_x = 0, tile0 = 0;
  int count = 0;
};

struct Fp32WinogradTransforms {
  void (*input)(const WinogradInput& w);
  void (*output)(const WinogradOutput& w);
};

const Fp32WinogradTransforms& WinogradTransformsAvx512();
const Fp32WinogradTransforms& WinogradTransformsAvx2();

// dst[i] = max(low, the 3x3 window of rows r, r + in_w, r + 2·in_w at columns 2i + [0, 3)) for i < count; reads
// only those elements (pool_max.h's MaxRow3s2).
void MaxPool3x3s2RowAvx512(const float* r, int64_t in_w, float low, int64_t count, float* dst);
// The same for a 2x2 stride-2 window (MaxRow2s2 in pool_max.h).
void MaxPool2x2s2RowAvx512(const float* r, int64_t in_w, float low, int64_t count, float* dst);

}  // namespace qt
