// tie_rerun and debate against scripted answer tables (answers per call / per round).
#include <gtest/gtest.h>

#include <set>

#include "ensemble/scripted.h"
#include "ensemble/strategy.h"
#include "ensemble/tie_rerun.h"
#include "eval/rng.h"

namespace quorum::ensemble {
namespace {

using testing::label_answer;
using testing::ScriptedAnswers;

TaskSpec emotion() { return eval::find_task("emotion").value(); }

Item make_item(const std::string& id) {
  Item it;
  it.id = id;
  it.task = "emotion";
  it.prompt = "Task: emotion\nText: text of " + id + "\nAnswer:";
  return it;
}

Result<StrategyRun> run_named(const std::string& name, const StrategyContext& ctx,
                              const std::vector<Item>& items,
                              const std::vector<std::vector<Answer>>& answers,
                              const std::map<std::string, std::string>& given = {}) {
  QUORUM_ASSIGN_OR_RETURN(const StrategyEntry* e, find_strategy(name));
  QUORUM_ASSIGN_OR_RETURN(Params p, parse_params(*e, given));
  return run_strategy(*e, ctx, p, items, answers);
}

StrategyContext context(ScriptedAnswers& script, size_t n_models, uint64_t seed = 1) {
  StrategyContext ctx;
  ctx.task = emotion();
  for (size_t m = 0; m < n_models; ++m) ctx.models.push_back("m" + std::to_string(m));
  ctx.seed = seed;
  ctx.ask = script.ask();
  return ctx;
}

TEST(TieRerun, OptionsPromptInsertsTheOfferedClasses) {
  EXPECT_EQ(options_prompt("Task: emotion\nText: hi\nAnswer:", {"joy", "fear"}),
            "Task: emotion\nText: hi\nOptions: joy, fear\nAnswer:");
  EXPECT_EQ(options_prompt("Q?", {"a"}), "Q?\nOptions: a\nAnswer:");
}

TEST(TieRerun, TiedItemsAreAskedAgainAndUntiedAreNot) {
  TaskSpec task = emotion();
  ScriptedAnswers script(task);
  // Item "t": joy/fear 2-2 tie; on re-run three models say fear.
  script.script("m0", "t", {"fear"});
  script.script("m1", "t", {"fear"});
  script.script("m2", "t", {"joy"});
  script.script("m3", "t", {"fear"});
  StrategyContext ctx = context(script, 4);
  std::vector<Item> items = {make_item("t"), make_item("n")};
  std::vector<std::vector<Answer>> ans = {
      {label_answer(task, "m0", "joy"), label_answer(task, "m1", "joy"), label_answer(task, "m2", "fear"),
       label_answer(task, "m3", "fear")},
      {label_answer(task, "m0", "love"), label_answer(task, "m1", "love"), label_answer(task, "m2", "love"),
       label_answer(task, "m3", "fear")}};
  auto r = run_named("tie_rerun", ctx, items, ans, {{"variant", "tied"}});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->items[0].chosen.text, "fear");
  EXPECT_TRUE(r->items[0].tie);
  EXPECT_EQ(r->items[0].extra_calls, 4);
  EXPECT_EQ(r->items[0].notes.at("offered"), "joy,fear");  // task label order
  EXPECT_EQ(r->items[1].chosen.text, "love");
  EXPECT_EQ(r->items[1].extra_calls, 0);
  EXPECT_EQ(r->extra_calls, 4);
  ASSERT_EQ(script.prompts().size(), 4u);
  EXPECT_EQ(script.prompts()[0].second, "Task: emotion\nText: text of t\nOptions: joy, fear\nAnswer:");
}

TEST(TieRerun, AllVariantOffersEveryClassAndMayLeaveTheTiedSet) {
  TaskSpec task = emotion();
  ScriptedAnswers script(task);
  for (const char* m : {"m0", "m1", "m2", "m3"}) script.script(m, "t", {"surprise"});
  StrategyContext ctx = context(script, 4);
  std::vector<Item> items = {make_item("t")};
  std::vector<std::vector<Answer>> ans = {{label_answer(task, "m0", "joy"), label_answer(task, "m1", "joy"),
                                           label_answer(task, "m2", "fear"), label_answer(task, "m3", "fear")}};
  auto all = run_named("tie_rerun", ctx, items, ans, {{"variant", "all"}});
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(all->items[0].chosen.text, "surprise");
  EXPECT_NE(script.prompts()[0].second.find("Options: sadness, joy, love, anger, fear, surprise\n"),
            std::string::npos);
  // The same answers under variant "tied" are rejected: the tie is settled inside {joy, fear}.
  ScriptedAnswers script2(task);
  for (const char* m : {"m0", "m1", "m2", "m3"}) script2.script(m, "t", {"surprise"});
  StrategyContext ctx2 = context(script2, 4);
  auto tied = run_named("tie_rerun", ctx2, items, ans, {{"variant", "tied"}});
  ASSERT_TRUE(tied.is_ok());
  EXPECT_TRUE(tied->items[0].chosen.text == "joy" || tied->items[0].chosen.text == "fear");
  EXPECT_EQ(tied->summary.at("rejected_answers"), 4.0);
  EXPECT_EQ(tied->items[0].notes.at("resolved_by"), "tie_break");
}

// Property: over many random ties and random re-run answers (inside and outside the tied set,
// unparseable, failed calls), variant "tied" never returns a class outside the tied set.
TEST(TieRerun, RestrictedRerunNeverLeavesTheTiedSet) {
  TaskSpec task = emotion();
  eval::SplitMix64 rng(42);
  for (uint64_t seed = 0; seed < 4; ++seed) {
    ScriptedAnswers script(task);
    std::vector<Item> items;
    std::vector<std::vector<Answer>> ans;
    for (int i = 0; i < 150; ++i) {
      const std::string id = "p" + std::to_string(i);
      items.push_back(make_item(id));
      std::vector<Answer> row;
      for (int m = 0; m < 4; ++m) {
        const std::string model = "m" + std::to_string(m);
        row.push_back(label_answer(task, model, task.labels[rng.below(4)]));
        std::vector<std::string> later;
        for (int k = 0; k < 3; ++k) {
          uint64_t pick = rng.below(8);  // 6 labels, "garbage", or no answer (call fails)
          if (pick < 6) later.push_back(task.labels[pick]);
          if (pick == 6) later.push_back("garbage");
        }
        script.script(model, id, later);
      }
      ans.push_back(row);
    }
    StrategyContext ctx = context(script, 4, seed);
    auto r = run_named("tie_rerun", ctx, items, ans, {{"variant", "tied"}, {"max_rounds", "3"}});
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    size_t ties = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      std::map<std::string, int> counts;
      for (const Answer& a : ans[i]) ++counts[a.text];
      int top = 0;
      for (const auto& [l, c] : counts) top = std::max(top, c);
      std::set<std::string> tied;
      for (const auto& [l, c] : counts) {
        if (c == top) tied.insert(l);
      }
      if (tied.size() < 2) continue;
      ++ties;
      EXPECT_TRUE(tied.count(r->items[i].chosen.text)) << items[i].id << " chose " << r->items[i].chosen.text;
    }
    EXPECT_GT(ties, 20u);  // the random table really exercises ties
  }
}

