// The evaluation runner end to end against remote models served by a real loopback HTTP server:
// hand-computed metrics for models and a majority vote, failing parts that do not stop the run,
// resuming an interrupted run from the answer cache, and the reports.
#include "eval/runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "backend/openai_test_server.h"
#include "eval/report.h"
#include "testing/shared_data.h"

namespace quorum::eval {
namespace {

using nlohmann::json;
using quorum::testing::OpenAiTestServer;

const std::vector<std::string> kGold = {"positive", "negative", "positive",
                                        "negative", "positive", "negative"};

std::string prompt_of(int i) { return "Task: sentiment\nText: s" + std::to_string(i) + "\nAnswer:"; }
std::string flip(const std::string& l) { return l == "positive" ? "negative" : "positive"; }

// Model a: right on items 0-3; b: right on 0, 1, 4, wrong on 2, 3, unparseable on 5;
// c: right on 2-5. Majority vote (ties to the heavier model c): right on all six.
void install_models(OpenAiTestServer& server) {
  std::map<std::string, std::string> a, b, c;
  for (int i = 0; i < 6; ++i) {
    a[prompt_of(i)] = " " + (i <= 3 ? kGold[i] : flip(kGold[i]));
    b[prompt_of(i)] = i == 5 ? " maybe" : " " + (i == 2 || i == 3 ? flip(kGold[i]) : kGold[i]);
    c[prompt_of(i)] = " " + (i >= 2 ? kGold[i] : flip(kGold[i])) + "\nextra line";
  }
  server.set_model_table("a", a);
  server.set_model_table("b", b);
  server.set_model_table("c", c);
}

std::string write_data(const std::string& dir) {
  const std::string path = dir + "/sst2_mini.jsonl";
  std::ofstream out(path);
  for (int i = 0; i < 6; ++i) {
    out << json({{"id", "x" + std::to_string(i)}, {"sentence", "s" + std::to_string(i)},
                 {"label", kGold[i]}, {"answers", {kGold[i]}}})
               .dump()
        << "\n";
  }
  return path;
}

std::string config_text(const std::string& url, const std::string& data, const std::string& extra_models,
                        const std::string& extra_tasks) {
  return "output: out\nmodels:\n"
         "  - {name: a, url: '" + url + "', model: a, retries: 0}\n"
         "  - {name: b, url: '" + url + "', model: b, retries: 0}\n"
         "  - {name: c, url: '" + url + "', model: c, retries: 0, weight: 2}\n" + extra_models +
         "tasks:\n  - {name: sst2, data: '" + data + "'}\n" + extra_tasks +
         "strategies:\n  - vote\n";
}

const json& system_of(const json& task, const std::string& name) {
  for (const json& s : task["systems"]) {
    if (s["name"] == name) return s;
  }
  static const json kNone;
  ADD_FAILURE() << "no system " << name;
  return kNone;
}

// The predictions file without timing and cache fields, which legitimately differ between runs.
std::vector<json> stable_predictions(const std::string& path) {
  std::vector<json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line);
    j.erase("seconds");
    j.erase("from_cache");
    rows.push_back(j);
  }
  return rows;
}

