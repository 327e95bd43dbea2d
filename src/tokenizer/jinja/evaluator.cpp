// Jinja evaluator: statements and expressions (see evaluator.h). Builtins live in builtins*.cpp.
#include "tokenizer/jinja/evaluator.h"

#include <fmt/format.h>

#include "tokenizer/jinja/builtins.h"

namespace quorum::jinja {

namespace {
constexpr const char* kLocatedPrefix = "template error at line ";
}  // namespace

Status locate(int line, int col, Status s) {
  if (s.is_ok() || s.message().rfind(kLocatedPrefix, 0) == 0) return s;
  return Status(s.code(), fmt::format("{}{}, column {}: {}", kLocatedPrefix, line, col, s.message()));
}

Status locate(const Expr& e, Status s) { return locate(e.line, e.col, std::move(s)); }

Evaluator::Evaluator(const RenderEnv& env) : env_(env), root_(std::make_shared<Scope>()) {
  if (env.variables.is_object()) {
    for (const auto& [k, v] : env.variables.items()) root_->vars[k] = Value::from_json(v);
  }
}

Status Evaluator::charge(int64_t n) {
  steps_ += n;
  if (steps_ > env_.limits.max_steps) {
    return Error(ErrorCode::kOutOfRange, "template exceeded its step budget (loop iterations, calls, outputs)")
        .expected(fmt::format("<= {} steps", env_.limits.max_steps))
        .hint("the template loops too long; it may be hostile");
  }
  return Status::ok();
}

Status Evaluator::check_size(size_t bytes) const {
  if (bytes > env_.limits.max_output_bytes) {
    return Error(ErrorCode::kOutOfRange, "template produced a string larger than the output limit")
        .expected(fmt::format("<= {} bytes", env_.limits.max_output_bytes))
        .actual(fmt::format("{} bytes", bytes));
  }
  return Status::ok();
}

Status Evaluator::append(std::string& out, const std::string& text) {
  QUORUM_TRY(check_size(out.size() + text.size()));
  out += text;
  return Status::ok();
}

Result<std::string> Evaluator::render(const Body& body) {
  std::string out;
  Flow flow = Flow::kNormal;
  QUORUM_TRY(exec_body(body, root_, out, flow));
  return out;
}

Status Evaluator::exec_body(const Body& body, const std::shared_ptr<Scope>& scope, std::string& out, Flow& flow) {
  for (const auto& n : body) {
    QUORUM_TRY(exec(*n, scope, out, flow));
    if (flow != Flow::kNormal) return Status::ok();
  }
  return Status::ok();
}

Status Evaluator::exec(const Node& n, const std::shared_ptr<Scope>& scope, std::string& out, Flow& flow) {
  switch (n.kind) {
    case Node::Kind::kText: return append(out, n.text);
    case Node::Kind::kOutput: {
      QUORUM_TRY(charge());
      QUORUM_ASSIGN_OR_RETURN(Value v, eval(*n.expr, scope));
      return append(out, v.str());
    }
    case Node::Kind::kIf: {
      for (size_t k = 0; k < n.conditions.size(); ++k) {
        QUORUM_ASSIGN_OR_RETURN(Value c, eval(*n.conditions[k], scope));
        if (c.truthy()) return exec_body(n.bodies[k], scope, out, flow);
      }
      if (n.bodies.size() > n.conditions.size()) return exec_body(n.bodies.back(), scope, out, flow);
      return Status::ok();
    }
    case Node::Kind::kFor: return exec_for(n, scope, out);
    case Node::Kind::kSet: {
      QUORUM_ASSIGN_OR_RETURN(Value v, eval(*n.expr, scope));
      return exec_set(n, scope, std::move(v));
    }
    case Node::Kind::kSetBlock: {
      std::string text;
      Flow inner = Flow::kNormal;
      QUORUM_TRY(exec_body(n.bodies[0], scope, text, inner));
      Value v = Value::string(std::move(text));
      if (n.filter) {
        QUORUM_ASSIGN_OR_RETURN(v, eval_filter(*n.filter, scope, &v));
      }
      return exec_set(n, scope, std::move(v));
    }
    case Node::Kind::kMacro: return define_macro(n, scope);
    case Node::Kind::kFilterBlock: {
      std::string text;
      QUORUM_TRY(exec_body(n.bodies[0], scope, text, flow));
      Value v = Value::string(std::move(text));
      QUORUM_ASSIGN_OR_RETURN(Value r, eval_filter(*n.filter, scope, &v));
      return append(out, r.str());
    }
    case Node::Kind::kBreak: flow = Flow::kBreak; return Status::ok();
    case Node::Kind::kContinue: flow = Flow::kContinue; return Status::ok();
    case Node::Kind::kScope: return exec_body(n.bodies[0], scope, out, flow);
  }
  return Status::ok();
}

Status Evaluator::exec_set(const Node& n, const std::shared_ptr<Scope>& scope, Value v) {
  if (!n.target_attr.empty()) {
    Value target = lookup(n.targets[0], scope);
    if (!target.is_namespace()) {
      return locate(n.line, n.col,
                    Error(ErrorCode::kInvalidArgument,
                          fmt::format("cannot assign attribute '{}' on '{}' ({}): only a namespace() allows it",
                                      n.target_attr, n.targets[0], target.type_name())));
    }
    target.as_dict().set(n.target_attr, std::move(v));
    return Status::ok();
  }
  if (n.targets.size() == 1) {
    scope->vars[n.targets[0]] = std::move(v);
    return Status::ok();
  }
  QUORUM_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(v));
  if (items.size() != n.targets.size()) {
    return locate(n.line, n.col,
                  Error(ErrorCode::kInvalidArgument, "cannot unpack value in set")
                      .expected(fmt::format("{} values", n.targets.size()))
                      .actual(fmt::format("{} values", items.size())));
  }
  for (size_t k = 0; k < items.size(); ++k) scope->vars[n.targets[k]] = items[k];
  return Status::ok();
}

