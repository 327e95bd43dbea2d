// Value construction, Python str()/repr(), equality and json.dumps (see value.h).
#include "tokenizer/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace quorum::jinja {

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : items) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value* Dict::find(std::string_view key) {
  for (auto& [k, v] : items) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Dict::set(const std::string& key, Value v) {
  if (Value* slot = find(key)) {
    *slot = std::move(v);
  } else {
    items.emplace_back(key, std::move(v));
  }
}

Value Value::list(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::kList;
  v.list_ = std::make_shared<std::vector<Value>>(std::move(items));
  return v;
}

Value Value::generator(std::vector<Value> items) {
  Value v = list(std::move(items));
  v.flavor_ = 2;
  return v;
}

Value Value::tuple(std::vector<Value> items) {
  Value v = list(std::move(items));
  v.flavor_ = 1;
  return v;
}

Value Value::dict(Dict d) {
  Value v;
  v.kind_ = Kind::kDict;
  v.dict_ = std::make_shared<Dict>(std::move(d));
  return v;
}

Value Value::namespace_(Dict d) {
  Value v = dict(std::move(d));
  v.kind_ = Kind::kNamespace;
  return v;
}

Value Value::callable(std::string name, std::function<Result<Value>(CallArgs&, Evaluator&)> fn) {
  Value v;
  v.kind_ = Kind::kCallable;
  v.fn_ = std::make_shared<const Callable>(Callable{std::move(name), std::move(fn)});
  return v;
}

Value Value::from_json(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return none();
    case Json::value_t::boolean: return boolean(j.get<bool>());
    case Json::value_t::number_integer: return integer(j.get<int64_t>());
    case Json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return number(static_cast<double>(u));
      return integer(static_cast<int64_t>(u));
    }
    case Json::value_t::number_float: return number(j.get<double>());
    case Json::value_t::string: return string(j.get<std::string>());
    case Json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json(e));
      return list(std::move(items));
    }
    case Json::value_t::object: {
      Dict d;
      d.items.reserve(j.size());
      for (const auto& [k, e] : j.items()) d.items.emplace_back(k, from_json(e));
      return dict(std::move(d));
    }
    default: return none();  // binary / discarded: not produced by JSON parsing
  }
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool:
    case Kind::kInt: return i_ != 0;
    case Kind::kFloat: return f_ != 0.0;
    case Kind::kString: return !s_.empty();
    case Kind::kList: return flavor_ == 2 || !list_->empty();
    case Kind::kDict: return !dict_->items.empty();
    case Kind::kNamespace:
    case Kind::kCallable: return true;
  }
  return false;
}

const char* Value::type_name() const {
  switch (kind_) {
    case Kind::kUndefined: return "undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList: return "list";
    case Kind::kDict: return "dict";
    case Kind::kNamespace: return "Namespace";
    case Kind::kCallable: return "function";
  }
  return "?";
}

std::string python_float_repr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  if (f == 0) return std::signbit(f) ? "-0.0" : "0.0";
  // Shortest round-trip digits in scientific form: "d.ddde±XX".
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  const bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t k = 0; k < e_pos; ++k) {
    if (sci[k] != '.') digits.push_back(sci[k]);
  }
  const int exponent = std::atoi(sci.c_str() + e_pos + 1);
  std::string out;
  if (exponent < -4 || exponent >= 16) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    out += ebuf;
  } else if (exponent < 0) {
    out = "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  } else {
    const size_t int_len = static_cast<size_t>(exponent) + 1;
    if (digits.size() <= int_len) {
      out = digits + std::string(int_len - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, int_len) + "." + digits.substr(int_len);
    }
  }
  return negative ? "-" + out : out;
}

std::string python_string_repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c == quote) {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += quote;
  return out;
}

std::string Value::str() const {
  switch (kind_) {
    case Kind::kUndefined: return "";
    case Kind::kNone: return "None";
    case Kind::kBool: return i_ ? "True" : "False";
    case Kind::kInt: return std::to_string(i_);
    case Kind::kFloat: return python_float_repr(f_);
    case Kind::kString: return s_;
    default: return repr();
  }
}

