// llama-perplexity's figures from ../shared/golden/perplexity.md, read from the Markdown tables
// themselves (so the tests hold exactly the published numbers), and the command that reproduces
// them with `quorum perplexity`.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "testing/shared_data.h"

namespace quorum::testing {

// A figure "x ± e" (or "x +/- e").
struct Figure {
  double value = 0, err = 0;
};

// Row name -> the figures of its cells, for every table row of perplexity.md.
inline std::map<std::string, std::vector<Figure>> perplexity_table() {
  std::map<std::string, std::vector<Figure>> rows;
  std::istringstream in(read_file(shared_path("golden/perplexity.md")));
  const std::regex figure(R"(^\s*(-?[0-9.]+)\s*(?:±|\+/-)\s*([0-9.]+)\s*%?\s*$)");
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 2 || line[0] != '|') continue;
    std::vector<std::string> cells;
    std::istringstream ls(line.substr(1));
    std::string cell;
    while (std::getline(ls, cell, '|')) cells.push_back(cell);
    if (cells.size() < 2) continue;
    std::vector<Figure> figs;
    for (size_t i = 1; i < cells.size(); ++i) {
      std::smatch m;
      if (std::regex_match(cells[i], m, figure)) figs.push_back({std::stod(m[1]), std::stod(m[2])});
    }
    if (figs.empty() || figs.size() + 1 != cells.size()) continue;  // header or other table
    std::string name = cells[0];
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    rows[name] = figs;
  }
  return rows;
}

// The settings of the published figures: wikitext-2 test, 512-token chunks, 20 chunks.
inline std::vector<std::string> golden_perplexity_args(const std::string& model) {
  return {"perplexity", "-m", model, "-f", shared_path("data/wikitext2_raw/wiki.test.raw"),
          "-c", "512", "--chunks", "20", "-t", "2", "--json"};
}

// Relative difference |a - b| / |b|.
inline double rel_diff(double a, double b) { return std::abs(a - b) / std::abs(b); }

}  // namespace quorum::testing
