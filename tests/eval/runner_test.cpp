// The evaluation runner end to end against remote models served by a real loopback HTTP server:
// hand-computed metrics for models and a majority vote, failing parts that do not stop the run
// (missing data file, dead or timing-out server, local model files that do not load, rows with an
// unknown gold label), resuming an interrupted run from the answer cache, and the reports.
#include "eval/runner.h"

#include <gtest/gtest.h>

#include <chrono>
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

// One evaluation run without progress bars or log output.
Result<json> run_quietly(const EvalConfig& cfg) {
  RunOptions ro;
  ro.progress = false;
  Logger quiet(LogLevel::kSilent);
  return run_evaluation(cfg, ro, default_backend_factory(), quiet);
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
  auto r = run_quietly(*cfg);
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

// Bytes [0, n) of a file, written to `path`.
void write_prefix(const std::string& from, const std::string& path, size_t n) {
  const std::string bytes = quorum::testing::read_file(from);
  ASSERT_GT(bytes.size(), n);
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(n));
}

// Runs a config of models a, b, c (+ extra) on the six items and a vote; checks that a, b, c and
// the vote still scored as in ModelsAndVoteMatchHandComputedScores.
json run_with_extra_models(const std::string& tag, OpenAiTestServer& server, const std::string& extra,
                           const std::string& dir) {
  install_models(server);
  const std::string data = write_data(dir);
  auto cfg = parse_eval_config(config_text(server.url(), data, extra, ""), dir, "t.yaml");
  EXPECT_TRUE(cfg.is_ok()) << tag << ": " << cfg.status().to_string();
  if (!cfg.is_ok()) return json();
  auto r = run_quietly(*cfg);
  EXPECT_TRUE(r.is_ok()) << tag << ": " << r.status().to_string();
  if (!r.is_ok()) return json();
  const json& sst2 = (*r)["tasks"][0];
  EXPECT_EQ(sst2["status"], "ok") << tag;
  EXPECT_NEAR(system_of(sst2, "a")["main"].get<double>(), 400.0 / 6, 1e-9) << tag;
  EXPECT_NEAR(system_of(sst2, "b")["main"].get<double>(), 50.0, 1e-9) << tag;
  EXPECT_NEAR(system_of(sst2, "c")["main"].get<double>(), 400.0 / 6, 1e-9) << tag;
  EXPECT_EQ(system_of(sst2, "vote")["status"], "ok") << tag;
  EXPECT_NEAR(system_of(sst2, "vote")["main"].get<double>(), 100.0, 1e-9) << tag;
  return *r;
}

std::string problem_error(const json& results, const std::string& part) {
  for (const json& p : results["problems"]) {
    if (p["part"] == part) return p["error"];
  }
  ADD_FAILURE() << "no problem for " << part << " in " << results["problems"].dump();
  return "";
}

TEST(Runner, LocalModelsThatFailToLoadAreReportedAndTheRestRuns) {
  OpenAiTestServer server({});
  const std::string dir = quorum::testing::temp_dir("badlocal");
  const std::string real = quorum::testing::shared_path("taskmodels/qt-qwen.gguf");
  // A header cut inside the metadata, a file cut inside the tensor data, a text file, no file.
  write_prefix(real, dir + "/cut_meta.gguf", 600);
  write_prefix(real, dir + "/cut_data.gguf", std::filesystem::file_size(real) / 2);
  std::ofstream(dir + "/notgguf.gguf") << "this is not a GGUF file\n";
  const json r = run_with_extra_models(
      "badlocal", server,
      "  - {name: cutmeta, path: cut_meta.gguf}\n"
      "  - {name: cutdata, path: cut_data.gguf}\n"
      "  - {name: text, path: notgguf.gguf}\n"
      "  - {name: nofile, path: does_not_exist.gguf}\n",
      dir);
  ASSERT_TRUE(r.is_object());
  const json& sst2 = r["tasks"][0];
  ASSERT_EQ(r["problems"].size(), 4u) << r["problems"].dump(2);
  for (const std::string m : {"cutmeta", "cutdata", "text", "nofile"}) {
    EXPECT_EQ(system_of(sst2, m)["status"], "error") << m;
    const std::string err = problem_error(r, "task sst2 / model " + m);
    EXPECT_NE(err.find("model '" + m + "'"), std::string::npos) << err;  // names the model ...
    EXPECT_NE(err.find(".gguf"), std::string::npos) << err;              // ... and its file
  }
  EXPECT_NE(problem_error(r, "task sst2 / model nofile").find("does_not_exist.gguf"), std::string::npos);
  // The vote combined the three models that answered.
  EXPECT_EQ(server.requests(), 18);
  ASSERT_TRUE(write_reports(r, dir + "/out").is_ok());
  const std::string md = quorum::testing::read_file(dir + "/out/report.md");
  EXPECT_NE(md.find("## Missing results"), std::string::npos) << md;
  for (const std::string m : {"cutmeta", "cutdata", "text", "nofile"}) {
    EXPECT_NE(md.find("**task sst2 / model " + m + "**"), std::string::npos) << md;
    EXPECT_NE(md.find("| " + m + " | model | — |"), std::string::npos) << md;
  }
}

