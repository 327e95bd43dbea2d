// SQuAD EM/F1 and ROUGE-1/2/L/Lsum (definitions in text_metrics.h).
#include "eval/text_metrics.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <set>

namespace quorum::eval {
namespace {

bool is_ascii_punct(unsigned char c) {
  // Python's string.punctuation: !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
         (c >= 123 && c <= 126);
}

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Word characters for the article regex \b(a|an|the)\b: ASCII alphanumerics, '_' and (the
// documented approximation) every non-ASCII byte.
bool is_word_char(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c >= 0x80;
}

std::vector<std::string> split_ascii_whitespace(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(static_cast<unsigned char>(s[i]))) ++i;
    size_t j = i;
    while (j < s.size() && !is_space(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

double f_measure(double p, double r) { return p + r > 0 ? 2.0 * p * r / (p + r) : 0.0; }

RougeScore make_score(size_t hits, size_t n_pred, size_t n_ref) {
  RougeScore s;
  s.precision = n_pred > 0 ? static_cast<double>(hits) / static_cast<double>(n_pred) : 0.0;
  s.recall = n_ref > 0 ? static_cast<double>(hits) / static_cast<double>(n_ref) : 0.0;
  s.f1 = f_measure(s.precision, s.recall);
  return s;
}

// LCS dynamic-programming table: t[i][j] = LCS of a[0..i) and b[0..j); (|a|+1) x (|b|+1).
std::vector<std::vector<size_t>> lcs_table(const std::vector<std::string>& a,
                                           const std::vector<std::string>& b) {
  std::vector<std::vector<size_t>> t(a.size() + 1, std::vector<size_t>(b.size() + 1, 0));
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      t[i][j] = a[i - 1] == b[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
    }
  }
  return t;
}

// Indices into `ref` of one LCS of (ref, cand), walking back from the end. On a mismatch it moves
// left in `cand` only when that keeps a strictly longer LCS than moving up in `ref` — the same
// tie rule as rouge-score, so union-LCS hit counts agree with it.
std::vector<size_t> lcs_ref_indices(const std::vector<std::string>& ref,
                                    const std::vector<std::string>& cand) {
  auto t = lcs_table(ref, cand);
  std::vector<size_t> idx;
  size_t i = ref.size(), j = cand.size();
  while (i > 0 && j > 0) {
    if (ref[i - 1] == cand[j - 1]) {
      idx.push_back(i - 1);
      --i;
      --j;
    } else if (t[i][j - 1] > t[i - 1][j]) {
      --j;
    } else {
      --i;
    }
  }
  std::reverse(idx.begin(), idx.end());
  return idx;
}

std::map<std::vector<std::string>, size_t> ngram_counts(const std::vector<std::string>& tokens,
                                                        int n) {
  std::map<std::vector<std::string>, size_t> counts;
  const size_t un = static_cast<size_t>(n);
  if (tokens.size() < un) return counts;
  for (size_t i = 0; i + un <= tokens.size(); ++i) {
    ++counts[std::vector<std::string>(tokens.begin() + static_cast<std::ptrdiff_t>(i),
                                      tokens.begin() + static_cast<std::ptrdiff_t>(i + un))];
  }
  return counts;
}

std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    if (nl > start) out.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

}  // namespace

std::string squad_normalize(std::string_view text) {
  // 1. lowercase, 2. remove punctuation.
  std::string s;
  s.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (is_ascii_punct(c)) continue;
    s.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch);
  }
  // 3. replace whole-word articles by a space.
  std::string no_articles;
  no_articles.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    bool at_boundary = i == 0 || !is_word_char(static_cast<unsigned char>(s[i - 1]));
    if (at_boundary && is_word_char(static_cast<unsigned char>(s[i]))) {
      size_t j = i;
      while (j < s.size() && is_word_char(static_cast<unsigned char>(s[j]))) ++j;
      std::string_view word(s.data() + i, j - i);
      no_articles += (word == "a" || word == "an" || word == "the") ? std::string(" ")
                                                                    : std::string(word);
      i = j;
    } else {
      no_articles.push_back(s[i]);
      ++i;
    }
  }
  // 4. collapse whitespace.
  std::string out;
  for (const std::string& w : split_ascii_whitespace(no_articles)) {
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

std::vector<std::string> squad_tokens(std::string_view text) {
  return split_ascii_whitespace(squad_normalize(text));
}

double squad_exact_match(std::string_view prediction, const std::vector<std::string>& references) {
  const std::string p = squad_normalize(prediction);
  for (const std::string& r : references) {
    if (squad_normalize(r) == p) return 1.0;
  }
  return 0.0;
}

double squad_f1_single(std::string_view prediction, std::string_view reference) {
  auto pred = squad_tokens(prediction);
  auto ref = squad_tokens(reference);
  std::map<std::string, size_t> ref_counts;
  for (const auto& t : ref) ++ref_counts[t];
  size_t same = 0;
  for (const auto& t : pred) {
    auto it = ref_counts.find(t);
    if (it != ref_counts.end() && it->second > 0) {
      ++same;
      --it->second;
    }
  }
  if (same == 0) return 0.0;
  double p = static_cast<double>(same) / static_cast<double>(pred.size());
  double r = static_cast<double>(same) / static_cast<double>(ref.size());
  return 2.0 * p * r / (p + r);
}

double squad_f1(std::string_view prediction, const std::vector<std::string>& references) {
  double best = 0.0;
  for (const std::string& r : references) best = std::max(best, squad_f1_single(prediction, r));
  return best;
}

std::vector<std::string> rouge_tokens(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      cur.push_back(static_cast<char>(c));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

RougeScore rouge_n(std::string_view reference, std::string_view prediction, int n) {
  auto ref = ngram_counts(rouge_tokens(reference), n);
  auto pred = ngram_counts(rouge_tokens(prediction), n);
  size_t hits = 0, n_ref = 0, n_pred = 0;
  for (const auto& [g, c] : ref) n_ref += c;
  for (const auto& [g, c] : pred) {
    n_pred += c;
    auto it = ref.find(g);
    if (it != ref.end()) hits += std::min(c, it->second);
  }
  return make_score(hits, n_pred, n_ref);
}

size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  // Two rolling rows of the DP table: O(|b|) memory.
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

RougeScore rouge_l(std::string_view reference, std::string_view prediction) {
  auto ref = rouge_tokens(reference);
  auto pred = rouge_tokens(prediction);
  if (ref.empty() || pred.empty()) return RougeScore{};
  return make_score(lcs_length(ref, pred), pred.size(), ref.size());
}

RougeScore rouge_lsum(std::string_view reference, std::string_view prediction) {
  std::vector<std::vector<std::string>> ref_sents, pred_sents;
  for (const auto& s : split_sentences(reference)) ref_sents.push_back(rouge_tokens(s));
  for (const auto& s : split_sentences(prediction)) pred_sents.push_back(rouge_tokens(s));
  size_t m = 0, n = 0;
  std::map<std::string, size_t> ref_left, pred_left;  // tokens not yet matched
  for (const auto& s : ref_sents) {
    m += s.size();
    for (const auto& t : s) ++ref_left[t];
  }
  for (const auto& s : pred_sents) {
    n += s.size();
    for (const auto& t : s) ++pred_left[t];
  }
  if (m == 0 || n == 0) return RougeScore{};
  size_t hits = 0;
  for (const auto& r : ref_sents) {
    // Union over prediction sentences of the reference positions in one LCS with each.
    std::set<size_t> uni;
    for (const auto& c : pred_sents) {
      for (size_t i : lcs_ref_indices(r, c)) uni.insert(i);
    }
    for (size_t i : uni) {
      const std::string& t = r[i];
      if (pred_left[t] > 0 && ref_left[t] > 0) {
        ++hits;
        --pred_left[t];
        --ref_left[t];
      }
    }
  }
  return make_score(hits, n, m);
}

}  // namespace quorum::eval