// Debate: 3 models, 4 items. The table gives each model's answer per round.
struct DebateCase {
  std::vector<std::vector<std::string>> round0;  // [item][model]
  // rounds[r][item][model]: the answer on debate round r+1 (only asked for non-unanimous items)
  std::vector<std::vector<std::vector<std::string>>> rounds;
};

std::pair<Result<StrategyRun>, size_t> run_debate(const DebateCase& dc, const std::map<std::string, std::string>& params,
                                                  uint64_t seed = 1) {
  TaskSpec task = emotion();
  ScriptedAnswers script(task);
  std::vector<Item> items;
  std::vector<std::vector<Answer>> ans;
  for (size_t i = 0; i < dc.round0.size(); ++i) {
    const std::string id = "d" + std::to_string(i);
    items.push_back(make_item(id));
    std::vector<Answer> row;
    for (size_t m = 0; m < dc.round0[i].size(); ++m) {
      const std::string model = "m" + std::to_string(m);
      row.push_back(label_answer(task, model, dc.round0[i][m]));
      std::vector<std::string> later;
      for (const auto& r : dc.rounds) later.push_back(r[i][m]);
      script.script(model, id, later);
    }
    ans.push_back(row);
  }
  StrategyContext ctx = context(script, 3, seed);
  auto run = run_named("debate", ctx, items, ans, params);
  return {std::move(run), script.total_calls()};
}

