// Weight fitting (simplex grid / coordinate search), application and JSON files (see weights.h).
#include "ensemble/weights.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "eval/metrics.h"

namespace quorum::ensemble {
namespace {

const std::vector<std::string> kMetricParams = {"sim_rouge_l", "sim_token_f1", "sim_cosine"};

double dist_to_uniform(const std::vector<double>& w) {
  const double u = 1.0 / static_cast<double>(w.size());
  double d = 0.0;
  for (double x : w) d += (x - u) * (x - u);
  return d;
}

// Number of points of the simplex grid: C(steps + n - 1, n - 1), saturating.
size_t grid_size(size_t n, size_t steps) {
  double c = 1.0;
  for (size_t k = 1; k < n; ++k) c = c * static_cast<double>(steps + k) / static_cast<double>(k);
  return c > 1e15 ? static_cast<size_t>(1e15) : static_cast<size_t>(std::llround(c));
}

// Calls f(counts) for every composition of `steps` into n non-negative parts, lexicographically.
template <typename F>
void for_each_composition(size_t n, int steps, std::vector<int>& cur, size_t pos, int left, F& f) {
  if (pos + 1 == n) {
    cur[pos] = left;
    f(cur);
    return;
  }
  for (int k = left; k >= 0; --k) {
    cur[pos] = k;
    for_each_composition(n, steps, cur, pos + 1, left - k, f);
  }
}

Params with_values(const Params& base, const std::vector<std::string>& names, const std::vector<double>& w) {
  auto values = base.values();
  for (size_t i = 0; i < names.size(); ++i) values[names[i]] = ParamValue(w[i]);
  return Params(std::move(values));
}

const char* target_name(WeightTarget t) { return t == WeightTarget::kModels ? "models" : "similarity_metrics"; }

}  // namespace

Result<ValidationSet> ValidationSet::make(const eval::Dataset& dataset, std::vector<std::vector<Answer>> answers) {
  if (dataset.split != eval::Split::kValidation) {
    return Error(ErrorCode::kInvalidArgument, "weights can only be fitted on a validation split")
        .where(dataset.source)
        .expected("split = validation")
        .actual(fmt::format("split = {}", eval::split_name(dataset.split)))
        .hint("fit on validation answers, then apply the saved weights to test");
  }
  if (answers.size() != dataset.items.size()) {
    return Error(ErrorCode::kInvalidArgument, "one answer row per validation item is required")
        .where(dataset.source)
        .expected(fmt::format("{} rows", dataset.items.size()))
        .actual(fmt::format("{}", answers.size()));
  }
  ValidationSet v;
  v.task_ = dataset.task;
  v.source_ = dataset.source;
  v.items_ = dataset.items;
  v.answers_ = std::move(answers);
  return v;
}

double run_score(const TaskSpec& task, const std::vector<Item>& items, const StrategyRun& run) {
  if (items.empty()) return 0.0;
  double s = 0.0;
  for (size_t i = 0; i < items.size(); ++i) {
    const Answer& a = run.items[i].chosen;
    s += eval::main_metric_score(task.main_metric, a.parsed ? a.text : std::string(), items[i].references);
  }
  return s / static_cast<double>(items.size());
}

Result<FittedWeights> fit_weights(const StrategyEntry& entry, const StrategyContext& ctx,
                                  const Params& params, const ValidationSet& validation,
                                  const FitOptions& options) {
  if (validation.task() != ctx.task.name) {
    return Error(ErrorCode::kInvalidArgument, "validation set is for another task")
        .expected(ctx.task.name)
        .actual(validation.task());
  }
  if (options.grid_steps < 1 || options.grid_steps > 1000) {
    return Error(ErrorCode::kOutOfRange, "grid_steps out of range")
        .expected("1..1000")
        .actual(std::to_string(options.grid_steps));
  }
  FittedWeights fit;
  fit.strategy = entry.name;
  fit.task = ctx.task.name;
  fit.target = options.target;
  fit.metric = eval::main_metric_name(ctx.task.main_metric);
  fit.validation_items = validation.items().size();
  if (options.target == WeightTarget::kModels) {
    fit.names = ctx.models;
  } else {
    for (const auto& name : kMetricParams) {
      if (!params.has(name)) {
        return Error(ErrorCode::kInvalidArgument, "strategy has no similarity-metric weights")
            .where("strategy '" + entry.name + "'")
            .expected("parameters sim_rouge_l, sim_token_f1, sim_cosine")
            .hint("fit model weights instead");
      }
    }
    fit.names = kMetricParams;
  }
  const size_t n = fit.names.size();
  if (n == 0) return Error(ErrorCode::kInvalidArgument, "nothing to fit: no models");

  Status failure;
  auto evaluate = [&](const std::vector<double>& w) -> double {
    StrategyContext c = ctx;
    Params p = params;
    if (options.target == WeightTarget::kModels) {
      c.model_weights = w;
    } else {
      p = with_values(params, fit.names, w);
    }
    ++fit.evaluations;
    auto run = run_strategy(entry, c, p, validation.items(), validation.answers());
    if (!run.is_ok()) {
      if (failure.is_ok()) failure = run.status();
      return -1.0;
    }
    return run_score(ctx.task, validation.items(), *run);
  };
  const std::vector<double> uniform(n, 1.0 / static_cast<double>(n));
  fit.uniform_score = evaluate(uniform);
  QUORUM_TRY(failure);

  std::vector<double> best_w = uniform;
  double best = fit.uniform_score;
  auto consider = [&](const std::vector<double>& w) {
    double s = evaluate(w);
    if (s > best + 1e-12 || (std::fabs(s - best) <= 1e-12 && dist_to_uniform(w) < dist_to_uniform(best_w) - 1e-15)) {
      best = s;
      best_w = w;
    }
  };
  const int steps = options.grid_steps;
  if (grid_size(n, static_cast<size_t>(steps)) <= options.max_grid_points) {
    fit.search = "grid";
    std::vector<int> cur(n, 0);
    auto visit = [&](const std::vector<int>& counts) {
      std::vector<double> w(n);
      for (size_t i = 0; i < n; ++i) w[i] = static_cast<double>(counts[i]) / steps;
      consider(w);
    };
    for_each_composition(n, steps, cur, 0, steps, visit);
  } else {
    fit.search = "coordinate";
    for (int pass = 0; pass < options.max_passes; ++pass) {
      const std::vector<double> before = best_w;
      for (size_t i = 0; i < n; ++i) {
        for (int k = 0; k <= steps; ++k) {
          const double v = static_cast<double>(k) / steps;
          std::vector<double> w = best_w;
          double rest = 0.0;
          for (size_t j = 0; j < n; ++j) rest += j == i ? 0.0 : w[j];
          for (size_t j = 0; j < n; ++j) {
            if (j == i) continue;
            w[j] = rest > 0 ? w[j] / rest * (1.0 - v) : (1.0 - v) / static_cast<double>(n - 1);
          }
          w[i] = v;
          consider(w);
        }
      }
      if (best_w == before) break;
    }
  }
  QUORUM_TRY(failure);
  double sum = 0.0;
  for (double x : best_w) sum += x;
  for (double& x : best_w) x /= sum;
  fit.weights = best_w;
  fit.validation_score = best;
  return fit;
}

Status apply_weights(const FittedWeights& fitted, StrategyContext& ctx, Params& params) {
  if (fitted.task != ctx.task.name) {
    return Error(ErrorCode::kInvalidArgument, "weights were fitted for another task")
        .expected(ctx.task.name)
        .actual(fitted.task);
  }
  if (fitted.names.size() != fitted.weights.size()) {
    return Error(ErrorCode::kCorruptFile, "weights file has different numbers of names and weights");
  }
  if (fitted.target == WeightTarget::kModels) {
    std::vector<double> w;
    for (const auto& m : ctx.models) {
      size_t k = 0;
      while (k < fitted.names.size() && fitted.names[k] != m) ++k;
      if (k == fitted.names.size()) {
        return Error(ErrorCode::kNotFound, "model has no fitted weight")
            .where("model '" + m + "'")
            .expected(fmt::format("one of {}", fmt::join(fitted.names, ", ")))
            .hint("fit weights for this exact set of models");
      }
      w.push_back(fitted.weights[k]);
    }
    if (ctx.models.size() != fitted.names.size()) {
      return Error(ErrorCode::kInvalidArgument, "weights were fitted for a different set of models")
          .expected(fmt::format("{}", fmt::join(fitted.names, ", ")))
          .actual(fmt::format("{}", fmt::join(ctx.models, ", ")));
    }
    ctx.model_weights = w;
    return Status::ok();
  }
  for (const auto& n : fitted.names) {
    if (!params.has(n)) {
      return Error(ErrorCode::kInvalidArgument, "strategy has no parameter for a fitted metric weight").where(n);
    }
  }
  params = with_values(params, fitted.names, fitted.weights);
  return Status::ok();
}

std::string weights_to_json(const FittedWeights& f) {
  nlohmann::ordered_json j;
  j["strategy"] = f.strategy;
  j["task"] = f.task;
  j["target"] = target_name(f.target);
  j["fitted_on"] = "validation";
  j["metric"] = f.metric;
  j["validation_score"] = f.validation_score;
  j["uniform_score"] = f.uniform_score;
  j["validation_items"] = f.validation_items;
  j["evaluations"] = f.evaluations;
  j["search"] = f.search;
  nlohmann::ordered_json w = nlohmann::ordered_json::object();
  for (size_t i = 0; i < f.names.size(); ++i) w[f.names[i]] = f.weights[i];
  j["weights"] = w;
  return j.dump(2) + "\n";
}

Result<FittedWeights> weights_from_json(const std::string& text) {
  try {
    auto j = nlohmann::ordered_json::parse(text);
    FittedWeights f;
    f.strategy = j.at("strategy").get<std::string>();
    f.task = j.at("task").get<std::string>();
    const std::string target = j.at("target").get<std::string>();
    if (target == "models") {
      f.target = WeightTarget::kModels;
    } else if (target == "similarity_metrics") {
      f.target = WeightTarget::kSimilarityMetrics;
    } else {
      return Error(ErrorCode::kCorruptFile, "unknown weight target").expected("models or similarity_metrics").actual(target);
    }
    f.metric = j.value("metric", "");
    f.validation_score = j.value("validation_score", 0.0);
    f.uniform_score = j.value("uniform_score", 0.0);
    f.validation_items = j.value("validation_items", size_t{0});
    f.evaluations = j.value("evaluations", 0);
    f.search = j.value("search", "");
    for (auto it = j.at("weights").begin(); it != j.at("weights").end(); ++it) {
      double w = it.value().get<double>();
      if (!(w >= 0.0) || !std::isfinite(w)) {
        return Error(ErrorCode::kCorruptFile, "weight must be finite and >= 0").where(it.key()).actual(fmt::format("{}", w));
      }
      f.names.push_back(it.key());
      f.weights.push_back(w);
    }
    return f;
  } catch (const std::exception& e) {
    return Error(ErrorCode::kCorruptFile, "not a weights JSON file").actual(e.what());
  }
}

Status save_weights(const FittedWeights& fitted, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) return Error(ErrorCode::kIoError, "cannot write weights file").where(path);
  out << weights_to_json(fitted);
  if (!out) return Error(ErrorCode::kIoError, "writing the weights file failed").where(path);
  return Status::ok();
}

Result<FittedWeights> load_weights(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot open weights file").where(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  auto f = weights_from_json(ss.str());
  if (!f.is_ok()) {
    Status s = f.status();
    return s.with_context(path);
  }
  return f;
}

}  // namespace quorum::ensemble
