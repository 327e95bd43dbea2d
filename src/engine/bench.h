// `quorum bench`: prompt-processing (pp) and generation (tg) speed as llama-bench measures them,
// so the two programs' figures compare directly: random tokens, a fresh context per repetition,
// one warm-up run, tokens per second as mean ± sd over repetitions.
//   ppN: one batched decode of N prompt tokens into an empty cache.
//   tgN: N single-token decodes, one after another, from an empty cache.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/session.h"
#include "model/model.h"

namespace quorum {

struct BenchOptions {
  std::vector<int64_t> n_prompt = {512};  // pp tests (0 entries skip pp)
  std::vector<int64_t> n_gen = {128};     // tg tests
  int reps = 3;
  int threads = 0;  // 0: default_thread_count()
  KvType kv_type = KvType::kF16;
  kernels::Isa max_isa = kernels::Isa::kAvx512;
  uint64_t seed = 1234;
  // Called before each timed run: test name ("pp512"), repetition index (-1 = warm-up).
  std::function<void(const std::string& test, int rep)> on_run;
};

struct BenchFigure {
  std::string test;             // "pp512", "tg128"
  int64_t n_tokens = 0;
  std::vector<double> seconds;  // per repetition
  double mean_tps = 0, sd_tps = 0;
};

struct BenchReport {
  std::string model_path;
  std::string type_summary;     // "q4_K x 97, q6_K x 17, f32 x 33"
  int64_t n_params = 0;
  int64_t weight_bytes = 0;           // all tensors
  int64_t bytes_per_token = 0;        // read for one generated token (one embedding row + the rest)
  int threads = 0;
  std::string isa;
  std::vector<BenchFigure> figures;
};

Result<BenchReport> run_bench(std::shared_ptr<const Model> model, const BenchOptions& options);

// Memory read bandwidth in bytes/s: a vectorizable sum over `bytes` of memory, best of `reps`,
// split over `threads` threads.
double measure_read_bandwidth(size_t bytes, int threads, int reps = 5);

std::string bench_to_markdown(const BenchReport& r, double bandwidth_bytes_per_s);

}  // namespace quorum
