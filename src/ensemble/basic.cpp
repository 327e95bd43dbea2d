// The `vote` and `weight` strategies: one combiner applied to every item independently.
#include "ensemble/strategies.h"

namespace quorum::ensemble::detail {

Result<StrategyRun> run_vote(const StrategyContext& ctx, const Params& /*params*/,
                             const std::vector<Item>& items,
                             const std::vector<std::vector<Answer>>& answers) {
  StrategyRun run;
  for (size_t i = 0; i < items.size(); ++i) {
    Choice c = majority_vote(ctx.task, answers[i], ctx.model_weights, item_seed(ctx.seed, items[i]));
    run.items.push_back(make_result(answers[i], c, "vote"));
  }
  return run;
}

Result<StrategyRun> run_weight(const StrategyContext& ctx, const Params& params,
                               const std::vector<Item>& items,
                               const std::vector<std::vector<Answer>>& answers) {
  const SimilarityWeights sim = similarity_from(params);
  if (ctx.task.kind != TaskKind::kClassification && sim.rouge_l + sim.token_f1 + sim.cosine <= 0) {
    return Error(ErrorCode::kInvalidArgument, "all similarity weights are 0")
        .where("strategy 'weight'")
        .hint("set sim_rouge_l, sim_token_f1 or sim_cosine above 0");
  }
  StrategyRun run;
  for (size_t i = 0; i < items.size(); ++i) {
    Choice c = weighted_choice(ctx.task, answers[i], ctx.model_weights, sim,
                               item_seed(ctx.seed, items[i]));
    run.items.push_back(make_result(answers[i], c, "weight"));
  }
  return run;
}

}  // namespace quorum::ensemble::detail
