// Jinja builtins, part 1: attribute/item access, operators, iteration, methods of str/dict/list
// and the global functions. Python semantics throughout (see builtins.h).
#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/evaluator.h"
#include "tokenizer/jinja/string_ops.h"

namespace quorum::jinja {

Status undefined_error(const Value& v) {
  const std::string& what = v.undefined_name();
  return Error(ErrorCode::kInvalidArgument, what.empty() ? "value is undefined" : what);
}

namespace {

Status type_error(const std::string& what) { return Error(ErrorCode::kInvalidArgument, what); }

// Positional-or-keyword argument `k` named `name`, or nullptr.
const Value* arg(const CallArgs& a, size_t k, const char* name) {
  if (k < a.positional.size()) return &a.positional[k];
  for (const auto& [key, v] : a.keyword) {
    if (key == name) return &v;
  }
  return nullptr;
}

Result<std::string> string_arg(const CallArgs& a, size_t k, const char* name, const char* fn) {
  const Value* v = arg(a, k, name);
  if (!v || !v->is_string()) {
    return type_error(fmt::format("{}() argument '{}' must be a str, got {}", fn, name, v ? v->type_name() : "nothing"));
  }
  return v->as_string();
}

using Method = std::function<Result<Value>(CallArgs&, Evaluator&)>;

Value bound(const std::string& name, Method fn) { return Value::callable(name, std::move(fn)); }

// Strings that `startswith`/`endswith` accept: one str or a tuple/list of them.
Result<std::vector<std::string>> affixes(const CallArgs& a, const char* fn) {
  const Value* v = arg(a, 0, "prefix");
  if (!v) return type_error(fmt::format("{}() takes at least 1 argument", fn));
  std::vector<std::string> out;
  if (v->is_string()) {
    out.push_back(v->as_string());
  } else if (v->is_list()) {
    for (const auto& e : v->as_list()) {
      if (!e.is_string()) return type_error(fmt::format("{}() tuple items must be str", fn));
      out.push_back(e.as_string());
    }
  } else {
    return type_error(fmt::format("{}() argument must be str or a tuple of str, not {}", fn, v->type_name()));
  }
  return out;
}

Result<Value> string_method(const std::string& s, const std::string& name) {
  const std::string m = "str." + name;
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    return bound(m, [s, name](CallArgs& a, Evaluator&) -> Result<Value> {
      const Value* chars = arg(a, 0, "chars");
      const bool left = name != "rstrip", right = name != "lstrip";
      if (chars && !chars->is_none()) {
        if (!chars->is_string()) return type_error("strip arg must be None or str");
        return Value::string(strip_chars(s, chars->as_string(), left, right));
      }
      return Value::string(strip_whitespace(s, left, right));
    });
  }
  if (name == "split" || name == "rsplit") {
    return bound(m, [s, name](CallArgs& a, Evaluator&) -> Result<Value> {
      const Value* sep = arg(a, 0, "sep");
      const Value* maxsplit = arg(a, 1, "maxsplit");
      const int64_t max = maxsplit && maxsplit->is_number() ? maxsplit->as_int() : -1;
      std::vector<std::string> parts;
      if (sep && !sep->is_none()) {
        if (!sep->is_string()) return type_error("split() separator must be str or None");
        if (sep->as_string().empty()) return type_error("split(): empty separator");
        parts = split_by(s, sep->as_string(), max, name == "rsplit");
      } else {
        parts = split_whitespace(s, max, name == "rsplit");
      }
      std::vector<Value> out;
      for (auto& p : parts) out.push_back(Value::string(std::move(p)));
      return Value::list(std::move(out));
    });
  }
  if (name == "startswith" || name == "endswith") {
    return bound(m, [s, name](CallArgs& a, Evaluator&) -> Result<Value> {
      QUORUM_ASSIGN_OR_RETURN(auto list, affixes(a, name.c_str()));
      for (const auto& x : list) {
        const bool hit = name == "startswith" ? s.compare(0, x.size(), x) == 0 && s.size() >= x.size()
                                              : s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
        if (hit) return Value::boolean(true);
      }
      return Value::boolean(false);
    });
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" || name == "swapcase") {
    return bound(m, [s, name](CallArgs&, Evaluator&) -> Result<Value> {
      if (name == "upper") return Value::string(ascii_upper(s));
      if (name == "lower") return Value::string(ascii_lower(s));
      if (name == "title") return Value::string(python_title(s));
      if (name == "capitalize") return Value::string(python_capitalize(s));
      std::string out = s;
      for (char& c : out) c = std::isupper(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : static_cast<char>(std::toupper(c));
      return Value::string(out);
    });
  }
  if (name == "replace") {
    return bound(m, [s](CallArgs& a, Evaluator& ev) -> Result<Value> {
      QUORUM_ASSIGN_OR_RETURN(std::string old_s, string_arg(a, 0, "old", "replace"));
      QUORUM_ASSIGN_OR_RETURN(std::string new_s, string_arg(a, 1, "new", "replace"));
      const Value* count = arg(a, 2, "count");
      std::string out = replace_all(s, old_s, new_s, count && count->is_number() ? count->as_int() : -1);
      QUORUM_TRY(ev.check_size(out.size()));
      return Value::string(std::move(out));
    });
  }
  if (name == "format") {
    return bound(m, [s](CallArgs& a, Evaluator&) -> Result<Value> { return python_format(s, a); });
  }
  if (name == "join") {
    return bound(m, [s](CallArgs& a, Evaluator& ev) -> Result<Value> {
      const Value* v = arg(a, 0, "iterable");
      if (!v) return type_error("join() takes exactly one argument");
      QUORUM_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(*v));
      std::string out;
      for (size_t k = 0; k < items.size(); ++k) {
        if (!items[k].is_string()) return type_error(fmt::format("sequence item {}: expected str instance, {} found", k, items[k].type_name()));
        if (k) out += s;
        out += items[k].as_string();
        QUORUM_TRY(ev.check_size(out.size()));
      }
      return Value::string(std::move(out));
    });
  }
  if (name == "find" || name == "count" || name == "index" || name == "rfind") {
    return bound(m, [s, name](CallArgs& a, Evaluator&) -> Result<Value> {
      QUORUM_ASSIGN_OR_RETURN(std::string sub, string_arg(a, 0, "sub", name.c_str()));
      if (name == "count") return Value::integer(count_occurrences(s, sub));
      const size_t pos = name == "rfind" ? s.rfind(sub) : s.find(sub);
      if (pos == std::string::npos) {
        if (name == "index") return type_error("substring not found");
        return Value::integer(-1);
      }
      return Value::integer(static_cast<int64_t>(utf8_length(std::string_view(s).substr(0, pos))));
    });
  }
  if (name == "splitlines") {
    return bound(m, [s](CallArgs&, Evaluator&) -> Result<Value> {
      std::vector<Value> out;
      for (auto& line : split_lines(s)) out.push_back(Value::string(std::move(line)));
      return Value::list(std::move(out));
    });
  }
  if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" || name == "isupper" || name == "islower") {
    return bound(m, [s, name](CallArgs&, Evaluator&) -> Result<Value> { return Value::boolean(string_predicate(s, name)); });
  }
  return Value::undefined(fmt::format("'str object' has no attribute '{}'", name));
}

