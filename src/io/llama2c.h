// llama2.c model files (.bin) and the vocabularies that go with them, imported into the GGUF
// vocabulary (llama architecture, GGUF tensor names, tokenizer.ggml.* keys).
//
// v0 (legacy) header: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
// seq_len); a negative vocab_size means the classifier is not tied to the embeddings. Then F32
// weights in llama2.c order: token_embedding (vocab, dim), rms_att (layer, dim),
// wq (layer, n_heads*hs, dim), wk, wv (layer, n_kv_heads*hs, dim), wo (layer, dim, n_heads*hs),
// rms_ffn (layer, dim), w1 (layer, hidden, dim), w2 (layer, dim, hidden), w3 (layer, hidden, dim),
// rms_final (dim), freq_cis_real and _imag (seq_len, hs/2) each, and wcls (vocab, dim) if untied.
// v1 header ("ak42" magic, version 1, the 7 ints, a shared-classifier byte, padded to 256 bytes),
// then rms_final, rms_att, rms_ffn, token_embedding, wq, wk, wv, wo, w1, w2, w3 [, wcls].
// llama2.c trains with interleaved-pair RoPE, which is GGUF's layout: Q/K rows are kept as is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/gguf.h"

namespace quorum::llama2c {

struct Config {
  int32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0,
          seq_len = 0;
  bool shared_classifier = true;
  int version = 0;          // 0 (legacy) or 1
  size_t header_bytes = 0;  // where the weights start
};

// Reads and validates the header against the file size.
Result<Config> read_config(const uint8_t* data, size_t size, const std::string& where);
// True when the first bytes look like a llama2.c checkpoint (v1 magic, or a v0 header whose
// sizes add up to exactly the file size).
bool looks_like_llama2c(const uint8_t* data, size_t size);

// GGUF token types (llama.cpp's llama_token_type).
enum TokenType : int32_t {
  kTokenNormal = 1, kTokenUnknown = 2, kTokenControl = 3, kTokenUserDefined = 4,
  kTokenUnused = 5, kTokenByte = 6,
};

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
};
// Reads llama2.c's tokenizer.bin, a SentencePiece .model, a .vocab text file (piece<TAB>score)
// or a GGUF's tokenizer.ggml.* keys, chosen by content and extension.
Result<Vocab> read_vocab(const std::string& path);
Result<Vocab> parse_tokenizer_bin(const uint8_t* data, size_t size, const std::string& where);
Result<Vocab> parse_sentencepiece_model(const uint8_t* data, size_t size, const std::string& where);
Result<Vocab> parse_vocab_text(const std::string& text, const std::string& where);
// The tokenizer.ggml.* keys llama.cpp's convert-llama2c writes (model "llama", bos 1, eos 2,
// unk 0).
std::vector<std::pair<std::string, gguf::Value>> vocab_metadata(const Vocab& v);

// Imports a llama2.c checkpoint; `vocab_path` may be empty (no tokenizer keys then).
Result<gguf::File> open(const std::string& path, const std::string& vocab_path);

}  // namespace quorum::llama2c
