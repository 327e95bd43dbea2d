// llama.cpp's own tokenizer test vectors (shared/models/vocab-llamacpp/*.inp/.out, made by
// llama.cpp's test-tokenizer-0 with add_special = false, parse_special = false): every pair
// whose vocabulary we have must match id for id. Pairs without a usable vocabulary are reported
// as skipped with the reason, never dropped silently. Also checks decode(encode(s)) == s.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "testing/shared_data.h"
#include "tokenizer/tokenizer.h"

namespace quorum::tokenizer {
namespace {

using quorum::testing::read_file;
using quorum::testing::shared_path;

constexpr std::string_view kSep = "\n__ggml_vocab_test__\n";

std::vector<std::string> split_inp(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t e = s.find(kSep, pos);
    if (e == std::string::npos) break;
    out.push_back(s.substr(pos, e - pos));
    pos = e + kSep.size();
  }
  return out;
}

std::vector<std::vector<int32_t>> parse_out(const std::string& s) {
  std::vector<std::vector<int32_t>> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<int32_t> ids;
    int64_t id = 0;
    while (ls >> id) ids.push_back(static_cast<int32_t>(id));
    out.push_back(std::move(ids));
  }
  return out;
}

// The vocab for a pair: its GGUF, or the Hugging Face tokenizer the README names for it.
struct Source {
  std::string path;  // "" = none available
  std::string pre;   // for HF tokenizers
  std::string why;   // reason when none
};

Source source_for(const std::string& name) {  // name like "ggml-vocab-gpt-2"
  const std::string dir = shared_path("models/vocab-llamacpp");
  const std::string gguf = dir + "/" + name + ".gguf";
  if (std::filesystem::exists(gguf)) return {gguf, "", ""};
  const std::string tok = shared_path("models/tokenizers");
  if (name == "ggml-vocab-llama-bpe") return {tok + "/llama3-hf", "llama-bpe", ""};
  if (name == "ggml-vocab-qwen2") return {tok + "/qwen3-hf", "qwen2", ""};
  if (name == "ggml-vocab-deepseek-r1-qwen") return {tok + "/qwen3-hf", "deepseek-r1-qwen", ""};
  return {"", "", "its vocabulary GGUF is not in shared/models and no equivalent tokenizer is"};
}

Result<std::shared_ptr<const Tokenizer>> load(const Source& src) {
  if (src.path.size() > 5 && src.path.compare(src.path.size() - 5, 5, ".gguf") == 0) {
    return Tokenizer::from_gguf_path(src.path);
  }
  QUORUM_ASSIGN_OR_RETURN(Vocab v, Vocab::from_hf(src.path, src.pre));
  return Tokenizer::create(std::move(v));
}

std::vector<std::string> pair_names() {
  std::vector<std::string> names;
  // Runs at registration time, outside any test: no gtest assertions here.
  const char* env = std::getenv("QUORUM_SHARED_DIR");
  const std::filesystem::path dir =
      std::filesystem::path(env != nullptr ? env : QUORUM_SHARED_DIR) / "models/vocab-llamacpp";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return {"missing-shared-folder"};
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    if (f.size() > 9 && f.compare(f.size() - 9, 9, ".gguf.inp") == 0) {
      names.push_back(f.substr(0, f.size() - 9));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string ids_str(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += " " + std::to_string(id);
  return s;
}

class VocabGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabGolden, MatchesLlamaCpp) {
  const std::string name = GetParam();
  const std::string base = shared_path("models/vocab-llamacpp") + "/" + name + ".gguf";
  const auto inputs = split_inp(read_file(base + ".inp"));
  const auto expected = parse_out(read_file(base + ".out"));
  ASSERT_EQ(inputs.size(), expected.size()) << name;
  ASSERT_GT(inputs.size(), 10u);

  const Source src = source_for(name);
  if (src.path.empty()) GTEST_SKIP() << "NOT TESTED " << name << ": " << src.why;
  auto tok = load(src);
  if (!tok && tok.status().code() == ErrorCode::kUnsupported) {
    GTEST_SKIP() << "NOT TESTED " << name << ": " << tok.status().to_string();
  }
  ASSERT_TRUE(tok) << tok.status().to_string();
  int failures = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto got = (*tok)->encode(inputs[i], /*add_special=*/false, /*parse_special=*/false);
    if (got != expected[i]) ++failures;
    EXPECT_EQ(got, expected[i]) << name << " string " << i << " '" << inputs[i] << "'\n got:"
                                << ids_str(got) << "\nwant:" << ids_str(expected[i]);
  }
  std::printf("[vocab] %-32s %zu strings, %d mismatches (%s)\n", name.c_str(), inputs.size(),
              failures, src.path.c_str());
}

// decode(encode(s)) == s where the tokenizer is lossless. Tokenizers that clean up spaces on
// decode (clean_up_tokenization_spaces) are not; for them the concatenated pieces must give s.
TEST_P(VocabGolden, RoundTrips) {
  const std::string name = GetParam();
  const Source src = source_for(name);
  if (src.path.empty()) GTEST_SKIP() << "NOT TESTED " << name << ": " << src.why;
  auto tok = load(src);
  if (!tok && tok.status().code() == ErrorCode::kUnsupported) GTEST_SKIP() << tok.status().to_string();
  ASSERT_TRUE(tok) << tok.status().to_string();
  const std::string base = shared_path("models/vocab-llamacpp") + "/" + name + ".gguf";
  const auto inputs = split_inp(read_file(base + ".inp"));
  const bool cleans = (*tok)->vocab().clean_spaces;
  // WordPiece is lossy by design (lower-cases, strips accents, drops control characters): there
  // the property is that decoding and re-encoding gives the same ids (strings with [UNK] aside).
  const bool wpm = (*tok)->vocab().type == VocabType::kWpm;
  int n_ok = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto ids = (*tok)->encode(inputs[i], false, false);
    if (wpm) {
      if (std::find(ids.begin(), ids.end(), (*tok)->vocab().unk) != ids.end()) {
        ++n_ok;
        continue;
      }
      const auto again = (*tok)->encode((*tok)->decode(ids), false, false);
      EXPECT_EQ(again, ids) << name << " string " << i;
      n_ok += again == ids;
    } else if (cleans) {
      std::string cat;
      for (int32_t id : ids) cat += (*tok)->token_to_piece(id);
      EXPECT_EQ(cat, inputs[i]) << name << " string " << i;
      n_ok += cat == inputs[i];
    } else {
      const std::string back = (*tok)->decode(ids);
      EXPECT_EQ(back, inputs[i]) << name << " string " << i;
      n_ok += back == inputs[i];
    }
  }
  std::printf("[roundtrip] %-32s %d/%zu via %s\n", name.c_str(), n_ok, inputs.size(),
              wpm ? "re-encoding the decoded text" : cleans ? "pieces (decode cleans spaces)" : "decode");
}

INSTANTIATE_TEST_SUITE_P(Pairs, VocabGolden, ::testing::ValuesIn(pair_names()),
                         [](const auto& info) {
                           std::string n = info.param.substr(std::string("ggml-vocab-").size());
                           for (char& c : n) if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace quorum::tokenizer
