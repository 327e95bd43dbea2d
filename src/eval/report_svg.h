// Building blocks of the self-contained HTML reports (evaluation, quant-study): the page head
// with the shared stylesheet, and inline SVG charts (horizontal bars, scatter plots) with no
// external assets or scripts.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace quorum::eval::report {

// "<!DOCTYPE html>…<body><h1>title</h1>": the shared stylesheet of every report page.
std::string html_page_start(const std::string& title);

struct Bar {
  std::string label;
  double value = 0.0;
  std::string color;
};

struct BarChartStyle {
  double scale_max = 0.0;           // 0: the largest value rounded up to a tenth of its decade
  std::string aria_label = "bars";
  std::string value_format = "{:.2f}";  // fmt format of the value printed after each bar
  int label_width = 150;
};

// One horizontal bar per entry, grid lines at fifths of the scale.
std::string svg_bar_chart(const std::vector<Bar>& bars, const BarChartStyle& style);

struct Point {
  std::string label;
  double x = 0.0, y = 0.0;
  std::string color;
};

struct ScatterStyle {
  double x_max = 0.0, y_max = 0.0;  // axis ends (> 0)
  std::string x_title, y_title, aria_label = "scatter";
  std::function<std::string(double)> x_tick;  // label of an x grid value (default "{:g}")
  std::function<std::string(double)> y_tick;  // label of a y grid value (default "{:g}")
  bool log_x = false;                         // log10 x axis from x_min to x_max
  double x_min = 0.0;
};

// Labelled points in a framed plot with four grid steps per axis.
std::string svg_scatter(const std::vector<Point>& points, const ScatterStyle& style);

}  // namespace quorum::eval::report
