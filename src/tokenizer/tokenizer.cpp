// Tokenizer construction, special-token partitioning, encode/decode and pieces (see
// tokenizer.h). The SPM and BPE merge loops live in spm.cpp and bpe.cpp.
#include "tokenizer/tokenizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace quorum::tokenizer {
namespace {

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// "▁" (U+2581) stands for a space in SentencePiece vocabularies.
constexpr std::string_view kSpmSpace = "\xE2\x96\x81";

std::string escape_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (char c : s) {
    if (c == ' ') out += kSpmSpace;
    else out.push_back(c);
  }
  return out;
}

std::string unescape_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, kSpmSpace.size(), kSpmSpace) == 0) {
      out.push_back(' ');
      i += kSpmSpace.size();
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// HF clean_up_tokenization_spaces, in llama.cpp's three in-place passes over the buffer (each
// pass compacts `t`; the look-behind reads the pass's input, as llama.cpp does).
void clean_spaces(std::string& t) {
  if (t.empty()) return;
  // " ?", " !", " .", " ,": drop the space.
  size_t n = t.size(), total = 1;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --total;
    t[total++] = x;
  }
  // " ' ": a lone apostrophe loses the spaces on both sides.
  n = total;
  total = 1;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (x == '\'' && i + 1 < n && t[i - 1] == ' ' && t[i + 1] == ' ') {
      --total;
      t[++i] = '\0';
    }
    t[total++] = x;
  }
  // " 's", " 'm", " 're", " 've": the contraction joins the previous word.
  n = total;
  total = 1;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (t[i - 1] == ' ' && x == '\'' && i + 1 < n) {
      const char x1 = t[i + 1];
      if (x1 == 's' || x1 == 'm') {
        --total;
      } else if (x1 != 't' && x1 != 'd' && i + 2 < n) {
        const char x2 = t[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --total;
      }
    }
    t[total++] = x;
  }
  t.resize(total);
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab, RegexSplitter splitter)
    : vocab_(std::move(vocab)), splitter_(std::move(splitter)) {}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::create(Vocab vocab) {
  std::vector<std::string> patterns;
  if (vocab.type == VocabType::kBpe) {
    QUORUM_ASSIGN_OR_RETURN(PreInfo info, pre_info_from_name(vocab.pre));
    patterns = pre_regexes(info.type);
  }
  QUORUM_ASSIGN_OR_RETURN(RegexSplitter splitter, RegexSplitter::create(patterns));
  std::shared_ptr<Tokenizer> t(new Tokenizer(std::move(vocab), std::move(splitter)));
  QUORUM_TRY(t->init());
  return std::shared_ptr<const Tokenizer>(std::move(t));
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_gguf(const gguf::File& file) {
  QUORUM_ASSIGN_OR_RETURN(Vocab v, Vocab::from_gguf(file));
  return create(std::move(v));
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_gguf_path(const std::string& path) {
  QUORUM_ASSIGN_OR_RETURN(gguf::File f, gguf::File::open(path));
  return from_gguf(f);
}

Status Tokenizer::init() {
  const int32_t n = vocab_.n_tokens();
  token_to_id_.reserve(static_cast<size_t>(n) * 2);
  for (int32_t i = 0; i < n; ++i) {
    const std::string& text = vocab_.tokens[i].text;
    token_to_id_[text] = i;  // a repeated text maps to its last id, as in llama.cpp
    max_token_len_ = std::max(max_token_len_, text.size());
    if (vocab_.tokens[i].attr & (kAttrControl | kAttrUserDefined | kAttrUnknown)) {
      if (!text.empty()) special_tokens_.push_back(i);
    }
  }
  if (vocab_.type == VocabType::kSpm) {
    spm_split_words_ = true;
    for (int32_t i = 0; i < n && spm_split_words_; ++i) {
      const std::string& text = vocab_.tokens[i].text;
      for (size_t pos = text.find(kSpmSpace, 1); pos != std::string::npos;
           pos = text.find(kSpmSpace, pos + 1)) {
        if (pos < kSpmSpace.size() ||
            text.compare(pos - kSpmSpace.size(), kSpmSpace.size(), kSpmSpace) != 0) {
          spm_split_words_ = false;
          break;
        }
      }
    }
  }
  std::stable_sort(special_tokens_.begin(), special_tokens_.end(), [&](int32_t a, int32_t b) {
    return vocab_.tokens[a].text.size() > vocab_.tokens[b].text.size();
  });
  if (vocab_.type == VocabType::kBpe) {
    merge_rank_.reserve(vocab_.merges.size() * 2);
    for (size_t r = 0; r < vocab_.merges.size(); ++r) {
      const auto& [l, rt] = vocab_.merges[r];
      merge_rank_.emplace(l + ' ' + rt, static_cast<int32_t>(r));  // first rank wins
    }
  }
  for (int32_t id : {vocab_.eos, vocab_.eot, vocab_.eom}) {
    if (id != kNoToken) eog_.push_back(id);
  }
  for (const char* text : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                           "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>"}) {
    const int32_t id = find_token(text);
    if (id != kNoToken) eog_.push_back(id);
  }
  std::sort(eog_.begin(), eog_.end());
  eog_.erase(std::unique(eog_.begin(), eog_.end()), eog_.end());
  return Status::ok();
}

int32_t Tokenizer::find_token(std::string_view text) const {
  auto it = token_to_id_.find(text);
  return it == token_to_id_.end() ? kNoToken : it->second;
}

bool Tokenizer::is_eog(int32_t id) const {
  return std::binary_search(eog_.begin(), eog_.end(), id);
}

bool Tokenizer::is_control(int32_t id) const {
  return id >= 0 && id < n_vocab() && (vocab_.tokens[id].attr & kAttrControl) != 0;
}

std::vector<Tokenizer::Fragment> Tokenizer::partition(std::string_view text,
                                                      bool parse_special) const {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({kNoToken, 0, text.size()});
  std::vector<Fragment> next;
  for (int32_t id : special_tokens_) {
    const TokenData& td = vocab_.tokens[id];
    if (!parse_special && (td.attr & (kAttrControl | kAttrUnknown))) continue;
    const std::string& st = td.text;
    next.clear();
    for (const Fragment& f : frags) {
      if (f.token != kNoToken) {
        next.push_back(f);
        continue;
      }
      size_t off = f.offset, len = f.len;
      bool matched = false;
      while (len >= st.size()) {
        const size_t rel = text.substr(off, len).find(st);
        if (rel == std::string_view::npos) break;
        matched = true;
        const size_t match = off + rel;
        size_t left_len = rel;
        if (td.attr & kAttrLstrip) {
          while (left_len > 0 && is_ascii_space(text[off + left_len - 1])) --left_len;
        }
        if (left_len > 0) next.push_back({kNoToken, off, left_len});
        next.push_back({id, 0, 0});
        size_t r_off = match + st.size();
        size_t r_len = len - rel - st.size();
        if (td.attr & kAttrRstrip) {
          while (r_len > 0 && is_ascii_space(text[r_off])) { ++r_off; --r_len; }
        }
        off = r_off;
        len = r_len;
      }
      if (!matched) {
        next.push_back(f);
      } else if (len > 0) {
        next.push_back({kNoToken, off, len});
      }
    }
    frags.swap(next);
  }
  return frags;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  std::vector<int32_t> out;
  const std::vector<Fragment> frags = partition(text, parse_special);
  const bool with_bos = add_special && vocab_.add_bos && vocab_.bos != kNoToken;
  const bool with_eos = add_special && vocab_.add_eos && vocab_.eos != kNoToken;
  if (with_bos) out.push_back(vocab_.bos);
  if (vocab_.type == VocabType::kSpm) {
    bool prev_special = true;  // the first fragment gets the dummy-prefix space
    for (const Fragment& f : frags) {
      if (f.token != kNoToken) {
        out.push_back(f.token);
        prev_special = true;
        continue;
      }
      std::string piece;
      if (vocab_.add_space_prefix && prev_special) piece = " ";
      piece.append(text.substr(f.offset, f.len));
      encode_spm(escape_spaces(piece), out);
      prev_special = false;
    }
  } else if (vocab_.type == VocabType::kWpm) {
    for (const Fragment& f : frags) {
      if (f.token != kNoToken) out.push_back(f.token);
      else encode_wpm(text.substr(f.offset, f.len), out);
    }
  } else {
    for (const Fragment& f : frags) {
      if (f.token != kNoToken) out.push_back(f.token);
      else encode_bpe(text.substr(f.offset, f.len), out);
    }
  }
  if (with_eos) out.push_back(vocab_.eos);
  return out;
}

int32_t Tokenizer::byte_to_token(uint8_t byte) const {
  if (vocab_.type == VocabType::kSpm) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    const char buf[7] = {'<', '0', 'x', kHex[byte >> 4], kHex[byte & 15], '>', 0};
    int32_t id = find_token(std::string_view(buf, 6));
    if (id != kNoToken) return id;
    // Vocabularies without byte tokens: the byte itself, else <unk>.
    id = find_token(std::string_view(reinterpret_cast<const char*>(&byte), 1));
    return id != kNoToken ? id : vocab_.unk;
  }
  const int32_t id = find_token(byte_map_.encode_byte(byte));
  return id != kNoToken ? id : vocab_.unk;
}

