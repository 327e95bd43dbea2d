// WordPiece (bert) tokenization of one text fragment, as llama.cpp's llm_tokenizer_wpm does it.
//
// Pre-processing: each code point is replaced by the first code point of its NFD decomposition
// (accents drop off), whitespace separates words, NUL/U+FFFD/control characters vanish,
// punctuation, ASCII symbols and CJK ideographs become one-character words, and everything is
// lower-cased. Each word gets the U+2581 word-start marker (GGUF bert vocabularies store
// "▁word" for word-initial pieces and bare text for "##" continuations) and is split greedily
// into the longest vocabulary entries from the left; a word with any unmatched position becomes
// one [UNK].
#include "tokenizer/tokenizer.h"

namespace quorum::tokenizer {
namespace {

bool is_cjk(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||  // as HF: 2B920
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_ascii_symbol(uint32_t c) {  // category S below 0x7F
  return c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' || c == '`' ||
         c == '|' || c == '~';
}

std::vector<std::string> wpm_words(std::string_view text) {
  std::vector<std::string> words(1);
  for (uint32_t cpt : utf8_to_cpts(text)) {
    cpt = unicode_nfd_first(cpt);
    if (is_unicode_whitespace(cpt)) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    if (cpt == 0 || cpt == kReplacementChar || is_unicode_control(cpt)) continue;
    const std::string s = cpt_to_utf8(unicode_to_lower(cpt));
    if (is_unicode_punctuation(cpt) || (cpt < 0x7F && is_ascii_symbol(cpt)) || is_cjk(cpt)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = s;
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

}  // namespace

void Tokenizer::encode_wpm(std::string_view text, std::vector<int32_t>& out) const {
  for (const std::string& word : wpm_words(text)) {
    if (word.empty()) continue;
    const std::string w = "\xE2\x96\x81" + word;
    const size_t n = w.size();
    const size_t before = out.size();
    for (size_t i = 0; i < n; ++i) {
      bool matched = false;
      for (size_t j = std::min(n, i + max_token_len_ + 1); j > i; --j) {
        const int32_t id = find_token(std::string_view(w).substr(i, j - i));
        if (id != kNoToken) {
          out.push_back(id);
          matched = true;
          i = j - 1;
          break;
        }
      }
      if (!matched) {  // the whole word becomes [UNK]
        out.resize(before);
        break;
      }
    }
    if (out.size() == before) out.push_back(vocab_.unk);
  }
}

}  // namespace quorum::tokenizer
