// SQuAD EM/F1 and ROUGE against hand-computed values (each derivation is in the comment).
#include "eval/text_metrics.h"

#include <gtest/gtest.h>

namespace quorum::eval {
namespace {

TEST(Squad, NormalizationFollowsTheOfficialScript) {
  EXPECT_EQ(squad_normalize("The Quick, Brown fox!"), "quick brown fox");
  EXPECT_EQ(squad_normalize("  an apple a  day\tthe END "), "apple day end");
  // Articles only as whole words; punctuation removed before articles, so "a-b" -> "ab".
  EXPECT_EQ(squad_normalize("theater anthem"), "theater anthem");
  EXPECT_EQ(squad_normalize("A-B"), "ab");
  EXPECT_EQ(squad_normalize("the"), "");
  EXPECT_EQ(squad_normalize("Denver's \"Broncos\""), "denvers broncos");
}

TEST(Squad, ExactMatchIsMaxOverReferences) {
  EXPECT_EQ(squad_exact_match("the Denver Broncos", {"Carolina", "Denver Broncos"}), 1.0);
  EXPECT_EQ(squad_exact_match("Denver", {"Denver Broncos"}), 0.0);
  EXPECT_EQ(squad_exact_match("!!!", {"the"}), 1.0);  // both normalize to ""
  EXPECT_EQ(squad_exact_match("x", {}), 0.0);
}

TEST(Squad, TokenF1HandComputed) {
  // pred [denver broncos won], ref [denver broncos]: P = 2/3, R = 1, F1 = 0.8.
  EXPECT_DOUBLE_EQ(squad_f1("Denver Broncos won", {"the Denver Broncos"}), 0.8);
  // vs "blue": P 1/2 R 1 -> 2/3; vs "red green": P 1/2 R 1/2 -> 1/2; max = 2/3.
  EXPECT_DOUBLE_EQ(squad_f1("blue red", {"blue", "red green"}), 2.0 / 3.0);
  // Counts are clipped: pred [cat cat], ref [cat] -> same 1, P 1/2, R 1 -> 2/3.
  EXPECT_DOUBLE_EQ(squad_f1("the cat cat", {"cat"}), 2.0 / 3.0);
  // v1.1: no overlap (also empty vs empty) is 0.
  EXPECT_EQ(squad_f1("", {""}), 0.0);
  EXPECT_EQ(squad_f1("dog", {"cat"}), 0.0);
}

TEST(Rouge, TokenizerLowercasesAndSplitsOnNonAlphanumerics) {
  EXPECT_EQ(rouge_tokens("Hello, World! it's 2x-3"),
            (std::vector<std::string>{"hello", "world", "it", "s", "2x", "3"}));
  EXPECT_TRUE(rouge_tokens(" ... ").empty());
}

TEST(Rouge, QuickBrownFoxHandComputed) {
  const char* ref = "The quick brown fox jumps over the lazy dog";
  const char* pred = "The quick brown dog jumps on the log.";
  // Unigrams: overlap the x2, quick, brown, dog, jumps = 6; |pred| 8, |ref| 9.
  RougeScore r1 = rouge_n(ref, pred, 1);
  EXPECT_DOUBLE_EQ(r1.precision, 6.0 / 8.0);
  EXPECT_DOUBLE_EQ(r1.recall, 6.0 / 9.0);
  EXPECT_NEAR(r1.f1, 2 * 0.75 * (6.0 / 9.0) / (0.75 + 6.0 / 9.0), 1e-12);
  // Bigrams: the-quick, quick-brown overlap; 7 predicted, 8 reference.
  RougeScore r2 = rouge_n(ref, pred, 2);
  EXPECT_DOUBLE_EQ(r2.precision, 2.0 / 7.0);
  EXPECT_DOUBLE_EQ(r2.recall, 2.0 / 8.0);
  // LCS: the quick brown jumps the = 5.
  RougeScore rl = rouge_l(ref, pred);
  EXPECT_DOUBLE_EQ(rl.precision, 5.0 / 8.0);
  EXPECT_DOUBLE_EQ(rl.recall, 5.0 / 9.0);
  EXPECT_NEAR(rl.f1, 0.5882352941176471, 1e-12);
  // One sentence each: Lsum equals L.
  RougeScore ls = rouge_lsum(ref, pred);
  EXPECT_DOUBLE_EQ(ls.f1, rl.f1);
}

TEST(Rouge, LsumUnionLcsOfLin2004) {
  // Lin (2004) §3.2: r = w1..w5, c1 = w1 w2 w6 w7 w8, c2 = w1 w3 w8 w9 w5.
  // LCS(r,c1) = w1 w2, LCS(r,c2) = w1 w3 w5, union = w1 w2 w3 w5 -> 4 hits; m 5, n 10.
  RougeScore s = rouge_lsum("w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5");
  EXPECT_DOUBLE_EQ(s.recall, 4.0 / 5.0);
  EXPECT_DOUBLE_EQ(s.precision, 4.0 / 10.0);
  EXPECT_NEAR(s.f1, 2 * 0.4 * 0.8 / 1.2, 1e-12);
  // Plain ROUGE-L on the same texts ignores the sentence split: LCS(w1..w5, c1 c2) = w1 w2 w3 w5.
  EXPECT_DOUBLE_EQ(rouge_l("w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5").recall, 4.0 / 5.0);
}

TEST(Rouge, LsumClipsHitsByTokenCounts) {
  // ref sentences "x y", "x z"; pred "x y" (n = 2, m = 4). s1 hits x, y; s2's LCS [x] finds no
  // prediction x left -> 2 hits: P = 1, R = 1/2. Empty lines are dropped.
  RougeScore s = rouge_lsum("x y\n\nx z", "x y");
  EXPECT_DOUBLE_EQ(s.precision, 1.0);
  EXPECT_DOUBLE_EQ(s.recall, 0.5);
}

TEST(Rouge, EmptySidesScoreZero) {
  EXPECT_EQ(rouge_l("", "a b").f1, 0.0);
  EXPECT_EQ(rouge_l("a b", "").f1, 0.0);
  EXPECT_EQ(rouge_lsum("a", "\n\n").f1, 0.0);
  EXPECT_EQ(rouge_n("a", "a", 2).f1, 0.0);  // no bigrams at all
  EXPECT_EQ(lcs_length({"a", "b", "c", "d"}, {"b", "d", "a"}), 2u);
}

}  // namespace
}  // namespace quorum::eval
