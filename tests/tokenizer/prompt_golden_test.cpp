// The prompts llama.cpp tokenized for the golden generations (shared/golden/*/greedy.jsonl,
// `prompt_tokens`, BOS added per metadata, specials not parsed) must tokenize identically, for
// every model there.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "testing/shared_data.h"
#include "tokenizer/tokenizer.h"

namespace quorum::tokenizer {
namespace {

using quorum::testing::shared_path;

// The GGUF a golden folder was made from (qt-base.<TYPE> share qt-base's tokenizer).
std::string model_for(const std::string& name) {
  if (name == "stories260K") return shared_path("models/stories260K/stories260K.gguf");
  if (name == "llama-2-tiny-random") {
    return shared_path("models/llama-2-tiny-random/llama-2-tiny-random.gguf");
  }
  const std::string base = name.substr(0, name.find('.'));
  return shared_path("taskmodels/" + base + ".gguf");
}

TEST(PromptGolden, EveryGoldenPromptTokenizesLikeLlamaCpp) {
  int n_models = 0, n_prompts = 0;
  std::vector<std::filesystem::path> dirs;
  for (const auto& e : std::filesystem::directory_iterator(shared_path("golden"))) {
    if (std::filesystem::exists(e.path() / "greedy.jsonl")) dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  ASSERT_GE(dirs.size(), 5u);
  for (const auto& dir : dirs) {
    const std::string name = dir.filename().string();
    auto tok = Tokenizer::from_gguf_path(model_for(name));
    ASSERT_TRUE(tok) << name << ": " << tok.status().to_string();
    std::ifstream in(dir / "greedy.jsonl");
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const auto j = nlohmann::json::parse(line);
      const std::string prompt = j.at("prompt").get<std::string>();
      const auto want = j.at("prompt_tokens").get<std::vector<int32_t>>();
      const auto got = (*tok)->encode(prompt, /*add_special=*/true, /*parse_special=*/false);
      EXPECT_EQ(got, want) << name << " prompt " << n << ": '" << prompt << "'";
      // Without the BOS the text comes back exactly.
      EXPECT_EQ((*tok)->decode((*tok)->encode(prompt, false, false)), prompt) << name;
      ++n;
    }
    EXPECT_GT(n, 0) << name;
    std::printf("[prompts] %-22s %d prompts\n", name.c_str(), n);
    ++n_models;
    n_prompts += n;
  }
  std::printf("[prompts] %d models, %d prompts\n", n_models, n_prompts);
}

}  // namespace
}  // namespace quorum::tokenizer
