// Jinja builtins, part 2: filters (`x|trim`) and tests (`x is defined`), as Jinja2 3.1 defines
// them, with Hugging Face's `tojson` (json.dumps, ensure_ascii=False, optional indent).
#include <algorithm>
#include <cfenv>
#include <cmath>

#include <fmt/format.h>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/evaluator.h"
#include "tokenizer/jinja/string_ops.h"

namespace quorum::jinja {
namespace {

Status type_error(const std::string& what) { return Error(ErrorCode::kInvalidArgument, what); }

// Argument `k` by position or by keyword `name`; nullptr when absent.
const Value* arg(const CallArgs& a, size_t k, const char* name) {
  if (k < a.positional.size()) return &a.positional[k];
  for (const auto& [key, v] : a.keyword) {
    if (key == name) return &v;
  }
  return nullptr;
}

bool flag(const CallArgs& a, size_t k, const char* name, bool def) {
  const Value* v = arg(a, k, name);
  return v ? v->truthy() : def;
}

// Jinja's attribute getter for filters: "a.b.0" walks items (subscript first, then attribute).
Result<Value> attr_path(const Value& item, const std::string& path) {
  Value cur = item;
  size_t pos = 0;
  while (pos <= path.size()) {
    const size_t dot = path.find('.', pos);
    const std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    Value key = Value::string(part);
    if (!part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      key = Value::integer(std::stoll(part));
    }
    QUORUM_ASSIGN_OR_RETURN(cur, get_item(cur, key));
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return cur;
}

// Text filters coerce with str(), as Jinja2's soft_str does (undefined becomes "").
Result<std::string> require_string(const Value& v) {
  return v.str();
}

Result<int64_t> length_of(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return int64_t{0};
    case Value::Kind::kString: return static_cast<int64_t>(utf8_length(v.as_string()));
    case Value::Kind::kList:
      if (v.is_generator()) return type_error("object of type 'generator' has no len(); add |list first");
      return static_cast<int64_t>(v.as_list().size());
    case Value::Kind::kDict:
    case Value::Kind::kNamespace: return static_cast<int64_t>(v.as_dict().items.size());
    default: return type_error(fmt::format("object of type '{}' has no len()", v.type_name()));
  }
}

// select/reject/selectattr/rejectattr: keep items whose test (or truthiness) equals `keep`.
Result<Value> select_items(Evaluator& ev, const Value& input, CallArgs& args, bool by_attr, bool keep) {
  if (!input.truthy()) return Value::generator({});  // Jinja2: `if seq:` first, so none|selectattr is empty
  QUORUM_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(input));
  size_t next = 0;
  std::string attribute;
  if (by_attr) {
    if (args.positional.empty() || !args.positional[0].is_string()) {
      return type_error("selectattr/rejectattr need an attribute name");
    }
    attribute = args.positional[0].as_string();
    next = 1;
  }
  std::string test;
  if (next < args.positional.size()) {
    if (!args.positional[next].is_string()) return type_error("select: the test name must be a string");
    test = args.positional[next].as_string();
    ++next;
  }
  CallArgs test_args;
  test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(std::min(next, args.positional.size())), args.positional.end());
  std::vector<Value> out;
  for (const auto& item : items) {
    QUORUM_TRY(ev.charge());
    Value v = item;
    if (by_attr) {
      QUORUM_ASSIGN_OR_RETURN(v, attr_path(item, attribute));
    }
    bool ok = false;
    if (test.empty()) {
      ok = v.truthy();
    } else {
      QUORUM_ASSIGN_OR_RETURN(ok, apply_test(ev, test, v, test_args));
    }
    if (ok == keep) out.push_back(item);
  }
  return Value::generator(std::move(out));
}

