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
};

struct Fp32MicroKernel {
  const char* name;
  int mr, nr;
  // Computes rows [rb·mr, rb·mr + mr) ∩ [0, m) and columns [j0, j0 + nr) ∩ [0, n). The k-summation of every output
  // is sequential in k, so results do not depend on how tiles are shared among threads.
  void (*tile)(const Fp32Gemm& g, int64_t rb, int64_t j0);
};

const Fp32MicroKernel& Fp32MicroKernelScalar();
const Fp32MicroKernel& Fp32MicroKernelAvx2();
const Fp32MicroKernel& Fp32MicroKernelAvx512();

}  // namespace qt
