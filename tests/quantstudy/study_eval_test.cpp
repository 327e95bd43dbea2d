// The quant study's task part end to end (study_eval.cpp) on two task models: every quantized
// model gets task scores through the evaluation runner, each method+level's quantized models are
// combined by the ensemble, and the method comparisons on the task items are McNemar tests whose
// counts and p-values this test recomputes from the predictions files; the KL base is computed
// once per model. The Markdown report shows the task columns, ensembles and marks.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "quantstudy/study.h"
#include "run_study.h"
#include "quantstudy/study_report.h"
#include "testing/shared_data.h"

namespace quorum::quantstudy {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// system -> per-item correctness, from an evaluation's predictions/<task>.jsonl.
std::map<std::string, std::vector<bool>> correct_by_system(const std::string& file) {
  std::map<std::string, std::vector<bool>> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    const json row = json::parse(line);
    out[row["system"]].push_back(row["score"].get<double>() == 1.0);
  }
  return out;
}

// Two-sided exact binomial (sign) test of McNemar's discordant pairs, computed directly.
double exact_mcnemar(int64_t b, int64_t c) {
  const int64_t n = b + c;
  if (n == 0) return 1.0;
  const int64_t k = std::min(b, c);
  double tail = 0;
  for (int64_t i = 0; i <= k; ++i) tail += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) - n * std::log(2.0));
  return std::min(1.0, 2 * tail);
}

TEST(QuantStudyEval, TaskScoresEnsemblesAndMcNemarOnTwoModels) {
  const std::string out = testing::temp_dir("quantstudy-eval");
  const std::string text =
      "models:\n  - {name: qt-base, path: " + testing::shared_path("taskmodels/qt-base.gguf") + "}\n"
      "  - {name: qt-qwen, path: " + testing::shared_path("taskmodels/qt-qwen.gguf") + "}\n"
      "methods: [rtn, hqq]\nlevels: [Q4_0]\n"
      "perplexity: {data: " + testing::shared_path("data/wikitext2_raw/wiki.test.raw") + ", ctx: 256, chunks: 2}\n"
      "speed: off\nthreads: 2\n"
      "eval:\n  limit: 30\n  tasks:\n"
      "    - {name: sst2, data: " + testing::shared_path("taskmodels/data/sst2_test.jsonl") + "}\n"
      "    - {name: emotion, data: " + testing::shared_path("taskmodels/data/emotion_test.jsonl") + "}\n"
      "  ensemble: [vote]\n";
  auto cfg = parse_study_config(text, out, "t.yaml");
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  auto r = run_study(*cfg, out);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_TRUE((*r)["problems"].empty()) << (*r)["problems"].dump(2);
  for (const json& m : (*r)["models"]) EXPECT_TRUE(m["kl_base_cached"].get<bool>()) << m.dump();

  // Every quantized model and every original has a score on both tasks, equal to what its
  // group's evaluation reports.
  const std::vector<std::string> tasks = {"sst2", "emotion"};
  ASSERT_EQ((*r)["runs"].size(), 4u);
  for (const json& run : (*r)["runs"]) {
    ASSERT_EQ(run["status"], "ok") << run.dump();
    const json group = json::parse(testing::read_file(out + "/eval/" + run["method"].get<std::string>() + "-Q4_0/results.json"));
    for (size_t t = 0; t < tasks.size(); ++t) {
      ASSERT_TRUE(run["tasks"].contains(tasks[t])) << run.dump();
      for (const json& s : group["tasks"][t]["systems"]) {
        if (s["name"] == run["model"]) {
          EXPECT_EQ(s["main"], run["tasks"][tasks[t]]);
        }
      }
    }
  }
  for (const std::string m : {"qt-base", "qt-qwen"}) {
    for (const auto& t : tasks) EXPECT_TRUE((*r)["original_tasks"][m].contains(t)) << m << " " << t;
  }
  // A two-model vote per group and task: original, rtn-Q4_0, hqq-Q4_0.
  std::map<std::string, int> ensembles;
  for (const json& e : (*r)["ensembles"]) {
    EXPECT_EQ(e["strategy"], "vote");
    EXPECT_EQ(e["n_models"], 2);
    ensembles[e["group"].get<std::string>() + "/" + e["task"].get<std::string>()]++;
  }
  for (const char* g : {"original", "rtn-Q4_0", "hqq-Q4_0"}) {
    for (const auto& t : tasks) EXPECT_EQ(ensembles[std::string(g) + "/" + t], 1) << g << " " << t;
  }
  // hqq vs rtn per model and task: McNemar on the same items, recomputed from the predictions.
  ASSERT_EQ((*r)["task_comparisons"].size(), 4u);
  for (const json& c : (*r)["task_comparisons"]) {
    EXPECT_EQ(c["a"], "hqq");
    EXPECT_EQ(c["b"], "rtn");
    const std::string task = c["task"], model = c["model"];
    const auto a = correct_by_system(out + "/eval/hqq-Q4_0/predictions/" + task + ".jsonl")[model];
    const auto b = correct_by_system(out + "/eval/rtn-Q4_0/predictions/" + task + ".jsonl")[model];
    ASSERT_EQ(a.size(), 30u);
    ASSERT_EQ(b.size(), 30u);
    int64_t a_only = 0, b_only = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      a_only += a[i] && !b[i];
      b_only += b[i] && !a[i];
      na += a[i];
      nb += b[i];
    }
    EXPECT_EQ(c["a_only"], a_only) << c.dump();
    EXPECT_EQ(c["b_only"], b_only) << c.dump();
    EXPECT_NEAR(c["main_a"].get<double>(), 100.0 * na / 30, 1e-9);
    EXPECT_NEAR(c["main_b"].get<double>(), 100.0 * nb / 30, 1e-9);
    if (a_only + b_only < 25) {  // the exact test below 25 discordant pairs
      EXPECT_EQ(c["test"], "McNemar (exact binomial)");
      EXPECT_NEAR(c["p_value"].get<double>(), exact_mcnemar(a_only, b_only), 1e-9) << c.dump();
    }
    EXPECT_EQ(c["significant"].get<bool>(), c["p_value"].get<double>() < 0.05);
  }

  ASSERT_TRUE(write_study_reports(*r, out).is_ok());
  const std::string md = testing::read_file(out + "/report.md");
  EXPECT_NE(md.find("| sst2 | emotion |"), std::string::npos) << md;
  EXPECT_NE(md.find("## Ensembles of the quantized models"), std::string::npos) << md;
  EXPECT_NE(md.find("## Method comparisons: tasks"), std::string::npos) << md;
  EXPECT_NE(md.find("| hqq | Q4_0 | sst2 | vote | 2 |"), std::string::npos) << md;
  EXPECT_EQ(md.find("Missing results"), std::string::npos) << md;
  // The per-model tables: four run rows whose last two cells (sst2, emotion) are numbers.
  int rows = 0;
  std::istringstream lines(md);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("| rtn | Q4_0 |", 0) != 0 && line.rfind("| hqq | Q4_0 |", 0) != 0) continue;
    std::vector<std::string> cells;
    for (size_t at = 1, bar; (bar = line.find('|', at)) != std::string::npos; at = bar + 1) {
      cells.push_back(line.substr(at + 1, bar - at - 2));
    }
    if (cells.size() < 12) continue;  // an ensemble row
    ++rows;
    for (size_t k = cells.size() - 2; k < cells.size(); ++k) {
      EXPECT_NO_THROW((void)std::stod(cells[k])) << line;
    }
  }
  EXPECT_EQ(rows, 4);
}

}  // namespace
}  // namespace quorum::quantstudy
