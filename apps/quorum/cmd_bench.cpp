// `quorum bench -m MODEL [-p 512] [-n 128] [-t THREADS] [-r REPS] [--mmap] [--json]`: pp and tg speed in
// tokens/s as mean ± sd, measured like llama-bench, plus how close generation is to the
// memory-bandwidth bound.
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "engine/bench.h"

namespace quorum::cli {

RunFn setup_bench(CLI::App& sub) {
  struct Opts {
    std::string model, isa = "avx512";
    std::vector<int64_t> pp = {512}, tg = {128};
    int threads = default_thread_count(), reps = 3, bandwidth_mib = 512;
    bool json = false, f32_kv = false, mmap = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("-m,--model", o->model, "Model file (any format quorum info reads)")->required();
  sub.add_option("-p,--n-prompt", o->pp, "Prompt lengths to time (pp tests); 0 skips")
      ->capture_default_str();
  sub.add_option("-n,--n-gen", o->tg, "Generated lengths to time (tg tests); 0 skips")
      ->capture_default_str();
  sub.add_option("-t,--threads", o->threads, "Threads")->check(CLI::Range(1, 512))->capture_default_str();
  sub.add_option("-r,--reps", o->reps, "Repetitions per test (after one warm-up)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sub.add_option("--isa", o->isa, "Highest kernel set: scalar, avx2, avx512")
      ->check(CLI::IsMember({"scalar", "avx2", "avx512"}))
      ->capture_default_str();
  sub.add_option("--bandwidth-mib", o->bandwidth_mib,
                 "Memory to sum for the bandwidth probe (0 skips it)")
      ->check(CLI::Range(0, 65536))
      ->capture_default_str();
  sub.add_flag("--f32-kv", o->f32_kv, "Use an F32 KV cache (default F16, as llama.cpp)");
  sub.add_flag("--mmap", o->mmap,
               "Map the GGUF file (4 KiB pages) instead of reading it into memory on 2 MiB pages "
               "(the default here: generation streams every weight per token)");
  sub.add_flag("--json", o->json, "Print JSON");
  return [o]() -> int {
    ModelOptions mo;
    mo.load_mode = o->mmap ? LoadMode::kMap : LoadMode::kRead;
    auto model = Model::load(o->model, mo);
    if (!model) return report_error(model.status());
    BenchOptions bo;
    bo.n_prompt = o->pp;
    bo.n_gen = o->tg;
    bo.reps = o->reps;
    bo.threads = o->threads;
    bo.kv_type = o->f32_kv ? KvType::kF32 : KvType::kF16;
    bo.max_isa = o->isa == "scalar" ? kernels::Isa::kScalar
                 : o->isa == "avx2" ? kernels::Isa::kAvx2
                                    : kernels::Isa::kAvx512;
    bo.on_run = [](const std::string& test, int rep) {
      fmt::print(stderr, "\r{} {}\x1b[K", test, rep < 0 ? std::string("warm-up") : fmt::format("run {}", rep + 1));
    };
    auto r = run_bench(*model, bo);
    fmt::print(stderr, "\r\x1b[K");
    if (!r) return report_error(r.status());
    const double bw = o->bandwidth_mib > 0
                          ? measure_read_bandwidth(static_cast<size_t>(o->bandwidth_mib) << 20, o->threads)
                          : 0.0;
    if (o->json) {
      nlohmann::json j = {{"model", r->model_path},       {"types", r->type_summary},
                          {"n_params", r->n_params},      {"weight_bytes", r->weight_bytes},
                          {"bytes_per_token", r->bytes_per_token},
                          {"threads", r->threads},        {"isa", r->isa},
                          {"weights_in", o->mmap ? "mmap" : "memory"},
                          {"bandwidth_bytes_per_s", bw}};
      for (const auto& f : r->figures) {
        j["tests"].push_back({{"test", f.test}, {"n_tokens", f.n_tokens}, {"tps_mean", f.mean_tps},
                              {"tps_sd", f.sd_tps}, {"seconds", f.seconds}});
      }
      fmt::print("{}\n", j.dump(2));
    } else {
      fmt::print("{}", bench_to_markdown(*r, bw));
      fmt::print("weights: {}\n", o->mmap ? "mapped from the file (--mmap)"
                                           : "read into memory on 2 MiB pages (--mmap maps them)");
    }
    return 0;
  };
}

}  // namespace quorum::cli
