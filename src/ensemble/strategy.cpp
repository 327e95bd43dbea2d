// The strategy registry table, parameter parsing/validation and the checked entry point.
#include "ensemble/strategy.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "ensemble/strategies.h"

namespace quorum::ensemble {

const char* param_type_name(ParamType type) {
  switch (type) {
    case ParamType::kInt: return "int";
    case ParamType::kDouble: return "float";
    case ParamType::kBool: return "bool";
    case ParamType::kString: return "string";
  }
  return "?";
}

// Getters: parse_params guarantees presence and type, so a miss is a bug in the strategy code.
int64_t Params::get_int(const std::string& name) const {
  return std::get<int64_t>(values_.at(name));
}
double Params::get_double(const std::string& name) const {
  const ParamValue& v = values_.at(name);
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return std::get<double>(v);
}
bool Params::get_bool(const std::string& name) const { return std::get<bool>(values_.at(name)); }
const std::string& Params::get_string(const std::string& name) const {
  return std::get<std::string>(values_.at(name));
}

std::string Params::to_string() const {
  std::string out;
  for (const auto& [k, v] : values_) {
    if (!out.empty()) out += ", ";
    out += k + "=";
    std::visit(
        [&out](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, bool>) {
            out += x ? "true" : "false";
          } else if constexpr (std::is_same_v<T, std::string>) {
            out += x;
          } else {
            out += fmt::format("{}", x);
          }
        },
        v);
  }
  return out;
}

namespace detail {

std::vector<ParamSpec> similarity_params() {
  return {
      {"sim_rouge_l", ParamType::kDouble, "1", "weight of ROUGE-L F1 in answer similarity (QA, summarization)", 0, 1e6, {}},
      {"sim_token_f1", ParamType::kDouble, "0", "weight of SQuAD token F1 in answer similarity", 0, 1e6, {}},
      {"sim_cosine", ParamType::kDouble, "0", "weight of embedding cosine similarity (answers with embeddings)", 0, 1e6, {}},
  };
}

SimilarityWeights similarity_from(const Params& params) {
  SimilarityWeights s;
  s.rouge_l = params.get_double("sim_rouge_l");
  s.token_f1 = params.get_double("sim_token_f1");
  s.cosine = params.get_double("sim_cosine");
  return s;
}

}  // namespace detail

namespace {

std::vector<ParamSpec> concat(std::vector<ParamSpec> a, const std::vector<ParamSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<TaskKind> kAllKinds = {TaskKind::kClassification, TaskKind::kExtractiveQa,
                                         TaskKind::kSummarization};

Result<ParamValue> parse_value(const ParamSpec& spec, const std::string& text) {
  auto bad = [&](const std::string& expected) {
    return Error(ErrorCode::kInvalidArgument, "malformed strategy parameter value")
        .where("parameter '" + spec.name + "'")
        .expected(expected)
        .actual(fmt::format("'{}'", text));
  };
  switch (spec.type) {
    case ParamType::kInt: {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno != 0) return bad("an integer");
      if (static_cast<double>(v) < spec.min || static_cast<double>(v) > spec.max) {
        return Error(ErrorCode::kOutOfRange, "strategy parameter out of range")
            .where("parameter '" + spec.name + "'")
            .expected(fmt::format("{} <= value <= {}", spec.min, spec.max))
            .actual(text);
      }
      return ParamValue(static_cast<int64_t>(v));
    }
    case ParamType::kDouble: {
      errno = 0;
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(v)) return bad("a number");
      if (v < spec.min || v > spec.max) {
        return Error(ErrorCode::kOutOfRange, "strategy parameter out of range")
            .where("parameter '" + spec.name + "'")
            .expected(fmt::format("{} <= value <= {}", spec.min, spec.max))
            .actual(text);
      }
      return ParamValue(v);
    }
    case ParamType::kBool:
      if (text == "true" || text == "1" || text == "yes") return ParamValue(true);
      if (text == "false" || text == "0" || text == "no") return ParamValue(false);
      return bad("true or false");
    case ParamType::kString:
      if (!spec.choices.empty()) {
        bool ok = false;
        for (const auto& c : spec.choices) ok = ok || c == text;
        if (!ok) return bad(fmt::format("one of {}", fmt::join(spec.choices, ", ")));
      }
      return ParamValue(text);
  }
  return bad("a value");
}