Result<Value> map_items(Evaluator& ev, const Value& input, CallArgs& args) {
  if (!input.truthy()) return Value::generator({});  // Jinja2: `if seq:` first
  QUORUM_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(input));
  std::vector<Value> out;
  const Value* attribute = arg(args, 99, "attribute");
  if (attribute) {
    if (!attribute->is_string()) return type_error("map(attribute=) needs a string");
    const Value* def = arg(args, 99, "default");
    for (const auto& item : items) {
      QUORUM_TRY(ev.charge());
      QUORUM_ASSIGN_OR_RETURN(Value v, attr_path(item, attribute->as_string()));
      if (v.is_undefined() && def) v = *def;
      out.push_back(std::move(v));
    }
    return Value::generator(std::move(out));
  }
  if (args.positional.empty() || !args.positional[0].is_string()) {
    return type_error("map() needs a filter name or attribute=");
  }
  const std::string filter = args.positional[0].as_string();
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keyword = args.keyword;
  for (const auto& item : items) {
    QUORUM_TRY(ev.charge());
    CallArgs a = rest;
    QUORUM_ASSIGN_OR_RETURN(Value v, apply_filter(ev, filter, item, a));
    out.push_back(std::move(v));
  }
  return Value::generator(std::move(out));
}

// Sort key for the sort/unique/dictsort filters: strings lowercased unless case sensitive.
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::string(ascii_lower(v.as_string()));
  return v;
}

Result<Value> sort_items(const Value& input, const CallArgs& args) {
  QUORUM_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(input));
  const bool reverse = flag(args, 0, "reverse", false);
  const bool case_sensitive = flag(args, 1, "case_sensitive", false);
  const Value* attribute = arg(args, 2, "attribute");
  std::vector<std::pair<Value, Value>> keyed;
  for (const auto& item : items) {
    Value k = item;
    if (attribute && attribute->is_string()) {
      QUORUM_ASSIGN_OR_RETURN(k, attr_path(item, attribute->as_string()));
    }
    keyed.emplace_back(sort_key(k, case_sensitive), item);
  }
  Status err;
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    auto c = compare_values(a.first, b.first);
    if (!c) { err = c.status(); return false; }
    return reverse ? *c > 0 : *c < 0;
  });
  QUORUM_TRY(err);
  std::vector<Value> out;
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return Value::list(std::move(out));
}

// Python round() on a float: half to even at `digits` decimals.
double round_half_even(double x, int64_t digits) {
  const double scale = std::pow(10.0, static_cast<double>(digits));
  const int saved = std::fegetround();
  std::fesetround(FE_TONEAREST);
  const double r = std::nearbyint(x * scale) / scale;
  std::fesetround(saved);
  return r;
}

std::string indent_text(const std::string& s, const std::string& pad, bool first, bool blank) {
  std::vector<std::string> lines = split_lines(s + "\n");
  std::string rv;
  if (blank) {
    for (size_t k = 0; k < lines.size(); ++k) {
      if (k) rv += "\n" + pad;
      rv += lines[k];
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t k = 1; k < lines.size(); ++k) rv += "\n" + (lines[k].empty() ? "" : pad + lines[k]);
  }
  return first ? pad + rv : rv;
}

}  // namespace

