// Byte-level BPE pre-tokenization: the regex list each `tokenizer.ggml.pre` name selects, and the
// splitter that applies it the way llama.cpp's unicode_regex_split does.
//
// llama.cpp applies the regexes one after another; each one re-splits every piece the previous
// ones produced, keeping both the matches and the unmatched gaps between them as pieces, and a
// regex never sees past the ends of the piece it works on (lookaheads and `$` stop there). All
// whitespace outside ASCII is seen by the regexes as U+000B, as in llama.cpp. We run the
// patterns with PCRE2 (UTF + UCP, JIT), which gives the Unicode classes \p{L}, \p{N}, \p{P}.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace quorum::tokenizer {

// The pre-tokenizer families of llama.cpp (several `tokenizer.ggml.pre` names share one).
enum class PreType {
  kDefault, kLlama3, kDeepseekLlm, kDeepseekCoder, kDeepseek3Llm, kFalcon, kMpt, kStarcoder,
  kGpt2, kRefact, kCommandR, kStablelm2, kQwen2, kOlmo, kDbrx, kSmaug, kPoro, kChatglm4, kViking,
  kJais, kTekken, kSmollm, kCodeshell, kBloom, kGpt3Finnish, kExaone, kChameleon, kMinerva,
};

struct PreInfo {
  PreType type = PreType::kDefault;
  bool clean_spaces = true;    // decode removes spaces before punctuation (clean_up_tokenization_spaces)
  bool ignore_merges = false;  // a pre-token that is a whole vocabulary entry is not merged
  bool add_bos = false;        // default for add_bos_token when the metadata does not say
};

// Maps a `tokenizer.ggml.pre` name ("llama-bpe", "qwen2", "gpt-2", ...; "" means "default").
Result<PreInfo> pre_info_from_name(const std::string& name);
// The regexes llama.cpp applies for a pre-tokenizer family, in order.
std::vector<std::string> pre_regexes(PreType type);

class RegexSplitter {
 public:
  static Result<RegexSplitter> create(const std::vector<std::string>& patterns);
  RegexSplitter(RegexSplitter&&) noexcept;
  RegexSplitter& operator=(RegexSplitter&&) noexcept;
  ~RegexSplitter();

  // Splits `text` into pieces; the pieces concatenate to `text` with invalid UTF-8 bytes
  // replaced by U+FFFD. Thread-safe (per-call match state).
  std::vector<std::string> split(std::string_view text) const;

 private:
  RegexSplitter();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quorum::tokenizer
