#pragma once

#include <cstddef>

namespace qt {

// Sums in double whose value depends on the data alone: term i goes to lane i % 32, each lane adds its terms as a
// fused multiply-add, and the lanes are combined in a fixed order; AVX-512 builds add four vectors of lanes at a
// time, others the same lanes one term at a time. Long sums of squares were one chain of dependent additions
// before, the largest cost of -b auto's consumer errors and of the adaptive rounding.

// Σ x[i]² (each square of a float exact in double).
double SumOfSquares(const float* x, size_t n);
// Σ (a[i] − b[i])².
double SquaredDistance(const float* a, const float* b, size_t n);
// Σ a[i]·b[i].
double Dot(const double* a, const double* b, size_t n);

}  // namespace qt
