// The Markdown report and write_reports (see report.h).
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "eval/report.h"
#include "eval/report_util.h"

namespace quorum::eval {

using nlohmann::json;

std::string report_markdown(const json& r) {
  std::string md = "# Quorum evaluation report\n\n";
  md += fmt::format("Config `{}` · {} models · {} strategies · seeds {} · wall time {}\n\n",
                    r.value("config", "?"), r["models"].size(), r["strategies"].size(),
                    r["seeds"].dump(), report::format_seconds(r.value("wall_seconds", 0.0)));
  md += "| model | mode | weight | source |\n|---|---|---|---|\n";
  for (const json& m : r["models"]) {
    md += fmt::format("| {} | {} | {:g} | `{}` |\n", m["name"].get<std::string>(),
                      m["mode"].get<std::string>(), m["weight"].get<double>(),
                      m["source"].get<std::string>());
  }
  if (!r["problems"].empty()) {
    md += "\n## Missing results\n\n";
    for (const json& p : r["problems"]) {
      md += fmt::format("- **{}**: {}\n", p["part"].get<std::string>(),
                        report::one_line(p["error"].get<std::string>()));
    }
  }
  for (const json& t : r["tasks"]) {
    const std::string name = t["name"];
    md += fmt::format("\n## Task {}\n\n", name);
    if (t["status"] != "ok") {
      md += fmt::format("Not evaluated: {}\n", report::one_line(t.value("error", "")));
      continue;
    }
    const std::string main = t["main_metric"];
    md += fmt::format("{} · split {} · {} items{} · main metric **{}**\n\n",
                      t["kind"].get<std::string>(), t["split"].get<std::string>(),
                      t["n_items"].get<int64_t>(), report::skipped_note(t), main);
    const std::vector<std::string> cols = report::metric_columns(t);
    md += "| system | type |";
    for (const auto& c : cols) md += " " + c + " |";
    md += " s/item | cached |\n|---|---|";
    for (size_t i = 0; i < cols.size(); ++i) md += "---:|";
    md += "---:|---:|\n";
    for (const json& s : t["systems"]) {
      md += fmt::format("| {} | {} |", s["name"].get<std::string>(), s["type"].get<std::string>());
      if (s["status"] != "ok") {
        for (size_t i = 0; i < cols.size(); ++i) md += " — |";
        md += " — | — |\n";
        continue;
      }
      for (const auto& c : cols) md += " " + report::metric_cell(s["metrics"], c) + " |";
      md += fmt::format(" {} | {} |\n", report::format_seconds(s.value("seconds_per_item", 0.0)),
                        s.contains("cache_hits") ? std::to_string(s["cache_hits"].get<int64_t>()) : "");
    }
    const json& cmp = t["comparison"];
    if (cmp.is_object()) {
      md += fmt::format(
          "\n**Best combination vs best single model**: {} {:.2f} vs {} {:.2f} (Δ {:+.2f}); {} "
          "p = {:.3g} {}\n",
          cmp["best_strategy"].get<std::string>(), cmp["strategy_main"].get<double>(),
          cmp["best_model"].get<std::string>(), cmp["model_main"].get<double>(),
          cmp["delta"].get<double>(), cmp["test"].get<std::string>(), cmp["p_value"].get<double>(),
          cmp["significant"].get<bool>() ? "✓ significant" : "✗ not significant");
    }
    bool any_strategy = false;
    for (const json& s : t["systems"]) any_strategy |= s["type"] == "strategy";
    if (any_strategy) {
      md += fmt::format("\n| strategy | parameters | {} | mean over seeds | ties | extra calls | s/item |\n"
                        "|---|---|---:|---:|---:|---:|---:|\n", main);
      for (const json& s : t["systems"]) {
        if (s["type"] != "strategy") continue;
        const std::string params = report::strategy_params(r, s["name"]);
        if (s["status"] != "ok") {
          md += fmt::format("| {} | {} | error: {} | | | | |\n", s["name"].get<std::string>(), params,
                            report::one_line(s.value("error", "")));
          continue;
        }
        md += fmt::format("| {} | {} | {:.2f} | {:.2f} | {} | {} | {} |\n",
                          s["name"].get<std::string>(), params, s["main"].get<double>(),
                          s["main_mean"].get<double>(), s.value("ties", 0), s.value("extra_calls", 0),
                          report::format_seconds(s.value("seconds_per_item", 0.0)));
      }
    }
  }
  return md;
}

Status write_reports(const json& results, const std::string& dir) {
  for (const auto& [file, text] : {std::pair<std::string, std::string>{"report.md", report_markdown(results)},
                                   {"report.html", report_html(results)}}) {
    const auto path = std::filesystem::path(dir) / file;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) return Error(ErrorCode::kIoError, "cannot write the report").where(path.string());
  }
  return Status::ok();
}

}  // namespace quorum::eval
