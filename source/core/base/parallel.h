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

// Runs fn(0), ..., fn(n - 1) at the same time, each on a thread of its own (the caller runs fn(0)), for long-lived
// tasks that share work among themselves, such as calibration workers pulling inputs from a queue. ParallelFor
// calls made inside them run serially: the tasks already occupy the threads.
void RunConcurrently(int n, const std::function<void(int index)>& fn);

}  // namespace qt
