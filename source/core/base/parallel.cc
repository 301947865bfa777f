#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace qt {
namespace {

// Set on pool workers and on a caller while it runs a job, so that nested ParallelFor calls run serially instead
// of waiting on a pool that is busy with their parent.
thread_local bool tls_inside_pool = false;

// How long a worker keeps polling for the next job before it sleeps. A forward pass issues several jobs per
// layer back to back; a condition-variable wake-up per job (a futex round trip) costs more than most jobs.
constexpr auto kSpinTime = std::chrono::microseconds(200);
// Chunks per thread: the caller and the workers claim chunks as they come, so a worker that the OS has not
// scheduled (the machine is shared) delays nothing; the caller runs the chunks itself.
constexpr int kChunksPerThread = 4;

void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// A fixed pool of n-1 workers helping the calling thread. A job is published seqlock-style: the caller makes
// `generation_` odd, waits until no worker is inside the previous job, writes the job, and makes it even again;
// a worker registers in `active_` and re-checks the generation before it reads the job, so it never reads a job
// being rewritten. Chunks are claimed from `next_`; the caller returns when all are `finished_`.
class Pool {
 public:
  static Pool& Get() {
    static Pool pool;
    return pool;
  }

  void SetThreads(int n) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    Stop();
    threads_ = std::max(1, n);
    Start();
  }
  int threads() const { return threads_; }

  void Run(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
    const int64_t chunks = std::min<int64_t>(n, int64_t{threads_} * kChunksPerThread);
    if (threads_ <= 1 || chunks <= 1 || tls_inside_pool) {
      if (n > 0) fn(0, n);
      return;
    }
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    const uint64_t g = generation_.load();
    generation_.store(g + 1);
    while (active_.load() != 0) CpuRelax();
    fn_ = &fn;
    n_ = n;
    chunks_ = chunks;
    next_.store(0);
    finished_.store(0);
    generation_.store(g + 2);
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      cv_.notify_all();
    }
    tls_inside_pool = true;
    RunChunks();
    tls_inside_pool = false;
    for (int spin = 0; finished_.load() != chunks; ++spin) {
      if (spin < 4096) {
        CpuRelax();
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  Pool() {
    const unsigned hc = std::thread::hardware_concurrency();
    threads_ = hc == 0 ? 1 : static_cast<int>(hc);
    Start();
  }
  ~Pool() { Stop(); }

  void RunChunks() {
    for (int64_t c = next_.fetch_add(1); c < chunks_; c = next_.fetch_add(1)) {
      const int64_t begin = n_ * c / chunks_, end = n_ * (c + 1) / chunks_;
      if (begin < end) (*fn_)(begin, end);
      finished_.fetch_add(1);
    }
  }

  // Waits for a published generation other than `seen` (polling first, then on the condition variable); returns
  // it, or 0 when the pool stops.
  uint64_t WaitForJob(uint64_t seen) {
    const auto start = std::chrono::steady_clock::now();
    auto published = [&] {
      const uint64_t g = generation_.load();
      return g != seen && g % 2 == 0 ? g : 0;
    };
    for (int spin = 0;; ++spin) {
      if (stop_.load()) return 0;
      if (const uint64_t g = published()) return g;
      if (spin % 64 != 0 || std::chrono::steady_clock::now() - start < kSpinTime) {
        CpuRelax();
        continue;
      }
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      cv_.wait(lock, [&] { return stop_.load() || published() != 0; });
      sleepers_.fetch_sub(1);
    }
  }

  void Start() {
    stop_.store(false);
    // Read here, not on the new thread: a job published before the thread first runs would otherwise count as
    // already seen, and the caller would run all of it alone (a lazily created pool's first job, e.g. the whole
    // blob-scale phase of a run from saved statistics, went serial).
    const uint64_t start_generation = generation_.load();
    for (int i = 1; i < threads_; ++i) {
      workers_.emplace_back([this, start_generation] {
        tls_inside_pool = true;
        uint64_t seen = start_generation;
        for (uint64_t g = WaitForJob(seen); g != 0; g = WaitForJob(seen)) {
          active_.fetch_add(1);
          if (generation_.load() == g) {
            seen = g;
            RunChunks();
          }
          active_.fetch_sub(1);
        }
      });
    }
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_.store(true);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::mutex run_mutex_;  // one job at a time
  std::mutex mutex_;      // guards sleeping on cv_
  std::condition_variable cv_;
  std::vector<std::thread> workers_;
  // The current job, written only while generation_ is odd and no worker is active.
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int64_t chunks_ = 0;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> finished_{0};
  std::atomic<int> active_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  int threads_ = 1;
};

}  // namespace

void SetNumThreads(int n) { Pool::Get().SetThreads(n); }
int GetNumThreads() { return Pool::Get().threads(); }
void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) { Pool::Get().Run(n, fn); }

void RunConcurrently(int n, const std::function<void(int)>& fn) {
  auto task = [&fn](int i) {
    const bool outer = tls_inside_pool;
    tls_inside_pool = true;
    fn(i);
    tls_inside_pool = outer;
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i) threads.emplace_back(task, i);
  if (n > 0) task(0);
  for (auto& t : threads) t.join();
}

}  // namespace qt
