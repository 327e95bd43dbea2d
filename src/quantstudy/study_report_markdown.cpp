// The Markdown quant-study report and write_study_reports (study_report.h).
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "core/progress.h"
#include "eval/report_util.h"
#include "quantstudy/study_report.h"

namespace quorum::quantstudy {

using nlohmann::json;

namespace {

std::string num(const json& row, const char* key, const char* f = "{:.2f}") {
  auto it = row.find(key);
  if (it == row.end() || !it->is_number()) return "—";
  return fmt::format(fmt::runtime(f), it->get<double>());
}

std::string pm(const json& row, const char* key, const char* err, const char* f) {
  if (!row.contains(key)) return "—";
  return num(row, key, f) + " ± " + num(row, err, f);
}

}  // namespace

std::string significance_mark(const json& cmp, bool lower_is_better) {
  if (!cmp.value("significant", false)) return "·";
  const double d = cmp.value("delta", 0.0);
  const bool a_better = lower_is_better ? d < 0 : d > 0;
  return a_better ? "✓" : "✗";
}

std::string study_report_markdown(const json& r) {
  std::string md = "# Quorum quantization study\n\n";
  const json& p = r["perplexity"];
  md += fmt::format("Config `{}` · {} models · methods {} · levels {} · wall time {}\n\n",
                    r.value("config", "?"), r["models"].size(), r["methods"].size(), r["levels"].size(),
                    eval::report::format_seconds(r.value("wall_seconds", 0.0)));
  md += fmt::format("Perplexity and KL divergence against the unquantized model on `{}` "
                    "(context {}, {} chunks, second half of each chunk scored). ",
                    std::filesystem::path(p.value("data", "")).filename().string(), p.value("ctx", 0),
                    p.value("chunks", 0));
  if (r["speed"].is_object()) {
    md += fmt::format("Speed: pp{} and tg{} tokens/s, mean of {} runs (machine shared: under load).",
                      r["speed"]["pp"].get<int64_t>(), r["speed"]["tg"].get<int64_t>(),
                      r["speed"]["reps"].get<int>());
  }
  md += "\n\n| method | available | reference |\n|---|---|---|\n";
  for (const json& m : r["methods"]) {
    md += fmt::format("| {} | {} | {} |\n", m["name"].get<std::string>(),
                      m["available"].get<bool>() ? "yes" : "**no** (not in this build)",
                      m.value("reference", ""));
  }
  const std::vector<std::string> tasks = r.value("tasks", std::vector<std::string>{});
  for (const json& m : r["models"]) {
    const std::string name = m["name"];
    md += fmt::format("\n## Model {}\n\n", name);
    if (m.value("status", "") != "ok") {
      md += "Not measured: " + eval::report::one_line(m.value("error", "")) + "\n";
      continue;
    }
    md += fmt::format("Original: {} · {:.2f} bits per weight · PPL {}", format_bytes(m.value("file_bytes", 0.0)),
                      m.value("bpw", 0.0), pm(m, "ppl", "ppl_err", "{:.2f}"));
    if (m.contains("tg_tps")) md += fmt::format(" · pp {} t/s · tg {} t/s", num(m, "pp_tps", "{:.0f}"), num(m, "tg_tps", "{:.0f}"));
    for (const auto& t : tasks) {
      if (r.contains("original_tasks") && r["original_tasks"].contains(name) && r["original_tasks"][name].contains(t)) {
        md += fmt::format(" · {} {:.2f}", t, r["original_tasks"][name][t].get<double>());
      }
    }
    md += "\n\n| method | level | size | BPW | quant time | PPL | KLD | same top-1 % | pp t/s | tg t/s |";
    std::string sep = "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|";
    for (const auto& t : tasks) md += " " + t + " |", sep += "---:|";
    md += "\n" + sep + "\n";
    for (const json& run : r["runs"]) {
      if (run["model"] != name) continue;
      md += fmt::format("| {} | {} |", run["method"].get<std::string>(), run["level"].get<std::string>());
      if (run.value("status", "") != "ok") {
        md += fmt::format(" error: {} |\n", eval::report::one_line(run.value("error", "")));
        continue;
      }
      md += fmt::format(" {} | {} | {}{} | {} | {} | {} | {} | {} |",
                        format_bytes(run.value("file_bytes", 0.0)), num(run, "bpw"),
                        eval::report::format_seconds(run.value("quant_seconds", 0.0)),
                        run.value("cached", false) ? " (cached)" : "", num(run, "ppl"),
                        pm(run, "kld", "kld_err", "{:.5f}"), pm(run, "same_top", "same_top_err", "{:.2f}"),
                        num(run, "pp_tps", "{:.0f}"), num(run, "tg_tps", "{:.0f}"));
      for (const auto& t : tasks) {
        md += " " + (run.contains("tasks") && run["tasks"].contains(t)
                         ? fmt::format("{:.2f}", run["tasks"][t].get<double>()) : std::string("—")) + " |";
      }
      md += "\n";
    }
  }
  if (!r["kl_comparisons"].empty()) {
    md += "\n## Method comparisons: KL divergence (lower is better)\n\n"
          "Paired bootstrap over the per-token KL of the same scored tokens; ✓ A significantly better, "
          "✗ significantly worse, · not significant (p ≥ 0.05).\n\n"
          "| model | level | A | B | KLD A | KLD B | Δ (A − B) | 95% CI | p | |\n"
          "|---|---|---|---|---:|---:|---:|---|---:|---|\n";
    for (const json& c : r["kl_comparisons"]) {
      md += fmt::format("| {} | {} | {} | {} | {:.5f} | {:.5f} | {:+.5f} | [{:+.5f}, {:+.5f}] | {:.3g} | {} |\n",
                        c["model"].get<std::string>(), c["level"].get<std::string>(),
                        c["a"].get<std::string>(), c["b"].get<std::string>(), c["kld_a"].get<double>(),
                        c["kld_b"].get<double>(), c["delta"].get<double>(), c["ci_low"].get<double>(),
                        c["ci_high"].get<double>(), c["p_value"].get<double>(), significance_mark(c, true));
    }
  }
  if (r.contains("task_comparisons") && !r["task_comparisons"].empty()) {
    md += "\n## Method comparisons: tasks (higher is better)\n\n"
          "| model | level | task | A | B | A | B | Δ | test | p | |\n"
          "|---|---|---|---|---|---:|---:|---:|---|---:|---|\n";
    for (const json& c : r["task_comparisons"]) {
      md += fmt::format("| {} | {} | {} | {} | {} | {:.2f} | {:.2f} | {:+.2f} | {} | {:.3g} | {} |\n",
                        c["model"].get<std::string>(), c["level"].get<std::string>(),
                        c["task"].get<std::string>(), c["a"].get<std::string>(), c["b"].get<std::string>(),
                        c["main_a"].get<double>(), c["main_b"].get<double>(), c["delta"].get<double>(),
                        c["test"].get<std::string>(), c["p_value"].get<double>(), significance_mark(c, false));
    }
  }
  if (r.contains("ensembles") && !r["ensembles"].empty()) {
    md += "\n## Ensembles of the quantized models\n\n| method | level | task | strategy | models | main |\n"
          "|---|---|---|---|---:|---:|\n";
    for (const json& e : r["ensembles"]) {
      md += fmt::format("| {} | {} | {} | {} | {} | {:.2f} |\n", e["method"].get<std::string>(),
                        e["level"].get<std::string>(), e["task"].get<std::string>(),
                        e["strategy"].get<std::string>(), e["n_models"].get<int64_t>(), e["main"].get<double>());
    }
  }
  if (!r["problems"].empty()) {
    md += "\n## Missing results\n\n";
    for (const json& pr : r["problems"]) {
      md += fmt::format("- **{}**: {}\n", pr["part"].get<std::string>(),
                        eval::report::one_line(pr["error"].get<std::string>()));
    }
  }
  return md;
}

Status write_study_reports(const json& results, const std::string& dir) {
  for (const auto& [file, text] :
       {std::pair<std::string, std::string>{"report.md", study_report_markdown(results)},
        {"report.html", study_report_html(results)}}) {
    const auto path = std::filesystem::path(dir) / file;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) return Error(ErrorCode::kIoError, "cannot write the report").where(path.string());
  }
  return Status::ok();
}

}  // namespace quorum::quantstudy
