// Matmul speed of the kernels on the shapes of a 1B Llama (dim 2048, FFN 8192): Y = X · Wᵀ with
// W (rows, 2048) in Q4_K / Q8_0 / F16, n = 1 (generation, bound by reading W) and n = 512 (prompt,
// bound by arithmetic), 2 threads, the best ISA of this CPU (or --isa-cap via QUORUM_ISA=avx2 /
// scalar). Counters: GFLOP/s = 2 rows k n / time, GB/s = weight bytes / time.
//
// Targets derived from llama.cpp on this machine (golden/BENCH.md, 2 threads, ~2.07 GFLOP and
// the whole weight file per token): pp512 74 / 111 / 128 t/s => the model averages 153 / 230 / 265
// GFLOP/s for Q4_K_M / Q8_0 / F16; tg128 42 / 25 / 20 t/s => 25 / 29 / 44 GB/s of weights.
// Matmuls are most of the time, so each must beat these averages.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/cpu.h"
#include "core/fp16.h"
#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "tensor/dtype.h"

namespace {

using quorum::DType;

// Random weight bytes with finite F16 scales where the block format has them (speed does not
// depend on the values).
std::vector<uint8_t> make_weights(DType t, int64_t rows, int64_t k) {
  std::mt19937 rng(42);
  const size_t bytes = quorum::row_size(t, k) * rows;
  std::vector<uint8_t> w(bytes);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  if (t == DType::kF16 || t == DType::kBF16) {
    auto* p = reinterpret_cast<uint16_t*>(w.data());
    for (size_t i = 0; i < bytes / 2; ++i) {
      p[i] = t == DType::kF16 ? quorum::f32_to_f16(dist(rng)) : quorum::f32_to_bf16(dist(rng));
    }
    return w;
  }
  if (t == DType::kF32) {
    auto* p = reinterpret_cast<float*>(w.data());
    for (size_t i = 0; i < bytes / 4; ++i) p[i] = dist(rng);
    return w;
  }
  for (auto& b : w) b = static_cast<uint8_t>(rng());
  const size_t ts = quorum::traits(t).type_size;
  const quorum::f16_t d = quorum::f32_to_f16(0.001f);
  for (size_t off = 0; off < bytes; off += ts) {
    if (t == DType::kQ6_K) {
      std::memcpy(w.data() + off + ts - 2, &d, 2);  // Q6_K d (last field)
      continue;
    }
    if (t == DType::kQ3_K) {
      std::memcpy(w.data() + off + ts - 2, &d, 2);  // Q3_K d (last field)
      continue;
    }
    if (t == DType::kQ2_K) {
      std::memcpy(w.data() + off + ts - 4, &d, 2);  // Q2_K d, dmin (last fields)
      std::memcpy(w.data() + off + ts - 2, &d, 2);
      continue;
    }
    std::memcpy(w.data() + off, &d, 2);  // d: the first field of the other block types
    // Q4_K/Q5_K dmin, Q4_1/Q5_1 m (second field)
    if (t == DType::kQ4_K || t == DType::kQ5_K || t == DType::kQ4_1 || t == DType::kQ5_1) {
      std::memcpy(w.data() + off + 2, &d, 2);
    }
  }
  return w;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

quorum::kernels::Isa isa_from_env() {
  const char* v = std::getenv("QUORUM_ISA");
  if (v && std::string(v) == "scalar") return quorum::kernels::Isa::kScalar;
  if (v && std::string(v) == "avx2") return quorum::kernels::Isa::kAvx2;
  return quorum::kernels::Isa::kAvx512;
}

// path: kAuto (the blocked GEMM for n >= 8 where the ISA has one) or kDots (the per-row dot
// products matmul used before the GEMM; same binary, so the two compare in one run).
void BM_Matmul(benchmark::State& state, DType t, quorum::kernels::MatmulPath path) {
  const int64_t rows = state.range(0), k = state.range(1), n = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const quorum::kernels::Kernels kern(quorum::CpuFeatures::detect(), isa_from_env());
  quorum::ThreadPool pool(threads);
  const std::vector<uint8_t> w = make_weights(t, rows, k);
  std::vector<float> x(static_cast<size_t>(n * k));
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (auto& v : x) v = dist(rng);
  std::vector<float> y(static_cast<size_t>(n * rows));
  const double cpu0 = thread_cpu_seconds();
  for (auto _ : state) {
    kern.matmul(pool, t, w.data(), rows, k, x.data(), n, y.data(), path);
    benchmark::DoNotOptimize(y.data());
  }
  const double cpu = thread_cpu_seconds() - cpu0;
  const double iters = static_cast<double>(state.iterations());
  // The machine is shared: GFLOP/s per busy CPU second of the calling thread (which does 1 /
  // threads of the work) estimates the idle-machine speed when the wall clock cannot.
  state.counters["GFLOP/cpu_s"] =
      2.0 * rows * k * n * iters / 1e9 / (cpu * threads > 0 ? cpu * threads : 1.0);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * rows * k * n * iters / 1e9,
                                                 benchmark::Counter::kIsRate);
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(w.size()) * iters / 1e9,
                                              benchmark::Counter::kIsRate);
  state.SetLabel(std::string(quorum::dtype_name(t)) + " " + quorum::kernels::isa_name(kern.isa()) +
                 (path == quorum::kernels::MatmulPath::kDots ? " dots" : ""));
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t rows : {2048, 8192}) {
    for (int64_t n : {1, 512}) b->Args({rows, 2048, n, 2});
  }
  b->ArgNames({"rows", "k", "n", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

// The matmuls of one layer of the 1B shape at n = 512 (q and o, k and v, gate and up, down).
void prompt_shapes(benchmark::internal::Benchmark* b) {
  for (auto [rows, k] : {std::pair<int64_t, int64_t>{2048, 2048}, {512, 2048}, {8192, 2048},
                         {2048, 8192}}) {
    b->Args({rows, k, 512, 2});
  }
  b->ArgNames({"rows", "k", "n", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

// The same on one thread: GFLOP/cpu_s is then the calling thread's own work (with 2 threads it
// assumes both threads were busy equally long), for comparing kernels against BM_FmaPeak.
void prompt_shapes_1t(benchmark::internal::Benchmark* b) {
  for (auto [rows, k] : {std::pair<int64_t, int64_t>{2048, 2048}, {2048, 8192}}) {
    b->Args({rows, k, 512, 1});
  }
  b->ArgNames({"rows", "k", "n", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

using quorum::kernels::MatmulPath;
BENCHMARK_CAPTURE(BM_Matmul, q4_K, DType::kQ4_K, MatmulPath::kAuto)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q6_K, DType::kQ6_K, MatmulPath::kAuto)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q5_K, DType::kQ5_K, MatmulPath::kAuto)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q3_K, DType::kQ3_K, MatmulPath::kAuto)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q2_K, DType::kQ2_K, MatmulPath::kAuto)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q4_0, DType::kQ4_0, MatmulPath::kAuto)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q5_0, DType::kQ5_0, MatmulPath::kAuto)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q8_0, DType::kQ8_0, MatmulPath::kAuto)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, f16, DType::kF16, MatmulPath::kAuto)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q4_K_pp, DType::kQ4_K, MatmulPath::kAuto)->Apply(prompt_shapes);
BENCHMARK_CAPTURE(BM_Matmul, q6_K_pp, DType::kQ6_K, MatmulPath::kAuto)->Apply(prompt_shapes);
BENCHMARK_CAPTURE(BM_Matmul, q8_0_pp, DType::kQ8_0, MatmulPath::kAuto)->Apply(prompt_shapes);
BENCHMARK_CAPTURE(BM_Matmul, f16_pp, DType::kF16, MatmulPath::kAuto)->Apply(prompt_shapes);
BENCHMARK_CAPTURE(BM_Matmul, f16_pp1, DType::kF16, MatmulPath::kAuto)->Apply(prompt_shapes_1t);
BENCHMARK_CAPTURE(BM_Matmul, q4_K_dots, DType::kQ4_K, MatmulPath::kDots)->Apply(prompt_shapes);
BENCHMARK_CAPTURE(BM_Matmul, q6_K_dots, DType::kQ6_K, MatmulPath::kDots)->Apply(prompt_shapes);
BENCHMARK_CAPTURE(BM_Matmul, q8_0_dots, DType::kQ8_0, MatmulPath::kDots)->Apply(prompt_shapes);
BENCHMARK_CAPTURE(BM_Matmul, f16_dots, DType::kF16, MatmulPath::kDots)->Apply(prompt_shapes);

