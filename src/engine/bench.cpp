// run_bench: llama-bench's procedure over a Session; measure_read_bandwidth: the memory bound
// that generation speed is compared against.
#include "engine/bench.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

namespace quorum {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<int32_t> random_tokens(int64_t n, int64_t n_vocab, std::mt19937_64& rng) {
  std::uniform_int_distribution<int32_t> d(0, static_cast<int32_t>(n_vocab - 1));
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = d(rng);
  return t;
}

void finish_figure(BenchFigure& f) {
  std::vector<double> tps;
  for (double s : f.seconds) tps.push_back(f.n_tokens / s);
  const double mean = std::accumulate(tps.begin(), tps.end(), 0.0) / tps.size();
  double var = 0;
  for (double x : tps) var += (x - mean) * (x - mean);
  f.mean_tps = mean;
  f.sd_tps = tps.size() > 1 ? std::sqrt(var / (tps.size() - 1)) : 0.0;
}

}  // namespace

Result<BenchReport> run_bench(std::shared_ptr<const Model> model, const BenchOptions& o) {
  if (o.reps < 1) {
    return Error(ErrorCode::kInvalidArgument, "repetitions must be at least 1").actual(std::to_string(o.reps));
  }
  BenchReport r;
  r.model_path = model->path();
  r.threads = o.threads > 0 ? o.threads : default_thread_count();
  std::map<std::string, int> types;
  for (const auto& t : model->file().tensors()) {
    types[dtype_name(t.type)] += 1;
    r.n_params += t.n_elements();
    r.weight_bytes += static_cast<int64_t>(t.nbytes);
    // Generation reads every weight once per token, except the embedding table (one row).
    if (t.name == "token_embd.weight") {
      r.bytes_per_token += static_cast<int64_t>(t.nbytes / static_cast<size_t>(t.n_rows()));
    } else {
      r.bytes_per_token += static_cast<int64_t>(t.nbytes);
    }
  }
  // A tied output matrix is read in full by the output projection.
  if (model->file().find_tensor("output.weight") == nullptr) {
    if (const auto* e = model->file().find_tensor("token_embd.weight")) {
      r.bytes_per_token += static_cast<int64_t>(e->nbytes);
    }
  }
  for (const auto& [name, n] : types) {
    r.type_summary += fmt::format("{}{} x {}", r.type_summary.empty() ? "" : ", ", name, n);
  }

  SessionOptions so;
  so.n_threads = r.threads;
  so.kv_type = o.kv_type;
  so.max_isa = o.max_isa;
  int64_t max_ctx = 0;
  for (int64_t n : o.n_prompt) max_ctx = std::max(max_ctx, n);
  for (int64_t n : o.n_gen) max_ctx = std::max(max_ctx, n);
  so.n_ctx = max_ctx;
  so.n_batch = std::max<int64_t>(1, max_ctx);
  QUORUM_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::create(model, so));
  r.isa = kernels::isa_name(session->kernels().isa());
  std::mt19937_64 rng(o.seed);
  const int64_t n_vocab = model->hparams().n_vocab;

  for (int64_t n : o.n_prompt) {
    if (n <= 0) continue;
    BenchFigure f{fmt::format("pp{}", n), n, {}, 0, 0};
    for (int rep = -1; rep < o.reps; ++rep) {
      if (o.on_run) o.on_run(f.test, rep);
      const std::vector<int32_t> toks = random_tokens(n, n_vocab, rng);
      QUORUM_TRY(session->rewind(0));
      const auto t0 = Clock::now();
      auto out = session->decode(toks);
      if (!out) return out.status();
      if (rep >= 0) f.seconds.push_back(seconds_since(t0));
    }
    finish_figure(f);
    r.figures.push_back(std::move(f));
  }
  for (int64_t n : o.n_gen) {
    if (n <= 0) continue;
    BenchFigure f{fmt::format("tg{}", n), n, {}, 0, 0};
    for (int rep = -1; rep < o.reps; ++rep) {
      if (o.on_run) o.on_run(f.test, rep);
      const std::vector<int32_t> toks = random_tokens(rep < 0 ? 1 : n, n_vocab, rng);
      QUORUM_TRY(session->rewind(0));
      const auto t0 = Clock::now();
      for (int32_t t : toks) {
        auto out = session->decode(std::span<const int32_t>(&t, 1));
        if (!out) return out.status();
      }
      if (rep >= 0) f.seconds.push_back(seconds_since(t0));
    }
    finish_figure(f);
    r.figures.push_back(std::move(f));
  }
  return r;
}

double measure_read_bandwidth(size_t bytes, int threads, int reps) {
  const size_t n = bytes / sizeof(float);
  std::vector<float> data(n, 1.0f);
  ThreadPool pool(threads);
  double best = 0;
  std::vector<double> sums(static_cast<size_t>(threads));
  for (int rep = 0; rep < reps; ++rep) {
    const auto t0 = Clock::now();
    pool.parallel_for(static_cast<int64_t>(n), 1 << 16, [&](int64_t b, int64_t e, int t) {
      // Eight independent accumulators let the compiler vectorize without reassociation.
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t i = b;
      for (; i + 8 <= e; i += 8) {
        for (int k = 0; k < 8; ++k) acc[k] += data[static_cast<size_t>(i + k)];
      }
      for (; i < e; ++i) acc[0] += data[static_cast<size_t>(i)];
      sums[static_cast<size_t>(t)] += acc[0] + acc[1] + acc[2] + acc[3] + acc[4] + acc[5] + acc[6] + acc[7];
    });
    best = std::max(best, static_cast<double>(n * sizeof(float)) / seconds_since(t0));
  }
  // Use the sums so the loop cannot be removed.
  if (std::accumulate(sums.begin(), sums.end(), 0.0) < 0) best = 0;
  return best;
}

std::string bench_to_markdown(const BenchReport& r, double bw) {
  std::string o = fmt::format(
      "model: {}\nweights: {:.2f} MiB ({}), {:.3f} B params; {:.1f} MiB read per generated token\n"
      "threads: {}, kernels: {}\n\n| test | t/s | s per run |\n|---|---|---|\n",
      r.model_path, r.weight_bytes / 1048576.0, r.type_summary, r.n_params / 1e9,
      r.bytes_per_token / 1048576.0, r.threads, r.isa);
  for (const BenchFigure& f : r.figures) {
    std::string runs;
    for (double s : f.seconds) runs += fmt::format("{}{:.3f}", runs.empty() ? "" : " ", s);
    o += fmt::format("| {} | {:.2f} ± {:.2f} | {} |\n", f.test, f.mean_tps, f.sd_tps, runs);
  }
  if (bw > 0) {
    const double bound = bw / static_cast<double>(r.bytes_per_token);
    o += fmt::format("\nmeasured read bandwidth: {:.1f} GB/s ({} threads) -> generation bound {:.1f} t/s\n",
                     bw / 1e9, r.threads, bound);
    for (const BenchFigure& f : r.figures) {
      if (f.test.rfind("tg", 0) == 0) {
        o += fmt::format("{}: {:.1f}% of the bandwidth bound\n", f.test, 100.0 * f.mean_tps / bound);
      }
    }
  }
  return o;
}

}  // namespace quorum
