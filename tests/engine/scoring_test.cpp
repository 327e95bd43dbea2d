// Scoring: log-softmax against hand-computed values, and continuation / choice scores against
// an independent token-by-token evaluation on stories260K.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/scoring.h"
#include "testing/shared_data.h"

namespace quorum {
namespace {

TEST(ScoringTest, LogSoftmaxHandComputed) {
  const std::vector<float> l = {0.0f, std::log(3.0f)};
  const auto lp = log_softmax(l);
  EXPECT_NEAR(lp[0], std::log(0.25), 1e-6);
  EXPECT_NEAR(lp[1], std::log(0.75), 1e-6);
  EXPECT_NEAR(token_logprob(l, 1), std::log(0.75), 1e-6);
  const auto top = top_logprobs(std::vector<float>{1.0f, 5.0f, 3.0f, 5.0f}, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].id, 1);
  EXPECT_EQ(top[1].id, 3);
  EXPECT_EQ(top[2].id, 2);
  EXPECT_FLOAT_EQ(top[2].logit, 3.0f);
}

class ScoringModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = Model::load(testing::shared_path("models/stories260K/stories260K.gguf"));
    ASSERT_TRUE(m.is_ok());
    model_ = *m;
    SessionOptions o;
    o.n_ctx = 64;
    o.n_threads = 1;
    auto s = Session::create(model_, o);
    ASSERT_TRUE(s.is_ok());
    session_ = std::move(s).value();
  }
  // Sum of log p(cont[i] | prompt + cont[:i]) from one token at a time in a fresh session.
  double reference(const std::vector<int32_t>& prompt, const std::vector<int32_t>& cont) {
    SessionOptions o;
    o.n_ctx = 64;
    o.n_threads = 1;
    auto s = std::move(Session::create(model_, o)).value();
    double sum = 0;
    std::vector<int32_t> all = prompt;
    all.insert(all.end(), cont.begin(), cont.end());
    for (size_t i = 0; i + 1 < all.size(); ++i) {
      auto l = s->decode(std::span<const int32_t>(&all[i], 1));
      EXPECT_TRUE(l.is_ok());
      if (i + 1 >= prompt.size()) sum += token_logprob(*l, all[i + 1]);
    }
    return sum;
  }
  std::shared_ptr<const Model> model_;
  std::unique_ptr<Session> session_;
};

TEST_F(ScoringModelTest, ContinuationMatchesTokenByToken) {
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378};
  const std::vector<int32_t> cont = {261, 316, 6, 442};
  auto r = score_continuation(*session_, prompt, cont);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_NEAR(r->logprob, reference(prompt, cont), 1e-3);
  EXPECT_EQ(r->token_logprobs.size(), cont.size());
  EXPECT_LT(r->logprob, 0.0);
  EXPECT_FALSE(score_continuation(*session_, {}, cont).is_ok());
}

TEST_F(ScoringModelTest, ChoosePicksTheMostLikelyAndReusesThePrompt) {
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 261};
  const std::vector<std::vector<int32_t>> choices = {{316, 6}, {300}, {442, 289, 330}};
  auto r = choose(*session_, prompt, choices);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  int best = 0;
  for (size_t c = 0; c < choices.size(); ++c) {
    const double ref = reference(prompt, choices[c]);
    EXPECT_NEAR(r->scores[c].logprob, ref, 1e-3) << "choice " << c;
    if (ref > reference(prompt, choices[static_cast<size_t>(best)])) best = static_cast<int>(c);
  }
  EXPECT_EQ(r->best, best);
  EXPECT_FALSE(choose(*session_, prompt, {}).is_ok());
}

}  // namespace
}  // namespace quorum
