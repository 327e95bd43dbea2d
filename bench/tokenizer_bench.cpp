// Tokenizer speed: encoding 1 MB of real text (the first 1 MB of wikitext-2 test) with a
// SentencePiece vocabulary (Llama-2, 32k) and byte-level BPE vocabularies (GPT-2 50k, Llama-3
// 128k), plus adversarial inputs (1 MB of spaces, one 1 MB word, 1 MB of digits) that would
// expose anything quadratic in the input length.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "tokenizer/tokenizer.h"

namespace {

using quorum::tokenizer::Tokenizer;
using quorum::tokenizer::Vocab;

constexpr size_t kBytes = 1 << 20;

std::string shared(const std::string& rel) {
  const char* env = std::getenv("QUORUM_SHARED_DIR");
  return std::string(env != nullptr ? env : QUORUM_SHARED_DIR) + "/" + rel;
}

const std::string& wiki_1mb() {
  static const std::string text = [] {
    std::ifstream in(shared("data/wikitext2_raw/wiki.test.raw"), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    if (s.size() > kBytes) s.resize(kBytes);
    // Do not cut a UTF-8 character in half.
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
    return s;
  }();
  return text;
}

std::shared_ptr<const Tokenizer> load(const std::string& which) {
  static std::map<std::string, std::shared_ptr<const Tokenizer>> cache;  // bench-local
  auto it = cache.find(which);
  if (it != cache.end()) return it->second;
  std::shared_ptr<const Tokenizer> tok;
  if (which == "llama3") {
    auto v = Vocab::from_hf(shared("models/tokenizers/llama3-hf"));
    if (v) {
      auto t = Tokenizer::create(std::move(*v));
      if (t) tok = *t;
    }
  } else {
    auto t = Tokenizer::from_gguf_path(shared("models/vocab-llamacpp/ggml-vocab-" + which + ".gguf"));
    if (t) tok = *t;
  }
  cache[which] = tok;
  return tok;
}

void run(benchmark::State& state, const std::string& which, const std::string& text) {
  auto tok = load(which);
  if (!tok) {
    state.SkipWithError("cannot load the tokenizer");
    return;
  }
  size_t n_tokens = 0;
  for (auto _ : state) {
    auto ids = tok->encode(text, true, false);
    n_tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(n_tokens);
}

void BM_Wiki1MB(benchmark::State& state, const char* which) { run(state, which, wiki_1mb()); }
void BM_Spaces1MB(benchmark::State& state, const char* which) {
  run(state, which, std::string(kBytes, ' ') + "end");
}
void BM_OneWord1MB(benchmark::State& state, const char* which) {
  std::string w;
  w.reserve(kBytes);
  while (w.size() < kBytes) w += "abcdefghijklmnopqrstuvwxyz";
  run(state, which, w);
}
void BM_Digits1MB(benchmark::State& state, const char* which) {
  std::string d;
  d.reserve(kBytes);
  while (d.size() < kBytes) d += "0123456789";
  run(state, which, d);
}

#define QUORUM_TOK_BENCH(fn)                                                  \
  BENCHMARK_CAPTURE(fn, spm_llama, "llama-spm")->Unit(benchmark::kMillisecond); \
  BENCHMARK_CAPTURE(fn, bpe_gpt2, "gpt-2")->Unit(benchmark::kMillisecond);      \
  BENCHMARK_CAPTURE(fn, bpe_llama3, "llama3")->Unit(benchmark::kMillisecond)

QUORUM_TOK_BENCH(BM_Wiki1MB);
QUORUM_TOK_BENCH(BM_Spaces1MB);
QUORUM_TOK_BENCH(BM_OneWord1MB);
QUORUM_TOK_BENCH(BM_Digits1MB);

}  // namespace

BENCHMARK_MAIN();