bool accepts(const StrategyEntry& e, TaskKind kind) {
  for (TaskKind k : e.kinds) {
    if (k == kind) return true;
  }
  return false;
}

}  // namespace

const std::vector<StrategyEntry>& strategy_registry() {
  // Future rows (not implemented yet): routing, cascades, mixture-of-agents.
  static const std::vector<StrategyEntry> kTable = {
      {"vote", "majority vote; ties broken by summed model weights, then a seeded random choice",
       "plurality voting; e.g. Wang et al. 2023, self-consistency (arXiv:2203.11171)",
       {TaskKind::kClassification, TaskKind::kExtractiveQa}, false, {}, &detail::run_vote},
      {"weight",
       "weighted vote: identical answers add their model weights; for QA/summaries the most "
       "representative answer under weighted similarity wins",
       "weighted majority (Littlestone & Warmuth 1994); minimum-Bayes-risk selection (Kumar & "
       "Byrne 2004)",
       kAllKinds, false, detail::similarity_params(), &detail::run_weight},
      {"tie_rerun",
       "majority vote; tied items are asked again offering all classes or only the tied ones",
       "Quorum (this project)",
       {TaskKind::kClassification}, true,
       {{"variant", ParamType::kString, "tied", "classes offered on re-run: all | tied", 0, 0,
         {"all", "tied"}},
        {"max_rounds", ParamType::kInt, "1", "re-run rounds while the vote stays tied", 1, 5, {}}},
       &detail::run_tie_rerun},
      {"confidence",
       "drop answers below a confidence threshold, then vote/weight; all dropped -> plain vote",
       "confidence-filtered voting; e.g. Xiong et al. 2024, verbalized confidence "
       "(arXiv:2306.13063)",
       kAllKinds, false,
       concat({{"threshold", ParamType::kDouble, "0.5", "minimum confidence to keep an answer",
                0, 1, {}},
               {"source", ParamType::kString, "any",
                "confidence used: self (reported) | token (token probabilities) | logprob "
                "(label log-probabilities) | any (first available in that order)",
                0, 0, {"self", "token", "logprob", "any"}},
               {"missing", ParamType::kString, "keep",
                "answers without a confidence: keep | drop", 0, 0, {"keep", "drop"}},
               {"then", ParamType::kString, "auto",
                "combiner after filtering: vote | weight | auto (vote; weight for summaries)", 0,
                0, {"auto", "vote", "weight"}}},
              detail::similarity_params()),
       &detail::run_confidence},
      {"debate",
       "multi-round debate: models see the others' anonymized answers and reasons and answer "
       "again; final majority vote",
       "Du et al. 2023, Improving Factuality and Reasoning through Multiagent Debate "
       "(arXiv:2305.14325)",
       {TaskKind::kClassification}, true,
       {{"max_rounds", ParamType::kInt, "3", "maximum debate rounds after round 0", 1, 10, {}},
        {"agreement", ParamType::kDouble, "0.9",
         "stop when all models agree on at least this fraction of items", 0, 1, {}},
        {"equal_compute_baseline", ParamType::kBool, "true",
         "also report plain voting over as many samples as the debate used", 0, 0, {}}},
       &detail::run_debate},
  };
  return kTable;
}

Result<const StrategyEntry*> find_strategy(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& e : strategy_registry()) {
    if (e.name == name) return &e;
    names.push_back(e.name);
  }
  return Error(ErrorCode::kNotFound, "unknown strategy")
      .expected(fmt::format("one of {}", fmt::join(names, ", ")))
      .actual(fmt::format("'{}'", name));
}

