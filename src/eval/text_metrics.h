// Text metrics: SQuAD v1.1 exact match and token F1, and ROUGE-1/2/L/Lsum.
//
// SQuAD (the official v1.1 evaluation script's definition): normalize = lowercase, remove ASCII
// punctuation, remove the articles a/an/the as whole words, collapse whitespace; EM and token F1
// are the maximum over the reference answers. As in v1.1 (not v2.0), an empty prediction scores
// F1 0 even against an empty reference. Deviation, documented: word boundaries for article removal
// and whitespace splitting are ASCII-only (non-ASCII bytes count as word characters).
//
// ROUGE (Google's rouge-score package, Lin 2004): tokenize = lowercase, replace every run of
// characters outside [a-z0-9] with a space, split; NO stemming (rouge-score's default
// use_stemmer=False; the task models' reference numbers use the same choice). ROUGE-N uses
// clipped n-gram counts; ROUGE-L is the LCS F1 over the whole text; ROUGE-Lsum splits both texts
// into sentences on '\n' (empty lines dropped) and uses the summary-level union-LCS.
// Precision/recall are 0 when the prediction/reference has no tokens, F = 2PR/(P+R) or 0.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace quorum::eval {

// --- SQuAD -------------------------------------------------------------------------------------

// The official normalization: "The  Cat!" -> "cat".
std::string squad_normalize(std::string_view text);
// Whitespace tokens of the normalized text.
std::vector<std::string> squad_tokens(std::string_view text);
// 1.0 if the normalized prediction equals one normalized reference, else 0.0.
double squad_exact_match(std::string_view prediction, const std::vector<std::string>& references);
// Token-overlap F1 of one pair (0 when either side has no tokens or nothing overlaps).
double squad_f1_single(std::string_view prediction, std::string_view reference);
// Max over references of squad_f1_single; 0 for no references.
double squad_f1(std::string_view prediction, const std::vector<std::string>& references);

// --- ROUGE -------------------------------------------------------------------------------------

struct RougeScore {
  double precision = 0.0;
  double recall = 0.0;
  double f1 = 0.0;
};

// rouge-score's default tokenizer (lowercase, non-alphanumeric -> space, no stemming).
std::vector<std::string> rouge_tokens(std::string_view text);
// ROUGE-N (n >= 1) of `prediction` against one `reference`.
RougeScore rouge_n(std::string_view reference, std::string_view prediction, int n);
// ROUGE-L: LCS over the whole token sequences.
RougeScore rouge_l(std::string_view reference, std::string_view prediction);
// ROUGE-Lsum: sentences split on '\n', summary-level union LCS.
RougeScore rouge_lsum(std::string_view reference, std::string_view prediction);
// Length of the longest common subsequence of two token sequences.
size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b);

}  // namespace quorum::eval