Status Evaluator::exec_for(const Node& n, const std::shared_ptr<Scope>& scope, std::string& out) {
  QUORUM_ASSIGN_OR_RETURN(Value seq, eval(*n.expr, scope));
  auto items_r = iterate(seq);
  if (!items_r) return locate(*n.expr, items_r.status());
  std::vector<Value> items = std::move(items_r).value();

  auto bind = [&](const std::shared_ptr<Scope>& s, const Value& item) -> Status {
    if (n.targets.size() == 1) {
      s->vars[n.targets[0]] = item;
      return Status::ok();
    }
    auto parts = iterate(item);
    if (!parts || parts->size() != n.targets.size()) {
      return locate(*n.expr, Error(ErrorCode::kInvalidArgument, "cannot unpack loop item")
                                 .expected(fmt::format("{} values", n.targets.size()))
                                 .actual(parts ? fmt::format("{} values", parts->size())
                                               : std::string(item.type_name())));
    }
    for (size_t k = 0; k < parts->size(); ++k) s->vars[n.targets[k]] = (*parts)[k];
    return Status::ok();
  };

  if (n.filter) {  // `for x in xs if cond`: filter first, so loop.length counts kept items
    std::vector<Value> kept;
    for (const auto& item : items) {
      QUORUM_TRY(charge());
      auto s = std::make_shared<Scope>();
      s->parent = scope;
      QUORUM_TRY(bind(s, item));
      QUORUM_ASSIGN_OR_RETURN(Value c, eval(*n.filter, s));
      if (c.truthy()) kept.push_back(item);
    }
    items = std::move(kept);
  }

  const int64_t length = static_cast<int64_t>(items.size());
  for (int64_t k = 0; k < length; ++k) {
    QUORUM_TRY(charge());
    auto s = std::make_shared<Scope>();
    s->parent = scope;
    QUORUM_TRY(bind(s, items[k]));
    Dict loop;
    loop.set("index", Value::integer(k + 1));
    loop.set("index0", Value::integer(k));
    loop.set("revindex", Value::integer(length - k));
    loop.set("revindex0", Value::integer(length - k - 1));
    loop.set("first", Value::boolean(k == 0));
    loop.set("last", Value::boolean(k == length - 1));
    loop.set("length", Value::integer(length));
    loop.set("depth", Value::integer(1));
    loop.set("depth0", Value::integer(0));
    if (k > 0) loop.set("previtem", items[k - 1]);
    if (k + 1 < length) loop.set("nextitem", items[k + 1]);
    loop.set("cycle", Value::callable("loop.cycle", [k](CallArgs& a, Evaluator&) -> Result<Value> {
      if (a.positional.empty()) return Error(ErrorCode::kInvalidArgument, "loop.cycle() needs at least one value");
      return a.positional[static_cast<size_t>(k) % a.positional.size()];
    }));
    s->vars["loop"] = Value::namespace_(std::move(loop));
    Flow flow = Flow::kNormal;
    QUORUM_TRY(exec_body(n.bodies[0], s, out, flow));
    if (flow == Flow::kBreak) break;
  }
  if (length == 0 && n.bodies.size() > 1) {
    Flow flow = Flow::kNormal;
    return exec_body(n.bodies[1], scope, out, flow);
  }
  return Status::ok();
}