// AVX2 against AVX-512 kernels of one weight type, paired: every iteration runs the same matmul
// with both kernel sets (order alternating), so the load of a shared machine hits both alike.
// Counters: ms per matmul of each and their ratio avx2/avx512 (> 1: AVX-512 faster). With
// n = 1 and one thread on a cache-resident W (256 x 2048) this times the dot kernel itself; the
// 8192-row shape is generation (bound by reading W), n = 512 the prompt path.
void BM_IsaPair(benchmark::State& state, DType t) {
  using quorum::kernels::Isa;
  const int64_t rows = state.range(0), k = state.range(1), n = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const quorum::CpuFeatures cpu = quorum::CpuFeatures::detect();
  const quorum::kernels::Kernels k2(cpu, Isa::kAvx2), k5(cpu, Isa::kAvx512);
  if (k5.isa() != Isa::kAvx512) {
    state.SkipWithError("this CPU has no AVX-512 kernels");
    return;
  }
  quorum::ThreadPool pool(threads);
  const std::vector<uint8_t> w = make_weights(t, rows, k);
  std::vector<float> x(static_cast<size_t>(n * k));
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (auto& v : x) v = dist(rng);
  std::vector<float> y(static_cast<size_t>(n * rows));
  double t2 = 0.0, t5 = 0.0;
  int64_t iter = 0;
  for (auto _ : state) {
    for (int pass = 0; pass < 2; ++pass) {
      const bool avx2 = (pass == 0) == (iter % 2 == 0);
      const auto start = std::chrono::steady_clock::now();
      (avx2 ? k2 : k5).matmul(pool, t, w.data(), rows, k, x.data(), n, y.data());
      benchmark::DoNotOptimize(y.data());
      const std::chrono::duration<double> s = std::chrono::steady_clock::now() - start;
      (avx2 ? t2 : t5) += s.count();
    }
    ++iter;
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["avx2_ms"] = 1e3 * t2 / iters;
  state.counters["avx512_ms"] = 1e3 * t5 / iters;
  state.counters["avx2/avx512"] = t5 > 0 ? t2 / t5 : 0.0;
  state.SetLabel(quorum::dtype_name(t));
}

void pair_shapes(benchmark::internal::Benchmark* b) {
  b->Args({256, 2048, 1, 1});     // the dot kernel, W in L2
  b->Args({8192, 2048, 1, 2});    // generation
  b->Args({2048, 2048, 512, 2});  // prompt
  b->ArgNames({"rows", "k", "n", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK_CAPTURE(BM_IsaPair, q4_0, DType::kQ4_0)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, q4_1, DType::kQ4_1)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, q5_0, DType::kQ5_0)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, q5_1, DType::kQ5_1)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, iq4_nl, DType::kIQ4_NL)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, q8_0, DType::kQ8_0)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, q2_K, DType::kQ2_K)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, q3_K, DType::kQ3_K)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, q4_K, DType::kQ4_K)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, q5_K, DType::kQ5_K)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, q6_K, DType::kQ6_K)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, iq2_xxs, DType::kIQ2_XXS)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, iq2_xs, DType::kIQ2_XS)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, f32, DType::kF32)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, f16, DType::kF16)->Apply(pair_shapes);