std::string Tokenizer::token_to_piece(int32_t id, bool special) const {
  if (id < 0 || id >= n_vocab()) return {};
  const TokenData& td = vocab_.tokens[id];
  const uint32_t special_attr = kAttrUnknown | kAttrControl;
  if (td.attr & (special_attr | kAttrUserDefined)) {
    if (!special && (td.attr & special_attr)) return {};
    return td.text;
  }
  if (vocab_.type == VocabType::kSpm || vocab_.type == VocabType::kWpm) {  // llama.cpp groups WPM with SPM here
    if (td.attr & kAttrNormal) return unescape_spaces(td.text);
    if (td.attr & kAttrByte) {
      if (td.text.size() == 6 && td.text.compare(0, 3, "<0x") == 0) {
        return std::string(1, static_cast<char>(std::strtol(td.text.c_str() + 3, nullptr, 16)));
      }
      return td.text;
    }
    return {};
  }
  if (td.attr & kAttrNormal) {
    std::string out;
    for (uint32_t cpt : utf8_to_cpts(td.text)) {
      const int b = byte_map_.decode_cpt(cpt);
      if (b >= 0) {
        out.push_back(static_cast<char>(b));
      } else {  // not a byte-level character: llama.cpp marks it
        std::string utf8 = cpt_to_utf8(cpt);
        out += "[UNK_BYTE_0x";
        for (char c : utf8) out += fmt::format("{:02x}", static_cast<uint8_t>(c));
        out += td.text + "]";
      }
    }
    return out;
  }
  return {};
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, DecodeOptions opts) const {
  size_t begin = 0, end = ids.size();
  bool remove_space = vocab_.add_space_prefix;
  if (opts.remove_special && vocab_.add_bos && end > begin && ids[begin] == vocab_.bos) {
    remove_space = false;
    ++begin;
  }
  if (opts.remove_special && vocab_.add_eos && end > begin && ids[end - 1] == vocab_.eos) --end;
  std::string text;
  for (size_t i = begin; i < end; ++i) {
    std::string piece = token_to_piece(ids[i], opts.unparse_special);
    size_t skip = 0;
    if (remove_space && !piece.empty() && piece[0] == ' ') skip = 1;
    text.append(piece, skip, std::string::npos);
    remove_space = false;
  }
  if (vocab_.clean_spaces) clean_spaces(text);
  return text;
}

}  // namespace quorum::tokenizer