TEST(Runner, ServerThatTimesOutIsReportedAndTheRunDoesNotWait) {
  OpenAiTestServer server({});
  server.slow_ms = 3000;
  const std::string dir = quorum::testing::temp_dir("timeout");
  const auto t0 = std::chrono::steady_clock::now();
  const json r = run_with_extra_models(
      "timeout", server, "  - {name: sleepy, url: '" + server.url() + "', model: slow, timeout: 0.2, retries: 2}\n",
      dir);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r.is_object());
  // One timed-out request stops that model (timeouts are not retried), not the run: well under
  // the server's 3 s per answer, let alone 6 items × 3 retries of it.
  EXPECT_LT(seconds, 2.5);
  const json& sst2 = r["tasks"][0];
  EXPECT_EQ(system_of(sst2, "sleepy")["status"], "error");
  ASSERT_EQ(r["problems"].size(), 1u) << r["problems"].dump(2);
  const std::string err = problem_error(r, "task sst2 / model sleepy");
  EXPECT_NE(err.find("0.2 s"), std::string::npos) << err;     // names the timeout ...
  EXPECT_NE(err.find("item x0"), std::string::npos) << err;   // ... and the item
  ASSERT_TRUE(write_reports(r, dir + "/out").is_ok());
  const std::string md = quorum::testing::read_file(dir + "/out/report.md");
  EXPECT_NE(md.find("**task sst2 / model sleepy**"), std::string::npos) << md;
  EXPECT_NE(md.find("| sleepy | model | — |"), std::string::npos) << md;
}

