#pragma once

#include <algorithm>
#include <cstdint>

#include "core/kernels/kernels_fp32.h"

// Small helpers shared by the kernel drivers (not by the per-instruction-set micro-kernel files, which take plain
// ints and are compiled with their own target flags).
namespace qt {

inline int64_t RoundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

inline float Activate(float v, Activation a) {
  switch (a) {
    case Activation::kNone: return v;
    case Activation::kRelu: return v > 0.f ? v : 0.f;
    case Activation::kRelu6: return std::min(std::max(v, 0.f), 6.f);
  }
  return v;
}

// The micro-kernels' activation argument: 0 none, 1 ReLU, 2 ReLU6.
inline int ActivationCode(Activation a) {
  switch (a) {
    case Activation::kNone: return 0;
    case Activation::kRelu: return 1;
    case Activation::kRelu6: return 2;
  }
  return 0;
}

}  // namespace qt
