#pragma once

// Internal interface between the int8 GEMM drivers (kernels_int8.cc: ConvInt8, InnerProductInt8, GemmInt8) and
// their micro-kernels, one translation unit per instruction set, each compiled with its own target flags. The
// AVX2 and AVX-512 translation units include only this header, grid_runs.h and intrinsics, so that no inline
// function compiled for a wider instruction set can be picked by the linker for code that runs on any CPU.
//
// The GEMM is C[r][j] = Σ_k A[r][k]·B[k][j] over int8 A (weights) and B (activations), with B's rows taken from
// plain int8 planes as in conv_plan.h. Each kernel groups `kgroup` consecutive channels of the planes into one
// k-group whose values sit side by side for every column (VNNI: 4 bytes stored as x + 128 = x ^ 0x80; AVX2: 2
// sign-extended int16; scalar: 1 byte), and packs A to match.

#include <cstdint>

#include "core/kernels/grid_runs.h"

namespace qt {

struct Int8Gemm {
  const int8_t* a = nullptr;     // packed weights, row block rb at a + rb·a_block_bytes
  int64_t a_block_bytes = 0;
  const uint8_t* b = nullptr;    // packed B: k-group row g, column j at b + koff[g] + j·b_column_bytes
  const int64_t* koff = nullptr;
  int64_t kgroups = 0;
  int64_t m = 0, n = 0;          // valid rows; grid columns (B may be read past n, up to the tile's end)
  const int32_t* row_add = nullptr;  // per row, added to the sum: bias, zero-point terms, the kernel's correction
  const int32_t* col_sum = nullptr;  // per column Σ_k B[k][j] (nullptr when no weight zero point), read up to
  const int32_t* weight_zero = nullptr;  // the tile's end; the sum takes −weight_zero[r]·col_sum[j]
  // Int32 output (GemmInt8): c[r·ldc + j]; else requantized int8 output.
  int32_t* c = nullptr;
  int64_t ldc = 0;
  // Requantization per row, exactly RequantizeInt8: float(acc)·multiplier, ReLU or ReLU6, output zero point.
  const float* multiplier = nullptr;
  const int8_t* out_zero = nullptr;
  const int8_t* relu6_max = nullptr;
  int activation = 0;            // 0 none, 1 ReLU, 2 ReLU6
  const void* requant = nullptr; // the Int8Requant itself and the channel of row 0, for the scalar kernel
  int64_t row_base = 0;
  // A fused Add (RequantizeAddInt8): the operand's row r at add + r·out_stride, laid out as out; nullptr when
  // none. fusion 1: added before the activation, 2: after it.
  const int8_t* add = nullptr;
  const float* add_scale = nullptr;
  const int8_t* add_zero = nullptr;
  int fusion = 0;
  int8_t* out = nullptr;         // row r at out + r·out_stride, compacted as in conv_plan.h
  int64_t out_stride = 0;
  int64_t grid_w = 0, out_w = 0;
};

// One channel of a depthwise convolution whose weight zero point is 0, on plain int8 planes (conv_plan.h). Its
// taps are grouped in quads of row offsets at most 3 apart: byte i of quad_w[q] weighs planes[quad_off[q] + i + j]
// for grid column j (0 where no tap has that offset). Grid column j < grid_n gets
//   acc = Σ_k w[k]·planes[koff[k] + j] + row_add,  then exactly RequantizeInt8,
// and the valid columns (j % grid_w < out_w) land at out, out_h x out_w row-major.
constexpr int64_t kDepthwiseBlock = 128;  // grid columns per step; planes readable up to a whole step past grid_n
struct Int8DepthwisePlane {
  const int8_t* planes = nullptr;  // readable at quad_off[q] + [0, RoundUp(grid_n, kDepthwiseBlock) + 3]
  const int64_t* quad_off = nullptr;
  const int32_t* quad_w = nullptr;
  int64_t quads = 0;
  int32_t row_add = 0;   // bias and every zero-point term
  int32_t w_sum = 0;     // Σ_k w[k]
  float multiplier = 0.f;
  int8_t out_zero = 0, relu6_max = 0;
  int activation = 0;    // 0 none, 1 ReLU, 2 ReLU6
  int64_t grid_n = 0, grid_w = 0, out_h = 0, out_w = 0;
  int8_t* grid = nullptr;  // scratch of RoundUp(grid_n, kDepthwiseBlock) bytes
  int8_t* out = nullptr;
};

// One channel of a 3x3 depthwise convolution, stride 1 or 2, dilation 1, whose input and weight zero points are 0
// (Int8DepthwiseDirectApplies), read straight from its int8 input plane (pads read as 0):
// acc = Σ_k w[k]·in[window k] + row_add, then exactly RequantizeInt8, to out, out_h x out_w row-major. The
// micro-kernel sums the products in float lanes: each product is at most 2^14 and nine of them stay below 2^24, so
// every partial sum is an exact integer whatever the order.
struct Int8DepthwiseDirect {
  const int8_t* in = nullptr;  // in_h x in_w
  const int8_t* w = nullptr;   // 9 weights, row-major
  int32_t row_add = 0;         // the bias
  float multiplier = 0.f;
  int8_t out_zero = 0, relu6_max = 0;
  int activation = 0;          // 0 none, 1 ReLU, 2 ReLU6
  int stride = 1;
  int kernel = 3;              // the window's side: 3 (5 only for DepthwiseDirectAvx512Vbmi)
  int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0, pad_top = 0, pad_left = 0;
  int8_t* out = nullptr;
};

// Whether Int8MicroKernel::depthwise_direct computes a window and stride: 3x3, stride 1 or 2, dilation 1.
inline bool Int8DepthwiseDirectApplies(int kernel_h, int kernel_w, int stride_h, int stride_w, int dilation_h,
                                       int dilation_w) {
  return kernel_h == 3 && kernel_w == 3 && dilation_h == 1 && dilation_w == 1 && stride_h == stride_w &&
         (stride_h == 1 || stride_h == 2);
}

// One channel's planes of a depthwise convolution in conv_plan.h's kShifted layout, exactly what BuildPlanes
// writes for it: stride² phases of hq x wq, phase (py, px) row y, column x holding input (y·S + py − pad_top,
// x·S + px − pad_left), `pad` outside the input. Stride 1 or 2. Writes up to kPhasePlanesOverrun bytes past the
// planes.
constexpr int64_t kPhasePlanesOverrun = 64;
struct Int8PhasePlanes {
  const int8_t* in = nullptr;  // in_h x in_w
  int64_t in_h = 0, in_w = 0;
  int stride = 1, pad_top = 0, pad_left = 0;
  int64_t hq = 0, wq = 0;
  int8_t pad = 0;
  int8_t* dst = nullptr;
};

// One plane of a two-input int8 Add, exactly AddInt8Ref: out[i] = Float2Int8((sa·(a[i] − za) + sb·(b[i] − zb)) / so
// + zo), each product and sum in float in that order.
struct Int8AddPlane {
  const int8_t* a = nullptr;
  const int8_t* b = nullptr;
  int64_t n = 0;
  float sa = 0.f, za = 0.f, sb = 0.f, zb = 0.f, so = 0.f, zo = 0.f;
  int8_t* out = nullptr;
};

struct Int8MicroKernel {
  const char* name;
  int mr, nr;
  int kgroup;            // channels per k-group
  int b_column_bytes;    // bytes of one k-group at one column
  // Bytes of one packed row block of A for `groups` k-groups.
  int64_t (*a_block_bytes)(int64_t groups);
  // Packs rows [0, m) of w (row r: k values in the order channel·taps + tap, k = channels·taps) into row blocks of
  // k-groups (group q·taps + t holds channels q·kgroup .. q·kgroup + kgroup − 1 at tap t; missing channels and
  // rows are zero). Writes the kernel's constant correction of each row to correction[r] (rows < m).
  void (*pack_a)(const int8_t* w, int64_t m, int64_t channels, int taps, int8_t* dst, int32_t* correction);
  // Packs k-groups [q0, q1) of plain int8 planes (channel c at src + c·src_stride, `count` values each; channels
  // past `channels` read as 0) into dst, k-group q at dst + q·dst_stride·b_column_bytes.
  void (*pack_b)(const int8_t* src, int64_t channels, int64_t src_stride, int64_t count, int64_t q0, int64_t q1,
                 int64_t dst_stride, uint8_t* dst);
  // Rows [rb·mr, rb·mr + mr) ∩ [0, m), columns [j0, j0 + nr) ∩ [0, n).
  void (*tile)(const Int8Gemm& g, int64_t rb, int64_t j0);
  // nullptr: ConvInt8 runs its portable depthwise loop.
  void (*depthwise)(const Int8DepthwisePlane& d);
  // nullptr: BuildPlanes builds the depthwise planes.
  void (*phase_planes)(const Int8PhasePlanes& p);
  // The inner windows of one output row of a 2x2 stride-2 max pooling (pool_max.h's MaxRow2s2); nullptr: the
  // portable loop.
  void (*max_row2s2)(const int8_t* src, int64_t in_w, int8_t low, int64_t count, int8_t* dst);
  // nullptr: the portable loop.
  void (*add_plane)(const Int8AddPlane& a);
  // nullptr: InnerProductInt8 runs batch 1 on the tiles. Otherwise row block rb of a one-column GEMM with requantized
  // output, no activation and no weight zero point (g.col_sum nullptr, g.c nullptr, no fused Add): g.a,
  // g.a_block_bytes, g.kgroups, g.m, g.row_add, g.multiplier and g.out_zero as for `tile`, B read straight from the
  // int8 vector x (k-group q at
  // x + 4q; bytes past the last k-group's weights may hold anything: their packed weights are 0), out[r] at
  // g.out + r.
  void (*gemv)(const Int8Gemm& g, const int8_t* x, int64_t k, int64_t rb);
  // Two channels of one layer whose grids fit in kDepthwiseBlock / 2 columns (7x7 outputs), each exactly as
  // `depthwise` computes it; nullptr: `depthwise` one channel at a time.
  void (*depthwise_pair)(const Int8DepthwisePlane& a, const Int8DepthwisePlane& b);
  // Channels a and b (b nullptr: a alone) of one layer with the same geometry (Int8DepthwiseDirectApplies), each
  // exactly as Int8DepthwiseDirect describes; nullptr: the plane kernels.
  void (*depthwise_direct)(const Int8DepthwiseDirect& a, const Int8DepthwiseDirect* b);
};

// dst[i] = table[(uint8_t)src[i]] for i < n, 64 bytes per step (two vpermi2b and a blend), for CPUs with
// AVX-512 VBMI (map_int8_avx512vbmi.cc).
void MapBytesAvx512Vbmi(const uint8_t* table, const int8_t* src, int64_t n, int8_t* dst);

// Whether this CPU runs the VBMI kernels (AVX-512 F, BW and VBMI).
bool CpuHasVbmi();

// Int8MicroKernel::depthwise_direct, also for 5x5 windows (DepthwiseVbmiApplies), for CPUs with AVX-512 VNNI and
// VBMI (depthwise_int8_avx512vbmi.cc): four taps of a window row in one vpdpbusd per output lane, two channels to
// a vector where rows of at most 8 outputs and their windows fit 16 input columns.
void DepthwiseDirectAvx512Vbmi(const Int8DepthwiseDirect& a, const Int8DepthwiseDirect* b);
inline bool DepthwiseVbmiApplies(int kernel_h, int kernel_w, int stride_h, int stride_w, int dilation_h,
                                 int dilation_w) {
  return kernel_h == kernel_w && (kernel_h == 3 || kernel_h == 5) && dilation_h == 1 && dilation_w == 1 &&
         stride_h == stride_w && (stride_h == 1 || stride_h == 2);
}

const Int8MicroKernel& Int8MicroKernelScalar();
const Int8MicroKernel& Int8MicroKernelAvx2();
const Int8MicroKernel& Int8MicroKernelAvx512Vnni();

}  // namespace qt
