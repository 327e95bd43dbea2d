// The evaluation config: defaults, path resolution, built-in and custom tasks, and errors that
// name the line.
#include "eval/eval_config.h"

#include <gtest/gtest.h>

namespace quorum::eval {
namespace {

Result<EvalConfig> parse(const std::string& text) { return parse_eval_config(text, "/base", "c.yaml"); }

void expect_error(const std::string& text, const std::string& needle, const std::string& where) {
  auto c = parse(text);
  ASSERT_FALSE(c.is_ok()) << text;
  EXPECT_NE(c.status().message().find(needle), std::string::npos) << c.status().to_string();
  EXPECT_NE(c.status().message().find(where), std::string::npos) << c.status().to_string();
}

TEST(EvalConfig, ParsesModelsTasksStrategies) {
  auto c = parse(R"(
output: out
seeds: [3, 4]
jobs: 2
models:
  - {name: a, path: models/a.gguf, mode: score, weight: 2}
  - {name: b, url: "http://127.0.0.1:9/v1", model: remote-b, timeout: 5, retries: 1}
tasks:
  - {name: sst2, data: /data/sst2_test.jsonl, limit: 10}
  - name: reviews
    kind: classification
    labels: [bad, good]
    prompt: "Review: {body}\nVerdict:"
    data: r.jsonl
    split: validation
    fields: {body: text}
    reference: verdict
    few_shot: {data: shots.jsonl, n: 2}
    max_tokens: 3
strategies:
  - vote
  - {name: tie_rerun, params: {variant: all}, as: rerun_all}
)");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->output_dir, "/base/out");
  EXPECT_EQ(c->cache_path, "/base/out/answers.sqlite");
  EXPECT_EQ(c->seeds, (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(c->jobs, 2);
  ASSERT_EQ(c->models.size(), 2u);
  EXPECT_EQ(c->models[0].path, "/base/models/a.gguf");
  EXPECT_EQ(c->models[0].mode, ModelMode::kScore);
  EXPECT_EQ(c->models[0].weight, 2.0);
  EXPECT_EQ(c->models[0].line, 6);
  EXPECT_TRUE(c->models[1].is_remote());
  EXPECT_EQ(c->models[1].remote_model, "remote-b");
  EXPECT_EQ(c->models[1].timeout_s, 5.0);
  EXPECT_EQ(c->models[1].max_retries, 1);
  ASSERT_EQ(c->tasks.size(), 2u);
  EXPECT_EQ(c->tasks[0].spec.labels, (std::vector<std::string>{"negative", "positive"}));
  EXPECT_EQ(c->tasks[0].spec.prompt_template, "Task: sentiment\nText: {sentence}\nAnswer:");
  EXPECT_EQ(c->tasks[0].limit, 10);
  EXPECT_EQ(c->tasks[0].split, Split::kTest);
  const TaskConfig& r = c->tasks[1];
  EXPECT_EQ(r.spec.kind, TaskKind::kClassification);
  EXPECT_EQ(r.spec.prompt_template, "Review: {body}\nVerdict:");
  EXPECT_EQ(r.data, "/base/r.jsonl");
  EXPECT_EQ(r.split, Split::kValidation);
  EXPECT_EQ(r.fields.at("body"), "text");
  EXPECT_EQ(r.reference_field, "verdict");
  EXPECT_EQ(r.few_shot.n, 2);
  EXPECT_EQ(r.few_shot.data, "/base/shots.jsonl");
  EXPECT_EQ(r.max_tokens, 3);
  ASSERT_EQ(c->strategies.size(), 2u);
  EXPECT_EQ(c->strategies[0].name, "vote");
  EXPECT_EQ(c->strategies[1].name, "rerun_all");
  EXPECT_EQ(c->strategies[1].strategy, "tie_rerun");
  EXPECT_EQ(c->strategies[1].params.at("variant"), "all");
}

TEST(EvalConfig, ErrorsNameTheLine) {
  expect_error("models:\n  - {name: a, path: a.gguf, colour: red}\ntasks: [{name: sst2, data: x}]\n",
               "unknown key 'colour'", "c.yaml:2");
  expect_error("models:\n  - {name: a, path: a.gguf}\ntasks:\n  - {name: sst2, data: x, limit: -3}\n",
               "'limit' is out of range", "c.yaml:4");
  expect_error("models:\n  - {name: a, path: a.gguf, mode: vote}\ntasks: [{name: sst2, data: x}]\n",
               "bad model mode", "c.yaml:2");
  expect_error("models:\n  - {name: a}\ntasks: [{name: sst2, data: x}]\n", "exactly one of 'path'",
               "c.yaml:2");
  expect_error("models:\n  - {name: a, url: 'http://x'}\ntasks: [{name: sst2, data: x}]\n",
               "needs 'model'", "c.yaml:2");
  expect_error("models:\n  - {name: a, path: a}\n  - {name: a, path: b}\ntasks: [{name: sst2, data: x}]\n",
               "duplicate model name 'a'", "c.yaml:3");
  expect_error("models:\n  - {name: a, path: a}\ntasks:\n  - {name: reviews, data: x}\n",
               "unknown task", "c.yaml:4");
  expect_error("models:\n  - {name: a, path: a}\ntasks:\n  - {name: sst2, data: x, split: dev2}\n",
               "unknown split", "c.yaml:4");
  expect_error("models:\n  - {name: a, path: a}\ntasks:\n  - {name: sst2, data: x, max_tokens: many}\n",
               "'max_tokens' must be a number", "c.yaml:4");
  expect_error("models: [\ntasks: x\n", "YAML syntax error", "c.yaml:");
  expect_error("tasks: [{name: sst2, data: x}]\n", "non-empty 'models'", "c.yaml");
  expect_error("models:\n  - {name: a, path: a}\ntasks:\n  - {name: t, kind: classification, "
               "prompt: 'x {a}', data: d}\n",
               "needs 'labels'", "c.yaml:4");
}

TEST(EvalConfig, MissingFileIsNotFound) {
  auto c = load_eval_config("/nonexistent/study.yaml");
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace quorum::eval