BENCHMARK_CAPTURE(BM_IsaPair, bf16, DType::kBF16)->Apply(pair_shapes);

// The machine's FMA throughput under the load of the moment: 24 independent 16-lane FMA chains in
// registers, per CPU second of this thread. GEMM GFLOP/cpu_s divided by threads x this is the
// fraction of the FMA peak a matmul reaches (F16 is FMA-bound; the integer kernels are not).
__attribute__((target("avx512f"), noinline)) double fma_chains(int64_t iters) {
  __m512 a[24];
  for (int i = 0; i < 24; ++i) a[i] = _mm512_set1_ps(1.0f + static_cast<float>(i) * 1e-7f);
  const __m512 m = _mm512_set1_ps(0.9999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) a[i] = _mm512_fmadd_ps(a[i], m, b);
    // Keep every chain live (and the loop from being folded).
    __asm__ volatile("" : "+v"(a[0]), "+v"(a[1]), "+v"(a[2]), "+v"(a[3]), "+v"(a[4]), "+v"(a[5]),
                     "+v"(a[6]), "+v"(a[7]), "+v"(a[8]), "+v"(a[9]), "+v"(a[10]), "+v"(a[11]));
    __asm__ volatile("" : "+v"(a[12]), "+v"(a[13]), "+v"(a[14]), "+v"(a[15]), "+v"(a[16]),
                     "+v"(a[17]), "+v"(a[18]), "+v"(a[19]), "+v"(a[20]), "+v"(a[21]), "+v"(a[22]),
                     "+v"(a[23]));
  }
  // (GCC 12's _mm512_reduce_add_ps trips -Wuninitialized; sum through memory.)
  alignas(64) float lanes[16];
  double sum = 0.0;
  for (int i = 0; i < 24; ++i) {
    _mm512_store_ps(lanes, a[i]);
    for (float v : lanes) sum += v;
  }
  return sum;
}

void BM_FmaPeak(benchmark::State& state) {
  if (!quorum::CpuFeatures::detect().avx512f) {
    state.SkipWithError("no AVX-512F");
    return;
  }
  constexpr int64_t kIters = 1 << 20;
  const double cpu0 = thread_cpu_seconds();
  for (auto _ : state) benchmark::DoNotOptimize(fma_chains(kIters));
  const double cpu = thread_cpu_seconds() - cpu0;
  state.counters["GFLOP/cpu_s"] =
      2.0 * 16 * 24 * kIters * static_cast<double>(state.iterations()) / 1e9 / (cpu > 0 ? cpu : 1.0);
}
BENCHMARK(BM_FmaPeak)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
