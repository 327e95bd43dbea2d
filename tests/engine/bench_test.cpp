// quorum bench's procedure: the figures it reports, the bytes-per-token accounting, and errors.
#include <gtest/gtest.h>

#include "engine/bench.h"
#include "testing/shared_data.h"

namespace quorum {
namespace {

TEST(Bench, ReportsOneFigurePerTestWithConsistentRates) {
  auto model = Model::load(quorum::testing::shared_path("models/stories260K/stories260K.gguf"));
  ASSERT_TRUE(model) << model.status().to_string();
  BenchOptions o;
  o.n_prompt = {32, 64};
  o.n_gen = {16};
  o.reps = 2;
  o.threads = 1;
  int runs = 0;
  o.on_run = [&](const std::string&, int) { ++runs; };
  auto r = run_bench(*model, o);
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(runs, 3 * (1 + 2));  // warm-up + reps per test
  ASSERT_EQ(r->figures.size(), 3u);
  EXPECT_EQ(r->figures[0].test, "pp32");
  EXPECT_EQ(r->figures[1].test, "pp64");
  EXPECT_EQ(r->figures[2].test, "tg16");
  for (const BenchFigure& f : r->figures) {
    ASSERT_EQ(f.seconds.size(), 2u);
    const double mean = (f.n_tokens / f.seconds[0] + f.n_tokens / f.seconds[1]) / 2;
    EXPECT_NEAR(f.mean_tps, mean, 1e-9 * mean);
    EXPECT_GT(f.mean_tps, 0);
  }
  // stories260K: tied? no — it has output.weight; per token: all weights but the embedding
  // table, plus one embedding row (64 floats).
  const auto& file = (*model)->file();
  int64_t all = 0;
  for (const auto& t : file.tensors()) all += static_cast<int64_t>(t.nbytes);
  const auto* emb = file.find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  const int64_t expected = all - static_cast<int64_t>(emb->nbytes) + 64 * 4 +
                           (file.find_tensor("output.weight") ? 0 : static_cast<int64_t>(emb->nbytes));
  EXPECT_EQ(r->bytes_per_token, expected);
  EXPECT_NE(bench_to_markdown(*r, 1e10).find("| tg16 |"), std::string::npos);
}

TEST(Bench, RejectsBadOptions) {
  auto model = Model::load(quorum::testing::shared_path("models/stories260K/stories260K.gguf"));
  ASSERT_TRUE(model);
  BenchOptions o;
  o.reps = 0;
  EXPECT_EQ(run_bench(*model, o).status().code(), ErrorCode::kInvalidArgument);
}

TEST(Bench, BandwidthProbeMeasuresSomething) {
  const double bw = measure_read_bandwidth(16 << 20, 1, 2);
  EXPECT_GT(bw, 1e8);  // any machine this runs on reads faster than 100 MB/s
}

}  // namespace
}  // namespace quorum
