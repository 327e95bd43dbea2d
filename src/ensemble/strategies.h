// The work functions and parameter helpers of the built-in strategies (the registry's rows).
// Declared here so strategy.cpp can build the table; each is defined in its own file.
#pragma once

#include "ensemble/strategy.h"
#include "ensemble/vote.h"

namespace quorum::ensemble::detail {

Result<StrategyRun> run_vote(const StrategyContext& ctx, const Params& params,
                             const std::vector<Item>& items,
                             const std::vector<std::vector<Answer>>& answers);
Result<StrategyRun> run_weight(const StrategyContext& ctx, const Params& params,
                               const std::vector<Item>& items,
                               const std::vector<std::vector<Answer>>& answers);
Result<StrategyRun> run_confidence(const StrategyContext& ctx, const Params& params,
                                   const std::vector<Item>& items,
                                   const std::vector<std::vector<Answer>>& answers);
Result<StrategyRun> run_tie_rerun(const StrategyContext& ctx, const Params& params,
                                  const std::vector<Item>& items,
                                  const std::vector<std::vector<Answer>>& answers);
Result<StrategyRun> run_debate(const StrategyContext& ctx, const Params& params,
                               const std::vector<Item>& items,
                               const std::vector<std::vector<Answer>>& answers);

// The sim_rouge_l / sim_token_f1 / sim_cosine parameters shared by weight and confidence.
std::vector<ParamSpec> similarity_params();
SimilarityWeights similarity_from(const Params& params);

}  // namespace quorum::ensemble::detail
