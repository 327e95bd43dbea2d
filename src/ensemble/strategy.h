// The consensus-strategy registry: one explicit table (no static-initialiser tricks). Each entry
// has a name, a one-line summary, the paper or source it implements, the task kinds it accepts,
// its declared parameters (name, type, default, range, help) and one work function. The same
// parameter list drives config parsing, validation and --help.
//
// Usage (the evaluation runner):
//   QUORUM_ASSIGN_OR_RETURN(const StrategyEntry* s, find_strategy("tie_rerun"));
//   QUORUM_ASSIGN_OR_RETURN(Params p, parse_params(*s, {{"variant", "tied"}}));
//   QUORUM_ASSIGN_OR_RETURN(StrategyRun run, run_strategy(*s, ctx, p, items, answers));
// answers[i][m] is model ctx.models[m]'s answer to items[i].
//
// Room is left for routing, cascades and mixture-of-agents: they are further rows of the table.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "core/status.h"
#include "ensemble/answer.h"

namespace quorum::ensemble {

enum class ParamType { kInt, kDouble, kBool, kString };

const char* param_type_name(ParamType type);

// One declared parameter. Numbers are checked against [min, max]; strings against `choices`
// when that list is non-empty.
struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kDouble;
  std::string default_value;  // in the same text form a config uses
  std::string help;
  double min = -1e300;
  double max = 1e300;
  std::vector<std::string> choices;
};

using ParamValue = std::variant<int64_t, double, bool, std::string>;

// Validated parameter values: every declared parameter is present (given or default).
class Params {
 public:
  Params() = default;
  explicit Params(std::map<std::string, ParamValue> values) : values_(std::move(values)) {}
  int64_t get_int(const std::string& name) const;
  double get_double(const std::string& name) const;  // also accepts an int parameter
  bool get_bool(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  const std::map<std::string, ParamValue>& values() const { return values_; }
  // "name=value" pairs joined by ", " (for reports and cache keys).
  std::string to_string() const;

 private:
  std::map<std::string, ParamValue> values_;
};

using StrategyFn = Result<StrategyRun> (*)(const StrategyContext& ctx, const Params& params,
                                           const std::vector<Item>& items,
                                           const std::vector<std::vector<Answer>>& answers);

struct StrategyEntry {
  std::string name;
  std::string summary;  // one line
  std::string source;   // paper or other reference
  std::vector<TaskKind> kinds;  // task kinds it accepts
  bool needs_ask = false;       // true: StrategyContext::ask must be set
  std::vector<ParamSpec> params;
  StrategyFn run = nullptr;
};

// The table, in a fixed order.
const std::vector<StrategyEntry>& strategy_registry();
// Looks a strategy up by name; an unknown name lists the known ones.
Result<const StrategyEntry*> find_strategy(const std::string& name);
// Parses and validates the given "name -> text" parameters against the entry's declarations;
// unknown names, malformed values and out-of-range values are errors naming the parameter.
Result<Params> parse_params(const StrategyEntry& entry,
                            const std::map<std::string, std::string>& given);
// Checks the inputs (task kind, one answer per model per item, weights, ask callback) and runs.
Result<StrategyRun> run_strategy(const StrategyEntry& entry, const StrategyContext& ctx,
                                 const Params& params, const std::vector<Item>& items,
                                 const std::vector<std::vector<Answer>>& answers);
// Multi-line help text for one entry: summary, source, parameters with type/default/range/help.
std::string strategy_help(const StrategyEntry& entry);

}  // namespace quorum::ensemble
