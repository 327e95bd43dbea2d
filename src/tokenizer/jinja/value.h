// Values of the Jinja subset used by chat templates, with Python semantics.
//
// Chat templates are written for Python's Jinja2, so a value behaves like the Python object it
// stands for: `str()` of a list is `['a', 1]`, `1.0` prints as "1.0", an empty list is false,
// dicts keep insertion order. Lists, dicts and namespaces are shared by reference (as in Python),
// so `{% set ns.x = 1 %}` changes the namespace every alias sees. Undefined is Jinja2's default
// Undefined: it prints as "", iterates as empty, is false, and fails on attribute access or
// arithmetic.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace quorum::jinja {

// Template data is ordered JSON: Python dicts keep insertion order, and so must we, or `tojson`
// and `items()` would print keys in a different order than Jinja2 does.
using Json = nlohmann::ordered_json;

class Value;
class Evaluator;

// Arguments of a call: positional, then keyword (in call order).
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// A function value: a global (range, namespace, raise_exception), a macro, or a bound method
// (`d.items`). `fn` gets the evaluator so macros can render and errors can name a position.
struct Callable {
  std::string name;
  std::function<Result<Value>(CallArgs&, Evaluator&)> fn;
};

// Insertion-ordered string-keyed map (the only dict keys templates use).
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  void set(const std::string& key, Value v);
};

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace, kCallable };

  Value() = default;  // undefined
  static Value undefined(std::string name = "") { Value v; v.s_ = std::move(name); return v; }
  static Value none() { Value v; v.kind_ = Kind::kNone; return v; }
  static Value boolean(bool b) { Value v; v.kind_ = Kind::kBool; v.i_ = b; return v; }
  static Value integer(int64_t i) { Value v; v.kind_ = Kind::kInt; v.i_ = i; return v; }
  static Value number(double f) { Value v; v.kind_ = Kind::kFloat; v.f_ = f; return v; }
  static Value string(std::string s) { Value v; v.kind_ = Kind::kString; v.s_ = std::move(s); return v; }
  // markupsafe.Markup (from |safe, |escape): `markup + str` HTML-escapes the str, as in Jinja2.
  static Value markup(std::string s) { Value v = string(std::move(s)); v.flavor_ = 3; return v; }
  static Value list(std::vector<Value> items = {});
  // What Jinja2's map/select/reject/selectattr/rejectattr/unique/items filters return: a Python
  // generator. It iterates like a list, but len(), tojson and indexing reject it and it is
  // always true, as in Jinja2 (`|list` turns it into a list).
  static Value generator(std::vector<Value> items);
  // A Python tuple: a list that prints as (a, b) (from `(a, b)` literals and `items()`).
  static Value tuple(std::vector<Value> items);
  static Value dict(Dict d = {});
  static Value namespace_(Dict d = {});
  static Value callable(std::string name, std::function<Result<Value>(CallArgs&, Evaluator&)> fn);
  static Value from_json(const Json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_markup() const { return kind_ == Kind::kString && flavor_ == 3; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_generator() const { return kind_ == Kind::kList && flavor_ == 2; }
  bool is_tuple() const { return kind_ == Kind::kList && flavor_ == 1; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_namespace() const { return kind_ == Kind::kNamespace; }
  bool is_callable() const { return kind_ == Kind::kCallable; }

  bool as_bool() const { return i_ != 0; }
  int64_t as_int() const { return kind_ == Kind::kFloat ? static_cast<int64_t>(f_) : i_; }
  double as_double() const { return kind_ == Kind::kFloat ? f_ : static_cast<double>(i_); }
  const std::string& as_string() const { return s_; }
  // The name an undefined value was looked up under ("" if unknown).
  const std::string& undefined_name() const { return s_; }
  const std::vector<Value>& as_list() const { return *list_; }
  std::vector<Value>& as_list() { return *list_; }
  const Dict& as_dict() const { return *dict_; }
  Dict& as_dict() { return *dict_; }
  const Callable& as_callable() const { return *fn_; }

  // Python truthiness.
  bool truthy() const;
  // Python str(): what `{{ x }}` prints.
  std::string str() const;
  // Python repr(): how items print inside str() of a list or dict.
  std::string repr() const;
  // Python type name for error messages ("str", "list", "undefined", ...).
  const char* type_name() const;
  // Plain data back to JSON; an error for undefined, callables and namespaces.
  Result<Json> to_json() const;

 private:
  Kind kind_ = Kind::kUndefined;
  uint8_t flavor_ = 0;  // lists: 0 list, 1 tuple, 2 generator; strings: 0 str, 3 Markup
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<std::vector<Value>> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<const Callable> fn_;
};

// Python ==: numbers compare by value (1 == 1.0 == true), lists and dicts deeply, undefined
// equals only undefined.
bool values_equal(const Value& a, const Value& b);

// Python repr of a float: shortest round-trip digits, "1.0", "1e-05", "1e+16", "inf", "nan".
std::string python_float_repr(double f);
// Python repr of a str: single quotes unless the text holds ' and no ".
std::string python_string_repr(std::string_view s);

// Python json.dumps(x, ensure_ascii, indent, separators, sort_keys) as HF transformers' `tojson`
// filter calls it. indent < 0 means None (one line). Empty separators mean the defaults
// (", ", ": ") or (",", ": ") with an indent.
struct JsonDumpOptions {
  int indent = -1;
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::string item_separator;
  std::string key_separator;
};
Result<std::string> python_json_dumps(const Value& v, const JsonDumpOptions& options);

// markupsafe.escape of plain text: & < > " ' become entities.
std::string html_escape(std::string_view s);

// UTF-8 helpers: Python indexes strings by code point.
std::vector<std::string_view> utf8_code_points(std::string_view s);
size_t utf8_length(std::string_view s);

}  // namespace quorum::jinja