Result<Value> apply_filter(Evaluator& ev, const std::string& name, const Value& v, CallArgs& a) {
  if (name == "safe" || name == "e" || name == "escape" || name == "forceescape") {
    if (name == "safe") return Value::markup(v.str());
    if (v.is_markup() && name != "forceescape") return v;
    return Value::markup(html_escape(v.str()));
  }
  if (name == "default" || name == "d") {
    const Value* def = arg(a, 0, "default_value");
    const bool boolean = flag(a, 1, "boolean", false);
    if (v.is_undefined() || (boolean && !v.truthy())) return def ? *def : Value::string("");
    return v;
  }
  if (name == "length" || name == "count") {
    QUORUM_ASSIGN_OR_RETURN(int64_t n, length_of(v));
    return Value::integer(n);
  }
  if (name == "tojson") {
    JsonDumpOptions o;
    if (const Value* x = arg(a, 0, "ensure_ascii")) o.ensure_ascii = x->truthy();
    if (const Value* x = arg(a, 1, "indent"); x && !x->is_none()) {
      if (!x->is_int()) return type_error("tojson(indent=) must be an integer");
      o.indent = static_cast<int>(std::clamp<int64_t>(x->as_int(), 0, 64));
    }
    if (const Value* x = arg(a, 2, "separators"); x && !x->is_none()) {
      if (!x->is_list() || x->as_list().size() != 2 || !x->as_list()[0].is_string() || !x->as_list()[1].is_string()) {
        return type_error("tojson(separators=) must be a pair of strings");
      }
      o.item_separator = x->as_list()[0].as_string();
      o.key_separator = x->as_list()[1].as_string();
      if (o.item_separator.empty()) o.item_separator = std::string();  // "" is legal in Python
    }
    o.sort_keys = flag(a, 3, "sort_keys", false);
    if (v.is_undefined()) return type_error("tojson: object of type Undefined is not JSON serializable");
    QUORUM_ASSIGN_OR_RETURN(std::string s, python_json_dumps(v, o));
    QUORUM_TRY(ev.check_size(s.size()));
    return Value::string(std::move(s));
  }
  if (name == "trim") {
    QUORUM_ASSIGN_OR_RETURN(std::string s, require_string(v));
    const Value* chars = arg(a, 0, "chars");
    if (chars && chars->is_string()) return Value::string(strip_chars(s, chars->as_string(), true, true));
    return Value::string(strip_whitespace(s, true, true));
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize") {
    QUORUM_ASSIGN_OR_RETURN(std::string s, require_string(v));
    if (name == "upper") return Value::string(ascii_upper(s));
    if (name == "lower") return Value::string(ascii_lower(s));
    if (name == "title") return Value::string(jinja_title(s));
    return Value::string(python_capitalize(s));
  }
  if (name == "string") return Value::string(v.str());
  if (name == "items") {
    if (v.is_undefined()) return Value::generator({});
    if (!v.is_dict() && !v.is_namespace()) return type_error(fmt::format("items filter expects a mapping, got {}", v.type_name()));
    std::vector<Value> out;
    for (const auto& [k, x] : v.as_dict().items) out.push_back(Value::tuple({Value::string(k), x}));
    return Value::generator(std::move(out));
  }
  if (name == "list") {
    QUORUM_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(v));
    return Value::list(std::move(items));
  }
  if (name == "first" || name == "last") {
    QUORUM_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(v));
    if (items.empty()) return Value::undefined(fmt::format("{}: the sequence is empty", name));
    return name == "first" ? items.front() : items.back();
  }
  if (name == "reverse") {
    if (v.is_string()) {
      auto cps = utf8_code_points(v.as_string());
      std::string out;
      for (auto it = cps.rbegin(); it != cps.rend(); ++it) out += *it;
      return Value::string(std::move(out));
    }
    QUORUM_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(v));
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (name == "join") {
    QUORUM_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(v));
    const Value* sep = arg(a, 0, "d");
    const Value* attribute = arg(a, 1, "attribute");
    std::string out;
    for (size_t k = 0; k < items.size(); ++k) {
      if (k && sep) out += sep->str();
      Value item = items[k];
      if (attribute && attribute->is_string()) {
        QUORUM_ASSIGN_OR_RETURN(item, attr_path(item, attribute->as_string()));
      }
      out += item.str();
      QUORUM_TRY(ev.check_size(out.size()));
    }
    return Value::string(std::move(out));
  }
  if (name == "replace") {
    QUORUM_ASSIGN_OR_RETURN(std::string s, require_string(v));
    const Value* old_s = arg(a, 0, "old");
    const Value* new_s = arg(a, 1, "new");
    const Value* count = arg(a, 2, "count");
    if (!old_s || !new_s) return type_error("replace filter needs (old, new)");
    std::string out = replace_all(s, old_s->str(), new_s->str(), count && count->is_number() ? count->as_int() : -1);
    QUORUM_TRY(ev.check_size(out.size()));
    return Value::string(std::move(out));
  }
  if (name == "indent") {
    QUORUM_ASSIGN_OR_RETURN(std::string s, require_string(v));
    const Value* width = arg(a, 0, "width");
    std::string pad = "    ";
    if (width && width->is_string()) pad = width->as_string();
    else if (width && width->is_number()) pad = std::string(static_cast<size_t>(std::clamp<int64_t>(width->as_int(), 0, 1024)), ' ');
    std::string out = indent_text(s, pad, flag(a, 1, "first", false), flag(a, 2, "blank", false));
    QUORUM_TRY(ev.check_size(out.size()));
    return Value::string(std::move(out));
  }
  if (name == "int") {
    const Value* def = arg(a, 0, "default");
    const Value fallback = def ? *def : Value::integer(0);
    if (v.is_number()) return Value::integer(v.as_int());
    if (v.is_string()) {
      const std::string s = strip_whitespace(v.as_string(), true, true);
      char* end = nullptr;
      const long long i = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && end && *end == '\0') return Value::integer(i);
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == '\0' && std::isfinite(d)) return Value::integer(static_cast<int64_t>(d));
    }
    return fallback;
  }
  if (name == "float") {
    const Value* def = arg(a, 0, "default");
    const Value fallback = def ? *def : Value::number(0.0);
    if (v.is_number()) return Value::number(v.as_double());
    if (v.is_string()) {
      const std::string s = strip_whitespace(v.as_string(), true, true);
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == '\0') return Value::number(d);
    }
    return fallback;
  }
  if (name == "abs") {
    if (!v.is_number()) return type_error(fmt::format("bad operand type for abs(): '{}'", v.type_name()));
    if (v.is_float()) return Value::number(std::fabs(v.as_double()));
    if (v.as_int() == INT64_MIN) return Error(ErrorCode::kOutOfRange, "integer overflow in abs");
    return Value::integer(std::llabs(v.as_int()));
  }
  if (name == "round") {
    if (!v.is_number()) return type_error(fmt::format("round filter expects a number, got {}", v.type_name()));
    const Value* precision = arg(a, 0, "precision");
    const Value* method = arg(a, 1, "method");
    const int64_t digits = precision && precision->is_number() ? precision->as_int() : 0;
    const std::string m = method && method->is_string() ? method->as_string() : "common";
    const double scale = std::pow(10.0, static_cast<double>(digits));
    if (m == "ceil") return Value::number(std::ceil(v.as_double() * scale) / scale);
    if (m == "floor") return Value::number(std::floor(v.as_double() * scale) / scale);
    if (m != "common") return type_error("round: method must be 'common', 'ceil' or 'floor'");
    if (!v.is_float()) return Value::integer(v.as_int());
    return Value::number(round_half_even(v.as_double(), digits));
  }
  if (name == "selectattr" || name == "rejectattr") return select_items(ev, v, a, true, name == "selectattr");
  if (name == "select" || name == "reject") return select_items(ev, v, a, false, name == "select");
  if (name == "map") return map_items(ev, v, a);
  if (name == "unique") {
    QUORUM_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(v));
    const bool case_sensitive = flag(a, 0, "case_sensitive", false);
    const Value* attribute = arg(a, 1, "attribute");
    std::vector<Value> seen, out;
    for (const auto& item : items) {
      Value k = item;
      if (attribute && attribute->is_string()) {
        QUORUM_ASSIGN_OR_RETURN(k, attr_path(item, attribute->as_string()));
      }
      k = sort_key(k, case_sensitive);
      bool dup = false;
      for (const auto& s : seen) dup = dup || values_equal(s, k);
      if (!dup) { seen.push_back(k); out.push_back(item); }
    }
    return Value::generator(std::move(out));
  }
  if (name == "sort") return sort_items(v, a);
  if (name == "dictsort") {
    if (!v.is_dict()) return type_error("dictsort expects a mapping");
    CallArgs sa;
    sa.keyword.emplace_back("case_sensitive", Value::boolean(flag(a, 0, "case_sensitive", false)));
    sa.keyword.emplace_back("reverse", Value::boolean(flag(a, 2, "reverse", false)));
    CallArgs none;
    QUORUM_ASSIGN_OR_RETURN(Value pairs, apply_filter(ev, "items", v, none));
    const Value* by = arg(a, 1, "by");
    sa.keyword.emplace_back("attribute", Value::string(by && by->is_string() && by->as_string() == "value" ? "1" : "0"));
    return sort_items(pairs, sa);
  }
  if (name == "sum") {
    QUORUM_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(v));
    const Value* attribute = arg(a, 0, "attribute");
    const Value* start = arg(a, 1, "start");
    Value acc = start ? *start : Value::integer(0);
    for (const auto& item : items) {
      Value x = item;
      if (attribute && attribute->is_string()) {
        QUORUM_ASSIGN_OR_RETURN(x, attr_path(item, attribute->as_string()));
      }
      QUORUM_ASSIGN_OR_RETURN(acc, binary_op(ev, "+", acc, x));
    }
    return acc;
  }
  if (name == "min" || name == "max") {
    QUORUM_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(v));
    if (items.empty()) return Value::undefined(fmt::format("{}: the sequence is empty", name));
    const bool case_sensitive = flag(a, 0, "case_sensitive", false);
    Value best = items[0];
    for (size_t k = 1; k < items.size(); ++k) {
      QUORUM_ASSIGN_OR_RETURN(int c, compare_values(sort_key(items[k], case_sensitive), sort_key(best, case_sensitive)));
      if (name == "min" ? c < 0 : c > 0) best = items[k];
    }
    return best;
  }
  if (name == "wordcount") {
    return Value::integer(static_cast<int64_t>(split_whitespace(v.str(), -1, false).size()));
  }
  if (name == "center") {
    const std::string s = v.str();
    const Value* width = arg(a, 0, "width");
    const int64_t w = std::clamp<int64_t>(width && width->is_number() ? width->as_int() : 80, 0, 1 << 20);
    const int64_t len = static_cast<int64_t>(utf8_length(s));
    if (w <= len) return Value::string(s);
    const int64_t total = w - len;
    const int64_t left = total / 2 + (total & w & 1);  // Python's str.center placement
    return Value::string(std::string(static_cast<size_t>(left), ' ') + s + std::string(static_cast<size_t>(total - left), ' '));
  }
  return Error(ErrorCode::kUnsupported, fmt::format("unknown filter '{}'", name))
      .hint("supported: abs, capitalize, center, count, d/default, dictsort, e/escape, first, float, indent, int, "
            "items, join, last, length, list, lower, map, max, min, reject, rejectattr, replace, reverse, round, "
            "safe, select, selectattr, sort, string, sum, title, tojson, trim, unique, upper, wordcount");
}

