// Fork/join cost of ThreadPool::parallel_for: an empty job and a small one (the size of a tiny
// model's mat-vec), with 1, 2 and 4 threads. A token of a 16-layer model makes about 80 of
// these, so this latency times 80 is the pool's share of a token's time.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"

namespace {

void BM_EmptyParallelFor(benchmark::State& state) {
  quorum::ThreadPool pool(static_cast<int>(state.range(0)));
  std::atomic<int64_t> sink{0};
  for (auto _ : state) {
    pool.parallel_for(64, 1, [&](int64_t b, int64_t e, int) {
      sink.fetch_add(e - b, std::memory_order_relaxed);
    });
  }
  benchmark::DoNotOptimize(sink.load());
}
BENCHMARK(BM_EmptyParallelFor)->Arg(1)->Arg(2)->Arg(4)->UseRealTime();

// 256 x 256 F32 matrix times a vector (qt-base's attention projections).
void BM_SmallMatVec(benchmark::State& state) {
  quorum::ThreadPool pool(static_cast<int>(state.range(0)));
  const int64_t n = 256;
  std::vector<float> w(static_cast<size_t>(n * n), 0.5f), x(static_cast<size_t>(n), 1.0f),
      y(static_cast<size_t>(n));
  for (auto _ : state) {
    pool.parallel_for(n, 16, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) {
        float acc[8] = {};
        for (int64_t k = 0; k < n; k += 8) {
          for (int u = 0; u < 8; ++u) acc[u] += w[static_cast<size_t>(i * n + k + u)] * x[static_cast<size_t>(k + u)];
        }
        y[static_cast<size_t>(i)] = acc[0] + acc[1] + acc[2] + acc[3] + acc[4] + acc[5] + acc[6] + acc[7];
      }
    });
    benchmark::DoNotOptimize(y.data());
  }
}
BENCHMARK(BM_SmallMatVec)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
