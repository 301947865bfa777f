#pragma once

#include <cstdint>
#include <functional>

namespace qt {

// Number of threads ParallelFor may use (default: hardware concurrency). Results of every kernel must not
// depend on this value; kernels partition work so that each output element is computed by exactly one thread
// in a fixed order.
void SetNumThreads(int n);
int GetNumThreads();

// Calls fn(begin, end) over contiguous chunks of [0, n) (a fixed split into at most 4·GetNumThreads() chunks),
// which the calling thread and the pool's workers claim as they come; returns when all chunks are done. Which
// thread runs a chunk is not fixed, so fn must compute every item of its range independently of the others.
// Nested calls from inside fn run serially.
void ParallelFor(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace qt
