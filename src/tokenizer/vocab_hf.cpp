// Vocab::from_hf: a Hugging Face byte-level BPE tokenizer (tokenizer.json, and the special-token
// settings of tokenizer_config.json), turned into the same Vocab that llama.cpp's
// convert_hf_to_gguf.py would have written: model.vocab entries are NORMAL tokens, added tokens
// are CONTROL when special (or when they look like <|...|>) and USER_DEFINED otherwise, holes in
// the id range are UNUSED "[PAD<id>]" tokens.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tokenizer/vocab_internal.h"

namespace quorum::tokenizer {
namespace {

using nlohmann::json;

Result<json> read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorCode::kNotFound, "cannot open tokenizer file").where(path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const std::exception& e) {
    return Error(ErrorCode::kCorruptFile, "tokenizer file is not valid JSON")
        .where(path)
        .actual(e.what());
  }
}

// tokenizer_config.json writes special tokens as "text" or {"content": "text", ...}.
std::string special_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    return v["content"].get<std::string>();
  }
  return {};
}

bool looks_special(const std::string& t) {
  auto wrapped = [&](std::string_view open, std::string_view close) {
    return t.size() >= open.size() + close.size() && t.compare(0, open.size(), open) == 0 &&
           t.compare(t.size() - close.size(), close.size(), close) == 0;
  };
  return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" ||
         wrapped("<|", "|>") || wrapped("<｜", "｜>") || wrapped("<unused", ">");
}

// The `tokenizer.ggml.pre` name of a tokenizer.json pre_tokenizer, from its Split regex.
std::string detect_pre(const json& pre_tok) {
  std::string regex;
  bool byte_level = false;
  auto visit = [&](const json& p) {
    if (!p.is_object()) return;
    const std::string type = p.value("type", "");
    if (type == "ByteLevel") byte_level = true;
    if (type == "Split" && p.contains("pattern") && p["pattern"].is_object() &&
        p["pattern"].contains("Regex")) {
      regex = p["pattern"]["Regex"].get<std::string>();
    }
  };
  visit(pre_tok);
  if (pre_tok.is_object() && pre_tok.contains("pretokenizers")) {
    for (const json& p : pre_tok["pretokenizers"]) visit(p);
  }
  const std::string llama3 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  const std::string qwen2 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  if (regex == llama3) return "llama-bpe";
  if (regex == qwen2) return "qwen2";
  if (regex.empty() && byte_level) return "gpt-2";
  return {};
}

}  // namespace

Result<Vocab> Vocab::from_hf(const std::string& path, const std::string& pre) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool is_dir = fs::is_directory(path, ec);
  const std::string json_path = is_dir ? (fs::path(path) / "tokenizer.json").string() : path;
  const std::string config_path =
      (fs::path(json_path).parent_path() / "tokenizer_config.json").string();
  QUORUM_ASSIGN_OR_RETURN(json j, read_json(json_path));

  Vocab v;
  v.type = VocabType::kBpe;
  try {
    const json& model = j.at("model");
    if (model.value("type", "") != "BPE") {
      return Error(ErrorCode::kUnsupported, "only BPE tokenizer.json files are supported")
          .where(json_path + ": model.type")
          .expected("BPE")
          .actual(model.value("type", "(absent)"));
    }
    v.pre = pre.empty() ? detect_pre(j.value("pre_tokenizer", json())) : pre;
    if (v.pre.empty()) {
      return Error(ErrorCode::kUnsupported, "cannot tell which pre-tokenizer this tokenizer uses")
          .where(json_path + ": pre_tokenizer")
          .expected("the llama-3 or qwen2 Split regex, or plain ByteLevel")
          .hint("pass the tokenizer.ggml.pre name explicitly");
    }
    QUORUM_TRY(detail::apply_type_defaults(v));

    int64_t n = 0;
    for (const auto& [text, id] : model.at("vocab").items()) n = std::max<int64_t>(n, id.get<int64_t>() + 1);
    const json added = j.value("added_tokens", json::array());
    for (const json& t : added) n = std::max<int64_t>(n, t.at("id").get<int64_t>() + 1);
    if (n <= 0 || n > (int64_t{1} << 24)) {
      return Error(ErrorCode::kCorruptFile, "tokenizer.json has an implausible vocabulary size")
          .where(json_path)
          .actual(std::to_string(n));
    }
    v.tokens.resize(static_cast<size_t>(n));
    std::vector<bool> filled(static_cast<size_t>(n), false);
    for (const auto& [text, id] : model.at("vocab").items()) {
      const int64_t i = id.get<int64_t>();
      if (i < 0) continue;
      v.tokens[i] = {text, 0.0f, kAttrNormal};
      filled[i] = true;
    }
    for (const json& t : added) {
      const int64_t i = t.at("id").get<int64_t>();
      if (i < 0) continue;
      const std::string content = t.at("content").get<std::string>();
      const bool special = t.value("special", false) || looks_special(content);
      v.tokens[i] = {content, 0.0f, special ? kAttrControl : kAttrUserDefined};
      filled[i] = true;
    }
    for (int64_t i = 0; i < n; ++i) {
      if (!filled[i]) v.tokens[i] = {fmt::format("[PAD{}]", i), 0.0f, kAttrUnused};
    }
    for (const json& m : model.at("merges")) {
      if (m.is_string()) {
        const std::string s = m.get<std::string>();
        const size_t pos = s.find(' ', 1);
        if (pos == std::string::npos) continue;
        v.merges.emplace_back(s.substr(0, pos), s.substr(pos + 1));
      } else if (m.is_array() && m.size() == 2) {
        v.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      }
    }
  } catch (const std::exception& e) {
    return Error(ErrorCode::kCorruptFile, "tokenizer.json does not have the expected layout")
        .where(json_path)
        .actual(e.what());
  }

  if (fs::exists(config_path, ec)) {
    QUORUM_ASSIGN_OR_RETURN(json c, read_json(config_path));
    auto find = [&](const std::string& text) -> int32_t {
      if (text.empty()) return kNoToken;
      for (int32_t i = 0; i < v.n_tokens(); ++i) {
        if (v.tokens[i].text == text) return i;
      }
      return kNoToken;
    };
    struct Key {
      const char* name;
      int32_t* id;
    };
    for (const Key& k : {Key{"bos_token", &v.bos}, Key{"eos_token", &v.eos},
                         Key{"unk_token", &v.unk}, Key{"pad_token", &v.pad}}) {
      if (!c.contains(k.name)) continue;
      const int32_t id = find(special_text(c[k.name]));
      if (id != kNoToken) *k.id = id;
    }
    if (c.contains("add_bos_token") && c["add_bos_token"].is_boolean()) {
      v.add_bos = c["add_bos_token"].get<bool>();
    }
    if (c.contains("add_eos_token") && c["add_eos_token"].is_boolean()) {
      v.add_eos = c["add_eos_token"].get<bool>();
    }
  }
  QUORUM_TRY(detail::finalize_vocab(v, json_path));
  return v;
}

}  // namespace quorum::tokenizer