Result<Params> parse_params(const StrategyEntry& entry,
                            const std::map<std::string, std::string>& given) {
  std::map<std::string, ParamValue> values;
  for (const auto& [name, text] : given) {
    const ParamSpec* spec = nullptr;
    std::vector<std::string> known;
    for (const auto& p : entry.params) {
      if (p.name == name) spec = &p;
      known.push_back(p.name);
    }
    if (spec == nullptr) {
      return Error(ErrorCode::kInvalidArgument, "unknown strategy parameter")
          .where("strategy '" + entry.name + "'")
          .expected(known.empty() ? std::string("no parameters")
                                  : fmt::format("one of {}", fmt::join(known, ", ")))
          .actual(fmt::format("'{}'", name));
    }
    auto v = parse_value(*spec, text);
    if (!v.is_ok()) {
      Status s = v.status();
      return s.with_context("strategy '" + entry.name + "'");
    }
    values[name] = std::move(v).value();
  }
  for (const auto& p : entry.params) {
    if (values.count(p.name) != 0) continue;
    auto v = parse_value(p, p.default_value);
    if (!v.is_ok()) return Status(ErrorCode::kInternal, "bad default: " + v.status().message());
    values[p.name] = std::move(v).value();
  }
  return Params(std::move(values));
}

Result<StrategyRun> run_strategy(const StrategyEntry& entry, const StrategyContext& ctx,
                                 const Params& params, const std::vector<Item>& items,
                                 const std::vector<std::vector<Answer>>& answers) {
  const std::string where = "strategy '" + entry.name + "'";
  if (!accepts(entry, ctx.task.kind)) {
    return Error(ErrorCode::kUnsupported, "strategy does not apply to this kind of task")
        .where(where + ", task '" + ctx.task.name + "'")
        .actual(eval::task_kind_name(ctx.task.kind));
  }
  if (items.size() != answers.size()) {
    return Error(ErrorCode::kInvalidArgument, "one answer list per item is required")
        .where(where)
        .expected(fmt::format("{} answer lists", items.size()))
        .actual(fmt::format("{}", answers.size()));
  }
  if (ctx.models.empty()) {
    return Error(ErrorCode::kInvalidArgument, "a strategy needs at least one model").where(where);
  }
  if (!ctx.model_weights.empty() && ctx.model_weights.size() != ctx.models.size()) {
    return Error(ErrorCode::kInvalidArgument, "one weight per model is required")
        .where(where)
        .expected(fmt::format("{} weights", ctx.models.size()))
        .actual(fmt::format("{}", ctx.model_weights.size()));
  }
  for (double w : ctx.model_weights) {
    if (!(w >= 0.0) || !std::isfinite(w)) {
      return Error(ErrorCode::kInvalidArgument, "model weights must be finite and >= 0")
          .where(where)
          .actual(fmt::format("{}", w));
    }
  }
  for (size_t i = 0; i < answers.size(); ++i) {
    if (answers[i].size() != ctx.models.size()) {
      return Error(ErrorCode::kInvalidArgument, "one answer per model is required")
          .where(where + ", item '" + items[i].id + "'")
          .expected(fmt::format("{} answers", ctx.models.size()))
          .actual(fmt::format("{}", answers[i].size()));
    }
  }
  if (entry.needs_ask && !ctx.ask) {
    return Error(ErrorCode::kInvalidArgument, "strategy needs to ask models again")
        .where(where)
        .hint("run it through `quorum eval` with backends, not on recorded answers only");
  }
  for (const auto& p : entry.params) {
    if (!params.has(p.name)) {
      return Error(ErrorCode::kInvalidArgument, "parameters were not parsed for this strategy")
          .where(where)
          .expected("parse_params(entry, ...) output")
          .actual("missing '" + p.name + "'");
    }
  }
  return entry.run(ctx, params, items, answers);
}

std::string strategy_help(const StrategyEntry& entry) {
  std::string out = fmt::format("{} — {}\n  source: {}\n", entry.name, entry.summary, entry.source);
  std::vector<std::string> kinds;
  for (TaskKind k : entry.kinds) kinds.push_back(eval::task_kind_name(k));
  out += fmt::format("  tasks: {}\n", fmt::join(kinds, ", "));
  for (const auto& p : entry.params) {
    out += fmt::format("  {} ({}, default {}): {}", p.name, param_type_name(p.type),
                       p.default_value, p.help);
    if (p.type == ParamType::kInt || p.type == ParamType::kDouble) {
      out += fmt::format(" [{} .. {}]", p.min, p.max);
    }
    out += "\n";
  }
  return out;
}

}  // namespace quorum::ensemble
