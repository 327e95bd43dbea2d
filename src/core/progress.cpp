// ProgressBar rendering.
#include "core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

namespace quorum {

std::string format_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.1f} {}", b, units[u]);
}

std::string format_duration(double s) {
  if (s < 0 || s != s) return "?";
  const auto t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

ProgressBar::ProgressBar(std::string label, int64_t total, ProgressUnit unit, std::FILE* out)
    : label_(std::move(label)), total_(total), unit_(unit), out_(out),
      tty_(isatty(fileno(out)) != 0), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

std::string ProgressBar::render(int64_t done, double elapsed) const {
  auto amount = [&](double v) {
    return unit_ == ProgressUnit::kBytes ? format_bytes(v) : fmt::format("{}", int64_t(v));
  };
  const double rate = elapsed > 0 ? done / elapsed : 0;
  std::string rate_s = unit_ == ProgressUnit::kBytes ? format_bytes(rate) + "/s"
                                                     : fmt::format("{:.1f}/s", rate);
  if (total_ <= 0) return fmt::format("{} {} {}", label_, amount(done), rate_s);
  const double frac = std::clamp(static_cast<double>(done) / total_, 0.0, 1.0);
  const int width = 24, fill = static_cast<int>(frac * width);
  const double eta = rate > 0 ? (total_ - done) / rate : -1;
  return fmt::format("{} [{}{}] {:3.0f}% {}/{} {} ETA {}", label_, std::string(fill, '#'),
                     std::string(width - fill, '.'), frac * 100, amount(done), amount(total_),
                     rate_s, format_duration(eta));
}

void ProgressBar::update(int64_t done) {
  done_ = done;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
    last_draw_ = now;
    fmt::print(out_, "\r{}\x1b[K", render(done, elapsed));
    std::fflush(out_);
  } else if (total_ > 0) {
    const int decile = static_cast<int>(std::min<int64_t>(10, done * 10 / total_));
    if (decile != last_decile_) {
      last_decile_ = decile;
      fmt::print(out_, "{}\n", render(done, elapsed));
    }
  }
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (tty_) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    fmt::print(out_, "\r{}\x1b[K\n", render(done_, elapsed));
  }
}

}  // namespace quorum
