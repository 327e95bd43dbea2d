// Golden greedy tests of llama.cpp's IQ2_XXS / IQ2_XS quantizations of qt-base: tokens and greedy
// text identical, top-10 logits within the README's quantized tolerance (2e-2 rel + 2e-2 abs).
#include "golden_util.h"

namespace quorum {
namespace {

class GoldenIq2Test : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenIq2Test, MatchesLlamaCpp) { testing::run_golden(GetParam(), 2e-2, 2e-2); }

INSTANTIATE_TEST_SUITE_P(Models, GoldenIq2Test,
                         ::testing::Values("qt-base.IQ2_XS", "qt-base.IQ2_XXS"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace quorum
