// Pre-tokenizer splitting against hand-worked examples of the regex semantics llama.cpp uses
// (gaps kept as pieces, regexes applied in sequence, lookahead bounded by the piece).
#include <gtest/gtest.h>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"

namespace quorum::tokenizer {
namespace {

std::vector<std::string> split(PreType t, std::string_view s) {
  auto sp = RegexSplitter::create(pre_regexes(t));
  EXPECT_TRUE(sp) << sp.status().to_string();
  return sp->split(s);
}

using V = std::vector<std::string>;

TEST(PreTokenizer, Gpt2Contractions) {
  EXPECT_EQ(split(PreType::kGpt2, "Hello world's  test"),
            (V{"Hello", " world", "'s", " ", " test"}));
  // \s+(?!\S) leaves the last space of a run for the word that follows; a lone newline before
  // a letter matches nothing and stays a gap of its own.
  EXPECT_EQ(split(PreType::kGpt2, "a   b\nc"), (V{"a", "  ", " b", "\n", "c"}));
  EXPECT_EQ(split(PreType::kGpt2, "x  "), (V{"x", "  "}));
}

TEST(PreTokenizer, Llama3DigitsAndNewlines) {
  EXPECT_EQ(split(PreType::kLlama3, "12345 ab\n\n  cd"),
            (V{"123", "45", " ab", "\n\n", " ", " cd"}));
  EXPECT_EQ(split(PreType::kLlama3, "I'M ok"), (V{"I", "'M", " ok"}));
  EXPECT_EQ(split(PreType::kQwen2, "2024"), (V{"2", "0", "2", "4"}));
}

TEST(PreTokenizer, SequentialRegexesKeepGaps) {
  // Default: punctuation runs first, then the GPT-2 regex inside the rest, then digit runs,
  // then groups of three ASCII digits.
  EXPECT_EQ(split(PreType::kDefault, "a,b 1234567"), (V{"a", ",", "b", " ", "123", "456", "7"}));
}

TEST(PreTokenizer, UnicodeClassesAndWhitespace) {
  // U+3000 (ideographic space) counts as whitespace; \p{L} covers non-Latin letters.
  EXPECT_EQ(split(PreType::kGpt2, "héllo\xE3\x80\x80мир"), (V{"héllo", "\xE3\x80\x80", "мир"}));
}

TEST(PreTokenizer, PiecesConcatenateToInputAndInvalidUtf8BecomesReplacement) {
  const std::string s = "ab\xFF cd";
  const V parts = split(PreType::kLlama3, s);
  std::string cat;
  for (const auto& p : parts) cat += p;
  EXPECT_EQ(cat, "ab\xEF\xBF\xBD cd");
}

TEST(PreTokenizer, LongRunsAreLinear) {
  // 200k spaces and a 200k-letter word: one piece each (a quadratic splitter would hang here).
  const std::string spaces(200000, ' ');
  EXPECT_EQ(split(PreType::kLlama3, spaces).size(), 1u);
  const std::string word(200000, 'a');
  EXPECT_EQ(split(PreType::kGpt2, word + " b").size(), 2u);
}

TEST(PreTokenizer, UnknownNameIsAnError) {
  auto r = pre_info_from_name("no-such-pre");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(r.status().message().find("no-such-pre"), std::string::npos);
}

TEST(Unicode, ByteLevelMapIsABijection) {
  ByteLevelMap m;
  for (int b = 0; b < 256; ++b) {
    const auto cpts = utf8_to_cpts(m.encode_byte(static_cast<uint8_t>(b)));
    ASSERT_EQ(cpts.size(), 1u);
    EXPECT_EQ(m.decode_cpt(cpts[0]), b);
  }
  EXPECT_EQ(m.encode_byte(' '), "Ġ");
  EXPECT_EQ(m.encode_byte('\n'), "Ċ");
  EXPECT_EQ(m.encode_byte('a'), "a");
}

}  // namespace
}  // namespace quorum::tokenizer
