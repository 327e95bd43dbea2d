// The four trained llama2.c-family models (GGUF and llama2.c .bin imports) against an
// independent pure-Python F32 forward pass (../shared/models/derived/reference-greedy.json):
// 32 greedy tokens from BOS must be identical and the first position's top-5 logits close.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/sampling.h"
#include "engine/session.h"
#include "testing/shared_data.h"

namespace quorum {
namespace {

struct RefCase {
  const char* model;  // key in reference-greedy.json, relative to models/
  const char* vocab;  // vocabulary for llama2.c files ("" = embedded / next to the file)
};

class ReferenceGreedyTest : public ::testing::TestWithParam<RefCase> {};

TEST_P(ReferenceGreedyTest, MatchesPythonForwardPass) {
  const RefCase rc = GetParam();
  const auto ref = nlohmann::json::parse(
      testing::read_file(testing::shared_path("models/derived/reference-greedy.json")));
  const auto& r = ref.at(rc.model);
  ModelOptions mo;
  if (rc.vocab[0] != '\0') mo.vocab_path = testing::shared_path(std::string("models/") + rc.vocab);
  auto model = Model::load(testing::shared_path(std::string("models/") + rc.model), mo);
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  SessionOptions so;
  so.n_ctx = 64;
  so.n_threads = 2;
  so.kv_type = KvType::kF32;  // the reference is pure F32
  auto s = Session::create(*model, so);
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  const int32_t bos = 1;
  auto l = (*s)->decode(std::span<const int32_t>(&bos, 1));
  ASSERT_TRUE(l.is_ok()) << l.status().to_string();
  double worst = 0;
  for (const auto& t : r.at("pos0_top5_logits")) {
    const double want = t[1].get<double>();
    const double got = (*l)[t[0].get<size_t>()];
    worst = std::max(worst, std::fabs(got - want));
    EXPECT_NEAR(got, want, 1e-3 + 1e-4 * std::fabs(want)) << rc.model << " token " << t[0];
  }
  std::vector<int32_t> greedy;
  const auto want_ids = r.at("greedy_ids").get<std::vector<int32_t>>();
  for (size_t i = 0; i < want_ids.size(); ++i) {
    const int32_t next = argmax(*l);
    greedy.push_back(next);
    l = (*s)->decode(std::span<const int32_t>(&next, 1));
    ASSERT_TRUE(l.is_ok());
  }
  EXPECT_EQ(greedy, want_ids) << rc.model;
  std::printf("[reference] %-40s max |logit err| at pos 0: %.3g\n", rc.model, worst);
}

INSTANTIATE_TEST_SUITE_P(
    Models, ReferenceGreedyTest,
    ::testing::Values(RefCase{"stories260K/stories260K.gguf", ""},
                      RefCase{"llama2c-260K-saltyduckegg/model.bin",
                              "stories260K/stories260K.gguf"},
                      RefCase{"babyllama/babyllama-v105-iter5000.bin", "babyllama/tok105.vocab"},
                      RefCase{"babyllama/babyllama-v361-iter5000.bin",
                              "derived/babyllama-tok361.vocab"}),
    [](const auto& info) { return "model" + std::to_string(info.index); });

}  // namespace
}  // namespace quorum
