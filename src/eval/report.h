// Evaluation reports from results.json (what run_evaluation writes): a Markdown summary and one
// self-contained HTML page (inline CSS and SVG charts, no external assets).
//
// Per task: every model and strategy on the task's main metric (table and bar chart), main metric
// against inference time per item (scatter), the best combination against the best single model
// with its significance test (✓ when p < 0.05 and the combination is better), per-strategy details
// (parameters, ties, extra calls, seeds), and the problems the run met.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace quorum::eval {

std::string report_markdown(const nlohmann::json& results);
std::string report_html(const nlohmann::json& results);
// Writes report.md and report.html into `dir`.
Status write_reports(const nlohmann::json& results, const std::string& dir);

}  // namespace quorum::eval
