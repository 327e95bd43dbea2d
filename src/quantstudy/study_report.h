// Quant-study reports from results.json (what run_quant_study writes): a Markdown summary and one
// self-contained HTML page (inline CSS and SVG, the evaluation report's style and helpers).
//
// Per model: one row per method × level (size, bits per weight, quantization time, perplexity,
// KL divergence ± s.e., same-top-1 rate, pp/tg speed, task main metrics), charts of KL divergence
// against bits per weight and of speed; then the method comparisons with significance marks
// (✓ when p < 0.05 and A is better, ✗ when p < 0.05 and A is worse, · when not significant),
// ensembles of the quantized models, and the problems the run met.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace quorum::quantstudy {

std::string study_report_markdown(const nlohmann::json& results);
std::string study_report_html(const nlohmann::json& results);
// Writes report.md and report.html into `dir`.
Status write_study_reports(const nlohmann::json& results, const std::string& dir);

// The mark of a comparison: "✓" (A significantly better), "✗" (significantly worse), "·".
// `lower_is_better` for KL divergence, not for task scores.
std::string significance_mark(const nlohmann::json& comparison, bool lower_is_better);

}  // namespace quorum::quantstudy
