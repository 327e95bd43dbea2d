// A terminal progress bar for long work (downloads, quantization, evaluation, perplexity).
// On a terminal it redraws one line at most ~10 times a second with rate and ETA; when stderr
// is not a terminal (CI logs) it prints a line at every 10% instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace quorum {

enum class ProgressUnit { kItems, kBytes };

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, ProgressUnit unit = ProgressUnit::kItems,
              std::FILE* out = stderr);
  ~ProgressBar();  // finishes the line if needed
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void set_label(std::string label) { label_ = std::move(label); }
  void set_total(int64_t total) { total_ = total; }
  void update(int64_t done);
  void add(int64_t delta) { update(done_ + delta); }
  void finish();
  // The text of the bar for the given state (exposed for tests).
  std::string render(int64_t done, double elapsed_s) const;

 private:
  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  ProgressUnit unit_;
  std::FILE* out_;
  bool tty_;
  bool finished_ = false;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1.5 GiB", "312 KiB"
std::string format_bytes(double bytes);
// "1h02m", "3m07s", "12s"
std::string format_duration(double seconds);

}  // namespace quorum
