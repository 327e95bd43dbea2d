// `quorum eval CONFIG.yaml [--out DIR] [--limit N] [--jobs N]`: every model answers every task
// (answers cached in SQLite), strategies combine them, and the results land in DIR as
// results.json, predictions/<task>.jsonl, report.md and report.html.
// Exit codes: 0 all parts ran, 2 some parts failed (listed in the report), 1 nothing ran.
#include <fmt/format.h>

#include <memory>

#include "commands.h"
#include "eval/eval_config.h"
#include "eval/report.h"
#include "eval/runner.h"

namespace quorum::cli {

RunFn setup_eval(CLI::App& sub) {
  struct Opts {
    std::string config;
    std::string out;
    int64_t limit = 0;
    int jobs = 0;
    bool quiet = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("config", o->config, "Evaluation config (YAML)")->required();
  sub.add_option("--out", o->out, "Output directory (default: the config's `output`)");
  sub.add_option("--limit", o->limit, "At most N items per task (a quick subset)")
      ->check(CLI::PositiveNumber);
  sub.add_option("--jobs", o->jobs, "Items answered in parallel per model")->check(CLI::Range(1, 256));
  sub.add_flag("--quiet", o->quiet, "No progress bars");
  return [o]() -> int {
    auto config = eval::load_eval_config(o->config);
    if (!config) return report_error(config.status());
    Logger log(o->quiet ? LogLevel::kError : LogLevel::kInfo);
    eval::RunOptions ro;
    ro.output_dir = o->out;
    ro.limit = o->limit;
    ro.jobs = o->jobs;
    ro.progress = !o->quiet;
    auto results = eval::run_evaluation(*config, ro, eval::default_backend_factory(o->jobs > 0 ? o->jobs : config->jobs), log);
    if (!results) return report_error(results.status());
    const std::string dir = (*results)["output"];
    if (Status s = eval::write_reports(*results, dir); !s) return report_error(s);
    for (const auto& t : (*results)["tasks"]) {
      if (t["status"] != "ok") continue;
      for (const auto& s : t["systems"]) {
        if (s["status"] != "ok") continue;
        fmt::print("{:<10} {:<22} {:<8} {} = {:.2f}\n", t["name"].get<std::string>(),
                   s["name"].get<std::string>(), s["type"].get<std::string>(),
                   t["main_metric"].get<std::string>(), s["main"].get<double>());
      }
    }
    const size_t n_problems = (*results)["problems"].size();
    fmt::print("results: {}/results.json, report: {}/report.html{}\n", dir, dir,
               n_problems > 0 ? fmt::format(" ({} parts failed, listed in the report)", n_problems) : "");
    return n_problems > 0 ? 2 : 0;
  };
}

}  // namespace quorum::cli
