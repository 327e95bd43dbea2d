// Golden greedy files (../shared/golden/<model>/greedy.jsonl, made with llama.cpp): loading and
// the per-step comparison of our logits with llama.cpp's top-10.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/sampling.h"
#include "engine/session.h"
#include "model/model.h"
#include "testing/shared_data.h"

namespace quorum::testing {

struct GoldenTop {
  int32_t id;
  double logit, logprob;
};
struct GoldenCase {
  std::string prompt;
  std::vector<int32_t> prompt_tokens;
  std::vector<std::vector<GoldenTop>> steps;
  std::vector<int32_t> greedy_tokens;
  std::string greedy_text;
};

inline std::vector<GoldenCase> load_golden(const std::string& model_dir) {
  std::vector<GoldenCase> out;
  std::ifstream in(shared_path("golden/" + model_dir + "/greedy.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    GoldenCase c;
    c.prompt = j.at("prompt").get<std::string>();
    c.prompt_tokens = j.at("prompt_tokens").get<std::vector<int32_t>>();
    for (const auto& s : j.at("steps")) {
      std::vector<GoldenTop> top;
      for (const auto& t : s.at("top")) {
        top.push_back({t[0].get<int32_t>(), t[1].get<double>(), t[2].get<double>()});
      }
      c.steps.push_back(std::move(top));
    }
    c.greedy_tokens = j.at("greedy_tokens").get<std::vector<int32_t>>();
    c.greedy_text = j.at("greedy_text").get<std::string>();
    out.push_back(std::move(c));
  }
  return out;
}

// The llama.cpp quantizations of qt-base in ../shared/golden (qt-base.<TYPE>/ and
// quant/qt-base.<TYPE>.gguf): every type there (golden_quant_test checks that a type left out
// really has no kernel).
inline const std::vector<std::string> kQuantGoldenTypes = {
    "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K_M",
    "Q4_K_M", "Q5_K_M", "Q6_K", "IQ4_NL", "IQ2_XS", "IQ2_XXS"};

// A golden name as a GoogleTest parameter name ("qt-base.Q4_K_M" -> "qt_base_Q4_K_M").
inline std::string golden_param_name(const std::string& name) {
  std::string n = name;
  for (char& ch : n) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return n;
}

// Model file for a golden directory name.
inline std::string golden_model_path(const std::string& name) {
  if (name == "stories260K") return shared_path("models/stories260K/stories260K.gguf");
  if (name == "llama-2-tiny-random") {
    return shared_path("models/llama-2-tiny-random/llama-2-tiny-random.gguf");
  }
  if (name.find('.') != std::string::npos) return shared_path("golden/quant/" + name + ".gguf");
  return shared_path("taskmodels/" + name + ".gguf");
}

struct GoldenStats {
  double max_abs = 0, max_rel = 0;
  std::string worst;  // the worst element relative to the tolerance
  double worst_ratio = 0;
  int64_t steps = 0;
};

// Runs every case of `name` greedily and checks it against llama.cpp's numbers.
inline GoldenStats run_golden(const std::string& name, double rel_tol, double abs_tol,
                              int n_threads = 2) {
  GoldenStats st;
  auto model = Model::load(golden_model_path(name));
  EXPECT_TRUE(model.is_ok()) << model.status().to_string();
  if (!model) return st;
  SessionOptions so;
  so.n_ctx = 1024;
  so.n_threads = n_threads;
  auto session = Session::create(*model, so);
  EXPECT_TRUE(session.is_ok()) << session.status().to_string();
  if (!session) return st;
  Session& s = **session;
  const auto cases = load_golden(name);
  EXPECT_FALSE(cases.empty());
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const GoldenCase& c = cases[ci];
    EXPECT_TRUE(s.rewind(0).is_ok());
    auto logits = s.decode(c.prompt_tokens);
    EXPECT_TRUE(logits.is_ok()) << logits.status().to_string();
    if (!logits) return st;
    std::vector<int32_t> greedy;
    for (size_t step = 0; step < c.steps.size(); ++step) {
      const std::span<const float> l = *logits;
      // Our top-10 ids must be llama.cpp's (as a set; the order follows from the logits). A
      // near-tie at rank 10 may swap: a missing id must then be within tolerance of our 10th.
      std::vector<int32_t> ids(l.size());
      for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
      std::partial_sort(ids.begin(), ids.begin() + 10, ids.end(),
                        [&](int32_t a, int32_t b) { return l[a] > l[b]; });
      const double tenth = l[static_cast<size_t>(ids[9])];
      for (const GoldenTop& t : c.steps[step]) {
        const bool found = std::find(ids.begin(), ids.begin() + 10, t.id) != ids.begin() + 10;
        const bool boundary_tie =
            std::fabs(t.logit - tenth) <= abs_tol + rel_tol * std::fabs(t.logit);
        EXPECT_TRUE(found || boundary_tie)
            << name << " case " << ci << " step " << step << ": llama.cpp's top-10 token "
            << t.id << " (logit " << t.logit << ") is not in ours (our 10th logit " << tenth
            << ")";
      }
      for (const GoldenTop& t : c.steps[step]) {
        const double got = l[static_cast<size_t>(t.id)];
        const double abs_err = std::fabs(got - t.logit);
        const double rel_err = abs_err / std::max(std::fabs(t.logit), 1e-12);
        const double ratio = abs_err / (abs_tol + rel_tol * std::fabs(t.logit));
        st.max_abs = std::max(st.max_abs, abs_err);
        if (std::fabs(t.logit) > 1e-2) st.max_rel = std::max(st.max_rel, rel_err);
        if (ratio > st.worst_ratio) {
          st.worst_ratio = ratio;
          st.worst = "case " + std::to_string(ci) + " step " + std::to_string(step) + " token " +
                     std::to_string(t.id) + ": ours " + std::to_string(got) + " llama.cpp " +
                     std::to_string(t.logit);
        }
      }
      const int32_t next = argmax(l);
      greedy.push_back(next);
      ++st.steps;
      if (step + 1 < c.steps.size()) {
        logits = s.decode(std::span<const int32_t>(&next, 1));
        EXPECT_TRUE(logits.is_ok()) << logits.status().to_string();
        if (!logits) return st;
      }
    }
    EXPECT_EQ(greedy, c.greedy_tokens) << name << " case " << ci << " prompt: " << c.prompt;
  }
  EXPECT_LE(st.worst_ratio, 1.0) << name << ": worst logit error " << st.worst;
  std::printf("[golden] %-22s steps %4lld  max abs err %.3g  max rel err %.3g  worst: %s\n",
              name.c_str(), static_cast<long long>(st.steps), st.max_abs, st.max_rel,
              st.worst.c_str());
  return st;
}

}  // namespace quorum::testing
