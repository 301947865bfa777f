#pragma once

#include <cstdint>
#include <functional>

namespace qt {

// Number of threads ParallelFor may use (default: hardware concurrency). Results of every kernel must not
// depend on this value; kernels partition work so that each output element is computed by exactly one thread
// in a fixed order.
void SetNumThreads(int n);
int GetNumThreads();

// Calls fn(begin, end) over a static partition of [0, n) into at most GetNumThreads() contiguous chunks,
// on a persistent pool; returns when all chunks are done. Nested calls from inside fn run serially.
void ParallelFor(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace qt
