// Golden acceptance: `quorum perplexity -c 512 --chunks 20` on wikitext-2 reproduces
// llama-perplexity's figure for every model in ../shared/golden/perplexity.md within 0.5%.
// Running the binary checks the whole path a user takes, including tokenizing the full text
// with BOS and starting every chunk with BOS as llama-perplexity does.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/cli_util.h"
#include "apps/perplexity_table.h"
#include "engine/golden_util.h"

namespace quorum {
namespace {

constexpr double kPplRelTol = 0.005;

class PerplexityGoldenTest : public ::testing::TestWithParam<const char*> {};

TEST_P(PerplexityGoldenTest, MatchesLlamaPerplexity) {
  const std::string name = GetParam();
  const auto table = testing::perplexity_table();
  ASSERT_TRUE(table.count(name)) << name << " is not in perplexity.md";
  const testing::Figure theirs = table.at(name).at(0);
  const auto r = testing::run_quorum(testing::golden_perplexity_args(testing::golden_model_path(name)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const double ppl = j.at("ppl").get<double>(), err = j.at("ppl_err").get<double>();
  EXPECT_EQ(j.at("n_chunks").get<int>(), 20);
  EXPECT_EQ(j.at("n_scored").get<int>(), 20 * 255);  // positions 256..510 of each chunk
  EXPECT_LE(testing::rel_diff(ppl, theirs.value), kPplRelTol)
      << name << ": ours " << ppl << ", llama.cpp " << theirs.value;
  // The error bar comes from the same per-token numbers.
  EXPECT_LE(testing::rel_diff(err, theirs.err), 0.02) << name << ": ours ± " << err;
  std::printf("[ppl] %-12s ours %.4f ± %.5f  llama.cpp %.4f ± %.5f  rel diff %.2e\n",
              name.c_str(), ppl, err, theirs.value, theirs.err, testing::rel_diff(ppl, theirs.value));
}

INSTANTIATE_TEST_SUITE_P(Models, PerplexityGoldenTest,
                         ::testing::Values("qt-base", "qt-emo", "qt-qwen", "qt-sst2", "qt-wide",
                                           "stories260K"),
                         [](const auto& info) { return testing::golden_param_name(info.param); });

}  // namespace
}  // namespace quorum
