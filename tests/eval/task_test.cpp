// The built-in task table against PROMPTS.md and the shipped JSONL rows' prompts.
#include "eval/task.h"

#include <gtest/gtest.h>

#include "ensemble/answer.h"

namespace quorum::eval {
namespace {

TEST(Task, BuiltinTableMatchesPromptsMd) {
  auto sst2 = find_task("sst2");
  ASSERT_TRUE(sst2.is_ok());
  EXPECT_EQ(sst2->prompt_template, "Task: sentiment\nText: {sentence}\nAnswer:");
  EXPECT_EQ(sst2->labels, (std::vector<std::string>{"negative", "positive"}));
  auto emo = find_task("carer");
  ASSERT_TRUE(emo.is_ok());
  EXPECT_EQ(emo->name, "emotion");
  EXPECT_EQ(emo->labels.size(), 6u);
  auto squad = find_task("squad");
  ASSERT_TRUE(squad.is_ok());
  EXPECT_EQ(squad->kind, TaskKind::kExtractiveQa);
  EXPECT_EQ(squad->prompt_template, "Task: qa\nContext: {context}\nQuestion: {question}\nAnswer:");
  EXPECT_EQ(squad->main_metric, MainMetric::kExactMatch);
  auto samsum = find_task("samsum");
  ASSERT_TRUE(samsum.is_ok());
  EXPECT_EQ(samsum->prompt_template, "Task: summary\nDialogue: {dialogue}\nAnswer:");
  EXPECT_EQ(samsum->main_metric, MainMetric::kRougeL);
}

TEST(Task, UnknownTaskAndSplitAreClearErrors) {
  auto t = find_task("mnli");
  ASSERT_FALSE(t.is_ok());
  EXPECT_NE(t.status().message().find("mnli"), std::string::npos);
  EXPECT_NE(t.status().message().find("sst2"), std::string::npos);
  EXPECT_EQ(parse_split("val").value_or(Split::kTest), Split::kValidation);
  EXPECT_FALSE(parse_split("holdout").is_ok());
}

TEST(Task, AnswerTypeDefaults) {
  ensemble::Answer a;
  EXPECT_FALSE(a.parsed);
  EXPECT_FALSE(a.self_confidence.has_value());
  EXPECT_TRUE(a.label_logprobs.empty());
}

}  // namespace
}  // namespace quorum::eval