Result<Value> dict_method(const Value& d, const std::string& name) {
  const std::string m = "dict." + name;
  if (name == "items" || name == "keys" || name == "values") {
    return bound(m, [d, name](CallArgs&, Evaluator&) -> Result<Value> {
      std::vector<Value> out;
      for (const auto& [k, v] : d.as_dict().items) {
        if (name == "items") out.push_back(Value::tuple({Value::string(k), v}));
        else if (name == "keys") out.push_back(Value::string(k));
        else out.push_back(v);
      }
      return Value::list(std::move(out));
    });
  }
  if (name == "get") {
    return bound(m, [d](CallArgs& a, Evaluator&) -> Result<Value> {
      const Value* key = arg(a, 0, "key");
      const Value* def = arg(a, 1, "default");
      if (!key) return type_error("get expected at least 1 argument, got 0");
      if (key->is_string()) {
        if (const Value* v = d.as_dict().find(key->as_string())) return *v;
      }
      return def ? *def : Value::none();
    });
  }
  if (name == "copy") {
    return bound(m, [d](CallArgs&, Evaluator&) -> Result<Value> { return Value::dict(d.as_dict()); });
  }
  if (name == "pop" || name == "update" || name == "setdefault" || name == "clear" || name == "popitem") {
    return bound(m, [m](CallArgs&, Evaluator&) -> Result<Value> {
      return Error(ErrorCode::kUnsupported, fmt::format("{}() is not allowed: template data is immutable", m))
          .hint("use namespace() or build a new dict/list instead");
    });
  }
  return Value();  // not a method: the caller looks up the key
}