std::string Value::repr() const {
  switch (kind_) {
    case Kind::kString: return python_string_repr(s_);
    case Kind::kList: {
      const bool tuple = flavor_ == 1;
      std::string out = tuple ? "(" : "[";
      for (size_t k = 0; k < list_->size(); ++k) {
        if (k) out += ", ";
        out += (*list_)[k].repr();
      }
      if (tuple && list_->size() == 1) out += ",";
      return out + (tuple ? ")" : "]");
    }
    case Kind::kDict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, v] : dict_->items) {
        if (!first) out += ", ";
        first = false;
        out += python_string_repr(key) + ": " + v.repr();
      }
      return out + "}";
    }
    case Kind::kNamespace: return "<Namespace>";
    case Kind::kCallable: return "<function " + fn_->name + ">";
    case Kind::kUndefined: return "Undefined";
    default: return str();
  }
}

Result<Json> Value::to_json() const {
  switch (kind_) {
    case Kind::kNone: return Json(nullptr);
    case Kind::kBool: return Json(i_ != 0);
    case Kind::kInt: return Json(i_);
    case Kind::kFloat: return Json(f_);
    case Kind::kString: return Json(s_);
    case Kind::kList: {
      Json arr = Json::array();
      for (const auto& e : *list_) {
        QUORUM_ASSIGN_OR_RETURN(Json j, e.to_json());
        arr.push_back(std::move(j));
      }
      return arr;
    }
    case Kind::kDict: {
      Json obj = Json::object();
      for (const auto& [k, e] : dict_->items) {
        QUORUM_ASSIGN_OR_RETURN(Json j, e.to_json());
        obj[k] = std::move(j);
      }
      return obj;
    }
    default:
      return Error(ErrorCode::kInvalidArgument,
                   std::string("object of type ") + type_name() + " is not JSON serializable");
  }
}

bool values_equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone: return true;
    case Value::Kind::kString: return a.as_string() == b.as_string();
    case Value::Kind::kList: {
      if (a.is_tuple() != b.is_tuple()) return false;  // Python: (1, 2) != [1, 2]
      const auto& x = a.as_list();
      const auto& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t k = 0; k < x.size(); ++k) {
        if (!values_equal(x[k], y[k])) return false;
      }
      return true;
    }
    case Value::Kind::kDict: {
      const auto& x = a.as_dict().items;
      const auto& y = b.as_dict();
      if (x.size() != y.items.size()) return false;
      for (const auto& [k, v] : x) {
        const Value* other = y.find(k);
        if (!other || !values_equal(v, *other)) return false;
      }
      return true;
    }
    case Value::Kind::kNamespace: return &a.as_dict() == &b.as_dict();
    case Value::Kind::kCallable: return &a.as_callable() == &b.as_callable();
    default: return false;
  }
}

namespace {

// Decodes one UTF-8 sequence at s[k]; returns its length (1 for invalid bytes).
size_t utf8_seq_len(std::string_view s, size_t k) {
  const unsigned char c = static_cast<unsigned char>(s[k]);
  size_t n = 1;
  if (c >= 0xF0) n = 4;
  else if (c >= 0xE0) n = 3;
  else if (c >= 0xC0) n = 2;
  if (k + n > s.size()) return 1;
  for (size_t m = 1; m < n; ++m) {
    if ((static_cast<unsigned char>(s[k + m]) & 0xC0) != 0x80) return 1;
  }
  return n;
}

uint32_t utf8_decode(std::string_view cp) {
  const auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(cp[k])); };
  switch (cp.size()) {
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    case 4: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    default: return b(0);
  }
}

