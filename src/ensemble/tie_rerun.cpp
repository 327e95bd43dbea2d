// The `tie_rerun` strategy: majority vote; on a tie every model is asked again with a prompt that
// offers all classes (variant "all") or only the tied classes (variant "tied"). Re-run answers
// outside the offered set are ignored. A re-run that is still tied (or gets no usable answer) is
// repeated up to max_rounds times, then settled like a vote tie (weights, then seed) among the
// tied classes — so variant "tied" never returns a class outside the tied set.
#include "ensemble/tie_rerun.h"

#include <fmt/format.h>

#include <algorithm>

#include "ensemble/strategies.h"

namespace quorum::ensemble {

std::string options_prompt(const std::string& prompt, const std::vector<std::string>& options) {
  const std::string line = fmt::format("Options: {}\n", fmt::join(options, ", "));
  const std::string tail = "Answer:";
  if (prompt.size() >= tail.size() && prompt.compare(prompt.size() - tail.size(), tail.size(), tail) == 0) {
    return prompt.substr(0, prompt.size() - tail.size()) + line + tail;
  }
  return prompt + "\n" + line + tail;
}

namespace detail {

Result<StrategyRun> run_tie_rerun(const StrategyContext& ctx, const Params& params,
                                  const std::vector<Item>& items,
                                  const std::vector<std::vector<Answer>>& answers) {
  const bool tied_only = params.get_string("variant") == "tied";
  const int max_rounds = static_cast<int>(params.get_int("max_rounds"));
  StrategyRun run;
  size_t ties = 0, failed = 0, rejected = 0, resolved = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const uint64_t seed = item_seed(ctx.seed, items[i]);
    Choice first = majority_vote(ctx.task, answers[i], ctx.model_weights, seed);
    StrategyResult r = make_result(answers[i], first, "tie_rerun");
    if (!first.tie) {
      run.items.push_back(std::move(r));
      continue;
    }
    ++ties;
    // Offered classes keep the task's label order.
    std::vector<std::string> offered;
    for (const auto& l : ctx.task.labels) {
      if (!tied_only || std::count(first.tied_keys.begin(), first.tied_keys.end(), l) > 0) {
        offered.push_back(l);
      }
    }
    TaskSpec restricted = ctx.task;
    restricted.labels = offered;  // answers outside the offered set do not count
    const std::string prompt = options_prompt(items[i].prompt, offered);
    bool settled = false;
    for (int round = 1; round <= max_rounds && !settled; ++round) {
      std::vector<Answer> again;
      for (size_t m = 0; m < ctx.models.size(); ++m) {
        Result<Answer> a = ctx.ask(ctx.models[m], items[i], prompt);
        ++r.extra_calls;
        if (!a.is_ok()) {
          ++failed;
          Answer none;
          none.model = ctx.models[m];
          none.raw = a.status().to_string();
          again.push_back(std::move(none));
          continue;
        }
        Answer got = std::move(a).value();
        got.model = ctx.models[m];
        if (got.parsed && !answer_counts(restricted, got)) ++rejected;
        again.push_back(std::move(got));
      }
      r.rounds = round;
      Choice c = majority_vote(restricted, again, ctx.model_weights, seed);
      if (c.chosen >= 0 && !c.tie) {
        r.chosen = chosen_answer(again, c, "tie_rerun");
        r.notes["resolved_by"] = "rerun";
        settled = true;
        ++resolved;
      }
    }
    if (!settled) {
      // Settle among the tied classes as a plain vote would (weights, then seed): that is
      // `first`'s choice.
      r.notes["resolved_by"] = "tie_break";
    }
    r.notes["offered"] = fmt::format("{}", fmt::join(offered, ","));
    run.extra_calls += r.extra_calls;
    run.items.push_back(std::move(r));
  }
  run.summary["tied_items"] = static_cast<double>(ties);
  run.summary["resolved_by_rerun"] = static_cast<double>(resolved);
  run.summary["rejected_answers"] = static_cast<double>(rejected);
  run.summary["failed_calls"] = static_cast<double>(failed);
  return run;
}

}  // namespace detail
}  // namespace quorum::ensemble