Result<Value> list_method(const Value& l, const std::string& name) {
  const std::string m = "list." + name;
  if (name == "index" || name == "count") {
    return bound(m, [l, name](CallArgs& a, Evaluator&) -> Result<Value> {
      const Value* x = arg(a, 0, "value");
      if (!x) return type_error(fmt::format("{}() takes exactly one argument", name));
      int64_t count = 0;
      const auto& items = l.as_list();
      for (size_t k = 0; k < items.size(); ++k) {
        if (!values_equal(items[k], *x)) continue;
        if (name == "index") return Value::integer(static_cast<int64_t>(k));
        ++count;
      }
      if (name == "index") return type_error(fmt::format("{} is not in list", x->repr()));
      return Value::integer(count);
    });
  }
  if (name == "append" || name == "extend" || name == "pop" || name == "insert" || name == "remove" ||
      name == "sort" || name == "reverse" || name == "clear") {
    return bound(m, [m](CallArgs&, Evaluator&) -> Result<Value> {
      return Error(ErrorCode::kUnsupported, fmt::format("{}() is not allowed: template data is immutable", m))
          .hint("build a new list instead: {% set ns.items = ns.items + [x] %}");
    });
  }
  return Value::undefined(fmt::format("'list object' has no attribute '{}'", name));
}

int64_t normalize_index(int64_t k, int64_t n) { return k < 0 ? k + n : k; }

}  // namespace

Result<Value> get_attribute(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case Value::Kind::kUndefined: return undefined_error(obj);
    case Value::Kind::kString: return string_method(obj.as_string(), name);
    case Value::Kind::kList: return list_method(obj, name);
    case Value::Kind::kDict: {
      QUORUM_ASSIGN_OR_RETURN(Value method, dict_method(obj, name));
      if (!method.is_undefined()) return method;
      if (const Value* v = obj.as_dict().find(name)) return *v;
      return Value::undefined(fmt::format("'dict object' has no attribute '{}'", name));
    }
    case Value::Kind::kNamespace: {
      if (const Value* v = obj.as_dict().find(name)) return *v;
      return Value::undefined(fmt::format("'Namespace object' has no attribute '{}'", name));
    }
    default:
      return Value::undefined(fmt::format("'{}' object has no attribute '{}'", obj.type_name(), name));
  }
}

Result<Value> get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) return undefined_error(obj);
  if (obj.is_generator()) return type_error("'generator' object is not subscriptable; add |list first");
  if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    if (obj.is_list()) {
      const auto& items = obj.as_list();
      const int64_t k = normalize_index(key.as_int(), static_cast<int64_t>(items.size()));
      if (k >= 0 && k < static_cast<int64_t>(items.size())) return items[static_cast<size_t>(k)];
      return Value::undefined(fmt::format("list index {} out of range", key.as_int()));
    }
    const auto cps = utf8_code_points(obj.as_string());
    const int64_t k = normalize_index(key.as_int(), static_cast<int64_t>(cps.size()));
    if (k >= 0 && k < static_cast<int64_t>(cps.size())) return Value::string(std::string(cps[static_cast<size_t>(k)]));
    return Value::undefined(fmt::format("string index {} out of range", key.as_int()));
  }
  if ((obj.is_dict() || obj.is_namespace()) && key.is_string()) {
    if (const Value* v = obj.as_dict().find(key.as_string())) return *v;
    if (obj.is_namespace()) return Value::undefined(fmt::format("'Namespace object' has no attribute '{}'", key.as_string()));
  }
  if (key.is_string()) return get_attribute(obj, key.as_string());
  if (key.is_undefined()) return Value::undefined("subscript with an undefined key");
  return Value::undefined(fmt::format("'{}' object has no item {}", obj.type_name(), key.repr()));
}

