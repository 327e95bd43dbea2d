// Logging through an explicit Logger object (no global logger state, STYLE.md rule 3).
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <string>

namespace quorum {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError, kSilent };

class Logger {
 public:
  explicit Logger(LogLevel level = LogLevel::kInfo, std::FILE* out = stderr)
      : level_(level), out_(out) {}
  LogLevel level() const { return level_; }
  void set_level(LogLevel level) { level_ = level; }

  template <typename... Args>
  void log(LogLevel level, fmt::format_string<Args...> f, Args&&... args) const {
    if (level < level_) return;
    static constexpr const char* kTag[] = {"debug", "info", "warn", "error", ""};
    fmt::print(out_, "[{}] {}\n", kTag[static_cast<int>(level)],
               fmt::format(f, std::forward<Args>(args)...));
  }

 private:
  LogLevel level_;
  std::FILE* out_;
};

}  // namespace quorum
