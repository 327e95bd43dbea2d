// Page head and inline SVG charts shared by the HTML reports (report_svg.h).
#include "eval/report_svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "eval/report_util.h"

namespace quorum::eval::report {

std::string html_page_start(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
         "<title>" + html_escape(title) + "</title>\n<style>\n"
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
         "</style></head><body>\n<h1>" + html_escape(title) + "</h1>\n";
}

std::string svg_bar_chart(const std::vector<Bar>& bars, const BarChartStyle& st) {
  if (bars.empty()) return "";
  double scale_max = st.scale_max;
  if (scale_max <= 0) {
    double vmax = 0;
    for (const Bar& b : bars) vmax = std::max(vmax, b.value);
    if (vmax <= 0) {
      scale_max = 1.0;
    } else {
      const double step = std::pow(10.0, std::floor(std::log10(vmax))) / 10.0;
      scale_max = std::ceil(vmax / step) * step;
    }
  }
  const int label_w = st.label_width, bar_w = 420, row_h = 24, top = 10;
  const int h = top + row_h * static_cast<int>(bars.size()) + 30;
  std::string svg = fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' role='img' "
      "aria-label='{}'>\n",
      label_w + bar_w + 70, h, html_escape(st.aria_label));
  for (int g = 0; g <= 5; ++g) {
    const double x = label_w + bar_w * g / 5.0;
    svg += fmt::format("<line x1='{:.1f}' y1='{}' x2='{:.1f}' y2='{}' stroke='#ddd'/>"
                       "<text x='{:.1f}' y='{}' font-size='11' text-anchor='middle' fill='#555'>{:g}</text>\n",
                       x, top, x, h - 22, x, h - 8, scale_max * g / 5.0);
  }
  int y = top;
  for (const Bar& b : bars) {
    const double w = std::max(0.0, bar_w * std::min(b.value, scale_max) / scale_max);
    const std::string value = fmt::format(fmt::runtime(st.value_format), b.value);
    svg += fmt::format(
        "<text x='{}' y='{}' font-size='12' text-anchor='end'>{}</text>"
        "<rect x='{}' y='{}' width='{:.1f}' height='{}' fill='{}'><title>{}: {}</title></rect>"
        "<text x='{:.1f}' y='{}' font-size='11'>{}</text>\n",
        label_w - 6, y + 16, html_escape(b.label), label_w, y + 4, w, row_h - 8, b.color,
        html_escape(b.label), value, label_w + w + 4, y + 16, value);
    y += row_h;
  }
  return svg + "</svg>\n";
}

std::string svg_scatter(const std::vector<Point>& points, const ScatterStyle& st) {
  if (points.empty()) return "";
  const int left = 50, top = 10, w = 420, h = 220;
  const double xmax = st.x_max > 0 ? st.x_max : 1.0, ymax = st.y_max > 0 ? st.y_max : 1.0;
  const bool log_x = st.log_x && st.x_min > 0 && st.x_min < xmax;
  auto x_frac = [&](double x) {
    if (!log_x) return x / xmax;
    return (std::log10(std::max(x, st.x_min)) - std::log10(st.x_min)) /
           (std::log10(xmax) - std::log10(st.x_min));
  };
  auto x_at = [&](double frac) {
    return log_x ? std::pow(10.0, std::log10(st.x_min) + frac * (std::log10(xmax) - std::log10(st.x_min)))
                 : xmax * frac;
  };
  auto tick = [](const std::function<std::string(double)>& f, double v) {
    return f ? f(v) : fmt::format("{:g}", v);
  };
  std::string svg = fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' role='img' "
      "aria-label='{}'>\n"
      "<rect x='{}' y='{}' width='{}' height='{}' fill='none' stroke='#999'/>\n",
      left + w + 150, top + h + 40, html_escape(st.aria_label), left, top, w, h);
  for (int g = 0; g <= 4; ++g) {
    const double yy = top + h - h * g / 4.0;
    const double xx = left + w * g / 4.0;
    svg += fmt::format(
        "<text x='{}' y='{:.1f}' font-size='11' text-anchor='end' fill='#555'>{}</text>"
        "<text x='{:.1f}' y='{}' font-size='11' text-anchor='middle' fill='#555'>{}</text>\n",
        left - 4, yy + 4, html_escape(tick(st.y_tick, ymax * g / 4.0)), xx, top + h + 14,
        html_escape(tick(st.x_tick, x_at(g / 4.0))));
  }
  svg += fmt::format("<text x='{}' y='{}' font-size='11' text-anchor='middle'>{}</text>\n",
                     left + w / 2, top + h + 32, html_escape(st.x_title));
  if (!st.y_title.empty()) {
    svg += fmt::format("<text x='12' y='{}' font-size='11' text-anchor='middle' "
                       "transform='rotate(-90 12 {})'>{}</text>\n",
                       top + h / 2, top + h / 2, html_escape(st.y_title));
  }
  for (const Point& p : points) {
    const double x = left + w * std::clamp(x_frac(p.x), 0.0, 1.0);
    const double y = top + h - h * std::clamp(p.y / ymax, 0.0, 1.0);
    svg += fmt::format(
        "<circle cx='{:.1f}' cy='{:.1f}' r='5' fill='{}' fill-opacity='0.8'><title>{}</title></circle>"
        "<text x='{:.1f}' y='{:.1f}' font-size='11'>{}</text>\n",
        x, y, p.color, html_escape(p.label), x + 7, y + 4, html_escape(p.label));
  }
  return svg + "</svg>\n";
}

}  // namespace quorum::eval::report