Result<Value> get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (obj.is_undefined()) return undefined_error(obj);
  for (const Value* v : {&start, &stop, &step}) {
    if (!v->is_none() && !v->is_int() && !v->is_bool()) {
      return type_error(fmt::format("slice indices must be integers or None, not {}", v->type_name()));
    }
  }
  const int64_t st = step.is_none() ? 1 : step.as_int();
  if (st == 0) return type_error("slice step cannot be zero");
  std::vector<std::string_view> cps;
  int64_t n = 0;
  if (obj.is_list()) n = static_cast<int64_t>(obj.as_list().size());
  else if (obj.is_string()) { cps = utf8_code_points(obj.as_string()); n = static_cast<int64_t>(cps.size()); }
  else return type_error(fmt::format("'{}' object is not subscriptable with a slice", obj.type_name()));
  // Python's slice.indices().
  auto clamp = [&](const Value& v, int64_t def) -> int64_t {
    if (v.is_none()) return def;
    int64_t k = v.as_int();
    if (k < 0) k += n;
    if (st > 0) return std::clamp<int64_t>(k, 0, n);
    return std::clamp<int64_t>(k, -1, n - 1);
  };
  const int64_t lo = clamp(start, st > 0 ? 0 : n - 1);
  const int64_t hi = clamp(stop, st > 0 ? n : -1);
  std::vector<int64_t> idx;
  for (int64_t k = lo; st > 0 ? k < hi : k > hi; k += st) idx.push_back(k);
  if (obj.is_list()) {
    std::vector<Value> out;
    for (int64_t k : idx) out.push_back(obj.as_list()[static_cast<size_t>(k)]);
    return Value::list(std::move(out));
  }
  std::string out;
  for (int64_t k : idx) out += cps[static_cast<size_t>(k)];
  return Value::string(std::move(out));
}

Result<std::vector<Value>> iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return std::vector<Value>{};
    case Value::Kind::kList: return v.as_list();
    case Value::Kind::kDict: {
      std::vector<Value> keys;
      for (const auto& [k, e] : v.as_dict().items) keys.push_back(Value::string(k));
      return keys;
    }
    case Value::Kind::kString: {
      std::vector<Value> chars;
      for (auto cp : utf8_code_points(v.as_string())) chars.push_back(Value::string(std::string(cp)));
      return chars;
    }
    default: return type_error(fmt::format("'{}' object is not iterable", v.type_name()));
  }
}

namespace {

Result<Value> numeric_op(const std::string& op, const Value& a, const Value& b) {
  const bool ints = !a.is_float() && !b.is_float();
  if (ints) {
    const int64_t x = a.as_int(), y = b.as_int();
    int64_t r = 0;
    if (op == "+") { if (__builtin_add_overflow(x, y, &r)) return Error(ErrorCode::kOutOfRange, "integer overflow"); return Value::integer(r); }
    if (op == "-") { if (__builtin_sub_overflow(x, y, &r)) return Error(ErrorCode::kOutOfRange, "integer overflow"); return Value::integer(r); }
    if (op == "*") { if (__builtin_mul_overflow(x, y, &r)) return Error(ErrorCode::kOutOfRange, "integer overflow"); return Value::integer(r); }
    if (op == "/") {
      if (y == 0) return type_error("division by zero");
      return Value::number(static_cast<double>(x) / static_cast<double>(y));
    }
    if (op == "//" || op == "%") {
      if (y == 0) return type_error("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) return Error(ErrorCode::kOutOfRange, "integer overflow");
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) { --q; m += y; }
      return Value::integer(op == "//" ? q : m);
    }
    if (op == "**") {
      if (y < 0) return Value::number(std::pow(static_cast<double>(x), static_cast<double>(y)));
      int64_t acc = 1;
      for (int64_t k = 0; k < y; ++k) {
        if (__builtin_mul_overflow(acc, x, &acc)) return Error(ErrorCode::kOutOfRange, "integer overflow in **");
        if (acc == 0 || acc == 1) break;
      }
      return Value::integer(acc);
    }
  }
  const double x = a.as_double(), y = b.as_double();
  if (op == "+") return Value::number(x + y);
  if (op == "-") return Value::number(x - y);
  if (op == "*") return Value::number(x * y);
  if (op == "/") {
    if (y == 0) return type_error("float division by zero");
    return Value::number(x / y);
  }
  if (op == "//" || op == "%") {
    if (y == 0) return type_error("float modulo by zero");
    double m = std::fmod(x, y);
    if (m != 0 && ((m < 0) != (y < 0))) m += y;
    if (op == "%") return Value::number(m);
    return Value::number(std::floor(x / y));
  }
  if (op == "**") return Value::number(std::pow(x, y));
  return type_error("unknown operator " + op);
}

}  // namespace

