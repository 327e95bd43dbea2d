// Registry/parameter validation and the properties of vote, weight and confidence.
#include "ensemble/strategy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "ensemble/confidence.h"
#include "ensemble/scripted.h"
#include "ensemble/vote.h"
#include "eval/rng.h"

namespace quorum::ensemble {
namespace {

using testing::label_answer;

TaskSpec emotion() { return eval::find_task("emotion").value(); }

Item make_item(const std::string& id, const std::string& task = "emotion") {
  Item it;
  it.id = id;
  it.task = task;
  it.prompt = "Task: emotion\nText: " + id + "\nAnswer:";
  return it;
}

StrategyContext context(const TaskSpec& task, size_t n_models, uint64_t seed = 1) {
  StrategyContext ctx;
  ctx.task = task;
  for (size_t m = 0; m < n_models; ++m) ctx.models.push_back("m" + std::to_string(m));
  ctx.seed = seed;
  return ctx;
}

Result<StrategyRun> run_named(const std::string& name, const StrategyContext& ctx,
                              const std::vector<Item>& items,
                              const std::vector<std::vector<Answer>>& answers,
                              const std::map<std::string, std::string>& given = {}) {
  QUORUM_ASSIGN_OR_RETURN(const StrategyEntry* e, find_strategy(name));
  QUORUM_ASSIGN_OR_RETURN(Params p, parse_params(*e, given));
  return run_strategy(*e, ctx, p, items, answers);
}

Answer text_answer(const std::string& model, const std::string& text) {
  Answer a;
  a.model = model;
  a.raw = " " + text;
  a.text = text;
  a.parsed = true;
  return a;
}

TEST(Registry, EveryEntryIsComplete) {
  std::set<std::string> names;
  for (const StrategyEntry& e : strategy_registry()) {
    EXPECT_TRUE(names.insert(e.name).second) << "duplicate " << e.name;
    EXPECT_FALSE(e.summary.empty());
    EXPECT_FALSE(e.source.empty());
    EXPECT_FALSE(e.kinds.empty());
    EXPECT_NE(e.run, nullptr);
    // Defaults parse and validate.
    auto p = parse_params(e, {});
    ASSERT_TRUE(p.is_ok()) << e.name << ": " << p.status().to_string();
    for (const auto& spec : e.params) EXPECT_TRUE(p->has(spec.name));
    std::string help = strategy_help(e);
    for (const auto& spec : e.params) EXPECT_NE(help.find(spec.name), std::string::npos);
  }
  for (const char* n : {"vote", "weight", "tie_rerun", "confidence", "debate"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
}

TEST(Registry, BadNamesAndValuesAreClearErrors) {
  auto unknown = find_strategy("borda");
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_NE(unknown.status().message().find("tie_rerun"), std::string::npos);
  const StrategyEntry* tie = find_strategy("tie_rerun").value();
  auto bad_name = parse_params(*tie, {{"rounds", "2"}});
  ASSERT_FALSE(bad_name.is_ok());
  EXPECT_NE(bad_name.status().message().find("'rounds'"), std::string::npos);
  EXPECT_NE(bad_name.status().message().find("max_rounds"), std::string::npos);
  auto range = parse_params(*tie, {{"max_rounds", "9"}});
  ASSERT_FALSE(range.is_ok());
  EXPECT_EQ(range.status().code(), ErrorCode::kOutOfRange);
  EXPECT_NE(range.status().message().find("max_rounds"), std::string::npos);
  EXPECT_FALSE(parse_params(*tie, {{"max_rounds", "2x"}}).is_ok());
  auto choice = parse_params(*tie, {{"variant", "some"}});
  ASSERT_FALSE(choice.is_ok());
  EXPECT_NE(choice.status().message().find("all, tied"), std::string::npos);
  const StrategyEntry* conf = find_strategy("confidence").value();
  EXPECT_FALSE(parse_params(*conf, {{"threshold", "1.5"}}).is_ok());
  EXPECT_FALSE(parse_params(*conf, {{"threshold", "nan"}}).is_ok());
  auto ok = parse_params(*conf, {{"threshold", "0.7"}, {"source", "self"}});
  ASSERT_TRUE(ok.is_ok());
  EXPECT_DOUBLE_EQ(ok->get_double("threshold"), 0.7);
  EXPECT_EQ(ok->get_string("missing"), "keep");  // default filled in
}

TEST(Registry, RunStrategyChecksInputs) {
  TaskSpec task = emotion();
  StrategyContext ctx = context(task, 2);
  std::vector<Item> items = {make_item("x")};
  std::vector<std::vector<Answer>> one = {{label_answer(task, "m0", "joy")}};
  EXPECT_FALSE(run_named("vote", ctx, items, one).is_ok());  // 1 answer for 2 models
  std::vector<std::vector<Answer>> two = {{label_answer(task, "m0", "joy"), label_answer(task, "m1", "joy")}};
  EXPECT_TRUE(run_named("vote", ctx, items, two).is_ok());
  EXPECT_FALSE(run_named("tie_rerun", ctx, items, two).is_ok());  // needs ask
  ctx.model_weights = {1.0};
  EXPECT_FALSE(run_named("vote", ctx, items, two).is_ok());
  ctx.model_weights = {1.0, -1.0};
  EXPECT_FALSE(run_named("vote", ctx, items, two).is_ok());
  StrategyContext summ = context(eval::find_task("samsum").value(), 2);
  auto r = run_named("vote", summ, items, two);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported);
}

TEST(Vote, UnanimousAnswerWinsForEveryStrategyWithoutAsking) {
  TaskSpec task = emotion();
  StrategyContext ctx = context(task, 3);
  ctx.ask = [](const std::string&, const Item&, const std::string&) -> Result<Answer> {
    return Error(ErrorCode::kInternal, "must not be asked");
  };
  std::vector<Item> items;
  std::vector<std::vector<Answer>> answers;
  for (const auto& l : task.labels) {
    items.push_back(make_item("u-" + l));
    answers.push_back({label_answer(task, "m0", l), label_answer(task, "m1", l), label_answer(task, "m2", l)});
  }
  for (const char* s : {"vote", "weight", "tie_rerun", "confidence", "debate"}) {
    auto run = run_named(s, ctx, items, answers);
    ASSERT_TRUE(run.is_ok()) << s << ": " << run.status().to_string();
    EXPECT_EQ(run->extra_calls, 0) << s;
    for (size_t i = 0; i < items.size(); ++i) {
      EXPECT_EQ(run->items[i].chosen.text, task.labels[i]) << s;
      EXPECT_TRUE(run->items[i].chosen.parsed);
      EXPECT_FALSE(run->items[i].tie);
      EXPECT_EQ(run->items[i].chosen.model, s);
    }
  }
}

TEST(Vote, MajorityThenWeightsThenSeed) {
  TaskSpec task = emotion();
  StrategyContext ctx = context(task, 4);
  std::vector<Item> items = {make_item("a")};
  // joy 2, fear 1, unparsed 1 -> joy, no tie; the unparsed model is reported as dropped.
  std::vector<std::vector<Answer>> ans = {{label_answer(task, "m0", "joy"), label_answer(task, "m1", "fear"),
                                           label_answer(task, "m2", "joy"), label_answer(task, "m3", "meh")}};
  auto r = run_named("vote", ctx, items, ans);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->items[0].chosen.text, "joy");
  EXPECT_EQ(r->items[0].dropped, std::vector<std::string>{"m3"});
  // 2-2 tie: weights decide (m1 + m3 = 0.9 > m0 + m2 = 0.3).
  ans = {{label_answer(task, "m0", "joy"), label_answer(task, "m1", "fear"), label_answer(task, "m2", "joy"),
          label_answer(task, "m3", "fear")}};
  ctx.model_weights = {0.1, 0.4, 0.2, 0.5};
  r = run_named("vote", ctx, items, ans);
  EXPECT_EQ(r->items[0].chosen.text, "fear");
  EXPECT_TRUE(r->items[0].tie);
  // Nothing parsed: an unparsed answer (counted wrong).
  ans = {{label_answer(task, "m0", "?"), label_answer(task, "m1", "?"), label_answer(task, "m2", "?"),
          label_answer(task, "m3", "?")}};
  r = run_named("vote", ctx, items, ans);
  EXPECT_FALSE(r->items[0].chosen.parsed);
  EXPECT_EQ(r->items[0].dropped.size(), 4u);
}

// Equal-weight ties: the same seed gives the same choices, other seeds other choices, both
// labels occur, and the choice does not depend on item order.
TEST(Vote, TieBreakIsDeterministicUnderSeedAndVariesAcrossSeeds) {
  TaskSpec task = emotion();
  std::vector<Item> items;
  std::vector<std::vector<Answer>> answers;
  for (int i = 0; i < 64; ++i) {
    items.push_back(make_item("t" + std::to_string(i)));
    answers.push_back({label_answer(task, "m0", "joy"), label_answer(task, "m1", "anger")});
  }
  for (const char* s : {"vote", "weight"}) {
    auto choices = [&](uint64_t seed) {
      std::vector<std::string> out;
      auto run = run_named(s, context(task, 2, seed), items, answers);
      EXPECT_TRUE(run.is_ok());
      for (const auto& r : run->items) out.push_back(r.chosen.text);
      return out;
    };
    auto a = choices(11), b = choices(11), c = choices(12);
    EXPECT_EQ(a, b) << s;
    EXPECT_NE(a, c) << s;
    EXPECT_EQ(std::set<std::string>(a.begin(), a.end()).size(), 2u) << s;
    // Reversed item order: each item keeps its choice.
    std::vector<Item> rev_items(items.rbegin(), items.rend());
    std::vector<std::vector<Answer>> rev_answers(answers.rbegin(), answers.rend());
    auto rev = run_named(s, context(task, 2, 11), rev_items, rev_answers).value();
    for (size_t i = 0; i < items.size(); ++i) EXPECT_EQ(rev.items[items.size() - 1 - i].chosen.text, a[i]);
  }
}

// weight: one-hot weights reproduce that model on classification, QA and summaries.
TEST(Weight, OneHotWeightsReproduceThatModel) {
  eval::SplitMix64 rng(5);
  const std::vector<std::string> words = {"the", "cat", "sat", "on", "mat", "dog", "ran", "far", "a", "red"};
  for (const char* task_name : {"emotion", "squad", "samsum"}) {
    TaskSpec task = eval::find_task(task_name).value();
    std::vector<Item> items;
    std::vector<std::vector<Answer>> answers;
    for (int i = 0; i < 40; ++i) {
      items.push_back(make_item("w" + std::to_string(i), task_name));
      std::vector<Answer> row;
      for (int m = 0; m < 4; ++m) {
        std::string model = "m" + std::to_string(m);
        if (task.kind == TaskKind::kClassification) {
          row.push_back(label_answer(task, model, task.labels[rng.below(3)]));
        } else {
          std::string t;
          size_t len = 1 + rng.below(4);
          for (size_t k = 0; k < len; ++k) t += (k ? " " : "") + words[rng.below(words.size())];
          row.push_back(text_answer(model, t));
        }
      }
      answers.push_back(row);
    }
    for (size_t m = 0; m < 4; ++m) {
      StrategyContext ctx = context(task, 4, 3);
      ctx.model_weights.assign(4, 0.0);
      ctx.model_weights[m] = 1.0;
      auto run = run_named("weight", ctx, items, answers, {{"sim_token_f1", "0.5"}});
      ASSERT_TRUE(run.is_ok()) << run.status().to_string();
      for (size_t i = 0; i < items.size(); ++i) {
        EXPECT_EQ(run->items[i].chosen.text, answers[i][m].text) << task_name << " model " << m;
      }
    }
  }
}

TEST(Weight, MostRepresentativeSummaryWins) {
  TaskSpec task = eval::find_task("samsum").value();
  StrategyContext ctx = context(task, 3);
  std::vector<Item> items = {make_item("s", "samsum")};
  // B shares most words with both A and C; A and C share little: B is the medoid.
  std::vector<std::vector<Answer>> ans = {{text_answer("m0", "anna buys milk today"),
                                           text_answer("m1", "anna buys milk and bread today"),
                                           text_answer("m2", "bob and anna buy bread")}};
  auto r = run_named("weight", ctx, items, ans);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->items[0].chosen.text, "anna buys milk and bread today");
  EXPECT_FALSE(run_named("weight", ctx, items, ans, {{"sim_rouge_l", "0"}}).is_ok());  // all 0
}

TEST(Weight, IdenticalAnswersAddTheirWeights) {
  TaskSpec task = emotion();
  StrategyContext ctx = context(task, 3);
  ctx.model_weights = {0.5, 0.3, 0.3};
  std::vector<Item> items = {make_item("i")};
  std::vector<std::vector<Answer>> ans = {{label_answer(task, "m0", "joy"), label_answer(task, "m1", "fear"),
                                           label_answer(task, "m2", "fear")}};
  EXPECT_EQ(run_named("weight", ctx, items, ans)->items[0].chosen.text, "fear");  // 0.6 > 0.5
  ctx.model_weights = {0.7, 0.3, 0.3};
  EXPECT_EQ(run_named("weight", ctx, items, ans)->items[0].chosen.text, "joy");  // 0.7 > 0.6
}

TEST(Confidence, ParsesSelfReportedConfidence) {
  EXPECT_DOUBLE_EQ(parse_self_confidence("joy\nConfidence: 0.8").value(), 0.8);
  EXPECT_DOUBLE_EQ(parse_self_confidence("joy (confidence = 85%)").value(), 0.85);
  EXPECT_DOUBLE_EQ(parse_self_confidence("I am 90% sure").value(), 0.9);
  EXPECT_DOUBLE_EQ(parse_self_confidence("confidence is 70").value(), 0.7);
  EXPECT_FALSE(parse_self_confidence("joy").has_value());
  EXPECT_FALSE(parse_self_confidence("confidence: 250").has_value());
  Answer a = text_answer("m", "joy");
  a.label_logprobs = {{"joy", std::log(0.6)}, {"fear", std::log(0.2)}};
  EXPECT_NEAR(answer_confidence(a, ConfidenceSource::kLogprob).value(), 0.75, 1e-12);
  a.token_confidence = 0.3;
  EXPECT_DOUBLE_EQ(answer_confidence(a, ConfidenceSource::kAny).value(), 0.3);
  a.raw = "joy, confidence: 0.9";
  EXPECT_DOUBLE_EQ(answer_confidence(a, ConfidenceSource::kAny).value(), 0.9);
}

TEST(Confidence, DropsLowConfidenceAndFallsBackToPlainVote) {
  TaskSpec task = emotion();
  StrategyContext ctx = context(task, 3);
  std::vector<Item> items = {make_item("c")};
  auto with_conf = [&](const std::string& m, const std::string& l, double c) {
    Answer a = label_answer(task, m, l);
    a.self_confidence = c;
    return a;
  };
  // Two unsure "joy" voters are dropped; the sure "fear" wins.
  std::vector<std::vector<Answer>> ans = {{with_conf("m0", "joy", 0.3), with_conf("m1", "joy", 0.4),
                                           with_conf("m2", "fear", 0.9)}};
  auto r = run_named("confidence", ctx, items, ans, {{"threshold", "0.5"}});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->items[0].chosen.text, "fear");
  EXPECT_EQ(r->items[0].dropped, (std::vector<std::string>{"m0", "m1"}));
  // Everything below the threshold: plain vote over all answers ("joy"), noted as a fallback.
  r = run_named("confidence", ctx, items, ans, {{"threshold", "0.95"}});
  EXPECT_EQ(r->items[0].chosen.text, "joy");
  EXPECT_EQ(r->items[0].notes.count("fallback"), 1u);
  EXPECT_EQ(r->summary.at("fallback_items"), 1.0);
  // Threshold 0 keeps everything: equals the plain vote.
  r = run_named("confidence", ctx, items, ans, {{"threshold", "0"}});
  EXPECT_EQ(r->items[0].chosen.text, "joy");
}

}  // namespace
}  // namespace quorum::ensemble
