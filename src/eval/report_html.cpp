// The self-contained HTML report: inline CSS, inline SVG bar charts and scatter plots (report.h).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "eval/report.h"
#include "eval/report_svg.h"
#include "eval/report_util.h"

namespace quorum::eval {

namespace {

using nlohmann::json;
using report::html_escape;

constexpr const char* kModelColor = "#4a78c2";
constexpr const char* kStrategyColor = "#e07b39";

std::string color_of(const json& s) { return s["type"] == "model" ? kModelColor : kStrategyColor; }

// Horizontal bars of every system on the main metric (0-100 scale, or up to the max if larger).
std::string bar_chart(const json& task) {
  std::vector<report::Bar> bars;
  double vmax = 0;
  for (const json& s : task["systems"]) {
    if (s["status"] != "ok") continue;
    bars.push_back({s["name"].get<std::string>(), s["main"].get<double>(), color_of(s)});
    vmax = std::max(vmax, bars.back().value);
  }
  report::BarChartStyle st;
  st.scale_max = vmax <= 0 ? 1.0 : std::min(100.0, std::ceil(vmax / 10.0) * 10.0);
  st.aria_label = "main metric per system";
  return report::svg_bar_chart(bars, st);
}

// Main metric (y) against inference seconds per item (x).
std::string scatter(const json& task) {
  std::vector<report::Point> points;
  double xmax = 0, ymax = 0;
  for (const json& s : task["systems"]) {
    if (s["status"] != "ok" || !s.contains("seconds_per_item")) continue;
    points.push_back({s["name"].get<std::string>(), s["seconds_per_item"].get<double>(),
                      s["main"].get<double>(), color_of(s)});
    xmax = std::max(xmax, points.back().x);
    ymax = std::max(ymax, points.back().y);
  }
  report::ScatterStyle st;
  st.x_max = xmax > 0 ? xmax * 1.1 : 1.0;
  st.y_max = ymax > 0 ? std::min(100.0, std::ceil(ymax / 10.0) * 10.0) : 1.0;
  st.x_title = "inference time per item";
  st.aria_label = "main metric against time per item";
  st.x_tick = [](double v) { return report::format_seconds(v); };
  return report::svg_scatter(points, st);
}

std::string table(const json& task, const json& results) {
  const std::vector<std::string> cols = report::metric_columns(task);
  std::string h = "<table><tr><th>system</th><th>type</th>";
  for (const auto& c : cols) h += "<th>" + html_escape(c) + "</th>";
  h += "<th>s/item</th><th>cached</th></tr>\n";
  for (const json& s : task["systems"]) {
    h += fmt::format("<tr class='{}'><td>{}</td><td>{}</td>", s["type"].get<std::string>(),
                     html_escape(s["name"]), s["type"].get<std::string>());
    if (s["status"] != "ok") {
      h += fmt::format("<td colspan='{}' class='err'>{}</td></tr>\n", cols.size() + 2,
                       html_escape(report::one_line(s.value("error", ""))));
      continue;
    }
    for (const auto& c : cols) h += "<td class='num'>" + report::metric_cell(s["metrics"], c) + "</td>";
    h += fmt::format("<td class='num'>{}</td><td class='num'>{}</td></tr>\n",
                     report::format_seconds(s.value("seconds_per_item", 0.0)),
                     s.contains("cache_hits") ? std::to_string(s["cache_hits"].get<int64_t>()) : "");
  }
  h += "</table>\n";
  bool any = false;
  for (const json& s : task["systems"]) any |= s["type"] == "strategy";
  if (!any) return h;
  h += "<h3>Strategies</h3><table><tr><th>strategy</th><th>parameters</th><th>" +
       html_escape(task["main_metric"]) +
       "</th><th>mean over seeds</th><th>ties</th><th>extra calls</th><th>s/item</th></tr>\n";
  for (const json& s : task["systems"]) {
    if (s["type"] != "strategy") continue;
    const std::string params = report::strategy_params(results, s["name"]);
    if (s["status"] != "ok") {
      h += fmt::format("<tr><td>{}</td><td>{}</td><td colspan='5' class='err'>{}</td></tr>\n",
                       html_escape(s["name"]), html_escape(params),
                       html_escape(report::one_line(s.value("error", ""))));
      continue;
    }
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td class='num'>{:.2f}</td><td class='num'>{:.2f}</td>"
        "<td class='num'>{}</td><td class='num'>{}</td><td class='num'>{}</td></tr>\n",
        html_escape(s["name"]), html_escape(params), s["main"].get<double>(),
        s["main_mean"].get<double>(), s.value("ties", 0), s.value("extra_calls", 0),
        report::format_seconds(s.value("seconds_per_item", 0.0)));
  }
  return h + "</table>\n";
}

}  // namespace

