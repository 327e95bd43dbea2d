// Python str methods on UTF-8 text (see string_ops.h).
#include "tokenizer/jinja/string_ops.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <fmt/format.h>

namespace quorum::jinja {
namespace {

// Python's str.isspace() for one code point (given as its UTF-8 bytes).
bool is_py_space(std::string_view cp) {
  if (cp.size() == 1) {
    const unsigned char c = static_cast<unsigned char>(cp[0]);
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  }
  static const char* kWide[] = {"\u0085", "\u00a0", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003",
                                "\u2004", "\u2005", "\u2006", "\u2007", "\u2008", "\u2009", "\u200a",
                                "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"};
  for (const char* w : kWide) {
    if (cp == w) return true;
  }
  return false;
}

template <typename Pred>
std::string strip_if(const std::string& s, bool left, bool right, Pred pred) {
  const auto cps = utf8_code_points(s);
  size_t lo = 0, hi = cps.size();
  if (left) while (lo < hi && pred(cps[lo])) ++lo;
  if (right) while (hi > lo && pred(cps[hi - 1])) --hi;
  if (lo == hi) return "";
  const size_t begin = static_cast<size_t>(cps[lo].data() - s.data());
  const size_t end = static_cast<size_t>(cps[hi - 1].data() - s.data()) + cps[hi - 1].size();
  return s.substr(begin, end - begin);
}

bool is_cased_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_cased_lower(char c) { return c >= 'a' && c <= 'z'; }

}  // namespace

std::string strip_whitespace(const std::string& s, bool left, bool right) {
  return strip_if(s, left, right, is_py_space);
}

std::string strip_chars(const std::string& s, const std::string& chars, bool left, bool right) {
  const auto set = utf8_code_points(chars);
  return strip_if(s, left, right, [&](std::string_view cp) { return std::find(set.begin(), set.end(), cp) != set.end(); });
}

std::vector<std::string> split_by(const std::string& s, const std::string& sep, int64_t maxsplit, bool from_right) {
  std::vector<std::string> out;
  if (!from_right) {
    size_t pos = 0;
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
      const size_t hit = s.find(sep, pos);
      if (hit == std::string::npos) break;
      out.push_back(s.substr(pos, hit - pos));
      pos = hit + sep.size();
    }
    out.push_back(s.substr(pos));
    return out;
  }
  size_t end = s.size();
  while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
    if (end < sep.size()) break;
    const size_t hit = s.rfind(sep, end - sep.size());
    if (hit == std::string::npos) break;
    out.push_back(s.substr(hit + sep.size(), end - hit - sep.size()));
    end = hit;
  }
  out.push_back(s.substr(0, end));
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> split_whitespace(const std::string& s, int64_t maxsplit, bool from_right) {
  const auto cps = utf8_code_points(s);
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  for (auto cp : cps) {
    if (is_py_space(cp)) {
      if (in_word) words.push_back(cur);
      cur.clear();
      in_word = false;
    } else {
      cur += cp;
      in_word = true;
    }
  }
  if (in_word) words.push_back(cur);
  if (maxsplit < 0 || static_cast<int64_t>(words.size()) <= maxsplit + 1) return words;
  // With a limit, the remainder keeps its inner whitespace: rebuild it from the source.
  std::vector<std::string> out;
  if (!from_right) {
    std::string rest = strip_whitespace(s, true, false);
    for (int64_t k = 0; k < maxsplit; ++k) {
      out.push_back(words[static_cast<size_t>(k)]);
      rest = strip_whitespace(rest.substr(words[static_cast<size_t>(k)].size()), true, false);
    }
    out.push_back(rest);
    return out;
  }
  std::string rest = strip_whitespace(s, false, true);
  std::vector<std::string> tail;
  for (int64_t k = 0; k < maxsplit; ++k) {
    const std::string& w = words[words.size() - 1 - static_cast<size_t>(k)];
    tail.push_back(w);
    rest = strip_whitespace(rest.substr(0, rest.size() - w.size()), false, true);
  }
  out.push_back(rest);
  out.insert(out.end(), tail.rbegin(), tail.rend());
  return out;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t k = 0; k < s.size(); ++k) {
    const char c = s[k];
    if (c == '\n' || c == '\r' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e)) {
      out.push_back(cur);
      cur.clear();
      if (c == '\r' && k + 1 < s.size() && s[k + 1] == '\n') ++k;
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string ascii_upper(std::string s) {
  for (char& c : s) {
    if (is_cased_lower(c)) c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::string ascii_lower(std::string s) {
  for (char& c : s) {
    if (is_cased_upper(c)) c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string python_title(const std::string& s) {
  std::string out = s;
  bool prev_cased = false;
  for (char& c : out) {
    const bool cased = is_cased_upper(c) || is_cased_lower(c);
    if (cased) c = prev_cased ? static_cast<char>(std::tolower(c)) : static_cast<char>(std::toupper(c));
    prev_cased = cased;
  }
  return out;
}

std::string python_capitalize(const std::string& s) {
  std::string out = ascii_lower(s);
  if (!out.empty() && is_cased_lower(out[0])) out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

std::string jinja_title(const std::string& s) {
  // Jinja2: split on runs of [-\s({[<], then item[0].upper() + item[1:].lower().
  std::string out;
  bool word_start = true;
  for (char c : s) {
    const bool sep = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || std::isspace(static_cast<unsigned char>(c));
    if (sep) {
      out += c;
      word_start = true;
    } else {
      out += word_start ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                        : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      word_start = false;
    }
  }
  return out;
}

std::string replace_all(const std::string& s, const std::string& old_s, const std::string& new_s, int64_t count) {
  std::string out;
  if (old_s.empty()) {  // Python inserts `new` between every code point
    const auto cps = utf8_code_points(s);
    int64_t done = 0;
    for (size_t k = 0; k <= cps.size(); ++k) {
      if (count < 0 || done < count) { out += new_s; ++done; }
      if (k < cps.size()) out += cps[k];
    }
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t hit = s.find(old_s, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += new_s;
    pos = hit + old_s.size();
    ++done;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

int64_t count_occurrences(const std::string& s, const std::string& sub) {
  if (sub.empty()) return static_cast<int64_t>(utf8_length(s)) + 1;
  int64_t n = 0;
  for (size_t pos = s.find(sub); pos != std::string::npos; pos = s.find(sub, pos + sub.size())) ++n;
  return n;
}

bool string_predicate(const std::string& s, const std::string& name) {
  if (s.empty()) return false;
  if (name == "isspace") {
    for (auto cp : utf8_code_points(s)) {
      if (!is_py_space(cp)) return false;
    }
    return true;
  }
  bool any_cased = false;
  for (unsigned char c : s) {
    if (name == "isdigit" && !std::isdigit(c)) return false;
    if (name == "isalpha" && !std::isalpha(c)) return false;
    if (name == "isalnum" && !std::isalnum(c)) return false;
    if (name == "isupper" && is_cased_lower(static_cast<char>(c))) return false;
    if (name == "islower" && is_cased_upper(static_cast<char>(c))) return false;
    any_cased = any_cased || std::isalpha(c);
  }
  return (name == "isupper" || name == "islower") ? any_cased : true;
}

Result<Value> python_format(const std::string& f, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t k = 0; k < f.size(); ++k) {
    const char c = f[k];
    if (c == '{' && k + 1 < f.size() && f[k + 1] == '{') { out += '{'; ++k; continue; }
    if (c == '}' && k + 1 < f.size() && f[k + 1] == '}') { out += '}'; ++k; continue; }
    if (c != '{') { out += c; continue; }
    const size_t close = f.find('}', k);
    if (close == std::string::npos) return Error(ErrorCode::kInvalidArgument, "format(): single '{' encountered in format string");
    const std::string field = f.substr(k + 1, close - k - 1);
    if (field.find_first_of(":!") != std::string::npos) {
      return Error(ErrorCode::kUnsupported, "format(): format specs and conversions are not supported")
          .actual("{" + field + "}");
    }
    const Value* v = nullptr;
    if (field.empty() || std::all_of(field.begin(), field.end(), [](char d) { return std::isdigit(static_cast<unsigned char>(d)); })) {
      const size_t idx = field.empty() ? auto_index++ : static_cast<size_t>(std::stoul(field));
      if (idx < args.positional.size()) v = &args.positional[idx];
    } else {
      for (const auto& [key, kv] : args.keyword) {
        if (key == field) v = &kv;
      }
    }
    if (!v) return Error(ErrorCode::kInvalidArgument, "format(): no argument for field {" + field + "}");
    out += v->str();
    k = close;
  }
  return Value::string(std::move(out));
}

}  // namespace quorum::jinja
