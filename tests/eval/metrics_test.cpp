// Classification metrics, ECE, bootstrap and McNemar against hand-computed values.
#include "eval/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace quorum::eval {
namespace {

TEST(Classification, HandComputedReport) {
  // gold a a b b c, pred a b b <unparsed> a.
  // a: tp 1 fp 1 fn 1 -> P R F 1/2; b: tp 1 fp 1 fn 1 -> 1/2; c: tp 0 -> 0.
  auto rep = classification_report({"a", "a", "b", "b", "c"}, {"a", "b", "b", "", "a"},
                                   {"a", "b", "c"});
  ASSERT_TRUE(rep.is_ok()) << rep.status().to_string();
  EXPECT_EQ(rep->correct, 2u);
  EXPECT_EQ(rep->unparsed, 1u);
  EXPECT_DOUBLE_EQ(rep->accuracy, 0.4);
  EXPECT_DOUBLE_EQ(rep->macro_f1, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(rep->per_class[0].precision, 0.5);
  EXPECT_DOUBLE_EQ(rep->per_class[1].recall, 0.5);
  EXPECT_EQ(rep->per_class[2].f1, 0.0);
  EXPECT_EQ(rep->per_class[2].support, 1u);
  auto f1 = binary_f1({"a", "a", "b", "b", "c"}, {"a", "b", "b", "", "a"}, "b");
  ASSERT_TRUE(f1.is_ok());
  EXPECT_DOUBLE_EQ(*f1, 0.5);
}

TEST(Classification, MajorityPredictorMacroF1) {
  // Always "x" on gold x x x y: x P 3/4 R 1 F 6/7; y 0 -> macro 3/7.
  auto rep = classification_report({"x", "x", "x", "y"}, {"x", "x", "x", "x"}, {"x", "y"});
  ASSERT_TRUE(rep.is_ok());
  EXPECT_DOUBLE_EQ(rep->macro_f1, 3.0 / 7.0);
}

TEST(Classification, BadInputsAreErrors) {
  EXPECT_FALSE(classification_report({"a"}, {"a", "b"}, {"a", "b"}).is_ok());
  auto r = classification_report({"zzz"}, {"a"}, {"a", "b"});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("zzz"), std::string::npos);
}

TEST(Calibration, EceHandComputed) {
  // Bins (0.8,0.9]: {0.9, 0.9} acc 1/2 -> 2/4 * 0.4; (0.5,0.6]: {0.6} acc 1 -> 1/4 * 0.4;
  // (0.1,0.2]: {0.2} acc 0 -> 1/4 * 0.2. ECE = 0.2 + 0.1 + 0.05.
  auto e = expected_calibration_error({0.9, 0.9, 0.6, 0.2}, {true, false, true, false}, 10);
  ASSERT_TRUE(e.is_ok());
  EXPECT_NEAR(*e, 0.35, 1e-12);
  // Perfectly calibrated: confidence 1 and always right.
  EXPECT_NEAR(*expected_calibration_error({1.0, 1.0}, {true, true}), 0.0, 1e-15);
  // One bin: |mean acc - mean conf| = |1/2 - 0.55|.
  EXPECT_NEAR(*expected_calibration_error({0.9, 0.2}, {true, false}, 1), 0.05, 1e-12);
  EXPECT_FALSE(expected_calibration_error({1.5}, {true}).is_ok());
  EXPECT_FALSE(expected_calibration_error({0.5}, {true}, 0).is_ok());
}

TEST(Significance, PairedBootstrap) {
  std::vector<double> ones(50, 1.0), zeros(50, 0.0);
  auto dom = paired_bootstrap(ones, zeros, 200, 7);
  ASSERT_TRUE(dom.is_ok());
  EXPECT_EQ(dom->delta, 1.0);
  EXPECT_EQ(dom->ci_low, 1.0);
  EXPECT_EQ(dom->p_value, 0.0);
  auto same = paired_bootstrap(ones, ones, 200, 7);
  EXPECT_EQ(same->delta, 0.0);
  EXPECT_EQ(same->p_value, 1.0);
  // Mixed: A right on 30 of 50, B on 20 (B's items a subset of A's). Deterministic under a seed,
  // CI contains the observed delta 0.2 and excludes 0 at this effect size.
  std::vector<double> a(50, 0.0), b(50, 0.0);
  for (int i = 0; i < 30; ++i) a[i] = 1.0;
  for (int i = 0; i < 20; ++i) b[i] = 1.0;
  auto r1 = paired_bootstrap(a, b, 1000, 3), r2 = paired_bootstrap(a, b, 1000, 3);
  ASSERT_TRUE(r1.is_ok());
  EXPECT_DOUBLE_EQ(r1->delta, 0.2);
  EXPECT_EQ(r1->ci_low, r2->ci_low);
  EXPECT_EQ(r1->p_value, r2->p_value);
  EXPECT_GT(r1->ci_low, 0.0);
  EXPECT_LT(r1->ci_low, 0.2);
  EXPECT_GT(r1->ci_high, 0.2);
  EXPECT_LT(r1->p_value, 0.01);
  EXPECT_FALSE(paired_bootstrap({}, {}, 10, 0).is_ok());
}

TEST(Significance, McNemarExactAndChiSquare) {
  // 1 item only A right, 5 only B right, 4 both right: exact, p = 2 * (C(6,0)+C(6,1)) / 64.
  std::vector<bool> a = {true, false, false, false, false, false, true, true, true, true};
  std::vector<bool> b = {false, true, true, true, true, true, true, true, true, true};
  auto r = mcnemar_test(a, b);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r->exact);
  EXPECT_EQ(r->a_only, 1u);
  EXPECT_EQ(r->b_only, 5u);
  EXPECT_NEAR(r->p_value, 14.0 / 64.0, 1e-12);
  // 30 vs 10 discordant: chi2 = (|30-10|-1)^2 / 40 = 9.025, p = erfc(sqrt(9.025/2)).
  std::vector<bool> x, y;
  for (int i = 0; i < 30; ++i) { x.push_back(true); y.push_back(false); }
  for (int i = 0; i < 10; ++i) { x.push_back(false); y.push_back(true); }
  auto c = mcnemar_test(x, y);
  EXPECT_FALSE(c->exact);
  EXPECT_DOUBLE_EQ(c->statistic, 9.025);
  EXPECT_NEAR(c->p_value, 0.002663119259138554, 1e-12);
  // Symmetric and no discordance -> p = 1.
  EXPECT_EQ(mcnemar_test({true, false}, {true, false})->p_value, 1.0);
  EXPECT_TRUE(mcnemar_test({true, false}, {true, false})->exact);  // reported as the exact test
  EXPECT_EQ(mcnemar_test({true, false}, {true, false}, /*exact_below=*/0)->p_value, 1.0);
}

}  // namespace
}  // namespace quorum::eval
