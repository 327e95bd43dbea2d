// Vocab: everything a tokenizer needs from a model file — the tokens with their scores and
// types, the BPE merges, the special token ids and the add-BOS/EOS/space-prefix switches —
// read from GGUF metadata (`tokenizer.ggml.*`) or from a Hugging Face tokenizer.json.
//
// Defaults follow llama.cpp's loader: SPM ("llama") has BOS 1, EOS 2, UNK 0, adds BOS and a
// space prefix; BPE ("gpt2") has BOS = EOS = 11 and its defaults depend on `tokenizer.ggml.pre`;
// WPM ("bert") has CLS 101, SEP 102, UNK 100, PAD 0, MASK 103. Keys present in the file win.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/gguf.h"

namespace quorum::tokenizer {

inline constexpr int32_t kNoToken = -1;

enum class VocabType { kSpm, kBpe, kWpm };
const char* vocab_type_name(VocabType t);

// GGUF token types (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
  kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5,
  kByte = 6,
};

// Token attributes (llama.cpp's llama_token_attr bits): the type plus strip flags.
enum TokenAttr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrNormalized = 1u << 6,
  kAttrLstrip = 1u << 7,
  kAttrRstrip = 1u << 8,
  kAttrSingleWord = 1u << 9,
};
uint32_t attr_from_token_type(int64_t type);

struct TokenData {
  std::string text;  // as stored: "▁the" (SPM), "Ġthe" (byte-level BPE), "<0x0A>", "<s>"
  float score = 0.0f;
  uint32_t attr = kAttrNormal;
};

struct Vocab {
  VocabType type = VocabType::kSpm;
  std::string model_name;  // general.name (some fix-ups key on it, as in llama.cpp)
  std::string pre;         // tokenizer.ggml.pre ("" for SPM/WPM)
  std::vector<TokenData> tokens;
  // BPE merges in rank order: merges[r] = {left, right}.
  std::vector<std::pair<std::string, std::string>> merges;

  int32_t bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken, unk = kNoToken,
          sep = kNoToken, pad = kNoToken, mask = kNoToken;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;
  // Decode: remove spaces before punctuation as HF clean_up_tokenization_spaces (BPE default).
  bool clean_spaces = false;
  bool ignore_merges = false;

  int32_t n_tokens() const { return static_cast<int32_t>(tokens.size()); }

  // From a model file's `tokenizer.ggml.*` keys.
  static Result<Vocab> from_gguf(const gguf::File& file);
  // From a Hugging Face tokenizer folder (tokenizer.json + optional tokenizer_config.json) or
  // the tokenizer.json path itself. Byte-level BPE only. `pre` = "" detects the pre-tokenizer
  // from the Split regex (llama-bpe, qwen2, gpt-2).
  static Result<Vocab> from_hf(const std::string& path, const std::string& pre = "");
};

}  // namespace quorum::tokenizer
