// Helpers for YAML config parsers (the evaluation config, the quant-study config): every error
// names the file and line ("study.yaml:12"), unknown keys list the allowed ones, numbers are
// range-checked. yaml-cpp exceptions must still be caught by the caller at the parse boundary.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>
#include <string>
#include <utility>

#include "core/status.h"

namespace quorum::eval::yaml {

// Context for error messages: the config file's name.
struct Src {
  std::string file;
  std::string at(const YAML::Node& n) const {
    return n.Mark().line >= 0 ? fmt::format("{}:{}", file, n.Mark().line + 1) : file;
  }
};

inline int line_of(const YAML::Node& n) { return n.Mark().line >= 0 ? n.Mark().line + 1 : 0; }

inline Status check_keys(const Src& src, const YAML::Node& map, const std::string& what,
                         const std::set<std::string>& allowed) {
  if (!map.IsMap()) {
    return Error(ErrorCode::kInvalidArgument, what + " must be a mapping").where(src.at(map));
  }
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (allowed.count(key) == 0) {
      std::string known;
      for (const auto& a : allowed) known += (known.empty() ? "" : ", ") + a;
      return Error(ErrorCode::kInvalidArgument, fmt::format("unknown key '{}' in {}", key, what))
          .where(src.at(kv.first))
          .expected("one of " + known);
    }
  }
  return Status::ok();
}

template <typename T>
Result<T> scalar(const Src& src, const YAML::Node& n, const std::string& key, const char* type) {
  if (!n.IsScalar()) {
    return Error(ErrorCode::kInvalidArgument, fmt::format("'{}' must be a {}", key, type))
        .where(src.at(n));
  }
  T v{};
  if (!YAML::convert<T>::decode(n, v)) {
    return Error(ErrorCode::kInvalidArgument, fmt::format("'{}' must be a {}", key, type))
        .where(src.at(n))
        .actual(fmt::format("'{}'", n.Scalar()));
  }
  return v;
}

inline Result<std::string> str(const Src& src, const YAML::Node& n, const std::string& key) {
  return scalar<std::string>(src, n, key, "string");
}

template <typename T>
Result<T> number_in(const Src& src, const YAML::Node& n, const std::string& key, T lo, T hi) {
  QUORUM_ASSIGN_OR_RETURN(T v, scalar<T>(src, n, key, "number"));
  if (v < lo || v > hi) {
    return Error(ErrorCode::kInvalidArgument, fmt::format("'{}' is out of range", key))
        .where(src.at(n))
        .expected(fmt::format("{} <= {} <= {}", lo, key, hi))
        .actual(n.Scalar());
  }
  return v;
}

// `p` relative to `base_dir` unless absolute or empty.
inline std::string resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

// Loads `text` (the config file `source`) as a YAML mapping and returns parse_root(src, root).
// yaml-cpp's exceptions — syntax errors, and conversion errors raised while parse_root reads the
// tree — become errors naming the file and line.
template <typename ParseRoot>
auto parse_document(const std::string& text, const std::string& source, ParseRoot&& parse_root)
    -> decltype(parse_root(std::declval<const Src&>(), std::declval<const YAML::Node&>())) {
  const Src src{source};
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) {
      return Error(ErrorCode::kInvalidArgument, "the config must be a YAML mapping").where(source);
    }
    return parse_root(src, root);
  } catch (const YAML::Exception& e) {
    return Error(ErrorCode::kInvalidArgument, "YAML syntax error: " + e.msg)
        .where(e.mark.line >= 0 ? fmt::format("{}:{}", source, e.mark.line + 1) : source);
  }
}

}  // namespace quorum::eval::yaml
