// Tokenizer: text <-> token ids, reproducing llama.cpp's tokenizers exactly.
//
//   auto tok = Tokenizer::create(std::move(vocab));        // or Tokenizer::from_gguf(file)
//   std::vector<int32_t> ids = tok->encode("Hello", /*add_special=*/true, /*parse_special=*/false);
//   std::string text = tok->decode(ids);
//
// Algorithms (llama-vocab.cpp at the commit our golden files were made with):
// - SPM ("llama"): spaces become U+2581, a dummy-prefix space is added before each text
//   fragment that starts the input or follows a special token; symbols are UTF-8 characters
//   merged greedily by vocabulary score (highest first, leftmost on ties); a symbol that is not a
//   token is re-split along its merge history and finally emitted as <0xXX> byte tokens.
// - BPE ("gpt2"): the pre-tokenizer regexes split the text (pretokenizer.h), each piece is
//   mapped byte-to-unicode and merged by merge rank (lowest first, leftmost on ties).
// WPM ("bert") vocabularies use llama.cpp's WordPiece algorithm (wpm.cpp).
// Special tokens: the text is first cut at occurrences of special tokens, longest text first
// (llama.cpp's tokenizer_st_partition). Control and unknown tokens are only recognised with
// parse_special; user-defined tokens always are.
//
// A Tokenizer is immutable after create() and safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "io/gguf.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace quorum::tokenizer {

// Hash for string-keyed maps that accepts std::string_view look-ups without allocating.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct DecodeOptions {
  bool remove_special = false;   // drop a leading BOS / trailing EOS the tokenizer would add
  bool unparse_special = false;  // print control tokens' text (else they decode to nothing)
};

class Tokenizer {
 public:
  static Result<std::shared_ptr<const Tokenizer>> create(Vocab vocab);
  static Result<std::shared_ptr<const Tokenizer>> from_gguf(const gguf::File& file);
  static Result<std::shared_ptr<const Tokenizer>> from_gguf_path(const std::string& path);

  // add_special: BOS/EOS as the vocabulary says; parse_special: recognise control tokens'
  // text (e.g. "<|im_start|>") in `text`.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;
  std::string decode(const std::vector<int32_t>& ids, DecodeOptions opts = {}) const;
  // The text one token stands for; control tokens give "" unless `special`. Out-of-range ids
  // give "".
  std::string token_to_piece(int32_t id, bool special = true) const;

  int32_t bos() const { return vocab_.bos; }
  int32_t eos() const { return vocab_.eos; }
  int32_t eot() const { return vocab_.eot; }
  int32_t unk() const { return vocab_.unk; }
  int32_t pad() const { return vocab_.pad; }
  bool add_bos() const { return vocab_.add_bos; }
  bool add_eos() const { return vocab_.add_eos; }
  // End of generation: EOS, EOT, EOM and the end-of-turn tokens llama.cpp recognises by text.
  bool is_eog(int32_t id) const;
  bool is_control(int32_t id) const;
  int32_t n_vocab() const { return vocab_.n_tokens(); }
  VocabType type() const { return vocab_.type; }
  const Vocab& vocab() const { return vocab_; }
  // Id of a token's stored text, or kNoToken.
  int32_t find_token(std::string_view text) const;

  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

 private:
  struct Fragment {
    int32_t token;       // kNoToken for raw text
    size_t offset, len;  // raw text range in the input
  };
  explicit Tokenizer(Vocab vocab, RegexSplitter splitter);
  Status init();
  std::vector<Fragment> partition(std::string_view text, bool parse_special) const;
  int32_t byte_to_token(uint8_t byte) const;
  void encode_spm(std::string_view text, std::vector<int32_t>& out) const;
  void encode_spm_word(std::string_view text, std::vector<int32_t>& out) const;
  void encode_bpe(std::string_view text, std::vector<int32_t>& out) const;
  void encode_wpm(std::string_view text, std::vector<int32_t>& out) const;  // wpm.cpp

  Vocab vocab_;
  RegexSplitter splitter_;  // BPE only
  ByteLevelMap byte_map_;
  TokenMap token_to_id_;
  // BPE merge ranks, keyed by merge_key(left, right).
  TokenMap merge_rank_;
  std::vector<int32_t> special_tokens_;  // control/user-defined/unknown, longest text first
  std::vector<int32_t> eog_;
  size_t max_token_len_ = 0;
  // SPM: no token has U+2581 after another character, so words can be merged separately.
  bool spm_split_words_ = false;
};

}  // namespace quorum::tokenizer
