// Jinja builtins with Python/Jinja2 semantics: filters (`x|trim`), tests (`x is defined`),
// methods of str/dict/list (`s.strip()`, `d.items()`), attribute and item access, operators,
// and the globals (range, namespace, dict, raise_exception, strftime_now).
#pragma once

#include <string>

#include "core/status.h"
#include "tokenizer/jinja/value.h"

namespace quorum::jinja {

Result<Value> apply_filter(Evaluator& ev, const std::string& name, const Value& input, CallArgs& args);
Result<bool> apply_test(Evaluator& ev, const std::string& name, const Value& v, CallArgs& args);

// `obj.name` as Jinja2 resolves it: a method of str/dict/list first, then the dict key; an
// undefined value (never an error) when neither exists. Error only when `obj` is undefined.
Result<Value> get_attribute(const Value& obj, const std::string& name);
// `obj[key]`: list/str index (negative from the end), dict key, then attribute; undefined when
// missing.
Result<Value> get_item(const Value& obj, const Value& key);
// `obj[start:stop:step]` on a list or str.
Result<Value> get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);

// Operators with Python semantics; `op` is one of + - * / // % ** ~.
Result<Value> binary_op(Evaluator& ev, const std::string& op, const Value& a, const Value& b);
// `op` is one of == != < <= > >= in notin.
Result<bool> compare_op(const std::string& op, const Value& a, const Value& b);

// Python's ordering (numbers, strings, lists): -1, 0 or 1; an error for unordered types.
Result<int> compare_values(const Value& a, const Value& b);

// A global function (range, namespace, dict, raise_exception, strftime_now, joiner, cycler),
// or undefined.
Value global_function(const std::string& name);

// Items a for loop visits: list items, dict keys, string characters; undefined is empty.
Result<std::vector<Value>> iterate(const Value& v);

// The error of touching an undefined value ("'x' is undefined").
Status undefined_error(const Value& v);

}  // namespace quorum::jinja
