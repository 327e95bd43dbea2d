// Vocab::from_gguf: reads the `tokenizer.ggml.*` keys of a GGUF file as llama.cpp does.
#include <fmt/format.h>

#include "tokenizer/vocab_internal.h"

namespace quorum::tokenizer {
namespace {

Error bad_key(const gguf::File& f, const std::string& key, const std::string& expected,
              const std::string& actual) {
  return Error(ErrorCode::kCorruptFile, fmt::format("tokenizer key '{}' is malformed", key))
      .where(f.path())
      .expected(expected)
      .actual(actual);
}

// An array value of `key` or nullptr when absent; error if present but not an array of `elem`.
Result<const gguf::Value*> find_array(const gguf::File& f, const std::string& key,
                                      bool (*elem_ok)(gguf::ValueType)) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) return static_cast<const gguf::Value*>(nullptr);
  if (v->type != gguf::ValueType::kArray || !elem_ok(v->array_type)) {
    return bad_key(f, key, "an array of the right element type",
                   gguf::value_type_name(v->type) + std::string(" of ") +
                       gguf::value_type_name(v->array_type));
  }
  return v;
}

bool is_string(gguf::ValueType t) { return t == gguf::ValueType::kString; }
bool is_number(gguf::ValueType t) {
  return t != gguf::ValueType::kString && t != gguf::ValueType::kArray;
}

}  // namespace

Result<Vocab> Vocab::from_gguf(const gguf::File& f) {
  Vocab v;
  QUORUM_ASSIGN_OR_RETURN(std::string model, f.get_string_or("tokenizer.ggml.model", ""));
  if (model == "llama") {
    v.type = VocabType::kSpm;
  } else if (model == "gpt2") {
    v.type = VocabType::kBpe;
  } else if (model == "bert") {
    v.type = VocabType::kWpm;
  } else {
    return Error(ErrorCode::kUnsupported,
                 model.empty() ? std::string("the file has no tokenizer")
                               : fmt::format("tokenizer model '{}' is not supported", model))
        .where(f.path() + ": tokenizer.ggml.model")
        .expected("llama (SentencePiece), gpt2 (byte-level BPE) or bert (WordPiece)")
        .actual(model.empty() ? "key absent" : model);
  }
  QUORUM_ASSIGN_OR_RETURN(v.model_name, f.get_string_or("general.name", ""));
  if (v.type == VocabType::kBpe) {
    QUORUM_ASSIGN_OR_RETURN(v.pre, f.get_string_or("tokenizer.ggml.pre", "default"));
  }
  Status st = detail::apply_type_defaults(v);
  if (!st) return st.with_context(f.path());

  QUORUM_ASSIGN_OR_RETURN(const gguf::Value* tokens,
                          find_array(f, "tokenizer.ggml.tokens", is_string));
  if (tokens == nullptr) {
    return Error(ErrorCode::kCorruptFile, "the tokenizer has no token list")
        .where(f.path() + ": tokenizer.ggml.tokens")
        .hint("the file was written without a vocabulary");
  }
  QUORUM_ASSIGN_OR_RETURN(const gguf::Value* scores,
                          find_array(f, "tokenizer.ggml.scores", is_number));
  QUORUM_ASSIGN_OR_RETURN(const gguf::Value* types,
                          find_array(f, "tokenizer.ggml.token_type", is_number));
  const size_t n = tokens->arr.size();
  for (const auto& [arr, key] : {std::pair{scores, "scores"}, std::pair{types, "token_type"}}) {
    if (arr != nullptr && arr->arr.size() != n) {
      return bad_key(f, std::string("tokenizer.ggml.") + key, fmt::format("{} entries", n),
                     fmt::format("{} entries", arr->arr.size()));
    }
  }
  v.tokens.resize(n);
  for (size_t i = 0; i < n; ++i) {
    TokenData& t = v.tokens[i];
    t.text = tokens->arr[i].s;
    t.score = scores != nullptr ? static_cast<float>(scores->arr[i].as_double().value_or(0.0)) : 0.0f;
    t.attr = types != nullptr ? attr_from_token_type(types->arr[i].as_int().value_or(1))
                              : kAttrNormal;
  }

  if (v.type == VocabType::kBpe) {
    QUORUM_ASSIGN_OR_RETURN(const gguf::Value* merges,
                            find_array(f, "tokenizer.ggml.merges", is_string));
    if (merges == nullptr) {
      return Error(ErrorCode::kCorruptFile, "a BPE tokenizer without merges")
          .where(f.path() + ": tokenizer.ggml.merges");
    }
    v.merges.reserve(merges->arr.size());
    for (size_t r = 0; r < merges->arr.size(); ++r) {
      const std::string& m = merges->arr[r].s;
      // Split at the first space after the first byte (a merge's left side may start with ' ').
      const size_t pos = m.find(' ', 1);
      if (pos == std::string::npos) {
        return bad_key(f, "tokenizer.ggml.merges", "'left right' pairs",
                       fmt::format("entry {} = '{}'", r, m));
      }
      v.merges.emplace_back(m.substr(0, pos), m.substr(pos + 1));
    }
  }

  struct IdKey {
    const char* key;
    int32_t* id;
  };
  const IdKey ids[] = {
      {"tokenizer.ggml.bos_token_id", &v.bos},     {"tokenizer.ggml.eos_token_id", &v.eos},
      {"tokenizer.ggml.eot_token_id", &v.eot},     {"tokenizer.ggml.eom_token_id", &v.eom},
      {"tokenizer.ggml.unknown_token_id", &v.unk}, {"tokenizer.ggml.seperator_token_id", &v.sep},
      {"tokenizer.ggml.padding_token_id", &v.pad}, {"tokenizer.ggml.mask_token_id", &v.mask},
      {"tokenizer.ggml.cls_token_id", &v.bos},
  };
  for (const IdKey& k : ids) {
    const gguf::Value* val = f.find(k.key);
    if (val == nullptr) continue;
    const auto id = val->as_int();
    if (!id) return bad_key(f, k.key, "an integer token id", gguf::value_type_name(val->type));
    if (*id >= 0 && *id < static_cast<int64_t>(n)) *k.id = static_cast<int32_t>(*id);
  }
  struct FlagKey {
    const char* key;
    bool* flag;
  };
  const FlagKey flags[] = {
      {"tokenizer.ggml.add_bos_token", &v.add_bos},
      {"tokenizer.ggml.add_eos_token", &v.add_eos},
      {"tokenizer.ggml.add_space_prefix", &v.add_space_prefix},
  };
  for (const FlagKey& k : flags) {
    const gguf::Value* val = f.find(k.key);
    if (val == nullptr) continue;
    const auto b = val->as_int();
    if (!b) return bad_key(f, k.key, "a bool", gguf::value_type_name(val->type));
    *k.flag = *b != 0;
  }
  QUORUM_TRY(detail::finalize_vocab(v, f.path()));
  return v;
}

}  // namespace quorum::tokenizer
