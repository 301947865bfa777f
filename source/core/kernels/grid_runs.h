#pragma once

#include <cstdint>

namespace qt {

// The output of a GEMM tile of grid columns [j0, j0 + count) (see conv_plan.h) as runs of consecutive valid
// columns: run r covers grid columns [first[r], first[r] + len[r]) and lands at offset out[r] of the output plane.
// Only <cstdint> here: micro-kernel translation units include it.
struct GridRuns {
  int n = 0;
  int64_t first[40], len[40], out[40];
};

// `count` is at most 32; grid_w >= out_w >= 1.
void TileRuns(int64_t grid_w, int64_t out_w, int64_t grid_n, int64_t j0, int64_t count, GridRuns* runs);

// Where the 16 grid columns [16v, 16v + 16) of a vector land: the lanes set in `valid` (valid columns, in
// order) go to consecutive outputs from `out` on, since a grid row's valid columns are the output row and the
// next row's follow it. `store` has the low popcount(valid) bits set.
struct GridVector16 {
  uint16_t valid = 0, store = 0;
  int64_t out = 0;
};

}  // namespace qt
