// Jinja evaluator: renders a parsed template against a context, with Jinja2's scoping rules
// (a for-loop body is a fresh scope per iteration; `if` is not a scope; macros see the scope
// they were defined in) and hard limits so hostile templates cannot hang or exhaust memory.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/status.h"
#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/value.h"

namespace quorum::jinja {

struct RenderLimits {
  size_t max_output_bytes = size_t{64} << 20;  // rendered text (and any one string value)
  int64_t max_steps = 10'000'000;              // loop iterations + macro calls + outputs
  int max_call_depth = 100;                    // nested macro calls
};

struct RenderEnv {
  Json variables = Json::object();   // template variables (messages, bos_token, ...)
  std::optional<std::time_t> now;    // clock of strftime_now(); nullopt = the current time
  RenderLimits limits;
};

// A variable scope; `parent` is null at the root (which holds the context variables).
struct Scope {
  std::shared_ptr<Scope> parent;
  std::unordered_map<std::string, Value> vars;
};

class Evaluator {
 public:
  Evaluator(const RenderEnv& env);

  Result<std::string> render(const Body& body);

  // Used by builtins and callables.
  const RenderEnv& env() const { return env_; }
  Result<Value> call(const Value& callee, CallArgs& args);
  Result<Value> apply_filter_by_name(const std::string& name, const Value& input, CallArgs& args);
  Result<bool> apply_test_by_name(const std::string& name, const Value& v, CallArgs& args);
  // Charges `n` steps; an error once the step budget is spent.
  Status charge(int64_t n = 1);
  Status check_size(size_t bytes) const;

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  Status exec_body(const Body& body, const std::shared_ptr<Scope>& scope, std::string& out, Flow& flow);
  Status exec(const Node& n, const std::shared_ptr<Scope>& scope, std::string& out, Flow& flow);
  Status exec_for(const Node& n, const std::shared_ptr<Scope>& scope, std::string& out);
  Status exec_set(const Node& n, const std::shared_ptr<Scope>& scope, Value v);
  Status define_macro(const Node& n, const std::shared_ptr<Scope>& scope);
  Status append(std::string& out, const std::string& text);

  Result<Value> eval(const Expr& e, const std::shared_ptr<Scope>& scope);
  Result<Value> eval_binary(const Expr& e, const std::shared_ptr<Scope>& scope);
  Result<Value> eval_compare(const Expr& e, const std::shared_ptr<Scope>& scope);
  Result<Value> eval_call(const Expr& e, const std::shared_ptr<Scope>& scope);
  Result<Value> eval_filter(const Expr& e, const std::shared_ptr<Scope>& scope, const Value* input);
  Result<CallArgs> eval_args(const Expr& e, const std::shared_ptr<Scope>& scope, size_t first);
  Value lookup(const std::string& name, const std::shared_ptr<Scope>& scope) const;

  const RenderEnv& env_;
  std::shared_ptr<Scope> root_;
  int64_t steps_ = 0;
  int call_depth_ = 0;
};

// Prefixes a runtime error with the template position (once: nested errors keep the innermost).
Status locate(const Expr& e, Status s);
Status locate(int line, int col, Status s);

}  // namespace quorum::jinja
