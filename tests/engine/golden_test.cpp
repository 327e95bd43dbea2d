// Golden tests: greedy generation from llama.cpp's prompt tokens must reproduce its top-10 ids,
// logits (1e-3 rel + 1e-3 abs for F32/F16 models) and greedy tokens at every step.
#include "golden_util.h"

namespace quorum {
namespace {

class GoldenFloatTest : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenFloatTest, MatchesLlamaCpp) { testing::run_golden(GetParam(), 1e-3, 1e-3); }

INSTANTIATE_TEST_SUITE_P(Models, GoldenFloatTest,
                         ::testing::Values("stories260K", "llama-2-tiny-random", "qt-base",
                                           "qt-sst2", "qt-emo", "qt-wide", "qt-qwen"),
                         [](const auto& info) { return testing::golden_param_name(info.param); });

}  // namespace
}  // namespace quorum
