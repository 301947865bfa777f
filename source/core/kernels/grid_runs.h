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

}  // namespace qt
