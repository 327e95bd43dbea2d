// The self-contained HTML report: inline CSS, inline SVG bar charts and scatter plots (report.h).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "eval/report.h"
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
  std::vector<const json*> ok;
  for (const json& s : task["systems"]) {
    if (s["status"] == "ok") ok.push_back(&s);
  }
  if (ok.empty()) return "";
  double vmax = 0;
  for (const json* s : ok) vmax = std::max(vmax, (*s)["main"].get<double>());
  const double scale_max = vmax <= 0 ? 1.0 : std::min(100.0, std::ceil(vmax / 10.0) * 10.0);
  const int label_w = 150, bar_w = 420, row_h = 24, top = 10;
  const int h = top + row_h * static_cast<int>(ok.size()) + 30;
  std::string svg = fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' role='img' "
      "aria-label='main metric per system'>\n",
      label_w + bar_w + 70, h);
  for (int g = 0; g <= 5; ++g) {
    const double x = label_w + bar_w * g / 5.0;
    svg += fmt::format("<line x1='{:.1f}' y1='{}' x2='{:.1f}' y2='{}' stroke='#ddd'/>"
                       "<text x='{:.1f}' y='{}' font-size='11' text-anchor='middle' fill='#555'>{:g}</text>\n",
                       x, top, x, h - 22, x, h - 8, scale_max * g / 5.0);
  }
  int y = top;
  for (const json* s : ok) {
    const double v = (*s)["main"].get<double>();
    const double w = std::max(0.0, bar_w * std::min(v, scale_max) / scale_max);
    svg += fmt::format(
        "<text x='{}' y='{}' font-size='12' text-anchor='end'>{}</text>"
        "<rect x='{}' y='{}' width='{:.1f}' height='{}' fill='{}'><title>{}: {:.2f}</title></rect>"
        "<text x='{:.1f}' y='{}' font-size='11'>{:.2f}</text>\n",
        label_w - 6, y + 16, html_escape((*s)["name"]), label_w, y + 4, w, row_h - 8, color_of(*s),
        html_escape((*s)["name"]), v, label_w + w + 4, y + 16, v);
    y += row_h;
  }
  return svg + "</svg>\n";
}

// Main metric (y) against inference seconds per item (x).
std::string scatter(const json& task) {
  std::vector<const json*> ok;
  for (const json& s : task["systems"]) {
    if (s["status"] == "ok" && s.contains("seconds_per_item")) ok.push_back(&s);
  }
  if (ok.empty()) return "";
  double xmax = 0, ymax = 0;
  for (const json* s : ok) {
    xmax = std::max(xmax, (*s)["seconds_per_item"].get<double>());
    ymax = std::max(ymax, (*s)["main"].get<double>());
  }
  xmax = xmax > 0 ? xmax * 1.1 : 1.0;
  ymax = ymax > 0 ? std::min(100.0, std::ceil(ymax / 10.0) * 10.0) : 1.0;
  const int left = 50, top = 10, w = 420, h = 220;
  std::string svg = fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' role='img' "
      "aria-label='main metric against time per item'>\n"
      "<rect x='{}' y='{}' width='{}' height='{}' fill='none' stroke='#999'/>\n",
      left + w + 150, top + h + 40, left, top, w, h);
  for (int g = 0; g <= 4; ++g) {
    const double yy = top + h - h * g / 4.0;
    const double xx = left + w * g / 4.0;
    svg += fmt::format(
        "<text x='{}' y='{:.1f}' font-size='11' text-anchor='end' fill='#555'>{:g}</text>"
        "<text x='{:.1f}' y='{}' font-size='11' text-anchor='middle' fill='#555'>{}</text>\n",
        left - 4, yy + 4, ymax * g / 4.0, xx, top + h + 14, report::format_seconds(xmax * g / 4.0));
  }
  svg += fmt::format("<text x='{}' y='{}' font-size='11' text-anchor='middle'>inference time per item</text>\n",
                     left + w / 2, top + h + 32);
  for (const json* s : ok) {
    const double x = left + w * (*s)["seconds_per_item"].get<double>() / xmax;
    const double y = top + h - h * std::min((*s)["main"].get<double>(), ymax) / ymax;
    svg += fmt::format(
        "<circle cx='{:.1f}' cy='{:.1f}' r='5' fill='{}' fill-opacity='0.8'><title>{}</title></circle>"
        "<text x='{:.1f}' y='{:.1f}' font-size='11'>{}</text>\n",
        x, y, color_of(*s), html_escape((*s)["name"]), x + 7, y + 4, html_escape((*s)["name"]));
  }
  return svg + "</svg>\n";
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
  std::string h =
      "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
      "<title>Quorum evaluation report</title>\n<style>\n"
      "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:980px;margin:2em auto;"
      "padding:0 1em;color:#222;line-height:1.4}\n"
      "h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc;padding-bottom:.2em}\n"
      "table{border-collapse:collapse;margin:.6em 0;font-size:.9em}\n"
      "th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left}th{background:#f4f4f4}\n"
      "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
      "tr.strategy td:first-child{color:#b4561c;font-weight:600}\n"
      ".err{color:#b00020}.ok{color:#137333;font-weight:700}.no{color:#b00020;font-weight:700}\n"
      ".charts{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}\n"
      ".legend span{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em;vertical-align:-.1em}\n"
      ".cmp{background:#f7f7fb;border-left:4px solid #4a78c2;padding:.5em 1em}\n"
      "</style></head><body>\n<h1>Quorum evaluation report</h1>\n";
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
    h += fmt::format("<p>{} · split {} · {} items · main metric <b>{}</b></p>\n",
                     html_escape(t["kind"]), html_escape(t["split"]), t["n_items"].get<int64_t>(),
                     html_escape(t["main_metric"]));
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
