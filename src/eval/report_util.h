// Small formatting helpers shared by the Markdown and HTML reports.
#pragma once

#include <fmt/format.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace quorum::eval::report {

// "12 ms", "1.50 s", "3m07s"
inline std::string format_seconds(double s) {
  if (s < 1.0) return fmt::format("{:.1f} ms", s * 1000.0);
  if (s < 120.0) return fmt::format("{:.2f} s", s);
  return fmt::format("{}m{:02}s", static_cast<int>(s / 60), static_cast<int>(s) % 60);
}

// First line of an error, for tables.
inline std::string one_line(const std::string& s) {
  std::string out = s.substr(0, s.find('\n'));
  for (char& c : out) {
    if (c == '|') c = '/';
  }
  return out;
}

// " · N rows left out (label not one of the task's)" for a task with skipped rows, else "".
inline std::string skipped_note(const nlohmann::json& task) {
  if (!task.contains("skipped_items") || task["skipped_items"].empty()) return "";
  return " · " + std::to_string(task["skipped_items"].size()) +
         " row(s) left out (label not one of the task's, see Missing results)";
}

// The metric columns of a task: the main metric first, the others in name order, "unparsed" last.
inline std::vector<std::string> metric_columns(const nlohmann::json& task) {
  std::vector<std::string> cols = {task["main_metric"].get<std::string>()};
  bool unparsed = false;
  for (const auto& s : task["systems"]) {
    if (!s.contains("metrics")) continue;
    for (const auto& [k, v] : s["metrics"].items()) {
      if (k == "unparsed") {
        unparsed = true;
      } else if (std::find(cols.begin(), cols.end(), k) == cols.end()) {
        cols.push_back(k);
      }
    }
  }
  if (unparsed) cols.push_back("unparsed");
  return cols;
}

inline std::string metric_cell(const nlohmann::json& metrics, const std::string& name) {
  auto it = metrics.find(name);
  if (it == metrics.end()) return "";
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return fmt::format("{:.2f}", it->get<double>());
}

inline std::string strategy_params(const nlohmann::json& results, const std::string& name) {
  for (const auto& s : results["strategies"]) {
    if (s["name"] == name) return s["strategy"].get<std::string>() + ": " + s["params"].get<std::string>();
  }
  return "";
}

inline std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace quorum::eval::report
