#include <gtest/gtest.h>

#include <cstdio>

#include "core/progress.h"

namespace quorum {
namespace {

TEST(Progress, RendersFractionRateAndEta) {
  std::FILE* sink = std::tmpfile();
  ProgressBar bar("model.gguf", 1000, ProgressUnit::kItems, sink);
  // 250 of 1000 in 5 s: 50/s, 750 left -> 15 s.
  EXPECT_EQ(bar.render(250, 5.0),
            "model.gguf [######..................]  25% 250/1000 50.0/s ETA 15s");
  bar.finish();
  std::fclose(sink);
}

TEST(Progress, FormatsBytesAndDurations) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(3.0 * (1 << 30)), "3.0 GiB");
  EXPECT_EQ(format_duration(42), "42s");
  EXPECT_EQ(format_duration(187), "3m07s");
  EXPECT_EQ(format_duration(3720), "1h02m");
}

TEST(Progress, NonTerminalPrintsEachDecileOnce) {
  std::FILE* sink = std::tmpfile();
  {
    ProgressBar bar("x", 100, ProgressUnit::kItems, sink);
    for (int i = 0; i <= 100; ++i) bar.update(i);
  }
  std::rewind(sink);
  int lines = 0;
  for (int c; (c = std::fgetc(sink)) != EOF;) lines += c == '\n';
  std::fclose(sink);
  EXPECT_EQ(lines, 11);  // 0%, 10%, ..., 100%
}

}  // namespace
}  // namespace quorum
