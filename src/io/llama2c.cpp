// llama2.c checkpoint import: header validation, weights re-labelled with GGUF names (the bytes
// are used in place, they are already row-major F32 in ggml's order), and the vocab readers.
#include "io/llama2c.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/mmap_file.h"

namespace quorum::llama2c {
namespace {

constexpr uint32_t kMagicV1 = 0x616b3432;  // "ak42"
constexpr size_t kHeaderV1 = 256;

// Number of F32 values the checkpoint must hold after the header (without freq_cis for v1).
// Returns 0 on overflow.
uint64_t expected_floats(const Config& c) {
  const uint64_t dim = c.dim, hid = c.hidden_dim, L = c.n_layers, V = c.vocab_size;
  const uint64_t hs = dim / c.n_heads, kv = static_cast<uint64_t>(c.n_kv_heads) * hs;
  uint64_t n = V * dim + L * dim * 2 + L * dim * dim * 2 + L * dim * kv * 2 + L * dim * hid * 3 + dim;
  if (c.version == 0) n += static_cast<uint64_t>(c.seq_len) * hs;  // freq_cis real + imag
  if (!c.shared_classifier) n += V * dim;
  return n;
}

Status check_config(const Config& c, const std::string& where) {
  const int32_t kLimit = 1 << 20;
  auto bad = [&](const std::string& what) {
    return Error(ErrorCode::kCorruptFile, "llama2.c header: " + what)
        .where(where)
        .actual(fmt::format("dim {} hidden {} layers {} heads {} kv_heads {} vocab {} seq_len {}",
                            c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads,
                            c.vocab_size, c.seq_len));
  };
  for (int32_t v : {c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len}) {
    if (v <= 0 || v > kLimit) return bad("a size is zero, negative or above 2^20");
  }
  if (c.dim % c.n_heads != 0 || (c.dim / c.n_heads) % 2 != 0) {
    return bad("dim is not a multiple of an even head size");
  }
  if (c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads != 0) {
    return bad("n_heads is not a multiple of n_kv_heads");
  }
  return Status::ok();
}

}  // namespace

Result<Config> read_config(const uint8_t* data, size_t size, const std::string& where) {
  Config c;
  int32_t h[9] = {0};
  if (size >= 8 && std::memcmp(data, &kMagicV1, 4) == 0) {
    if (size < kHeaderV1) {
      return Error(ErrorCode::kCorruptFile, "llama2.c v1 file is shorter than its header").where(where);
    }
    std::memcpy(h, data, sizeof(h));
    if (h[1] != 1) {
      return Error(ErrorCode::kUnsupported, "unsupported llama2.c checkpoint version")
          .where(where)
          .expected("0 (legacy) or 1 (float32)")
          .actual(std::to_string(h[1]))
          .hint("version 2 is llama2.c's int8 export; export as float32 instead");
    }
    c.version = 1;
    c.dim = h[2], c.hidden_dim = h[3], c.n_layers = h[4], c.n_heads = h[5], c.n_kv_heads = h[6],
    c.vocab_size = h[7], c.seq_len = h[8];
    c.shared_classifier = data[36] != 0;
    c.header_bytes = kHeaderV1;
  } else {
    if (size < 28) {
      return Error(ErrorCode::kCorruptFile, "file is shorter than a llama2.c header")
          .where(where)
          .expected("at least 28 bytes")
          .actual(fmt::format("{} bytes", size));
    }
    std::memcpy(h, data, 28);
    c.dim = h[0], c.hidden_dim = h[1], c.n_layers = h[2], c.n_heads = h[3], c.n_kv_heads = h[4],
    c.vocab_size = h[5], c.seq_len = h[6];
    c.shared_classifier = c.vocab_size > 0;
    if (c.vocab_size < 0 && c.vocab_size != std::numeric_limits<int32_t>::min()) {
      c.vocab_size = -c.vocab_size;
    }
    c.header_bytes = 28;
  }
  QUORUM_TRY(check_config(c, where));
  const uint64_t n_floats = expected_floats(c);
  const uint64_t want = n_floats <= size / 4 ? n_floats * 4 + c.header_bytes : 0;
  if (want != size) {
    return Error(ErrorCode::kCorruptFile, "llama2.c file size does not match its header")
        .where(where)
        .expected(fmt::format("{} floats after the {}-byte header", n_floats, c.header_bytes))
        .actual(fmt::format("{} bytes", size))
        .hint("the file is truncated, or not a llama2.c float32 checkpoint");
  }
  return c;
}

bool looks_like_llama2c(const uint8_t* data, size_t size) {
  return read_config(data, size, "").is_ok();
}

Result<gguf::File> open(const std::string& path, const std::string& vocab_path) {
  auto mapped = MappedFile::open(path);
  if (!mapped) return mapped.status();
  std::shared_ptr<MappedFile> m = *mapped;
  QUORUM_ASSIGN_OR_RETURN(const Config c, read_config(m->data(), m->size(), path));
  const int64_t dim = c.dim, hid = c.hidden_dim, V = c.vocab_size;
  const int64_t hs = dim / c.n_heads, kv = static_cast<int64_t>(c.n_kv_heads) * hs;
  const uint8_t* p = m->data() + c.header_bytes;
  std::vector<gguf::TensorInfo> tensors;
  // Takes the next per-layer block (n_layers tensors of shape ne) or one global tensor.
  auto take = [&](const std::string& name, std::vector<int64_t> ne, bool per_layer) {
    const size_t nbytes = static_cast<size_t>(ne[0] * (ne.size() > 1 ? ne[1] : 1)) * 4;
    const int layers = per_layer ? c.n_layers : 1;
    for (int l = 0; l < layers; ++l) {
      gguf::TensorInfo t;
      t.name = per_layer ? fmt::format("blk.{}.{}", l, name) : name;
      t.type = DType::kF32;
      t.ne = ne;
      t.data = p;
      t.nbytes = nbytes;
      p += nbytes;
      tensors.push_back(std::move(t));
    }
  };
  auto take_layers = [&]() {
    take("attn_q.weight", {dim, dim}, true);
    take("attn_k.weight", {dim, kv}, true);
    take("attn_v.weight", {dim, kv}, true);
    take("attn_output.weight", {dim, dim}, true);
    take("ffn_gate.weight", {dim, hid}, true);
    take("ffn_down.weight", {hid, dim}, true);
    take("ffn_up.weight", {dim, hid}, true);
  };
  if (c.version == 0) {
    take("token_embd.weight", {dim, V}, false);
    take("attn_norm.weight", {dim}, true);
    const uint8_t* after_att_norm = p;
    // wq..wo sit between attn_norm and ffn_norm; ffn_norm comes before w1..w3.
    p += static_cast<size_t>(c.n_layers) * (dim * dim * 2 + dim * kv * 2) * 4;
    take("ffn_norm.weight", {dim}, true);
    const uint8_t* after_ffn_norm = p;
    p = after_att_norm;
    take("attn_q.weight", {dim, dim}, true);
    take("attn_k.weight", {dim, kv}, true);
    take("attn_v.weight", {dim, kv}, true);
    take("attn_output.weight", {dim, dim}, true);
    p = after_ffn_norm;
    take("ffn_gate.weight", {dim, hid}, true);
    take("ffn_down.weight", {hid, dim}, true);
    take("ffn_up.weight", {dim, hid}, true);
    take("output_norm.weight", {dim}, false);
    p += static_cast<size_t>(c.seq_len) * hs * 4;  // freq_cis_real, freq_cis_imag
  } else {
    take("output_norm.weight", {dim}, false);
    take("attn_norm.weight", {dim}, true);
    take("ffn_norm.weight", {dim}, true);
    take("token_embd.weight", {dim, V}, false);
    take_layers();
  }
  if (!c.shared_classifier) take("output.weight", {dim, V}, false);
  // GGUF's usual order: global tensors, then block by block.
  auto layer_of = [](const std::string& n) {
    return n.starts_with("blk.") ? std::stoll(n.substr(4, n.find('.', 4) - 4)) : -1LL;
  };
  std::stable_sort(tensors.begin(), tensors.end(), [&](const auto& a, const auto& b) {
    return layer_of(a.name) < layer_of(b.name);
  });

  std::vector<std::pair<std::string, gguf::Value>> kv_meta;
  auto u32 = [](int64_t v) { return gguf::Value::u32(static_cast<uint32_t>(v)); };
  kv_meta.emplace_back("general.architecture", gguf::Value::str("llama"));
  kv_meta.emplace_back("general.name", gguf::Value::str(std::filesystem::path(path).stem().string()));
  kv_meta.emplace_back("llama.context_length", u32(c.seq_len));
  kv_meta.emplace_back("llama.embedding_length", u32(dim));
  kv_meta.emplace_back("llama.feed_forward_length", u32(hid));
  kv_meta.emplace_back("llama.attention.head_count", u32(c.n_heads));
  kv_meta.emplace_back("llama.attention.head_count_kv", u32(c.n_kv_heads));
  kv_meta.emplace_back("llama.block_count", u32(c.n_layers));
  kv_meta.emplace_back("llama.rope.dimension_count", u32(hs));
  kv_meta.emplace_back("llama.attention.layer_norm_rms_epsilon", gguf::Value::f32(1e-5f));
  if (!vocab_path.empty()) {
    QUORUM_ASSIGN_OR_RETURN(const Vocab v, read_vocab(vocab_path));
    if (static_cast<int64_t>(v.tokens.size()) != V) {
      return Error(ErrorCode::kInvalidArgument, "vocabulary size does not match the model")
          .where(path + " with vocab " + vocab_path)
          .expected(fmt::format("{} tokens", V))
          .actual(fmt::format("{} tokens", v.tokens.size()));
    }
    for (auto& kvp : vocab_metadata(v)) kv_meta.push_back(std::move(kvp));
  }
  return gguf::File::from_parts(path, std::move(kv_meta), std::move(tensors), m);
}

}  // namespace quorum::llama2c