const std::map<std::string, std::string> kNoBaseline = {{"equal_compute_baseline", "false"}};

TEST(Debate, StopsWhenAgreementReachesTheThreshold) {
  DebateCase dc;
  dc.round0 = {{"joy", "joy", "joy"}, {"joy", "fear", "joy"}, {"anger", "fear", "fear"}, {"love", "love", "love"}};
  // Round 1: everything agrees -> agreement 1.0 >= 0.9 -> stop after 1 round.
  dc.rounds = {{{"joy", "joy", "joy"}, {"joy", "joy", "joy"}, {"fear", "fear", "fear"}, {"love", "love", "love"}},
               {{"sadness", "sadness", "sadness"}, {"sadness", "sadness", "sadness"},
                {"sadness", "sadness", "sadness"}, {"sadness", "sadness", "sadness"}}};
  auto [run, calls] = run_debate(dc, kNoBaseline);
  ASSERT_TRUE(run.is_ok()) << run.status().to_string();
  EXPECT_EQ(run->rounds, 1);
  EXPECT_EQ(run->notes.at("stop_reason"), "agreement");
  EXPECT_DOUBLE_EQ(run->summary.at("agreement_round_0"), 0.5);
  EXPECT_DOUBLE_EQ(run->summary.at("agreement_round_1"), 1.0);
  EXPECT_EQ(run->extra_calls, 6);  // 2 non-unanimous items x 3 models
  EXPECT_EQ(calls, 6u);
  EXPECT_EQ(run->items[1].chosen.text, "joy");
  EXPECT_EQ(run->items[2].chosen.text, "fear");
  EXPECT_EQ(run->items[0].rounds, 0);
  EXPECT_EQ(run->items[2].rounds, 1);
}

TEST(Debate, StopsWhenAgreementStopsIncreasing) {
  DebateCase dc;
  dc.round0 = {{"joy", "fear", "joy"}, {"anger", "fear", "fear"}};
  // Round 1 changes answers but agreement stays 0 -> stop (no improvement) after round 1.
  dc.rounds = {{{"fear", "joy", "joy"}, {"fear", "anger", "fear"}},
               {{"joy", "joy", "joy"}, {"fear", "fear", "fear"}}};
  auto [run, calls] = run_debate(dc, kNoBaseline);
  ASSERT_TRUE(run.is_ok());
  EXPECT_EQ(run->rounds, 1);
  EXPECT_EQ(run->notes.at("stop_reason"), "no_improvement");
  EXPECT_EQ(calls, 6u);
  EXPECT_EQ(run->items[0].chosen.text, "joy");  // vote over round 1: fear, joy, joy
}

