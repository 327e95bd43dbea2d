// Sampler properties against hand-computed distributions: greedy/argmax ties, seeds,
// top-k / top-p / min-p truncation, temperature, repetition penalty, parameter validation.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/sampling.h"

namespace quorum {
namespace {

SamplingParams plain(float temp) {
  SamplingParams p;
  p.temperature = temp;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

std::vector<double> frequencies(Sampler& s, const std::vector<float>& logits, int draws) {
  std::vector<double> f(logits.size(), 0.0);
  for (int i = 0; i < draws; ++i) f[static_cast<size_t>(s.sample(logits, {}))] += 1.0 / draws;
  return f;
}

TEST(SamplingTest, GreedyPicksArgmaxLowestIdOnTies) {
  const std::vector<float> l = {0.5f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(argmax(l), 1);
  Sampler s(SamplingParams::greedy());
  EXPECT_EQ(s.sample(l, {}), 1);
}

TEST(SamplingTest, TemperatureFollowsSoftmax) {
  // logits ln(1), ln(2), ln(5) at T=1: p = 1/8, 2/8, 5/8; at T=2: sqrt weights.
  const std::vector<float> l = {0.0f, std::log(2.0f), std::log(5.0f)};
  const int n = 20000;
  Sampler s1(plain(1.0f));
  auto f = frequencies(s1, l, n);
  const double p1[] = {0.125, 0.25, 0.625};
  for (int i = 0; i < 3; ++i) {
    const double sigma = std::sqrt(p1[i] * (1 - p1[i]) / n);
    EXPECT_NEAR(f[static_cast<size_t>(i)], p1[i], 5 * sigma) << "token " << i;
  }
  Sampler s2(plain(2.0f));
  f = frequencies(s2, l, n);
  const double w[] = {1.0, std::sqrt(2.0), std::sqrt(5.0)};
  const double z = w[0] + w[1] + w[2];
  for (int i = 0; i < 3; ++i) {
    const double p = w[i] / z;
    EXPECT_NEAR(f[static_cast<size_t>(i)], p, 5 * std::sqrt(p * (1 - p) / n)) << "token " << i;
  }
}

TEST(SamplingTest, SameSeedSameTokensDifferentSeedDifferentTokens) {
  std::vector<float> l(50);
  for (size_t i = 0; i < l.size(); ++i) l[i] = std::sin(float(i)) * 2;
  auto draw = [&](uint64_t seed) {
    SamplingParams p = plain(1.0f);
    p.seed = seed;
    Sampler s(p);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(s.sample(l, {}));
    return out;
  };
  EXPECT_EQ(draw(7), draw(7));
  EXPECT_NE(draw(7), draw(8));
}

TEST(SamplingTest, TopKTopPMinPTruncate) {
  // p = 0.5, 0.3, 0.15, 0.05
  const std::vector<float> l = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  const int n = 4000;
  SamplingParams k = plain(1.0f);
  k.top_k = 2;
  Sampler sk(k);
  auto f = frequencies(sk, l, n);
  EXPECT_EQ(f[2] + f[3], 0.0);
  EXPECT_NEAR(f[0], 0.625, 0.04);

  SamplingParams tp = plain(1.0f);
  tp.top_p = 0.85f;  // 0.5 + 0.3 = 0.8 < 0.85, so the third token is kept, the fourth is not
  Sampler sp(tp);
  f = frequencies(sp, l, n);
  EXPECT_EQ(f[3], 0.0);
  EXPECT_GT(f[2], 0.0);

  SamplingParams mp = plain(1.0f);
  mp.min_p = 0.5f;  // keeps p >= 0.25: tokens 0 and 1
  Sampler sm(mp);
  f = frequencies(sm, l, n);
  EXPECT_EQ(f[2] + f[3], 0.0);
  EXPECT_GT(f[1], 0.0);
}

TEST(SamplingTest, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  SamplingParams p = SamplingParams::greedy();
  p.repeat_penalty = 1.1f;
  Sampler s(p);
  const std::vector<int32_t> hist = {0};
  EXPECT_EQ(s.sample(std::vector<float>{2.0f, 1.9f}, hist), 1);   // 2.0 / 1.1 = 1.82 < 1.9
  EXPECT_EQ(s.sample(std::vector<float>{2.0f, 1.7f}, hist), 0);   // 1.82 > 1.7
  EXPECT_EQ(s.sample(std::vector<float>{-1.0f, -1.05f}, hist), 1);  // -1.1 < -1.05
}

TEST(SamplingTest, ValidateRejectsOutOfRange) {
  SamplingParams p;
  p.top_p = 0.0f;
  EXPECT_FALSE(validate(p).is_ok());
  p = SamplingParams();
  p.min_p = 1.5f;
  EXPECT_FALSE(validate(p).is_ok());
  p = SamplingParams();
  p.temperature = NAN;
  EXPECT_FALSE(validate(p).is_ok());
  EXPECT_TRUE(validate(SamplingParams()).is_ok());
}

}  // namespace
}  // namespace quorum
