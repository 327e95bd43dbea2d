// Vocab helpers shared by both loaders: type names, token types, defaults, post-load fix-ups.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/vocab_internal.h"

namespace quorum::tokenizer {

const char* vocab_type_name(VocabType t) {
  switch (t) {
    case VocabType::kSpm: return "spm";
    case VocabType::kBpe: return "bpe";
    case VocabType::kWpm: return "wpm";
  }
  return "?";
}

uint32_t attr_from_token_type(int64_t type) {
  switch (static_cast<TokenType>(type)) {
    case TokenType::kNormal: return kAttrNormal;
    case TokenType::kUnknown: return kAttrUnknown;
    case TokenType::kControl: return kAttrControl;
    case TokenType::kUserDefined: return kAttrUserDefined;
    case TokenType::kUnused: return kAttrUnused;
    case TokenType::kByte: return kAttrByte;
    case TokenType::kUndefined:
    default: return kAttrUndefined;
  }
}

namespace detail {

Status apply_type_defaults(Vocab& v) {
  switch (v.type) {
    case VocabType::kSpm:
      v.bos = 1; v.eos = 2; v.unk = 0;
      v.add_bos = true; v.add_eos = false; v.add_space_prefix = true; v.clean_spaces = false;
      break;
    case VocabType::kWpm:
      v.bos = 101; v.eos = kNoToken; v.unk = 100; v.sep = 102; v.pad = 0; v.mask = 103;
      v.add_bos = true; v.add_eos = false; v.add_space_prefix = false; v.clean_spaces = true;
      break;
    case VocabType::kBpe: {
      v.bos = 11; v.eos = 11;
      QUORUM_ASSIGN_OR_RETURN(PreInfo info, pre_info_from_name(v.pre));
      v.add_bos = info.add_bos; v.add_eos = false; v.add_space_prefix = false;
      v.clean_spaces = info.clean_spaces; v.ignore_merges = info.ignore_merges;
      if (info.type == PreType::kChatglm4) v.bos = kNoToken;
      break;
    }
  }
  return Status::ok();
}

Status finalize_vocab(Vocab& v, const std::string& where) {
  const int32_t n = v.n_tokens();
  if (n == 0) {
    return Error(ErrorCode::kCorruptFile, "the vocabulary is empty").where(where);
  }
  for (int32_t* id : {&v.bos, &v.eos, &v.eot, &v.eom, &v.unk, &v.sep, &v.pad, &v.mask}) {
    if (*id < 0 || *id >= n) *id = kNoToken;  // llama.cpp ignores out-of-range special ids
  }
  // First occurrence of a text wins for the look-up below (order of the llama.cpp list).
  auto find_text = [&](const char* text) -> int32_t {
    for (int32_t i = 0; i < n; ++i) {
      if (v.tokens[i].text == text) return i;
    }
    return kNoToken;
  };
  // End-of-turn tokens recognised by text; llama.cpp forces them to CONTROL so plain text never
  // produces them.
  if (v.eot == kNoToken) {
    for (const char* t : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                          "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>"}) {
      const int32_t id = find_text(t);
      if (id != kNoToken) { v.eot = id; break; }
    }
  }
  if (v.eom == kNoToken) v.eom = find_text("<|eom_id|>");
  for (int32_t id : {v.eot, v.eom}) {
    if (id != kNoToken && (v.tokens[id].attr & kAttrControl) == 0) v.tokens[id].attr = kAttrControl;
  }
  for (const char* t : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                        "<|eom_id|>", "<EOT>", "_<EOT>"}) {
    const int32_t id = find_text(t);
    if (id != kNoToken && (v.tokens[id].attr & kAttrControl) == 0) v.tokens[id].attr = kAttrControl;
  }
  // Phi-3: special tokens strip whitespace on their right (except <unk>, <s>, <|endoftext|>).
  std::string name = v.model_name;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (auto& t : v.tokens) {
      if (t.attr & (kAttrControl | kAttrUserDefined | kAttrUnknown)) t.attr |= kAttrRstrip;
    }
    for (const char* t : {"</s>"}) {
      const int32_t id = find_text(t);
      if (id != kNoToken) v.tokens[id].attr |= kAttrRstrip;
    }
    for (const char* t : {"<unk>", "<s>", "<|endoftext|>"}) {
      const int32_t id = find_text(t);
      if (id != kNoToken) v.tokens[id].attr &= ~kAttrRstrip;
    }
  }
  return Status::ok();
}

}  // namespace detail
}  // namespace quorum::tokenizer