void json_escape(std::string_view s, bool ensure_ascii, std::string& out) {
  out += '"';
  for (std::string_view cp : utf8_code_points(s)) {
    const unsigned char c = static_cast<unsigned char>(cp[0]);
    char buf[16];
    if (cp.size() == 1) {
      switch (c) {
        case '"': out += "\\\""; continue;
        case '\\': out += "\\\\"; continue;
        case '\n': out += "\\n"; continue;
        case '\r': out += "\\r"; continue;
        case '\t': out += "\\t"; continue;
        case '\b': out += "\\b"; continue;
        case '\f': out += "\\f"; continue;
        default: break;
      }
      if (c < 0x20 || (ensure_ascii && c >= 0x7f)) {
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
      continue;
    }
    if (!ensure_ascii) {
      out += cp;
      continue;
    }
    uint32_t u = utf8_decode(cp);
    if (u >= 0x10000) {
      u -= 0x10000;
      std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xD800 + (u >> 10), 0xDC00 + (u & 0x3FF));
    } else {
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
    }
    out += buf;
  }
  out += '"';
}

Status json_dump(const Value& v, const JsonDumpOptions& o, int level, std::string& out) {
  if (level > 256) {
    return Error(ErrorCode::kOutOfRange, "tojson: value nested deeper than 256 levels");
  }
  const std::string& item_sep = o.item_separator;
  const std::string& key_sep = o.key_separator;
  const auto newline = [&](int lvl) {
    out += '\n';
    out.append(static_cast<size_t>(o.indent) * static_cast<size_t>(lvl), ' ');
  };
  switch (v.kind()) {
    case Value::Kind::kNone: out += "null"; return Status::ok();
    case Value::Kind::kBool: out += v.as_bool() ? "true" : "false"; return Status::ok();
    case Value::Kind::kInt: out += std::to_string(v.as_int()); return Status::ok();
    case Value::Kind::kFloat: {
      const double f = v.as_double();
      if (std::isnan(f)) out += "NaN";
      else if (std::isinf(f)) out += f > 0 ? "Infinity" : "-Infinity";
      else out += python_float_repr(f);
      return Status::ok();
    }
    case Value::Kind::kString: json_escape(v.as_string(), o.ensure_ascii, out); return Status::ok();
    case Value::Kind::kList: {
      if (v.is_generator()) {
        return Error(ErrorCode::kInvalidArgument, "tojson: object of type generator is not JSON serializable")
            .hint("add |list after map/select/selectattr/unique/items");
      }
      const auto& items = v.as_list();
      if (items.empty()) { out += "[]"; return Status::ok(); }
      out += '[';
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) out += item_sep;
        if (o.indent >= 0) newline(level + 1);
        QUORUM_TRY(json_dump(items[k], o, level + 1, out));
      }
      if (o.indent >= 0) newline(level);
      out += ']';
      return Status::ok();
    }
    case Value::Kind::kDict: {
      std::vector<const std::pair<std::string, Value>*> items;
      for (const auto& kv : v.as_dict().items) items.push_back(&kv);
      if (o.sort_keys) {
        std::stable_sort(items.begin(), items.end(),
                         [](const auto* a, const auto* b) { return a->first < b->first; });
      }
      if (items.empty()) { out += "{}"; return Status::ok(); }
      out += '{';
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) out += item_sep;
        if (o.indent >= 0) newline(level + 1);
        json_escape(items[k]->first, o.ensure_ascii, out);
        out += key_sep;
        QUORUM_TRY(json_dump(items[k]->second, o, level + 1, out));
      }
      if (o.indent >= 0) newline(level);
      out += '}';
      return Status::ok();
    }
    default:
      return Error(ErrorCode::kInvalidArgument,
                   std::string("tojson: object of type ") + v.type_name() + " is not JSON serializable");
  }
}

}  // namespace

Result<std::string> python_json_dumps(const Value& v, const JsonDumpOptions& options) {
  JsonDumpOptions o = options;
  if (o.item_separator.empty()) o.item_separator = o.indent >= 0 ? "," : ", ";
  if (o.key_separator.empty()) o.key_separator = ": ";
  std::string out;
  QUORUM_TRY(json_dump(v, o, 0, out));
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<std::string_view> utf8_code_points(std::string_view s) {
  std::vector<std::string_view> out;
  out.reserve(s.size());
  for (size_t k = 0; k < s.size();) {
    const size_t n = utf8_seq_len(s, k);
    out.push_back(s.substr(k, n));
    k += n;
  }
  return out;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (size_t k = 0; k < s.size(); k += utf8_seq_len(s, k)) ++n;
  return n;
}

}  // namespace quorum::jinja
