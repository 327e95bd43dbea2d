// The committed study config (configs/study.yaml) end to end through the real CLI on a subset:
// `quorum eval configs/study.yaml --limit 2 --out DIR` with all five task models, all four tasks
// and every strategy (debate included) must finish with no problems and write results.json,
// report.md, report.html and one predictions file per task holding every model and every
// strategy that applies to the task's kind. What is expected is read from the config itself
// (and the strategy registry), so the test follows the config as it changes.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "apps/cli_util.h"
#include "ensemble/strategy.h"
#include "eval/eval_config.h"

namespace quorum {
namespace {

using nlohmann::json;

TEST(CliStudy, StudyConfigRunsEndToEndOnASubset) {
  const std::string config_path = std::string(QUORUM_SOURCE_DIR) + "/configs/study.yaml";
  auto config = eval::load_eval_config(config_path);
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  ASSERT_EQ(config->models.size(), 5u);
  ASSERT_EQ(config->tasks.size(), 4u);
  const std::string out = testing::temp_dir("study") + "/out";
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = testing::run_quorum({"eval", config_path, "--limit", "2", "--out", out, "--quiet"});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("quorum eval configs/study.yaml --limit 2: %.1f s\n", seconds);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;  // 2 = some part failed
  for (const char* f : {"results.json", "report.md", "report.html", "answers.sqlite"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  }
  const json res = json::parse(testing::read_file(out + "/results.json"));
  EXPECT_TRUE(res["problems"].empty()) << res["problems"].dump(2);
  EXPECT_EQ(res["cache"], out + "/answers.sqlite");  // a fresh cache: every answer computed now
  ASSERT_EQ(res["tasks"].size(), config->tasks.size());
  const std::string md = testing::read_file(out + "/report.md");
  EXPECT_EQ(md.find("Missing results"), std::string::npos);
  for (size_t ti = 0; ti < config->tasks.size(); ++ti) {
    const eval::TaskConfig& task = config->tasks[ti];
    const json& t = res["tasks"][ti];
    ASSERT_EQ(t["name"], task.name);
    ASSERT_EQ(t["status"], "ok") << t.dump(2);
    EXPECT_EQ(t["n_items"], 2);
    EXPECT_NE(md.find("## Task " + task.name), std::string::npos);
    // Expected systems: every model, every strategy accepting this task kind.
    std::map<std::string, std::string> expected;  // name -> type
    for (const auto& m : config->models) expected[m.name] = "model";
    for (const auto& s : config->strategies) {
      auto entry = ensemble::find_strategy(s.strategy);
      ASSERT_TRUE(entry.is_ok());
      const auto& kinds = (*entry)->kinds;
      if (std::find(kinds.begin(), kinds.end(), task.spec.kind) != kinds.end()) expected[s.name] = "strategy";
    }
    std::map<std::string, std::string> seen;
    for (const json& s : t["systems"]) {
      EXPECT_EQ(s["status"], "ok") << task.name << ": " << s.dump();
      seen[s["name"]] = s["type"];
      const double main = s.value("main", -1.0);
      EXPECT_TRUE(main >= 0.0 && main <= 100.0) << task.name << " " << s["name"];
      EXPECT_NE(md.find("| " + s["name"].get<std::string>() + " | " + s["type"].get<std::string>() + " |"),
                std::string::npos) << s["name"];
    }
    EXPECT_EQ(seen, expected) << task.name;
    if (task.spec.kind == eval::TaskKind::kClassification) {
      EXPECT_TRUE(expected.count("debate")) << "debate must run on " << task.name;
    }
    // Predictions: two rows (items) per model and per strategy and seed, each with a prediction.
    std::map<std::string, int> rows;
    std::ifstream in(out + "/predictions/" + task.name + ".jsonl");
    ASSERT_TRUE(in) << task.name;
    for (std::string line; std::getline(in, line);) {
      const json row = json::parse(line);
      EXPECT_TRUE(row.contains("prediction") && row.contains("score")) << line;
      rows[row["system"]]++;
    }
    for (const auto& [name, type] : expected) {
      EXPECT_EQ(rows[name], type == "model" ? 2 : 2 * static_cast<int>(config->seeds.size()))
          << task.name << " / " << name;
    }
    EXPECT_EQ(rows.size(), expected.size()) << task.name;
  }
}

}  // namespace
}  // namespace quorum
