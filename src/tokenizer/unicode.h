// UTF-8 helpers and the GPT-2 byte-to-unicode table, with the exact conventions llama.cpp's
// tokenizers use: invalid UTF-8 decodes to U+FFFD one byte at a time, and a lead byte's length is
// read from its top four bits without validating what follows.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace quorum::tokenizer {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Length of the UTF-8 sequence a byte starts (1 for continuation bytes), from its top 4 bits.
inline size_t utf8_len(char c) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[static_cast<uint8_t>(c) >> 4];
}

// Decodes UTF-8 into code points; each byte that does not start a well-formed sequence becomes
// U+FFFD (llama.cpp's unicode_cpts_from_utf8).
std::vector<uint32_t> utf8_to_cpts(std::string_view s);
// Appends the UTF-8 encoding of one code point.
void append_utf8(std::string& out, uint32_t cpt);
std::string cpt_to_utf8(uint32_t cpt);

// The Unicode White_Space property (the set llama.cpp's tables flag as whitespace).
bool is_unicode_whitespace(uint32_t cpt);

// Unicode character data (unicode_tables.cpp, generated from Python's unicodedata):
// general category P*, category Cc/Cf/Co/Cs, simple lowercase, and the first code point of the
// NFD decomposition (which strips accents: U+00FC -> u).
bool is_unicode_punctuation(uint32_t cpt);
bool is_unicode_control(uint32_t cpt);
uint32_t unicode_to_lower(uint32_t cpt);
uint32_t unicode_nfd_first(uint32_t cpt);

// GPT-2 byte-level mapping: every byte has a printable code point; printable Latin-1 bytes map to
// themselves, the rest to 256 + n in byte order.
class ByteLevelMap {
 public:
  ByteLevelMap();
  // UTF-8 of the code point that stands for `byte`.
  const std::string& encode_byte(uint8_t byte) const { return byte_to_utf8_[byte]; }
  // Byte for a code point, or -1 if the code point is not in the mapping.
  int decode_cpt(uint32_t cpt) const { return cpt < 324 ? cpt_to_byte_[cpt] : -1; }
  // Maps every byte of `text` (llama.cpp's unicode_byte_encoding_process for one word).
  std::string encode(std::string_view text) const;

 private:
  std::string byte_to_utf8_[256];
  int16_t cpt_to_byte_[324];
};

}  // namespace quorum::tokenizer
