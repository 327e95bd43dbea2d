// The self-contained HTML quant-study report (study_report.h): the evaluation report's page style
// and SVG helpers (eval/report_svg.h), with a KL-divergence-against-bits chart and speed bars per
// model.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/progress.h"
#include "eval/report_svg.h"
#include "eval/report_util.h"
#include "quantstudy/study_report.h"

namespace quorum::quantstudy {

using nlohmann::json;
using eval::report::html_escape;

namespace {

std::string method_color(const std::string& m) {
  if (m == "rtn") return "#4a78c2";
  if (m == "hqq") return "#6aa84f";
  if (m == "gptq") return "#e07b39";
  if (m == "awq") return "#a64d79";
  return "#888888";
}

std::string cell(const json& row, const char* key, const char* f = "{:.2f}") {
  auto it = row.find(key);
  if (it == row.end() || !it->is_number()) return "<td class='num'>—</td>";
  return "<td class='num'>" + fmt::format(fmt::runtime(f), it->get<double>()) + "</td>";
}

std::string cell_pm(const json& row, const char* key, const char* err, const char* f) {
  if (!row.contains(key)) return "<td class='num'>—</td>";
  return "<td class='num'>" + fmt::format(fmt::runtime(f), row[key].get<double>()) + " ± " +
         fmt::format(fmt::runtime(f), row.value(err, 0.0)) + "</td>";
}

std::string mark_html(const json& c, bool lower_is_better) {
  const std::string m = significance_mark(c, lower_is_better);
  const char* cls = m == "✓" ? "ok" : m == "✗" ? "no" : "";
  return fmt::format("<span class='{}'>{}</span>", cls, m);
}

// KL divergence (y) against bits per weight (x), one colour per method.
std::string kld_chart(const std::vector<const json*>& rows) {
  std::vector<eval::report::Point> pts;
  double xmax = 0, ymax = 0;
  for (const json* r : rows) {
    if (!r->contains("kld")) continue;
    pts.push_back({fmt::format("{} {}", (*r)["method"].get<std::string>(), (*r)["level"].get<std::string>()),
                   (*r)["bpw"].get<double>(), (*r)["kld"].get<double>(), method_color((*r)["method"])});
    xmax = std::max(xmax, pts.back().x);
    ymax = std::max(ymax, pts.back().y);
  }
  eval::report::ScatterStyle st;
  st.x_max = std::ceil(xmax + 0.5);
  st.y_max = ymax > 0 ? ymax * 1.1 : 1.0;
  st.x_title = "bits per weight";
  st.y_title = "mean KL divergence";
  st.aria_label = "KL divergence against bits per weight";
  st.x_tick = [](double v) { return fmt::format("{:.1f}", v); };
  st.y_tick = [](double v) { return fmt::format("{:.3g}", v); };
  return eval::report::svg_scatter(pts, st);
}

std::string speed_chart(const json& model, const std::vector<const json*>& rows, const char* key,
                        const char* aria) {
  std::vector<eval::report::Bar> bars;
  if (model.contains(key)) bars.push_back({"original", model[key].get<double>(), "#999999"});
  for (const json* r : rows) {
    if (!r->contains(key)) continue;
    bars.push_back({fmt::format("{} {}", (*r)["method"].get<std::string>(), (*r)["level"].get<std::string>()),
                    (*r)[key].get<double>(), method_color((*r)["method"])});
  }
  eval::report::BarChartStyle st;
  st.aria_label = aria;
  st.value_format = "{:.0f}";
  return eval::report::svg_bar_chart(bars, st);
}

}  // namespace

std::string study_report_html(const json& r) {
  std::string h = eval::report::html_page_start("Quorum quantization study");
  const json& p = r["perplexity"];
  h += fmt::format("<p>Config <code>{}</code> · {} models · {} methods · {} levels · wall time {}</p>\n",
                   html_escape(r.value("config", "?")), r["models"].size(), r["methods"].size(),
                   r["levels"].size(), eval::report::format_seconds(r.value("wall_seconds", 0.0)));
  h += fmt::format("<p>Perplexity and KL divergence against the unquantized model on <code>{}</code> "
                   "(context {}, {} chunks).{}</p>\n",
                   html_escape(std::filesystem::path(p.value("data", "")).filename().string()),
                   p.value("ctx", 0), p.value("chunks", 0),
                   r["speed"].is_object() ? " Speeds were measured on a shared machine (under load)." : "");
  h += "<p class='legend'>Methods:";
  for (const json& m : r["methods"]) {
    h += fmt::format("<span style='background:{}'></span>{}{}", method_color(m["name"]),
                     html_escape(m["name"]), m["available"].get<bool>() ? "" : " (not in this build)");
  }
  h += "</p>\n";
  const std::vector<std::string> tasks = r.value("tasks", std::vector<std::string>{});
  for (const json& m : r["models"]) {
    const std::string name = m["name"];
    h += fmt::format("<h2>Model {}</h2>\n", html_escape(name));
    if (m.value("status", "") != "ok") {
      h += "<p class='err'>Not measured: " + html_escape(eval::report::one_line(m.value("error", ""))) + "</p>\n";
      continue;
    }
    h += fmt::format("<p>Original: {} · {:.2f} bits per weight · PPL {:.2f} ± {:.2f}</p>\n",
                     format_bytes(m.value("file_bytes", 0.0)), m.value("bpw", 0.0), m.value("ppl", 0.0),
                     m.value("ppl_err", 0.0));
    std::vector<const json*> rows;
    for (const json& run : r["runs"]) {
      if (run["model"] == name && run.value("status", "") == "ok") rows.push_back(&run);
    }
    h += "<div class='charts'><div>" + kld_chart(rows) + "</div><div>" +
         speed_chart(m, rows, "tg_tps", "generation tokens per second") + "</div></div>\n";
    h += "<table><tr><th>method</th><th>level</th><th>size</th><th>BPW</th><th>quant time</th>"
         "<th>PPL</th><th>KLD</th><th>same top-1 %</th><th>pp t/s</th><th>tg t/s</th>";
    for (const auto& t : tasks) h += "<th>" + html_escape(t) + "</th>";
    h += "</tr>\n";
    for (const json& run : r["runs"]) {
      if (run["model"] != name) continue;
      h += fmt::format("<tr><td style='color:{}'>{}</td><td>{}</td>", method_color(run["method"]),
                       html_escape(run["method"]), html_escape(run["level"]));
      if (run.value("status", "") != "ok") {
        h += fmt::format("<td colspan='{}' class='err'>{}</td></tr>\n", 8 + tasks.size(),
                         html_escape(eval::report::one_line(run.value("error", ""))));
        continue;
      }
      h += fmt::format("<td class='num'>{}</td>", format_bytes(run.value("file_bytes", 0.0))) + cell(run, "bpw") +
           fmt::format("<td class='num'>{}{}</td>", eval::report::format_seconds(run.value("quant_seconds", 0.0)),
                       run.value("cached", false) ? " (cached)" : "") +
           cell(run, "ppl") + cell_pm(run, "kld", "kld_err", "{:.5f}") +
           cell_pm(run, "same_top", "same_top_err", "{:.2f}") + cell(run, "pp_tps", "{:.0f}") +
           cell(run, "tg_tps", "{:.0f}");
      for (const auto& t : tasks) {
        h += run.contains("tasks") && run["tasks"].contains(t)
                 ? fmt::format("<td class='num'>{:.2f}</td>", run["tasks"][t].get<double>())
                 : std::string("<td class='num'>—</td>");
      }
      h += "</tr>\n";
    }
    h += "</table>\n";
  }
  if (!r["kl_comparisons"].empty()) {
    h += "<h2>Method comparisons: KL divergence</h2>\n<p class='cmp'>Paired bootstrap over the per-token "
         "KL divergence of the same scored tokens (lower is better): <span class='ok'>✓</span> A "
         "significantly better, <span class='no'>✗</span> significantly worse, · not significant.</p>\n"
         "<table><tr><th>model</th><th>level</th><th>A</th><th>B</th><th>KLD A</th><th>KLD B</th>"
         "<th>Δ (A − B)</th><th>95% CI</th><th>p</th><th></th></tr>\n";
    for (const json& c : r["kl_comparisons"]) {
      h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class='num'>{:.5f}</td>"
                       "<td class='num'>{:.5f}</td><td class='num'>{:+.5f}</td><td>[{:+.5f}, {:+.5f}]</td>"
                       "<td class='num'>{:.3g}</td><td>{}</td></tr>\n",
                       html_escape(c["model"]), html_escape(c["level"]), html_escape(c["a"]),
                       html_escape(c["b"]), c["kld_a"].get<double>(), c["kld_b"].get<double>(),
                       c["delta"].get<double>(), c["ci_low"].get<double>(), c["ci_high"].get<double>(),
                       c["p_value"].get<double>(), mark_html(c, true));
    }
    h += "</table>\n";
  }
  if (r.contains("task_comparisons") && !r["task_comparisons"].empty()) {
    h += "<h2>Method comparisons: tasks</h2>\n<table><tr><th>model</th><th>level</th><th>task</th>"
         "<th>A</th><th>B</th><th>A</th><th>B</th><th>Δ</th><th>test</th><th>p</th><th></th></tr>\n";
    for (const json& c : r["task_comparisons"]) {
      h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class='num'>{:.2f}</td>"
                       "<td class='num'>{:.2f}</td><td class='num'>{:+.2f}</td><td>{}</td>"
                       "<td class='num'>{:.3g}</td><td>{}</td></tr>\n",
                       html_escape(c["model"]), html_escape(c["level"]), html_escape(c["task"]),
                       html_escape(c["a"]), html_escape(c["b"]), c["main_a"].get<double>(),
                       c["main_b"].get<double>(), c["delta"].get<double>(), html_escape(c["test"]),
                       c["p_value"].get<double>(), mark_html(c, false));
    }
    h += "</table>\n";
  }
  if (r.contains("ensembles") && !r["ensembles"].empty()) {
    h += "<h2>Ensembles of the quantized models</h2>\n<table><tr><th>method</th><th>level</th><th>task</th>"
         "<th>strategy</th><th>models</th><th>main</th></tr>\n";
    for (const json& e : r["ensembles"]) {
      h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class='num'>{}</td>"
                       "<td class='num'>{:.2f}</td></tr>\n",
                       html_escape(e["method"]), html_escape(e["level"]), html_escape(e["task"]),
                       html_escape(e["strategy"]), e["n_models"].get<int64_t>(), e["main"].get<double>());
    }
    h += "</table>\n";
  }
  if (!r["problems"].empty()) {
    h += "<h2>Missing results</h2><ul>\n";
    for (const json& pr : r["problems"]) {
      h += fmt::format("<li><b>{}</b>: <span class='err'>{}</span></li>\n", html_escape(pr["part"]),
                       html_escape(eval::report::one_line(pr["error"])));
    }
    h += "</ul>\n";
  }
  return h + "</body></html>\n";
}

}  // namespace quorum::quantstudy