Status Evaluator::define_macro(const Node& n, const std::shared_ptr<Scope>& scope) {
  std::weak_ptr<Scope> defined_in = scope;
  const Node* node = &n;
  Value macro = Value::callable(n.name, [node, defined_in](CallArgs& args, Evaluator& ev) -> Result<Value> {
    if (ev.call_depth_ >= ev.env_.limits.max_call_depth) {
      return Error(ErrorCode::kOutOfRange, fmt::format("macro '{}' nested too deeply", node->name))
          .expected(fmt::format("<= {} nested calls", ev.env_.limits.max_call_depth))
          .hint("the template recurses without end; it may be hostile");
    }
    QUORUM_TRY(ev.charge());
    auto s = std::make_shared<Scope>();
    s->parent = defined_in.lock();
    if (!s->parent) s->parent = ev.root_;
    const auto& params = node->params;
    std::vector<Value> extra;
    for (size_t k = 0; k < args.positional.size(); ++k) {
      if (k < params.size()) s->vars[params[k].name] = args.positional[k];
      else extra.push_back(args.positional[k]);
    }
    Dict extra_kw;
    for (auto& [key, v] : args.keyword) {
      bool is_param = false;
      for (const auto& p : params) is_param = is_param || p.name == key;
      if (is_param) s->vars[key] = v;
      else extra_kw.set(key, v);
    }
    for (const auto& p : params) {
      if (s->vars.count(p.name)) continue;
      if (p.default_value) {
        QUORUM_ASSIGN_OR_RETURN(Value d, ev.eval(*p.default_value, s));
        s->vars[p.name] = std::move(d);
      } else {
        s->vars[p.name] = Value::undefined(fmt::format("parameter '{}' of macro '{}' was not given", p.name, node->name));
      }
    }
    s->vars["varargs"] = Value::list(std::move(extra));
    s->vars["kwargs"] = Value::dict(std::move(extra_kw));
    std::string out;
    Flow flow = Flow::kNormal;
    ++ev.call_depth_;
    Status st = ev.exec_body(node->bodies[0], s, out, flow);
    --ev.call_depth_;
    QUORUM_TRY(st);
    return Value::string(std::move(out));
  });
  scope->vars[n.name] = std::move(macro);
  return Status::ok();
}

Value Evaluator::lookup(const std::string& name, const std::shared_ptr<Scope>& scope) const {
  for (const Scope* s = scope.get(); s; s = s->parent.get()) {
    auto it = s->vars.find(name);
    if (it != s->vars.end()) return it->second;
  }
  Value g = global_function(name);
  if (!g.is_undefined()) return g;
  return Value::undefined(fmt::format("'{}' is undefined", name));
}

