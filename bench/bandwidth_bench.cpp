// Memory read bandwidth: a vectorized sum over 512 MiB with 1 and 2 threads (each thread sums its
// contiguous half). This is the ceiling for generation (n = 1 matmuls read every weight once per
// token); golden/BENCH.md measured 33 GB/s (1 thread) and 67 GB/s (2 threads) on this machine type.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"

namespace {

constexpr size_t kBytes = size_t{512} << 20;

// Eight independent integer accumulators: the compiler vectorizes this without reassociating
// floats, and the adds keep up with memory on any x86-64.
uint64_t sum_words(const uint64_t* p, size_t n) {
  uint64_t acc[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int u = 0; u < 8; ++u) acc[u] += p[i + u];
  }
  for (; i < n; ++i) acc[0] += p[i];
  uint64_t s = 0;
  for (uint64_t a : acc) s += a;
  return s;
}

void BM_ReadBandwidth(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  quorum::ThreadPool pool(threads);
  const size_t n = kBytes / sizeof(uint64_t);
  std::vector<uint64_t> data(n);
  // Each thread first touches its own half, so pages land near the thread that reads them.
  pool.parallel_for(static_cast<int64_t>(n), 4096, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) data[i] = static_cast<uint64_t>(i);
  });
  std::vector<uint64_t> partial(threads);
  for (auto _ : state) {
    pool.parallel_for(static_cast<int64_t>(n), 4096, [&](int64_t b, int64_t e, int t) {
      partial[t] = sum_words(data.data() + b, static_cast<size_t>(e - b));
    });
    benchmark::DoNotOptimize(partial.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kBytes));
}
BENCHMARK(BM_ReadBandwidth)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
