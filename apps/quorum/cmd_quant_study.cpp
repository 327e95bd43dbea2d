// `quorum quant-study CONFIG.yaml [--out DIR]`: quantizes every model with every method and level
// of the config (files cached in DIR/models), measures size, time, perplexity, KL divergence,
// speed and task scores, and writes results.json, report.md and report.html into DIR.
// Exit codes: 0 everything ran, 2 some parts failed (listed in the report), 1 nothing ran.
#include <fmt/format.h>

#include <memory>

#include "commands.h"
#include "quantstudy/study.h"
#include "quantstudy/study_config.h"
#include "quantstudy/study_report.h"

namespace quorum::cli {

RunFn setup_quant_study(CLI::App& sub) {
  struct Opts {
    std::string config, out;
    bool quiet = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("config", o->config, "Study config (YAML), e.g. configs/quant-study.yaml")->required();
  sub.add_option("--out", o->out, "Output directory (default: the config's `output`)");
  sub.add_flag("--quiet", o->quiet, "No progress bar");
  return [o]() -> int {
    auto config = quantstudy::load_study_config(o->config);
    if (!config) return report_error(config.status());
    Logger log(o->quiet ? LogLevel::kError : LogLevel::kInfo);
    quantstudy::StudyOptions so;
    so.output_dir = o->out;
    so.progress = !o->quiet;
    auto results = quantstudy::run_quant_study(*config, so, eval::default_backend_factory(), log);
    if (!results) return report_error(results.status());
    const std::string dir = (*results)["output"];
    if (Status s = quantstudy::write_study_reports(*results, dir); !s) return report_error(s);
    for (const auto& r : (*results)["runs"]) {
      if (r["status"] != "ok") continue;
      fmt::print("{:<10} {:<5} {:<7} {:5.2f} bpw  KLD {:.5f}  same top-1 {:.2f}%\n",
                 r["model"].get<std::string>(), r["method"].get<std::string>(),
                 r["level"].get<std::string>(), r["bpw"].get<double>(), r["kld"].get<double>(),
                 r["same_top"].get<double>());
    }
    const size_t n_problems = (*results)["problems"].size();
    fmt::print("results: {}/results.json, report: {}/report.html{}\n", dir, dir,
               n_problems > 0 ? fmt::format(" ({} parts failed, listed in the report)", n_problems) : "");
    return n_problems > 0 ? 2 : 0;
  };
}

}  // namespace quorum::cli
