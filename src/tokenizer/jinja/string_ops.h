// Python str methods on UTF-8 text: strip, split, title, format, ... Case mapping is ASCII only
// (non-ASCII letters keep their case); everything else works on code points.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "tokenizer/jinja/value.h"

namespace quorum::jinja {

std::string strip_whitespace(const std::string& s, bool left, bool right);
std::string strip_chars(const std::string& s, const std::string& chars, bool left, bool right);
// str.split(sep, maxsplit) / rsplit; maxsplit < 0 = no limit.
std::vector<std::string> split_by(const std::string& s, const std::string& sep, int64_t maxsplit, bool from_right);
// str.split() / rsplit() with no separator: runs of whitespace, no empty parts.
std::vector<std::string> split_whitespace(const std::string& s, int64_t maxsplit, bool from_right);
std::vector<std::string> split_lines(const std::string& s);
std::string ascii_upper(std::string s);
std::string ascii_lower(std::string s);
std::string python_title(const std::string& s);       // str.title()
std::string python_capitalize(const std::string& s);  // str.capitalize()
std::string jinja_title(const std::string& s);        // the `title` filter (word starts after space/-/brackets)
std::string replace_all(const std::string& s, const std::string& old_s, const std::string& new_s, int64_t count);
int64_t count_occurrences(const std::string& s, const std::string& sub);
bool string_predicate(const std::string& s, const std::string& name);  // isdigit, isalpha, ...
// str.format(*args, **kwargs) with {} / {0} / {name} fields (no format specs beyond none).
Result<Value> python_format(const std::string& fmt, const CallArgs& args);

}  // namespace quorum::jinja