Result<CallArgs> Evaluator::eval_args(const Expr& e, const std::shared_ptr<Scope>& scope, size_t first) {
  CallArgs args;
  for (size_t k = first; k < e.args.size(); ++k) {
    QUORUM_ASSIGN_OR_RETURN(Value v, eval(*e.args[k], scope));
    args.positional.push_back(std::move(v));
  }
  for (const auto& [key, ex] : e.kwargs) {
    QUORUM_ASSIGN_OR_RETURN(Value v, eval(*ex, scope));
    args.keyword.emplace_back(key, std::move(v));
  }
  return args;
}

Result<Value> Evaluator::call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) return undefined_error(callee);
  if (!callee.is_callable()) {
    return Error(ErrorCode::kInvalidArgument, fmt::format("'{}' object is not callable", callee.type_name()));
  }
  return callee.as_callable().fn(args, *this);
}

Result<Value> Evaluator::apply_filter_by_name(const std::string& name, const Value& input, CallArgs& args) {
  return apply_filter(*this, name, input, args);
}

Result<bool> Evaluator::apply_test_by_name(const std::string& name, const Value& v, CallArgs& args) {
  return apply_test(*this, name, v, args);
}

Result<Value> Evaluator::eval_call(const Expr& e, const std::shared_ptr<Scope>& scope) {
  QUORUM_ASSIGN_OR_RETURN(Value callee, eval(*e.args[0], scope));
  QUORUM_ASSIGN_OR_RETURN(CallArgs args, eval_args(e, scope, 1));
  auto r = call(callee, args);
  if (!r) return locate(e, r.status());
  return r;
}

// A filter node; `input` replaces the innermost operand (for filter blocks and set blocks).
Result<Value> Evaluator::eval_filter(const Expr& e, const std::shared_ptr<Scope>& scope, const Value* input) {
  Value base;
  if (!e.args[0]) {
    base = input ? *input : Value();
  } else if (e.args[0]->kind == Expr::Kind::kFilter && input) {
    QUORUM_ASSIGN_OR_RETURN(base, eval_filter(*e.args[0], scope, input));
  } else {
    QUORUM_ASSIGN_OR_RETURN(base, eval(*e.args[0], scope));
  }
  QUORUM_ASSIGN_OR_RETURN(CallArgs args, eval_args(e, scope, 1));
  auto r = apply_filter(*this, e.name, base, args);
  if (!r) return locate(e, r.status());
  return r;
}

