// Golden tests for llama.cpp's quantizations of qt-base: greedy generation from llama.cpp's
// prompt tokens reproduces its greedy tokens and top-10 ids at every step, and the top-10 logits
// within the quantized tolerance of ../shared/golden/README.md (2e-2 relative + 2e-2 absolute).
// Types without a kernel yet are not skipped silently: a test checks that each golden type left
// out of kQuantGoldenTypes is refused with kUnsupported, so the list must grow when kernels land.
#include <filesystem>

#include "golden_util.h"

namespace quorum {
namespace {

class GoldenQuantTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenQuantTest, MatchesLlamaCpp) { testing::run_golden("qt-base." + GetParam(), 2e-2, 2e-2); }

INSTANTIATE_TEST_SUITE_P(Types, GoldenQuantTest, ::testing::ValuesIn(testing::kQuantGoldenTypes),
                         [](const auto& info) { return testing::golden_param_name(info.param); });

TEST(GoldenQuantCoverage, EveryTypeLeftOutHasNoKernel) {
  const std::string prefix = "qt-base.";
  int left_out = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::shared_path("golden"))) {
    const std::string dir = entry.path().filename().string();
    if (!entry.is_directory() || dir.rfind(prefix, 0) != 0) continue;
    const std::string type = dir.substr(prefix.size());
    const auto& listed = testing::kQuantGoldenTypes;
    if (std::find(listed.begin(), listed.end(), type) != listed.end()) continue;
    ++left_out;
    auto model = Model::load(testing::golden_model_path(dir));
    ASSERT_TRUE(model.is_ok()) << model.status().to_string();
    SessionOptions so;
    so.n_ctx = 64;
    so.n_threads = 1;
    auto session = Session::create(*model, so);
    EXPECT_FALSE(session.is_ok()) << type << " now runs: add it to kQuantGoldenTypes (golden_util.h)";
    if (!session) {
      EXPECT_EQ(session.status().code(), ErrorCode::kUnsupported) << session.status().to_string();
    }
  }
  std::printf("[golden] quantized types without kernels (left out): %d\n", left_out);
}

}  // namespace
}  // namespace quorum