std::string report_html(const json& r) {
  std::string h = report::html_page_start("Quorum evaluation report");
  h += fmt::format("<p>Config <code>{}</code> · {} models · {} strategies · seeds {} · wall time {}</p>\n",
                   html_escape(r.value("config", "?")), r["models"].size(), r["strategies"].size(),
                   html_escape(r["seeds"].dump()), report::format_seconds(r.value("wall_seconds", 0.0)));
  h += "<table><tr><th>model</th><th>mode</th><th>weight</th><th>source</th></tr>\n";
  for (const json& m : r["models"]) {
    h += fmt::format("<tr><td>{}</td><td>{}</td><td class='num'>{:g}</td><td><code>{}</code></td></tr>\n",
                     html_escape(m["name"]), html_escape(m["mode"]), m["weight"].get<double>(),
                     html_escape(m["source"]));
  }
  h += "</table>\n";
  if (!r["problems"].empty()) {
    h += "<h2>Missing results</h2><ul>\n";
    for (const json& p : r["problems"]) {
      h += fmt::format("<li><b>{}</b>: <span class='err'>{}</span></li>\n", html_escape(p["part"]),
                       html_escape(report::one_line(p["error"])));
    }
    h += "</ul>\n";
  }
  h += fmt::format("<p class='legend'>Colours:<span style='background:{}'></span>single model"
                   "<span style='background:{}'></span>strategy</p>\n", kModelColor, kStrategyColor);
  for (const json& t : r["tasks"]) {
    h += fmt::format("<h2>Task {}</h2>\n", html_escape(t["name"]));
    if (t["status"] != "ok") {
      h += fmt::format("<p class='err'>Not evaluated: {}</p>\n", html_escape(report::one_line(t.value("error", ""))));
      continue;
    }
    h += fmt::format("<p>{} · split {} · {} items{} · main metric <b>{}</b></p>\n",
                     html_escape(t["kind"]), html_escape(t["split"]), t["n_items"].get<int64_t>(),
                     html_escape(report::skipped_note(t)), html_escape(t["main_metric"]));
    const json& cmp = t["comparison"];
    if (cmp.is_object()) {
      const bool sig = cmp["significant"].get<bool>();
      h += fmt::format(
          "<p class='cmp'>Best combination <b>{}</b> {:.2f} vs best single model <b>{}</b> {:.2f} "
          "(Δ {:+.2f}); {} p = {:.3g} <span class='{}'>{}</span></p>\n",
          html_escape(cmp["best_strategy"]), cmp["strategy_main"].get<double>(),
          html_escape(cmp["best_model"]), cmp["model_main"].get<double>(), cmp["delta"].get<double>(),
          html_escape(cmp["test"]), cmp["p_value"].get<double>(), sig ? "ok" : "no",
          sig ? "✓ significant" : "✗ not significant");
    }
    h += "<div class='charts'><div>" + bar_chart(t) + "</div><div>" + scatter(t) + "</div></div>\n";
    h += table(t, r);
  }
  return h + "</body></html>\n";
}

}  // namespace quorum::eval