TEST(Runner, ModelsAndVoteMatchHandComputedScores) {
  OpenAiTestServer server({});
  install_models(server);
  const std::string dir = quorum::testing::temp_dir("run");
  const std::string data = write_data(dir);
  auto cfg = parse_eval_config(
      config_text(server.url(), data,
                  "  - {name: dead, url: 'http://127.0.0.1:9', model: a, retries: 0}\n",
                  "  - {name: emotion, data: missing.jsonl}\n"),
      dir, "t.yaml");
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  RunOptions ro;
  ro.progress = false;
  Logger quiet(LogLevel::kSilent);
  auto r = run_evaluation(*cfg, ro, default_backend_factory(), quiet);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const json& sst2 = (*r)["tasks"][0];
  ASSERT_EQ(sst2["status"], "ok");
  EXPECT_EQ(sst2["n_items"], 6);
  EXPECT_NEAR(system_of(sst2, "a")["main"].get<double>(), 400.0 / 6, 1e-9);
  EXPECT_NEAR(system_of(sst2, "b")["main"].get<double>(), 50.0, 1e-9);
  EXPECT_EQ(system_of(sst2, "b")["metrics"]["unparsed"], 1);
  EXPECT_NEAR(system_of(sst2, "c")["main"].get<double>(), 400.0 / 6, 1e-9);  // cut at the newline
  const json& vote = system_of(sst2, "vote");
  ASSERT_EQ(vote["status"], "ok") << vote.dump();
  EXPECT_NEAR(vote["main"].get<double>(), 100.0, 1e-9);
  EXPECT_EQ(vote["ties"], 1);
  // Best combination (vote) vs best single model (a): vote alone right on items 4, 5.
  const json& cmp = sst2["comparison"];
  EXPECT_EQ(cmp["best_strategy"], "vote");
  EXPECT_EQ(cmp["best_model"], "a");
  EXPECT_EQ(cmp["strategy_only"], 2);
  EXPECT_EQ(cmp["model_only"], 0);
  EXPECT_NEAR(cmp["p_value"].get<double>(), 0.5, 1e-12);  // exact binomial, 2 discordant pairs
  EXPECT_FALSE(cmp["significant"].get<bool>());
  // The failing parts are reported, the rest ran.
  EXPECT_EQ(system_of(sst2, "dead")["status"], "error");
  EXPECT_EQ((*r)["tasks"][1]["status"], "error");
  ASSERT_EQ((*r)["problems"].size(), 2u);
  EXPECT_EQ((*r)["problems"][0]["part"], "task sst2 / model dead");
  EXPECT_EQ((*r)["problems"][1]["part"], "task emotion");
  EXPECT_NE((*r)["problems"][1]["error"].get<std::string>().find("missing.jsonl"), std::string::npos);
  // Outputs.
  const std::string out = dir + "/out";
  EXPECT_TRUE(std::filesystem::exists(out + "/results.json"));
  EXPECT_EQ(stable_predictions(out + "/predictions/sst2.jsonl").size(), 6u * 4u);
  ASSERT_TRUE(write_reports(*r, out).is_ok());
  const std::string md = quorum::testing::read_file(out + "/report.md");
  EXPECT_NE(md.find("| vote | strategy | 100.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("✗ not significant"), std::string::npos);
  EXPECT_NE(md.find("**task emotion**"), std::string::npos);
  const std::string html = quorum::testing::read_file(out + "/report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);  // self-contained, static
  EXPECT_EQ(html.find("<link"), std::string::npos);
}

TEST(Runner, InterruptedRunResumesFromTheCache) {
  OpenAiTestServer server({});
  install_models(server);
  const std::string dir = quorum::testing::temp_dir("resume");
  const std::string data = write_data(dir);
  auto cfg = parse_eval_config(config_text(server.url(), data, "", ""), dir, "t.yaml");
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  RunOptions ro;
  ro.progress = false;
  ro.jobs = 1;
  Logger quiet(LogLevel::kSilent);
  // The server goes down after k = 4 answers (model a, items 0-3).
  server.fail_after = 4;
  auto first = run_evaluation(*cfg, ro, default_backend_factory(), quiet);
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ((*first)["problems"].size(), 3u);  // a, b and c all failed part-way
  // It comes back; the rerun asks only for what is missing.
  server.fail_after = -1;
  const int64_t before = server.requests();
  auto second = run_evaluation(*cfg, ro, default_backend_factory(), quiet);
  ASSERT_TRUE(second.is_ok());
  EXPECT_TRUE((*second)["problems"].empty());
  EXPECT_EQ(server.requests() - before, 18 - 4);
  // Items 1-3 reached the server once per model (b's and c's item 0 also failed once in run 1).
  for (int i = 1; i < 4; ++i) EXPECT_EQ(server.requests_for(prompt_of(i)), 3) << i;
  EXPECT_EQ(system_of((*second)["tasks"][0], "a")["cache_hits"], 4);
  // Same results as an uninterrupted run into a fresh directory and cache.
  RunOptions fresh = ro;
  fresh.output_dir = dir + "/fresh";
  auto clean = run_evaluation(*cfg, fresh, default_backend_factory(), quiet);
  ASSERT_TRUE(clean.is_ok());
  EXPECT_EQ(stable_predictions(dir + "/out/predictions/sst2.jsonl"),
            stable_predictions(dir + "/fresh/predictions/sst2.jsonl"));
  EXPECT_EQ(system_of((*clean)["tasks"][0], "vote")["main"], system_of((*second)["tasks"][0], "vote")["main"]);
}

TEST(Runner, UnknownStrategyStopsBeforeInference) {
  OpenAiTestServer server({});
  const std::string dir = quorum::testing::temp_dir("badstrat");
  const std::string data = write_data(dir);
  std::string text = config_text(server.url(), data, "", "") + "  - {name: telepathy}\n";
  auto cfg = parse_eval_config(text, dir, "t.yaml");
  ASSERT_TRUE(cfg.is_ok());
  RunOptions ro;
  ro.progress = false;
  Logger quiet(LogLevel::kSilent);
  auto r = run_evaluation(*cfg, ro, default_backend_factory(), quiet);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("t.yaml:10"), std::string::npos) << r.status().to_string();
  EXPECT_EQ(server.requests(), 0);
}

TEST(Runner, RemoteModelCannotScoreLabels) {
  OpenAiTestServer server({});
  install_models(server);
  const std::string dir = quorum::testing::temp_dir("score");
  const std::string data = write_data(dir);
  auto cfg = parse_eval_config(
      "models:\n  - {name: a, url: '" + server.url() + "', model: a, mode: score}\n"
      "tasks:\n  - {name: sst2, data: '" + data + "'}\n",
      dir, "t.yaml");
  ASSERT_TRUE(cfg.is_ok());
  RunOptions ro;
  ro.progress = false;
  Logger quiet(LogLevel::kSilent);
  auto r = run_evaluation(*cfg, ro, default_backend_factory(), quiet);
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ((*r)["problems"].size(), 1u);
  EXPECT_NE((*r)["problems"][0]["error"].get<std::string>().find("mode: generate"), std::string::npos);
}

}  // namespace
}  // namespace quorum::eval