TEST(Debate, StopsAtMaxRounds) {
  DebateCase dc;
  // 4 items, none unanimous; each round one more item becomes unanimous (0 -> .25 -> .5 -> .75)
  // but 0.9 is never reached; max_rounds = 2 stops after round 2.
  dc.round0 = {{"joy", "fear", "joy"}, {"joy", "fear", "joy"}, {"joy", "fear", "joy"}, {"joy", "fear", "joy"}};
  dc.rounds = {{{"joy", "joy", "joy"}, {"joy", "fear", "joy"}, {"joy", "fear", "joy"}, {"joy", "fear", "joy"}},
               {{"joy", "joy", "joy"}, {"joy", "joy", "joy"}, {"joy", "fear", "joy"}, {"joy", "fear", "joy"}},
               {{"joy", "joy", "joy"}, {"joy", "joy", "joy"}, {"joy", "joy", "joy"}, {"joy", "fear", "joy"}}};
  auto [run, calls] = run_debate(dc, {{"max_rounds", "2"}, {"equal_compute_baseline", "false"}});
  ASSERT_TRUE(run.is_ok());
  EXPECT_EQ(run->rounds, 2);
  EXPECT_EQ(run->notes.at("stop_reason"), "max_rounds");
  EXPECT_DOUBLE_EQ(run->summary.at("agreement_round_2"), 0.5);
  EXPECT_EQ(calls, 12u + 9u);  // round 1: 4 items x 3; round 2: 3 items x 3
  EXPECT_EQ(run->extra_calls, 21);
  // With 3 rounds allowed it runs the third (agreement still rising).
  auto [run3, calls3] = run_debate(dc, {{"max_rounds", "3"}, {"equal_compute_baseline", "false"}});
  EXPECT_EQ(run3->rounds, 3);
  EXPECT_EQ(calls3, 12u + 9u + 6u);
}

TEST(Debate, PromptsAreAnonymousAndShuffledBySeed) {
  DebateCase dc;
  dc.round0 = {{"joy", "fear", "anger"}};
  dc.rounds = {{{"joy", "joy", "joy"}}};
  TaskSpec task = emotion();
  auto prompts_for = [&](uint64_t seed) {
    ScriptedAnswers script(task);
    for (int m = 0; m < 3; ++m) script.script("m" + std::to_string(m), "d0", {"joy"});
    StrategyContext ctx = context(script, 3, seed);
    std::vector<Item> items = {make_item("d0")};
    std::vector<std::vector<Answer>> ans = {{label_answer(task, "m0", "joy"), label_answer(task, "m1", "fear"),
                                             label_answer(task, "m2", "anger")}};
    for (int m = 0; m < 3; ++m) ans[0][m].reason = "because of model " + std::to_string(m);
    EXPECT_TRUE(run_named("debate", ctx, items, ans, kNoBaseline).is_ok());
    std::vector<std::string> out;
    for (const auto& p : script.prompts()) out.push_back(p.second);
    return out;
  };
  auto a = prompts_for(1), b = prompts_for(1);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a, b);
  for (const auto& p : a) {
    EXPECT_EQ(p.find("m0"), std::string::npos);  // no model names
    EXPECT_EQ(p.find("m1"), std::string::npos);
    EXPECT_NE(p.find("Agent 2:"), std::string::npos);
    EXPECT_EQ(p.rfind("Answer:"), p.size() - 7);
  }
  // Model 0's prompt shows the other two; across seeds both orders occur.
  std::set<std::string> orders;
  for (uint64_t s = 0; s < 16; ++s) orders.insert(prompts_for(s)[0]);
  EXPECT_EQ(orders.size(), 2u);
}

TEST(Debate, EqualComputeBaselineAsksAsManySamples) {
  DebateCase dc;
  dc.round0 = {{"joy", "fear", "joy"}};
  // Debate round 1 (3 calls), then 3 baseline samples with the original prompt: fear x3.
  dc.rounds = {{{"joy", "joy", "joy"}}, {{"fear", "fear", "fear"}}};
  auto [run, calls] = run_debate(dc, {});
  ASSERT_TRUE(run.is_ok());
  EXPECT_EQ(run->items[0].chosen.text, "joy");
  EXPECT_EQ(run->summary.at("baseline_calls"), 3.0);
  EXPECT_EQ(calls, 6u);
  // Baseline pool: joy, fear, joy + fear, fear, fear -> fear 4 : joy 2.
  ASSERT_EQ(run->baselines.at("vote_equal_compute").size(), 1u);
  EXPECT_EQ(run->baselines.at("vote_equal_compute")[0].text, "fear");
}

}  // namespace
}  // namespace quorum::ensemble