TEST(Runner, RowsWithAnUnknownLabelAreLeftOutAndReported) {
  OpenAiTestServer server({});
  install_models(server);
  const std::string dir = quorum::testing::temp_dir("badlabel");
  // The six good rows with two bad ones among them (file lines 3 and 6), and a file of another
  // task whose every label is unknown to sst2.
  const std::string data = dir + "/sst2_mixed.jsonl";
  {
    auto row = [](const std::string& id, const std::string& label) {
      return json({{"id", id}, {"sentence", id == "bad1" ? "q" : id == "bad2" ? "r" : "s" + id.substr(1)},
                   {"answers", {label}}}).dump() + "\n";
    };
    std::ofstream(data) << row("x0", kGold[0]) << row("x1", kGold[1]) << row("bad1", "neutral")
                        << row("x2", kGold[2]) << row("x3", kGold[3]) << row("bad2", "Positive")
                        << row("x4", kGold[4]) << row("x5", kGold[5]);
  }
  const std::string other = dir + "/emotion_rows.jsonl";
  std::ofstream(other) << json({{"id", "e0"}, {"sentence", "s0"}, {"answers", {"joy"}}}).dump() << "\n"
                       << json({{"id", "e1"}, {"sentence", "s1"}, {"answers", {"anger"}}}).dump() << "\n";
  auto cfg = parse_eval_config(
      "models:\n  - {name: a, url: '" + server.url() + "', model: a, retries: 0}\n"
      "  - {name: b, url: '" + server.url() + "', model: b, retries: 0}\n"
      "  - {name: c, url: '" + server.url() + "', model: c, retries: 0, weight: 2}\n"
      "tasks:\n  - {name: sst2, data: '" + data + "'}\n"
      "  - {name: wrongfile, task: sst2, data: '" + other + "'}\n"
      "strategies:\n  - vote\n",
      dir, "t.yaml");
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  auto r = run_quietly(*cfg);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  // The task ran on the six good rows with the scores of the clean file.
  const json& sst2 = (*r)["tasks"][0];
  ASSERT_EQ(sst2["status"], "ok");
  EXPECT_EQ(sst2["n_items"], 6);
  EXPECT_NEAR(system_of(sst2, "a")["main"].get<double>(), 400.0 / 6, 1e-9);
  EXPECT_NEAR(system_of(sst2, "vote")["main"].get<double>(), 100.0, 1e-9);
  ASSERT_EQ(sst2["skipped_items"].size(), 2u);
  EXPECT_EQ(sst2["skipped_items"][0]["where"], data + ":3");
  EXPECT_EQ(sst2["skipped_items"][0]["id"], "bad1");
  EXPECT_EQ(sst2["skipped_items"][1]["where"], data + ":6");
  EXPECT_EQ(server.requests_for(prompt_of(0)), 3);  // the bad rows were never asked
  // One problem names the file, line and label of each skipped row.
  const std::string err = problem_error(*r, "task sst2 / data");
  EXPECT_NE(err.find("2 row(s) left out"), std::string::npos) << err;
  EXPECT_NE(err.find(data + ":3"), std::string::npos) << err;
  EXPECT_NE(err.find("'neutral'"), std::string::npos) << err;
  EXPECT_NE(err.find(data + ":6"), std::string::npos) << err;
  EXPECT_NE(err.find("'Positive'"), std::string::npos) << err;
  EXPECT_NE(err.find("one of negative, positive"), std::string::npos) << err;
  // A file with no usable row fails its task only.
  const json& wrong = (*r)["tasks"][1];
  EXPECT_EQ(wrong["status"], "error");
  const std::string werr = problem_error(*r, "task wrongfile");
  EXPECT_NE(werr.find("all 2 rows"), std::string::npos) << werr;
  EXPECT_NE(werr.find("'joy'"), std::string::npos) << werr;
  EXPECT_NE(werr.find(other), std::string::npos) << werr;
  const std::string out = (*r)["output"];
  ASSERT_TRUE(write_reports(*r, out).is_ok());
  const std::string md = quorum::testing::read_file(out + "/report.md");
  EXPECT_NE(md.find("**task sst2 / data**: "), std::string::npos) << md;
  EXPECT_NE(md.find("6 items · 2 row(s) left out"), std::string::npos) << md;
  EXPECT_NE(md.find("**task wrongfile**"), std::string::npos) << md;
  const std::string html = quorum::testing::read_file(out + "/report.html");
  EXPECT_NE(html.find("2 row(s) left out"), std::string::npos);
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
  // The predictions say which answers came from the cache: model a's items 0-3, nothing else.
  {
    std::ifstream in(dir + "/out/predictions/sst2.jsonl");
    int cached_rows = 0;
    for (std::string line; std::getline(in, line);) {
      const json row = json::parse(line);
      if (row["type"] != "model") {
        EXPECT_FALSE(row.contains("from_cache"));
        continue;
      }
      const bool expect = row["system"] == "a" && row["id"].get<std::string>() <= "x3";
      EXPECT_EQ(row["from_cache"].get<bool>(), expect) << row.dump();
      cached_rows += row["from_cache"].get<bool>() ? 1 : 0;
    }
    EXPECT_EQ(cached_rows, 4);
  }
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
  auto r = run_quietly(*cfg);
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
  auto r = run_quietly(*cfg);
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ((*r)["problems"].size(), 1u);
  EXPECT_NE((*r)["problems"][0]["error"].get<std::string>().find("mode: generate"), std::string::npos);
}

}  // namespace
}  // namespace quorum::eval
