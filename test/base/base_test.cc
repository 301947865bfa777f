#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/base/data_type.h"
#include "core/base/parallel.h"
#include "core/base/raw_buffer.h"

namespace qt {
namespace {

TEST(HalfTest, KnownValuesRoundTrip) {
  const struct { uint16_t h; float f; } cases[] = {
      {0x0000, 0.f}, {0x3C00, 1.f}, {0xC000, -2.f}, {0x7BFF, 65504.f},
      {0x0001, 5.9604645e-8f}, {0x03FF, 6.0975552e-5f}, {0x0400, 6.1035156e-5f}, {0x3555, 0.33325195f}};
  for (const auto& c : cases) {
    EXPECT_EQ(HalfToFloat(c.h), c.f) << std::hex << c.h;
    EXPECT_EQ(FloatToHalf(c.f), c.h) << c.f;
  }
  EXPECT_TRUE(std::isinf(HalfToFloat(0x7C00)));
  EXPECT_TRUE(std::isnan(HalfToFloat(0x7E00)));
  EXPECT_EQ(FloatToHalf(1e6f), 0x7C00);
}

TEST(HalfTest, EveryHalfSurvivesFloatRoundTrip) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToHalf(f), h) << std::hex << h;
  }
}

TEST(HalfTest, RoundsToNearestEven) {
  // 1 + 2^-11 lies exactly between two halves: ties go to the even mantissa (1.0).
  EXPECT_EQ(FloatToHalf(1.f + std::ldexp(1.f, -11)), 0x3C00);
  EXPECT_EQ(FloatToHalf(1.f + 3 * std::ldexp(1.f, -11)), 0x3C02);
}

TEST(RawBufferTest, ConvertsHalfAndIntegersToFloat) {
  std::vector<uint16_t> h = {0x3C00, 0xC000};
  RawBuffer rb = RawBuffer::From(DataType::kHalf, h, {2});
  EXPECT_EQ(rb.count(), 2);
  EXPECT_EQ(rb.ToFloat(), (std::vector<float>{1.f, -2.f}));
  EXPECT_EQ(RawBuffer::FromInt8({-3, 5}).ToFloat(), (std::vector<float>{-3.f, 5.f}));
  EXPECT_EQ(RawBuffer::FromInt32({-70000}).ToFloat(), (std::vector<float>{-70000.f}));
}

TEST(ParallelTest, CoversRangeExactlyOnceForAnyThreadCount) {
  for (int threads : {1, 2, 3, 8}) {
    SetNumThreads(threads);
    for (int64_t n : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      ParallelFor(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[i]++;
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "threads " << threads << " n " << n;
    }
  }
  SetNumThreads(2);
}

TEST(ParallelTest, ANewPoolSharesItsFirstJob) {
  // The job is published right after the pool's worker is created, before that thread may have run at all. Each
  // chunk waits until a second thread has entered one: if the worker took the first job for an old one, the caller
  // would wait in vain.
  for (int round = 0; round < 20; ++round) {
    SetNumThreads(2);
    std::mutex mutex;
    std::set<std::thread::id> ids;
    std::atomic<bool> met{true};
    ParallelFor(8, [&](int64_t, int64_t) {
      if (!met) return;
      {
        std::lock_guard<std::mutex> lock(mutex);
        ids.insert(std::this_thread::get_id());
      }
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      for (;;) {
        {
          std::lock_guard<std::mutex> lock(mutex);
          if (ids.size() >= 2) return;
        }
        if (std::chrono::steady_clock::now() > deadline) {
          met = false;
          return;
        }
        std::this_thread::yield();
      }
    });
    ASSERT_TRUE(met.load()) << "round " << round << ": the worker did not join the first job";
  }
}

TEST(ParallelTest, NestedCallsRunSerially) {
  SetNumThreads(2);
  std::atomic<int> total{0};
  ParallelFor(4, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      ParallelFor(10, [&](int64_t b2, int64_t e2) { total += static_cast<int>(e2 - b2); });
    }
  });
  EXPECT_EQ(total.load(), 40);
}

TEST(ParallelTest, RunConcurrentlyGivesEveryTaskItsOwnThread) {
  // Each task waits until every task has started: run one after another, the first would wait in vain.
  for (int n : {1, 2, 3}) {
    std::atomic<int> started{0};
    std::atomic<bool> all_met{true};
    std::vector<std::thread::id> ids(n);
    RunConcurrently(n, [&](int i) {
      ids[i] = std::this_thread::get_id();
      ++started;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (started < n) {
        if (std::chrono::steady_clock::now() > deadline) {
          all_met = false;
          return;
        }
        std::this_thread::yield();
      }
      // ParallelFor inside a task runs on the task's thread.
      ParallelFor(64, [&](int64_t, int64_t) {
        if (std::this_thread::get_id() != ids[i]) all_met = false;
      });
    });
    EXPECT_TRUE(all_met) << n << " tasks";
    EXPECT_EQ(std::set<std::thread::id>(ids.begin(), ids.end()).size(), static_cast<size_t>(n));
  }
}

}  // namespace
}  // namespace qt