// ---- vocabularies ------------------------------------------------------------------------------

namespace quorum::llama2c {
namespace {

// GGUF token type of a piece when the source does not say (tokenizer.bin, .vocab).
int32_t guess_type(size_t id, const std::string& piece) {
  if (id == 0) return kTokenUnknown;
  if (id == 1 || id == 2) return kTokenControl;
  if (piece.size() == 6 && piece.starts_with("<0x") && piece.back() == '>') return kTokenByte;
  return kTokenNormal;
}

// Minimal protobuf wire-format reader (varints, fixed 32/64, length-delimited).
class Proto {
 public:
  Proto(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  bool done() const { return p_ >= end_; }
  bool varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return false;
      const uint8_t b = *p_++;
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  // Reads a field key; on success *payload/*len describe length-delimited data or fixed32.
  bool field(uint32_t* number, uint32_t* wire, const uint8_t** payload, uint64_t* value) {
    uint64_t key = 0;
    if (!varint(&key)) return false;
    *number = static_cast<uint32_t>(key >> 3);
    *wire = static_cast<uint32_t>(key & 7);
    switch (*wire) {
      case 0: return varint(value);
      case 1: if (end_ - p_ < 8) return false; *payload = p_; p_ += 8; return true;
      case 5: if (end_ - p_ < 4) return false; *payload = p_; p_ += 4; return true;
      case 2:
        if (!varint(value) || *value > static_cast<uint64_t>(end_ - p_)) return false;
        *payload = p_;
        p_ += *value;
        return true;
      default: return false;
    }
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

Error bad_vocab(const std::string& what, const std::string& where) {
  return Error(ErrorCode::kCorruptFile, what).where(where);
}

}  // namespace

Result<Vocab> parse_tokenizer_bin(const uint8_t* data, size_t size, const std::string& where) {
  if (size < 4) return bad_vocab("tokenizer.bin is shorter than its header", where);
  int32_t max_len = 0;
  std::memcpy(&max_len, data, 4);
  if (max_len <= 0 || max_len > (1 << 16)) {
    return bad_vocab("tokenizer.bin max_token_length is implausible", where)
        .expected("1..65536")
        .actual(std::to_string(max_len));
  }
  Vocab v;
  size_t p = 4;
  while (p < size) {
    if (size - p < 8) return bad_vocab("tokenizer.bin ends inside a token header", where);
    float score = 0;
    int32_t len = 0;
    std::memcpy(&score, data + p, 4);
    std::memcpy(&len, data + p + 4, 4);
    p += 8;
    if (len < 0 || len > max_len || static_cast<size_t>(len) > size - p) {
      return bad_vocab(fmt::format("tokenizer.bin token {} has an impossible length", v.tokens.size()), where)
          .expected(fmt::format("0..{}", max_len))
          .actual(std::to_string(len));
    }
    std::string t(reinterpret_cast<const char*>(data + p), static_cast<size_t>(len));
    p += static_cast<size_t>(len);
    // llama2.c's export wrote BOS/EOS as "\n<s>\n" / "\n</s>\n" and "▁" as a space.
    if (t == "\n<s>\n") t = "<s>";
    if (t == "\n</s>\n") t = "</s>";
    std::string piece;
    for (char ch : t) piece += ch == ' ' ? std::string("\xe2\x96\x81") : std::string(1, ch);
    v.types.push_back(guess_type(v.tokens.size(), piece));
    v.tokens.push_back(std::move(piece));
    v.scores.push_back(score);
  }
  return v;
}

Result<Vocab> parse_sentencepiece_model(const uint8_t* data, size_t size, const std::string& where) {
  // ModelProto: field 1 = repeated SentencePiece {1: piece (string), 2: score (float),
  // 3: type (enum, default NORMAL = 1)}; the enum values equal GGUF's token types.
  Vocab v;
  Proto top(data, size);
  while (!top.done()) {
    uint32_t num = 0, wire = 0;
    const uint8_t* pl = nullptr;
    uint64_t val = 0;
    if (!top.field(&num, &wire, &pl, &val)) return bad_vocab("malformed SentencePiece model protobuf", where);
    if (num != 1 || wire != 2) continue;
    Proto sp(pl, val);
    std::string piece;
    float score = 0;
    int32_t type = kTokenNormal;
    while (!sp.done()) {
      uint32_t n2 = 0, w2 = 0;
      const uint8_t* p2 = nullptr;
      uint64_t v2 = 0;
      if (!sp.field(&n2, &w2, &p2, &v2)) return bad_vocab("malformed SentencePiece piece", where);
      if (n2 == 1 && w2 == 2) piece.assign(reinterpret_cast<const char*>(p2), v2);
      if (n2 == 2 && w2 == 5) std::memcpy(&score, p2, 4);
      if (n2 == 3 && w2 == 0) {
        if (v2 < 1 || v2 > 6) {
          return bad_vocab("SentencePiece piece has an unknown type", where).actual(std::to_string(v2));
        }
        type = static_cast<int32_t>(v2);
      }
    }
    v.tokens.push_back(std::move(piece));
    v.scores.push_back(score);
    v.types.push_back(type);
  }
  if (v.tokens.empty()) return bad_vocab("SentencePiece model has no pieces", where);
  return v;
}

Result<Vocab> parse_vocab_text(const std::string& text, const std::string& where) {
  Vocab v;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    const size_t tab = line.rfind('\t');
    if (tab == std::string::npos) {
      return bad_vocab(fmt::format(".vocab line {} has no tab", line_no), where)
          .expected("piece<TAB>score");
    }
    float score = 0;
    try {
      size_t used = 0;
      score = std::stof(line.substr(tab + 1), &used);
    } catch (const std::exception&) {
      return bad_vocab(fmt::format(".vocab line {} has no numeric score", line_no), where)
          .actual(line.substr(tab + 1));
    }
    std::string piece = line.substr(0, tab);
    v.types.push_back(guess_type(v.tokens.size(), piece));
    v.tokens.push_back(std::move(piece));
    v.scores.push_back(score);
  }
  if (v.tokens.empty()) return bad_vocab(".vocab file is empty", where);
  return v;
}

Result<Vocab> read_vocab(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped) return mapped.status();
  const std::shared_ptr<MappedFile>& m = *mapped;
  const std::string ext = std::filesystem::path(path).extension().string();
  if (m->size() >= 4 && std::memcmp(m->data(), "GGUF", 4) == 0) {
    QUORUM_ASSIGN_OR_RETURN(const gguf::File f, gguf::File::open(path));
    Vocab v;
    QUORUM_ASSIGN_OR_RETURN(v.tokens, f.get_string_array("tokenizer.ggml.tokens"));
    QUORUM_ASSIGN_OR_RETURN(const auto scores, f.get_float_array("tokenizer.ggml.scores"));
    QUORUM_ASSIGN_OR_RETURN(const auto types, f.get_int_array("tokenizer.ggml.token_type"));
    if (scores.size() != v.tokens.size() || types.size() != v.tokens.size()) {
      return bad_vocab("tokenizer arrays differ in length", path);
    }
    for (double s : scores) v.scores.push_back(static_cast<float>(s));
    for (int64_t t : types) v.types.push_back(static_cast<int32_t>(t));
    return v;
  }
  if (ext == ".model") return parse_sentencepiece_model(m->data(), m->size(), path);
  if (ext == ".vocab") {
    return parse_vocab_text(std::string(reinterpret_cast<const char*>(m->data()), m->size()), path);
  }
  if (ext == ".bin") return parse_tokenizer_bin(m->data(), m->size(), path);
  return Error(ErrorCode::kUnsupported, "unknown vocabulary file type")
      .where(path)
      .expected("tokenizer.bin, a SentencePiece .model, a .vocab text file or a GGUF");
}

std::vector<std::pair<std::string, gguf::Value>> vocab_metadata(const Vocab& v) {
  std::vector<std::pair<std::string, gguf::Value>> m;
  m.emplace_back("tokenizer.ggml.model", gguf::Value::str("llama"));
  m.emplace_back("tokenizer.ggml.tokens", gguf::Value::string_array(v.tokens));
  m.emplace_back("tokenizer.ggml.scores", gguf::Value::f32_array(v.scores));
  m.emplace_back("tokenizer.ggml.token_type", gguf::Value::i32_array(v.types));
  m.emplace_back("tokenizer.ggml.unknown_token_id", gguf::Value::u32(0));
  m.emplace_back("tokenizer.ggml.bos_token_id", gguf::Value::u32(1));
  m.emplace_back("tokenizer.ggml.eos_token_id", gguf::Value::u32(2));
  return m;
}

}  // namespace quorum::llama2c