Result<bool> apply_test(Evaluator& ev, const std::string& name, const Value& v, CallArgs& a) {
  (void)ev;
  const Value* other = arg(a, 0, "value");
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
  // Jinja2's Undefined has __len__ and __getitem__, so it counts as a sequence.
  if (name == "sequence") return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
  if (name == "callable") return v.is_callable();
  if (name == "escaped") return false;
  if (name == "lower" || name == "upper") {
    if (!v.is_string()) return false;
    return string_predicate(v.as_string(), name == "lower" ? "islower" : "isupper");
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (!v.is_number() || v.is_float()) return type_error(fmt::format("test '{}' needs an integer", name));
    if (name == "divisibleby") {
      if (!other || !other->is_number() || other->as_int() == 0) return type_error("divisibleby needs a non-zero integer");
      return v.as_int() % other->as_int() == 0;
    }
    return (v.as_int() % 2 != 0) == (name == "odd");
  }
  static const std::pair<const char*, const char*> kCompare[] = {
      {"eq", "=="}, {"equalto", "=="}, {"==", "=="}, {"ne", "!="}, {"!=", "!="}, {"lt", "<"}, {"lessthan", "<"},
      {"<", "<"}, {"le", "<="}, {"<=", "<="}, {"gt", ">"}, {"greaterthan", ">"}, {">", ">"}, {"ge", ">="},
      {">=", ">="}, {"in", "in"}, {"sameas", "=="}};
  for (const auto& [test, op] : kCompare) {
    if (name != test) continue;
    if (!other) return type_error(fmt::format("test '{}' needs an argument", name));
    if (name == "sameas") {
      if (v.kind() != other->kind()) return false;
      if (v.is_list() || v.is_dict() || v.is_namespace() || v.is_callable()) {
        return values_equal(v, *other) && (v.is_list() ? &v.as_list() == &other->as_list() : true);
      }
      return values_equal(v, *other);
    }
    return compare_op(op, v, *other);
  }
  return Error(ErrorCode::kUnsupported, fmt::format("unknown test '{}'", name))
      .hint("supported: boolean, callable, defined, divisibleby, eq/equalto, even, false, float, ge, gt, in, "
            "integer, iterable, le, lower, lt, mapping, ne, none, number, odd, sameas, sequence, string, true, "
            "undefined, upper");
}

}  // namespace quorum::jinja
