// Weight fitting: validation-only by construction, the grid optimum on a hand-built case, JSON
// round trip and application by model name.
#include "ensemble/weights.h"

#include <gtest/gtest.h>

#include "ensemble/scripted.h"
#include "testing/shared_data.h"

namespace quorum::ensemble {
namespace {

using testing::label_answer;

// 30 items; model a is always right, b and c always agree on the same wrong label.
struct Case {
  eval::Dataset ds;
  std::vector<std::vector<Answer>> answers;
  StrategyContext ctx;
};

Case make_case(eval::Split split) {
  Case c;
  c.ctx.task = eval::find_task("sst2").value();
  c.ctx.models = {"a", "b", "c"};
  c.ds.task = "sst2";
  c.ds.split = split;
  c.ds.source = "hand-built";
  for (int i = 0; i < 30; ++i) {
    Item it;
    it.id = "v" + std::to_string(i);
    it.task = "sst2";
    const std::string gold = i % 3 == 0 ? "negative" : "positive";
    const std::string wrong = gold == "positive" ? "negative" : "positive";
    it.references = {gold};
    c.ds.items.push_back(it);
    c.answers.push_back({label_answer(c.ctx.task, "a", gold), label_answer(c.ctx.task, "b", wrong),
                         label_answer(c.ctx.task, "c", wrong)});
  }
  return c;
}

TEST(Weights, FittingOnTestIsRefused) {
  Case c = make_case(eval::Split::kTest);
  auto v = ValidationSet::make(c.ds, c.answers);
  ASSERT_FALSE(v.is_ok());
  EXPECT_NE(v.status().message().find("validation"), std::string::npos);
  Case ok = make_case(eval::Split::kValidation);
  ok.answers.pop_back();
  EXPECT_FALSE(ValidationSet::make(ok.ds, ok.answers).is_ok());  // row count mismatch
}

TEST(Weights, GridFindsTheOptimumClosestToUniform) {
  Case c = make_case(eval::Split::kValidation);
  auto v = ValidationSet::make(c.ds, c.answers);
  ASSERT_TRUE(v.is_ok());
  const StrategyEntry* weight = find_strategy("weight").value();
  Params p = parse_params(*weight, {}).value();
  auto fit = fit_weights(*weight, c.ctx, p, *v);
  ASSERT_TRUE(fit.is_ok()) << fit.status().to_string();
  // a wins iff w_a > w_b + w_c, or w_a = w_b + w_c (a tie, settled by the larger own weight:
  // w_a > w_b). On the 1/10 grid the perfect points nearest uniform are (0.5, 0.3, 0.2) and
  // (0.5, 0.2, 0.3) (squared distance 0.0467 vs 0.1067 for (0.6, 0.2, 0.2)); enumeration order
  // (first component descending, then second) picks (0.5, 0.3, 0.2).
  EXPECT_EQ(fit->search, "grid");
  EXPECT_EQ(fit->uniform_score, 0.0);
  EXPECT_EQ(fit->validation_score, 1.0);
  ASSERT_EQ(fit->weights.size(), 3u);
  EXPECT_NEAR(fit->weights[0], 0.5, 1e-12);
  EXPECT_NEAR(fit->weights[1], 0.3, 1e-12);
  EXPECT_NEAR(fit->weights[2], 0.2, 1e-12);
  EXPECT_EQ(fit->evaluations, 1 + 66);  // uniform + C(12, 2) grid points
  // Deterministic.
  auto again = fit_weights(*weight, c.ctx, p, *v);
  EXPECT_EQ(again->weights, fit->weights);
  // Coordinate search (forced) also reaches a perfect score.
  FitOptions coord;
  coord.max_grid_points = 1;
  auto cs = fit_weights(*weight, c.ctx, p, *v, coord);
  ASSERT_TRUE(cs.is_ok());
  EXPECT_EQ(cs->search, "coordinate");
  EXPECT_EQ(cs->validation_score, 1.0);
  EXPECT_GE(cs->weights[0] + 1e-12, cs->weights[1] + cs->weights[2]);
}

TEST(Weights, SavedJsonAppliesUnchangedByModelName) {
  Case c = make_case(eval::Split::kValidation);
  auto v = ValidationSet::make(c.ds, c.answers);
  const StrategyEntry* weight = find_strategy("weight").value();
  Params p = parse_params(*weight, {}).value();
  auto fit = fit_weights(*weight, c.ctx, p, *v);
  ASSERT_TRUE(fit.is_ok());
  const std::string path = quorum::testing::temp_dir("weights") + "/w.json";
  ASSERT_TRUE(save_weights(*fit, path).is_ok());
  auto loaded = load_weights(path);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->names, fit->names);
  EXPECT_EQ(loaded->weights, fit->weights);
  EXPECT_EQ(loaded->validation_score, 1.0);
  // Test split, models listed in another order: weights follow the names.
  Case test = make_case(eval::Split::kTest);
  StrategyContext ctx = test.ctx;
  ctx.models = {"c", "a", "b"};
  ASSERT_TRUE(apply_weights(*loaded, ctx, p).is_ok());
  EXPECT_NEAR(ctx.model_weights[0], 0.2, 1e-12);  // c
  EXPECT_NEAR(ctx.model_weights[1], 0.5, 1e-12);  // a
  std::vector<std::vector<Answer>> reordered;
  for (const auto& row : test.answers) reordered.push_back({row[2], row[0], row[1]});
  auto run = run_strategy(*weight, ctx, p, test.ds.items, reordered);
  ASSERT_TRUE(run.is_ok());
  EXPECT_EQ(run_score(ctx.task, test.ds.items, *run), 1.0);
  // A model without a fitted weight is an error.
  ctx.models = {"a", "b", "d"};
  EXPECT_FALSE(apply_weights(*loaded, ctx, p).is_ok());
  EXPECT_FALSE(weights_from_json("{\"strategy\": 1}").is_ok());
}

TEST(Weights, MetricWeightsNeedASimilarityStrategy) {
  Case c = make_case(eval::Split::kValidation);
  auto v = ValidationSet::make(c.ds, c.answers);
  const StrategyEntry* vote = find_strategy("vote").value();
  FitOptions o;
  o.target = WeightTarget::kSimilarityMetrics;
  EXPECT_FALSE(fit_weights(*vote, c.ctx, parse_params(*vote, {}).value(), *v, o).is_ok());
}

}  // namespace
}  // namespace quorum::ensemble
