#include "parallel.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace qt {
namespace {

// Set on pool workers and on a caller while it runs its chunk, so that nested ParallelFor calls run serially
// instead of waiting on a pool that is busy with their parent.
thread_local bool tls_inside_pool = false;

// A fixed pool of workers that each run one chunk of the current job. The calling thread runs chunk 0,
// so a pool of n threads has n-1 workers.
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
    const int chunks = static_cast<int>(std::min<int64_t>(threads_, n));
    if (chunks <= 1 || tls_inside_pool) {
      if (n > 0) fn(0, n);
      return;
    }
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = &fn;
      n_ = n;
      chunks_ = chunks;
      pending_ = chunks - 1;
      ++generation_;
    }
    cv_.notify_all();
    tls_inside_pool = true;
    RunChunk(0);
    tls_inside_pool = false;
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [&] { return pending_ == 0; });
    fn_ = nullptr;
  }

 private:
  Pool() {
    const unsigned hc = std::thread::hardware_concurrency();
    threads_ = hc == 0 ? 1 : static_cast<int>(hc);
    Start();
  }
  ~Pool() { Stop(); }

  void RunChunk(int c) {
    const int64_t begin = n_ * c / chunks_;
    const int64_t end = n_ * (c + 1) / chunks_;
    if (begin < end) (*fn_)(begin, end);
  }

  void Start() {
    stop_ = false;
    const uint64_t start_generation = generation_;
    for (int i = 1; i < threads_; ++i) {
      workers_.emplace_back([this, i, start_generation] {
        uint64_t seen = start_generation;
        tls_inside_pool = true;
        for (;;) {
          std::unique_lock<std::mutex> lock(mutex_);
          cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
          if (stop_) return;
          seen = generation_;
          if (i >= chunks_) continue;
          lock.unlock();
          RunChunk(i);
          lock.lock();
          if (--pending_ == 0) done_cv_.notify_one();
        }
      });
    }
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int chunks_ = 0;
  int pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  int threads_ = 1;
};

}  // namespace

void SetNumThreads(int n) { Pool::Get().SetThreads(n); }
int GetNumThreads() { return Pool::Get().threads(); }
void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) { Pool::Get().Run(n, fn); }

}  // namespace qt
