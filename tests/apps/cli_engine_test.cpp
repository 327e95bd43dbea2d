// `quorum run`, `quorum chat` and `quorum perplexity` run as a user runs them: greedy output
// against llama.cpp's golden files and an independent Python reference, JSON contents, stop
// strings, seeds, chat templates, multi-turn chat over piped stdin with KV reuse, every model
// format, and a clear error with exit code 1 for each kind of bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/cli_util.h"
#include "engine/golden_util.h"
#include "engine/poisoned_model.h"

namespace quorum {
namespace {

using testing::run_quorum;
using testing::shared_path;

std::string stories() { return shared_path("models/stories260K/stories260K.gguf"); }

std::string write_text(const std::string& name, const std::string& text) {
  const std::string path = testing::temp_dir("txt") + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

void expect_error(const testing::CliResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST(CliRun, HelpExplainsEveryFlagWithDefaults) {
  const auto r = run_quorum({"run", "--help"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* flag : {"--prompt", "--file", "--n-predict", "--temp", "--top-k", "--top-p",
                           "--min-p", "--repeat-penalty", "--seed", "--stop", "--ctx", "--threads",
                           "--chat", "--system", "--json"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << "\n" << r.out;
  }
  // Defaults as llama.cpp's sampler chain uses them.
  for (const char* def : {"128", "0.8", "40", "0.95", "0.05"}) {
    EXPECT_NE(r.out.find(def), std::string::npos) << def;
  }
}

// Every golden case of a model through `quorum run --json --temp 0`: prompt tokens, greedy tokens
// and text identical to llama.cpp's, top-10 log-probabilities within the README's tolerance.
// The README bounds each logit's error by rel * |logit| + abs; a log-probability is a logit minus
// the log-sum-exp, whose error is at most the largest logit error, so it may differ by the sum.
void expect_run_matches_golden(const std::string& name, double rel, double abs) {
  const auto cases = testing::load_golden(name);
  ASSERT_FALSE(cases.empty());
  for (const testing::GoldenCase& c : cases) {
    const auto r = run_quorum({"run", "-m", testing::golden_model_path(name), "-p", c.prompt, "-n",
                               std::to_string(c.steps.size()), "--temp", "0", "-t", "2", "-c",
                               "1024", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    std::vector<int32_t> prompt, gen;
    for (const auto& t : j.at("prompt_tokens")) prompt.push_back(t.at("id").get<int32_t>());
    for (const auto& t : j.at("tokens")) gen.push_back(t.at("id").get<int32_t>());
    EXPECT_EQ(prompt, c.prompt_tokens) << name << ": " << c.prompt;
    EXPECT_EQ(gen, c.greedy_tokens) << name << ": " << c.prompt;
    EXPECT_EQ(j.at("text").get<std::string>(), c.greedy_text) << name << ": " << c.prompt;
    const auto& toks = j.at("tokens");
    for (size_t step = 0; step < c.steps.size() && step < toks.size(); ++step) {
      const auto& top = toks[step].at("top");
      ASSERT_EQ(top.size(), 10u);
      double max_logit = 0;
      for (const testing::GoldenTop& g : c.steps[step]) max_logit = std::max(max_logit, std::fabs(g.logit));
      const double lse_tol = rel * max_logit + abs;
      int matched = 0;
      for (const testing::GoldenTop& g : c.steps[step]) {
        for (const auto& t : top) {  // near-ties may swap order: match by id
          if (t.at("id").get<int32_t>() != g.id) continue;
          ++matched;
          EXPECT_NEAR(t.at("logprob").get<double>(), g.logprob, rel * std::fabs(g.logit) + abs + lse_tol)
              << name << " step " << step << " token " << g.id;
        }
      }
      EXPECT_GE(matched, 9) << name << " step " << step;  // at most a swap at rank 10
    }
  }
}

TEST(CliRun, GreedyJsonMatchesLlamaCppStories) { expect_run_matches_golden("stories260K", 1e-3, 1e-3); }
TEST(CliRun, GreedyJsonMatchesLlamaCppQwen2) { expect_run_matches_golden("qt-qwen", 1e-3, 1e-3); }

TEST(CliRun, StreamedTextEqualsJsonText) {
  const std::vector<std::string> base = {"run", "-m", stories(), "-p", "Once upon a time", "-n", "30", "--temp", "0"};
  const auto plain = run_quorum(base);
  auto json_args = base;
  json_args.push_back("--json");
  const auto js = run_quorum(json_args);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_EQ(js.exit_code, 0) << js.err;
  EXPECT_EQ(plain.out, nlohmann::json::parse(js.out).at("text").get<std::string>() + "\n");
  EXPECT_NE(plain.err.find("stop: length"), std::string::npos) << plain.err;
}

TEST(CliRun, PromptFileGivesTheSameOutput) {
  const std::string file = write_text("prompt.txt", "Once upon a time");
  const auto a = run_quorum({"run", "-m", stories(), "-p", "Once upon a time", "-n", "20", "--temp", "0"});
  const auto b = run_quorum({"run", "-m", stories(), "-f", file, "-n", "20", "--temp", "0"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
}

// stories260K's greedy ids from an independent Python forward pass start with the tokens of
// "Once upon a time"; the continuation after them must follow (models/derived/reference-greedy.json).
std::vector<int32_t> reference_continuation(const std::string& key) {
  const auto ref = nlohmann::json::parse(testing::read_file(shared_path("models/derived/reference-greedy.json")));
  const auto ids = ref.at(key).at("greedy_ids").get<std::vector<int32_t>>();
  return std::vector<int32_t>(ids.begin() + 4, ids.end());
}

std::vector<int32_t> generated_ids(const testing::CliResult& r) {
  std::vector<int32_t> ids;
  if (r.exit_code != 0) return ids;
  const auto j = nlohmann::json::parse(r.out);
  for (const auto& t : j.at("tokens")) ids.push_back(t.at("id").get<int32_t>());
  return ids;
}

TEST(CliRun, EveryModelFormatRuns) {
  const std::vector<std::string> common = {"-p", "Once upon a time", "-n", "28", "--temp", "0", "--json"};
  auto args = [&](std::vector<std::string> head) {
    head.insert(head.begin(), "run");
    head.insert(head.end(), common.begin(), common.end());
    return head;
  };
  const auto gguf = run_quorum(args({"-m", stories()}));
  ASSERT_EQ(gguf.exit_code, 0) << gguf.err;
  EXPECT_EQ(generated_ids(gguf), reference_continuation("stories260K/stories260K.gguf"));
  // Hugging Face layout of the same weights (no tokenizer.json there: --vocab gives it).
  const auto hf = run_quorum(args({"-m", shared_path("models/derived/stories260K-hf"), "--vocab", stories()}));
  ASSERT_EQ(hf.exit_code, 0) << hf.err;
  EXPECT_EQ(generated_ids(hf), generated_ids(gguf));
  // A llama2.c checkpoint sharing stories260K's vocabulary.
  const auto l2c = run_quorum(args({"-m", shared_path("models/llama2c-260K-saltyduckegg/model.bin"), "--vocab", stories()}));
  ASSERT_EQ(l2c.exit_code, 0) << l2c.err;
  EXPECT_EQ(generated_ids(l2c), reference_continuation("llama2c-260K-saltyduckegg/model.bin"));
  // Without a tokenizer the error says how to give one.
  expect_error(run_quorum({"run", "-m", shared_path("models/derived/stories260K-hf"), "-p", "x"}), "--vocab");
}

TEST(CliRun, StopStringEndsGenerationAndIsNotPrinted) {
  // Greedy text: ", there was a little girl named Lily. She loved to play ..."
  const std::vector<std::string> base = {"run", "-m", stories(), "-p", "Once upon a time", "-n", "40", "--temp", "0", "--stop", "Lily"};
  const auto plain = run_quorum(base);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, ", there was a little girl named \n");
  auto json_args = base;
  json_args.push_back("--json");
  const auto j = nlohmann::json::parse(run_quorum(json_args).out);
  EXPECT_EQ(j.at("text").get<std::string>(), ", there was a little girl named ");
  EXPECT_EQ(j.at("stop_reason").get<std::string>(), "stop");
}

TEST(CliRun, SameSeedSameSample) {
  const std::vector<std::string> args = {"run", "-m", stories(), "-p", "Once upon a time", "-n", "40", "--temp", "1.0", "--seed", "7"};
  const auto a = run_quorum(args), b = run_quorum(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_FALSE(a.out.empty());
}

TEST(CliRun, ChatNeedsATemplate) {
  expect_error(run_quorum({"run", "-m", stories(), "-p", "Hello", "--chat"}), "chat template");
  expect_error(run_quorum({"run", "-m", stories(), "-p", "Hello", "--system", "Be brief"}), "--chat");
}

TEST(CliRun, ChatWrapsThePromptInTheTemplate) {
  const auto r = run_quorum({"run", "-m", stories(), "-p", "Hello", "--chat", "--chat-template", "chatml",
                             "--system", "Be brief", "-n", "4", "--temp", "0", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string prompt;
  const auto j = nlohmann::json::parse(r.out);
  for (const auto& t : j.at("prompt_tokens")) prompt += t.at("piece").get<std::string>();
  // BOS, then ChatML as documented: one <|im_start|>role\n...<|im_end|>\n block per message.
  EXPECT_EQ(j.at("prompt_tokens")[0].at("id").get<int32_t>(), 1);
  EXPECT_NE(prompt.find("<|im_start|>system\nBe brief<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                        "<|im_start|>assistant\n"),
            std::string::npos)
      << prompt;
}

TEST(CliBadInput, EmptyOrMissingPrompt) {
  expect_error(run_quorum({"run", "-m", stories(), "-p", ""}), "the prompt is empty");
  expect_error(run_quorum({"run", "-m", stories(), "-f", write_text("empty.txt", "")}), "the prompt is empty");
  expect_error(run_quorum({"run", "-m", stories(), "-f", "/nonexistent/prompt.txt"}), "cannot open");
  expect_error(run_quorum({"run", "-m", stories()}), "no prompt");
  expect_error(run_quorum({"run", "-m", "/nonexistent/model.gguf", "-p", "x"}), "model.gguf");
}

TEST(CliBadInput, PromptLongerThanContext) {
  const auto r = run_quorum({"run", "-m", stories(), "-p", "Once upon a time there was a little girl named Lily",
                             "-c", "8"});
  expect_error(r, "the prompt is longer than the context");
  EXPECT_NE(r.err.find("--ctx"), std::string::npos) << r.err;
}

TEST(CliBadInput, ContextTooLargeForMemory) {
  // qt-base needs 2 KiB of F16 cache per position: 2^31 positions would take 4 TiB.
  const auto r = run_quorum({"run", "-m", testing::golden_model_path("qt-base"), "-p", "x", "-c",
                             std::to_string(int64_t{1} << 31)});
  expect_error(r, "4.0 TiB of KV cache");
  EXPECT_NE(r.err.find("would be needed"), std::string::npos) << r.err;
}

TEST(CliBadInput, NanWeightsNameTheTensor) {
  const std::string path = testing::write_poisoned_copy(stories(), "blk.3.ffn_down.weight", testing::f32_nan_bytes(),
                                                        testing::temp_dir("nan"), "nan.gguf");
  const auto r = run_quorum({"run", "-m", path, "-p", "Once upon a time", "-n", "4"});
  expect_error(r, "NaN or infinite logits");
  EXPECT_NE(r.err.find("blk.3.ffn_down.weight"), std::string::npos) << r.err;
}

// Chat over piped stdin: each line is a turn; the second turn reuses the cached first turn; the
// first reply equals `run --chat` with the same prompt; /reset forgets; /exit and EOF end cleanly.
TEST(CliChat, PipedConversation) {
  const std::vector<std::string> args = {"chat", "-m", stories(), "--chat-template", "chatml", "-n", "12", "--temp", "0"};
  const auto r = run_quorum(args, "Once upon a time\nThe dog\n/reset\nOnce upon a time\n/exit\nnever read\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto single = run_quorum({"run", "-m", stories(), "--chat", "--chat-template", "chatml", "-p",
                                  "Once upon a time", "-n", "12", "--temp", "0"});
  ASSERT_EQ(single.exit_code, 0) << single.err;
  std::vector<std::string> replies;
  std::istringstream out(r.out);
  for (std::string line; std::getline(out, line);) replies.push_back(line);
  ASSERT_EQ(replies.size(), 3u) << r.out;
  EXPECT_EQ(replies[0] + "\n", single.out);
  EXPECT_EQ(replies[2], replies[0]);  // after /reset the conversation starts over
  EXPECT_NE(r.err.find("[turn 1: "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("[turn 4: "), std::string::npos) << r.err;  // /exit stopped reading
  // Turn 2 reuses the whole first exchange up to the reply's end (at least the first prompt).
  const size_t t2 = r.err.find("[turn 2: ");
  ASSERT_NE(t2, std::string::npos) << r.err;
  int prompt2 = 0, reused2 = 0;
  ASSERT_EQ(std::sscanf(r.err.c_str() + t2, "[turn 2: %d prompt tokens, %d reused", &prompt2, &reused2), 2);
  EXPECT_GT(reused2, 10) << r.err;
  EXPECT_LT(reused2, prompt2);
  // After /reset only the empty-cache prefix is reused (the cache was cleared).
  const size_t t3 = r.err.find("[turn 3: ");
  ASSERT_NE(t3, std::string::npos);
  int prompt3 = 0, reused3 = 0;
  ASSERT_EQ(std::sscanf(r.err.c_str() + t3, "[turn 3: %d prompt tokens, %d reused", &prompt3, &reused3), 2);
  EXPECT_EQ(reused3, 0);
  // EOF without /exit ends cleanly too.
  const auto eof = run_quorum(args, "Once upon a time");
  EXPECT_EQ(eof.exit_code, 0) << eof.err;
  EXPECT_EQ(eof.out + "", single.out);
}

TEST(CliChat, ModelWithoutTemplateIsRefused) {
  expect_error(run_quorum({"chat", "-m", stories()}, "Hello\n"), "chat template");
}

TEST(CliPerplexity, BadInput) {
  const std::string model = stories();
  expect_error(run_quorum({"perplexity", "-m", model, "-f", "/nonexistent/wiki.raw"}), "cannot open the text file");
  expect_error(run_quorum({"perplexity", "-m", model, "-f", write_text("empty.txt", "")}), "the text file is empty");
  expect_error(run_quorum({"perplexity", "-m", model, "-f", shared_path("data/wikitext2_raw/wiki.test.raw"), "--chunks", "0"}),
               "--chunks must be");
  const auto short_text = run_quorum({"perplexity", "-m", model, "-f", write_text("short.txt", "Once upon a time."), "-c", "64"});
  expect_error(short_text, "too short");
  EXPECT_NE(short_text.err.find("at least 2 x 64 = 128 tokens"), std::string::npos) << short_text.err;
  // qt-wide has a 3072-token vocabulary, qt-base 4096.
  const std::string wiki = shared_path("data/wikitext2_raw/wiki.test.raw");
  expect_error(run_quorum({"perplexity", "-m", testing::golden_model_path("qt-wide"), "-f", wiki, "--chunks", "1",
                           "--kl-base", testing::golden_model_path("qt-base")}),
               "different vocabularies");
}

TEST(CliPerplexity, TextReportAgreesWithJson) {
  const std::string wiki = shared_path("data/wikitext2_raw/wiki.test.raw");
  const std::vector<std::string> args = {"perplexity", "-m", stories(), "-f", wiki, "-c", "128", "--chunks", "3"};
  const auto text = run_quorum(args);
  auto json_args = args;
  json_args.push_back("--json");
  const auto js = run_quorum(json_args);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  ASSERT_EQ(js.exit_code, 0) << js.err;
  const auto j = nlohmann::json::parse(js.out);
  const auto chunks = j.at("chunk_ppl").get<std::vector<double>>();
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_DOUBLE_EQ(chunks.back(), j.at("ppl").get<double>());
  char expect[96];
  std::snprintf(expect, sizeof expect, "Final estimate: PPL = %.4f ± ", j.at("ppl").get<double>());
  EXPECT_NE(text.out.find(expect), std::string::npos) << text.out;
  std::snprintf(expect, sizeof expect, "[1]%.4f,[2]%.4f,[3]%.4f,", chunks[0], chunks[1], chunks[2]);
  EXPECT_NE(text.out.find(expect), std::string::npos) << text.out;
}

}  // namespace
}  // namespace quorum
