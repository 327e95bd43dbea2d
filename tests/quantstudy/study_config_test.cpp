// The quant-study config: values and defaults, path resolution, and errors that name the file and
// line; the shipped configs/quant-study.yaml parses and points at existing files.
#include "quantstudy/study_config.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace quorum::quantstudy {
namespace {

Result<StudyConfig> parse(const std::string& text) { return parse_study_config(text, "/base", "s.yaml"); }

void expect_error(const std::string& text, const std::string& needle, const std::string& where) {
  auto c = parse(text);
  ASSERT_FALSE(c.is_ok()) << text;
  EXPECT_NE(c.status().message().find(needle), std::string::npos) << c.status().to_string();
  EXPECT_NE(c.status().message().find(where), std::string::npos) << c.status().to_string();
}

constexpr const char* kMinimal = R"(models: [{name: m, path: m.gguf}]
methods: [rtn]
levels: [Q4_K_M]
perplexity: {data: wiki.raw}
)";

TEST(StudyConfig, ParsesEverySection) {
  auto c = parse(R"(
output: out
threads: 2
models:
  - {name: a, path: models/a.gguf}
  - {name: b, path: /abs/b.gguf}
methods:
  - rtn
  - {name: future-method, params: {x: 1}}
levels: [q4_k_m, Q2_K, Q8_0]
calibration: {data: calib.txt, tokens: 1024}
perplexity: {data: wiki.raw, ctx: 256, chunks: 4}
speed: {pp: 64, tg: 16, reps: 2}
eval:
  limit: 50
  jobs: 2
  tasks:
    - {name: sst2, data: sst2.jsonl}
  ensemble: [vote]
)");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->output_dir, "/base/out");
  EXPECT_EQ(c->threads, 2);
  ASSERT_EQ(c->models.size(), 2u);
  EXPECT_EQ(c->models[0].path, "/base/models/a.gguf");
  EXPECT_EQ(c->models[1].path, "/abs/b.gguf");
  EXPECT_EQ(c->models[0].line, 5);
  ASSERT_EQ(c->methods.size(), 2u);
  EXPECT_EQ(c->methods[1].name, "future-method");  // not in this build: reported at run time
  EXPECT_EQ(c->methods[1].params.at("x"), "1");
  ASSERT_EQ(c->levels.size(), 3u);
  EXPECT_EQ(c->levels[0].name, "Q4_K_M");
  EXPECT_EQ(c->levels[0].ftype, quant::FileType::kQ4_K_M);
  EXPECT_EQ(c->calib_path, "/base/calib.txt");
  EXPECT_EQ(c->calib_tokens, 1024);
  EXPECT_EQ(c->ppl_path, "/base/wiki.raw");
  EXPECT_EQ(c->ppl_ctx, 256);
  EXPECT_EQ(c->ppl_chunks, 4);
  EXPECT_TRUE(c->speed);
  EXPECT_EQ(c->speed_pp, 64);
  EXPECT_EQ(c->speed_tg, 16);
  EXPECT_EQ(c->speed_reps, 2);
  ASSERT_EQ(c->tasks.size(), 1u);
  EXPECT_EQ(c->tasks[0].data, "/base/sst2.jsonl");
  ASSERT_EQ(c->ensemble.size(), 1u);
  EXPECT_EQ(c->ensemble[0].strategy, "vote");
  EXPECT_EQ(c->eval_limit, 50);
  EXPECT_EQ(c->eval_jobs, 2);
}

TEST(StudyConfig, Defaults) {
  auto c = parse(kMinimal);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->output_dir, "/base/quant-study");
  EXPECT_EQ(c->ppl_ctx, 512);
  EXPECT_TRUE(c->speed);
  EXPECT_TRUE(c->tasks.empty());
  auto off = parse(std::string(kMinimal) + "speed: off\n");
  ASSERT_TRUE(off.is_ok()) << off.status().to_string();
  EXPECT_FALSE(off->speed);
}

TEST(StudyConfig, ErrorsNameFileAndLine) {
  expect_error(std::string(kMinimal) + "colour: red\n", "unknown key 'colour'", "s.yaml:5");
  expect_error(R"(models: [{name: m, path: m.gguf}]
methods: [rtn]
levels: [Q4_K_M, Q9_K]
perplexity: {data: wiki.raw}
)", "unknown quantization level", "s.yaml:3");
  expect_error(R"(models: [{name: m, path: m.gguf}]
methods:
  - {name: rtn, params: {bogus: 1}}
levels: [Q4_K_M]
perplexity: {data: wiki.raw}
)", "method 'rtn' has no parameter 'bogus'", "s.yaml:3");
  expect_error(R"(models: [{name: m, path: m.gguf}]
methods: [rtn]
levels: [Q4_K_M]
)", "perplexity", "s.yaml");
  expect_error(R"(models: [{name: m}]
methods: [rtn]
levels: [Q4_K_M]
perplexity: {data: wiki.raw}
)", "needs 'name' and 'path'", "s.yaml:1");
  expect_error(R"(models: [{name: m, path: a}, {name: m, path: b}]
methods: [rtn]
levels: [Q4_K_M]
perplexity: {data: wiki.raw}
)", "duplicate model 'm'", "s.yaml:1");
  expect_error(std::string(kMinimal) + "speed: {pp: -3}\n", "'pp' is out of range", "s.yaml:5");
  expect_error(std::string(kMinimal) + "eval: {tasks: [{name: nosuch, data: x.jsonl}]}\n", "nosuch", "s.yaml:5");
  expect_error("models: [unclosed\n", "YAML syntax error", "s.yaml:");
  expect_error("methods: [rtn]\nlevels: [Q4_0]\nperplexity: {data: w}\n", "non-empty 'models'", "s.yaml");
}

TEST(StudyConfig, ShippedConfigParsesAndItsFilesExist) {
  const std::string path = std::string(QUORUM_SOURCE_DIR) + "/configs/quant-study.yaml";
  auto c = load_study_config(path);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_FALSE(c->models.empty());
  for (const auto& m : c->models) EXPECT_TRUE(std::filesystem::exists(m.path)) << m.path;
  EXPECT_TRUE(std::filesystem::exists(c->ppl_path)) << c->ppl_path;
  EXPECT_TRUE(std::filesystem::exists(c->calib_path)) << c->calib_path;
  for (const auto& t : c->tasks) EXPECT_TRUE(std::filesystem::exists(t.data)) << t.data;
  std::vector<std::string> levels;
  for (const auto& l : c->levels) levels.push_back(l.name);
  for (const char* want : {"Q4_K_M", "Q4_0", "Q3_K_M", "Q2_K", "Q8_0"}) {
    EXPECT_NE(std::find(levels.begin(), levels.end(), want), levels.end()) << want;
  }
}

}  // namespace
}  // namespace quorum::quantstudy