Result<Value> binary_op(Evaluator& ev, const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string out = a.str() + b.str();
    QUORUM_TRY(ev.check_size(out.size()));
    return Value::string(std::move(out));
  }
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  if (a.is_number() && b.is_number()) return numeric_op(op, a, b);
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      QUORUM_TRY(ev.check_size(a.as_string().size() + b.as_string().size()));
      if (a.is_markup() || b.is_markup()) {  // Markup.__add__/__radd__ escape the plain side
        return Value::markup((a.is_markup() ? a.as_string() : html_escape(a.as_string())) +
                             (b.is_markup() ? b.as_string() : html_escape(b.as_string())));
      }
      return Value::string(a.as_string() + b.as_string());
    }
    if (a.is_list() && b.is_list()) {
      std::vector<Value> out = a.as_list();
      out.insert(out.end(), b.as_list().begin(), b.as_list().end());
      QUORUM_TRY(ev.charge(static_cast<int64_t>(out.size())));
      return Value::list(std::move(out));
    }
  }
  if (op == "*") {
    const Value* seq = (a.is_string() || a.is_list()) ? &a : (b.is_string() || b.is_list()) ? &b : nullptr;
    const Value* count = seq == &a ? &b : &a;
    if (seq && (count->is_int() || count->is_bool())) {
      const int64_t n = std::max<int64_t>(0, count->as_int());
      if (seq->is_string()) {
        QUORUM_TRY(ev.check_size(seq->as_string().size() * static_cast<size_t>(std::min<int64_t>(n, INT32_MAX))));
        std::string out;
        for (int64_t k = 0; k < n; ++k) out += seq->as_string();
        return Value::string(std::move(out));
      }
      QUORUM_TRY(ev.charge(n * static_cast<int64_t>(seq->as_list().size())));
      std::vector<Value> out;
      for (int64_t k = 0; k < n; ++k) out.insert(out.end(), seq->as_list().begin(), seq->as_list().end());
      return Value::list(std::move(out));
    }
  }
  if (op == "%" && a.is_string()) {
    return Error(ErrorCode::kUnsupported, "printf-style string formatting ('...' % x) is not supported")
        .hint("use ~ or the format() method");
  }
  return type_error(fmt::format("unsupported operand type(s) for {}: '{}' and '{}'", op, a.type_name(), b.type_name()));
}

namespace {

// Python's < for the types that have an order. Returns -1/0/1.
Result<int> order(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (!a.is_float() && !b.is_float()) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
    return a.as_double() < b.as_double() ? -1 : a.as_double() > b.as_double() ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_list() && b.is_list()) {
    const auto& x = a.as_list();
    const auto& y = b.as_list();
    for (size_t k = 0; k < x.size() && k < y.size(); ++k) {
      if (values_equal(x[k], y[k])) continue;
      return order(x[k], y[k]);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  return type_error(fmt::format("'<' not supported between instances of '{}' and '{}'", a.type_name(), b.type_name()));
}

Result<bool> contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kString:
      if (!item.is_string()) {
        return type_error(fmt::format("'in <string>' requires string as left operand, not {}", item.type_name()));
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::kList:
      for (const auto& e : container.as_list()) {
        if (values_equal(e, item)) return true;
      }
      return false;
    case Value::Kind::kDict:
    case Value::Kind::kNamespace:
      return item.is_string() && container.as_dict().find(item.as_string()) != nullptr;
    case Value::Kind::kUndefined: return false;
    default: return type_error(fmt::format("argument of type '{}' is not iterable", container.type_name()));
  }
}

}  // namespace