Result<Value> Evaluator::eval(const Expr& e, const std::shared_ptr<Scope>& scope) {
  switch (e.kind) {
    case Expr::Kind::kLiteral: return e.literal;
    case Expr::Kind::kName: return lookup(e.name, scope);
    case Expr::Kind::kList: {
      std::vector<Value> items;
      for (const auto& a : e.args) {
        QUORUM_ASSIGN_OR_RETURN(Value v, eval(*a, scope));
        items.push_back(std::move(v));
      }
      return e.name == "tuple" ? Value::tuple(std::move(items)) : Value::list(std::move(items));
    }
    case Expr::Kind::kDict: {
      Dict d;
      for (size_t k = 0; k + 1 < e.args.size(); k += 2) {
        QUORUM_ASSIGN_OR_RETURN(Value key, eval(*e.args[k], scope));
        QUORUM_ASSIGN_OR_RETURN(Value v, eval(*e.args[k + 1], scope));
        if (!key.is_string()) {
          return locate(*e.args[k], Error(ErrorCode::kUnsupported,
                                          fmt::format("dict keys must be strings, got {}", key.type_name())));
        }
        d.set(key.as_string(), std::move(v));
      }
      return Value::dict(std::move(d));
    }
    case Expr::Kind::kAttr: {
      QUORUM_ASSIGN_OR_RETURN(Value obj, eval(*e.args[0], scope));
      auto r = get_attribute(obj, e.name);
      if (!r) return locate(e, r.status());
      return r;
    }
    case Expr::Kind::kSubscript: {
      QUORUM_ASSIGN_OR_RETURN(Value obj, eval(*e.args[0], scope));
      QUORUM_ASSIGN_OR_RETURN(Value key, eval(*e.args[1], scope));
      auto r = get_item(obj, key);
      if (!r) return locate(e, r.status());
      return r;
    }
    case Expr::Kind::kSlice: {
      QUORUM_ASSIGN_OR_RETURN(Value obj, eval(*e.args[0], scope));
      Value parts[3] = {Value::none(), Value::none(), Value::none()};
      for (int k = 0; k < 3; ++k) {
        if (e.args[static_cast<size_t>(k) + 1]) {
          QUORUM_ASSIGN_OR_RETURN(parts[k], eval(*e.args[static_cast<size_t>(k) + 1], scope));
        }
      }
      auto r = get_slice(obj, parts[0], parts[1], parts[2]);
      if (!r) return locate(e, r.status());
      return r;
    }
    case Expr::Kind::kCall: return eval_call(e, scope);
    case Expr::Kind::kFilter: return eval_filter(e, scope, nullptr);
    case Expr::Kind::kTest: {
      QUORUM_ASSIGN_OR_RETURN(Value v, eval(*e.args[0], scope));
      QUORUM_ASSIGN_OR_RETURN(CallArgs args, eval_args(e, scope, 1));
      auto r = apply_test(*this, e.name, v, args);
      if (!r) return locate(e, r.status());
      return Value::boolean(*r != e.negated);
    }
    case Expr::Kind::kUnary: {
      QUORUM_ASSIGN_OR_RETURN(Value v, eval(*e.args[0], scope));
      if (e.name == "not") return Value::boolean(!v.truthy());
      if (v.is_undefined()) return locate(e, undefined_error(v));
      if (!v.is_number()) {
        return locate(e, Error(ErrorCode::kInvalidArgument,
                               fmt::format("bad operand type for unary {}: '{}'", e.name, v.type_name())));
      }
      if (e.name == "+") return v.is_float() ? v : Value::integer(v.as_int());
      if (v.is_float()) return Value::number(-v.as_double());
      if (v.as_int() == INT64_MIN) return locate(e, Error(ErrorCode::kOutOfRange, "integer overflow"));
      return Value::integer(-v.as_int());
    }
    case Expr::Kind::kBinary: return eval_binary(e, scope);
    case Expr::Kind::kCompare: return eval_compare(e, scope);
    case Expr::Kind::kTernary: {
      QUORUM_ASSIGN_OR_RETURN(Value c, eval(*e.args[0], scope));
      if (c.truthy()) return eval(*e.args[1], scope);
      if (e.args[2]) return eval(*e.args[2], scope);
      return Value::undefined("the ternary's condition was false and it has no else");
    }
  }
  return Value();
}

Result<Value> Evaluator::eval_binary(const Expr& e, const std::shared_ptr<Scope>& scope) {
  QUORUM_ASSIGN_OR_RETURN(Value a, eval(*e.args[0], scope));
  if (e.name == "and") return a.truthy() ? eval(*e.args[1], scope) : Result<Value>(a);
  if (e.name == "or") return a.truthy() ? Result<Value>(a) : eval(*e.args[1], scope);
  QUORUM_ASSIGN_OR_RETURN(Value b, eval(*e.args[1], scope));
  auto r = binary_op(*this, e.name, a, b);
  if (!r) return locate(e, r.status());
  return r;
}

Result<Value> Evaluator::eval_compare(const Expr& e, const std::shared_ptr<Scope>& scope) {
  QUORUM_ASSIGN_OR_RETURN(Value left, eval(*e.args[0], scope));
  for (size_t k = 0; k < e.ops.size(); ++k) {
    QUORUM_ASSIGN_OR_RETURN(Value right, eval(*e.args[k + 1], scope));
    auto r = compare_op(e.ops[k], left, right);
    if (!r) return locate(e, r.status());
    if (!*r) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

}  // namespace quorum::jinja