Result<int> compare_values(const Value& a, const Value& b) { return order(a, b); }

Result<bool> compare_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return values_equal(a, b);
  if (op == "!=") return !values_equal(a, b);
  if (op == "in") return contains(b, a);
  if (op == "notin") {
    QUORUM_ASSIGN_OR_RETURN(bool c, contains(b, a));
    return !c;
  }
  QUORUM_ASSIGN_OR_RETURN(int c, order(a, b));
  if (op == "<") return c < 0;
  if (op == "<=") return c <= 0;
  if (op == ">") return c > 0;
  if (op == ">=") return c >= 0;
  return type_error("unknown comparison " + op);
}

Value global_function(const std::string& name) {
  if (name == "range") {
    return Value::callable(name, [](CallArgs& a, Evaluator& ev) -> Result<Value> {
      int64_t start = 0, stop = 0, step = 1;
      for (const auto& v : a.positional) {
        if (!v.is_int() && !v.is_bool()) return type_error(fmt::format("range() arguments must be integers, not {}", v.type_name()));
      }
      if (a.positional.size() == 1) stop = a.positional[0].as_int();
      else if (a.positional.size() >= 2) { start = a.positional[0].as_int(); stop = a.positional[1].as_int(); }
      else return type_error("range expected at least 1 argument, got 0");
      if (a.positional.size() >= 3) step = a.positional[2].as_int();
      if (step == 0) return type_error("range() arg 3 must not be zero");
      const double count = std::ceil((static_cast<double>(stop) - static_cast<double>(start)) / static_cast<double>(step));
      if (count > 0) QUORUM_TRY(ev.charge(static_cast<int64_t>(std::min(count, 9e18))));
      std::vector<Value> out;
      for (int64_t k = start; step > 0 ? k < stop : k > stop; k += step) out.push_back(Value::integer(k));
      return Value::list(std::move(out));
    });
  }
  if (name == "namespace" || name == "dict") {
    return Value::callable(name, [name](CallArgs& a, Evaluator&) -> Result<Value> {
      Dict d;
      for (const auto& p : a.positional) {  // dict(other) / namespace(other) copies a mapping
        if (!p.is_dict()) return type_error(fmt::format("{}() positional argument must be a dict", name));
        for (const auto& [k, v] : p.as_dict().items) d.set(k, v);
      }
      for (auto& [k, v] : a.keyword) d.set(k, v);
      return name == "dict" ? Value::dict(std::move(d)) : Value::namespace_(std::move(d));
    });
  }
  if (name == "raise_exception") {
    return Value::callable(name, [](CallArgs& a, Evaluator&) -> Result<Value> {
      const std::string msg = a.positional.empty() ? std::string() : a.positional[0].str();
      return Error(ErrorCode::kInvalidArgument, "raise_exception: " + msg)
          .hint("the chat template rejected these messages");
    });
  }
  if (name == "strftime_now") {
    return Value::callable(name, [](CallArgs& a, Evaluator& ev) -> Result<Value> {
      if (a.positional.empty() || !a.positional[0].is_string()) return type_error("strftime_now(format) needs a format string");
      const std::time_t t = ev.env().now ? *ev.env().now : std::time(nullptr);
      std::tm tm{};
      if (ev.env().now) gmtime_r(&t, &tm);  // a fixed clock is a UTC wall time
      else localtime_r(&t, &tm);
      char buf[512];
      const size_t n = std::strftime(buf, sizeof(buf), a.positional[0].as_string().c_str(), &tm);
      return Value::string(std::string(buf, n));
    });
  }
  return Value();
}

}  // namespace quorum::jinja
