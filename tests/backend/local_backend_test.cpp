// LocalBackend against llama.cpp's golden outputs for the task models (../shared/golden/qt-*):
// the prompt tokens (BOS from metadata), the greedy text and every generated token's
// log-probability and top alternatives must equal llama.cpp's; label scores must equal the
// log-probabilities llama.cpp gives the label tokens; concurrent requests answer exactly as
// sequential ones; bad input gives clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "backend/answer_cache.h"
#include "backend/local_backend.h"
#include "engine/golden_util.h"
#include "testing/shared_data.h"

namespace quorum::backend {
namespace {

using quorum::testing::GoldenCase;
using quorum::testing::load_golden;
using quorum::testing::shared_path;

// llama.cpp's F16-cache tolerance for F32/F16 models (golden/README.md).
bool close(double ours, double ref) { return std::fabs(ours - ref) <= 1e-3 + 1e-3 * std::fabs(ref); }

std::unique_ptr<LocalBackend> make(const std::string& model, int max_sessions = 2) {
  LocalBackendOptions o;
  o.name = model;
  o.path = shared_path("taskmodels/" + model + ".gguf");
  o.max_sessions = max_sessions;
  auto b = LocalBackend::create(o);
  EXPECT_TRUE(b.is_ok()) << b.status().to_string();
  return b.is_ok() ? std::move(b).value() : nullptr;
}

CompletionRequest golden_request(const GoldenCase& c) {
  CompletionRequest r;
  r.prompt = c.prompt;
  r.max_tokens = static_cast<int>(c.steps.size());
  r.logprobs = true;
  r.top_logprobs = 10;
  return r;
}

class LocalBackendGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(LocalBackendGolden, GreedyCompletionsMatchLlamaCpp) {
  auto b = make(GetParam());
  ASSERT_TRUE(b);
  const auto cases = load_golden(GetParam());
  ASSERT_GE(cases.size(), 8u);
  for (const GoldenCase& c : cases) {
    SCOPED_TRACE(c.prompt.substr(0, 60));
    const CompletionRequest r = golden_request(c);
    auto toks = b->prompt_tokens(r);
    ASSERT_TRUE(toks.is_ok());
    EXPECT_EQ(*toks, c.prompt_tokens);
    auto out = b->complete(r);
    ASSERT_TRUE(out.is_ok()) << out.status().to_string();
    EXPECT_EQ(out->prompt_tokens, static_cast<int>(c.prompt_tokens.size()));
    EXPECT_EQ(out->text(), c.greedy_text);
    const bool ended = b->tokenizer().is_eog(c.greedy_tokens.back());
    EXPECT_EQ(out->choices[0].finish_reason, ended ? "stop" : "length");
    // One logprob entry per generated token except the end-of-generation token.
    const size_t n_text = c.greedy_tokens.size() - (ended ? 1 : 0);
    ASSERT_EQ(out->choices[0].logprobs.size(), n_text);
    EXPECT_EQ(out->completion_tokens, static_cast<int>(n_text));
    for (size_t i = 0; i < n_text; ++i) {
      const TokenLogprob& t = out->choices[0].logprobs[i];
      const auto& step = c.steps[i];
      EXPECT_EQ(t.token, b->tokenizer().token_to_piece(c.greedy_tokens[i], false));
      EXPECT_TRUE(close(t.logprob, step[0].logprob)) << t.logprob << " vs " << step[0].logprob;
      ASSERT_EQ(t.top.size(), 10u);
      for (size_t k = 0; k < 10; ++k) {
        EXPECT_TRUE(close(t.top[k].logprob, step[k].logprob))
            << "step " << i << " alt " << k << ": " << t.top[k].logprob << " vs " << step[k].logprob;
      }
    }
  }
}

// Each label's score is llama.cpp's log-probability of that token after the prompt (step 0 of
// the golden file), for every alternative in its top 10 that is a whole word.
TEST_P(LocalBackendGolden, ScoresEqualLlamaCppLogprobs) {
  auto b = make(GetParam());
  ASSERT_TRUE(b);
  const auto& tok = b->tokenizer();
  int checked = 0;
  for (const GoldenCase& c : load_golden(GetParam())) {
    std::vector<std::string> conts;
    std::vector<double> expected;
    for (const auto& alt : c.steps[0]) {
      const std::string piece = tok.token_to_piece(alt.id, false);
      // A word token with its leading space tokenizes back to itself after the prompt.
      if (piece.size() < 2 || piece[0] != ' ' || tok.is_control(alt.id)) continue;
      const auto full = tok.encode(c.prompt + piece, true, false);
      if (full.size() != c.prompt_tokens.size() + 1 || full.back() != alt.id) continue;
      conts.push_back(piece);
      expected.push_back(alt.logprob);
    }
    if (conts.empty()) continue;
    auto s = b->score(c.prompt, conts);
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    ASSERT_EQ(s->logprobs.size(), conts.size());
    for (size_t i = 0; i < conts.size(); ++i) {
      EXPECT_TRUE(close(s->logprobs[i], expected[i]))
          << "'" << conts[i] << "': " << s->logprobs[i] << " vs " << expected[i];
      ++checked;
    }
    // The greedy answer as one continuation: the sum of its tokens' golden log-probabilities.
    if (c.greedy_text.empty()) continue;
    const size_t n_text = c.greedy_tokens.size() - (tok.is_eog(c.greedy_tokens.back()) ? 1 : 0);
    double sum = 0;
    for (size_t i = 0; i < n_text; ++i) sum += c.steps[i][0].logprob;
    auto g = b->score(c.prompt, {c.greedy_text});
    ASSERT_TRUE(g.is_ok());
    EXPECT_NEAR(g->logprobs[0], sum, 2e-3 * static_cast<double>(n_text));
  }
  EXPECT_GT(checked, 4);
}

INSTANTIATE_TEST_SUITE_P(TaskModels, LocalBackendGolden,
                         ::testing::Values("qt-base", "qt-wide", "qt-qwen", "qt-sst2", "qt-emo"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n) ch = ch == '-' ? '_' : ch;
                           return n;
                         });

// 8 threads sharing one backend (at most 3 sessions) answer exactly as one thread does.
TEST(LocalBackend, ConcurrentRequestsMatchSequential) {
  auto b = make("qt-base", 3);
  ASSERT_TRUE(b);
  std::vector<CompletionRequest> reqs;
  for (const auto& name : {"qt-base", "qt-qwen"}) {
    for (const GoldenCase& c : load_golden(name)) {
      CompletionRequest r = golden_request(c);
      r.max_tokens = 12;
      reqs.push_back(r);
    }
  }
  std::vector<Completion> seq;
  for (const auto& r : reqs) seq.push_back(*b->complete(r));
  std::vector<Completion> par(reqs.size());
  std::vector<std::vector<double>> scores_seq(reqs.size()), scores_par(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) scores_seq[i] = b->score(reqs[i].prompt, {" joy", " positive"})->logprobs;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); i < reqs.size(); i += 8) {
        par[i] = *b->complete(reqs[i]);
        scores_par[i] = b->score(reqs[i].prompt, {" joy", " positive"})->logprobs;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(b->sessions_created(), 3);
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(par[i].text(), seq[i].text()) << i;
    ASSERT_EQ(par[i].choices[0].logprobs.size(), seq[i].choices[0].logprobs.size());
    for (size_t k = 0; k < seq[i].choices[0].logprobs.size(); ++k) {
      EXPECT_EQ(par[i].choices[0].logprobs[k].logprob, seq[i].choices[0].logprobs[k].logprob);
    }
    EXPECT_EQ(scores_par[i], scores_seq[i]) << i;
  }
}

// Scoring after the session holds another prompt (prefix reuse) gives the same numbers as a
// fresh backend, and a shared few-shot prefix is reused.
TEST(LocalBackend, ScoresDoNotDependOnCachedPrefix) {
  const std::string shots = "Task: sentiment\nText: a gorgeous film .\nAnswer: positive\n\n";
  const std::string p1 = shots + "Task: sentiment\nText: dull and slow .\nAnswer:";
  const std::string p2 = shots + "Task: sentiment\nText: a joy to watch .\nAnswer:";
  auto fresh = make("qt-base", 1);
  auto reused = make("qt-base", 1);
  ASSERT_TRUE(fresh && reused);
  const auto a = fresh->score(p2, {" positive", " negative"});
  ASSERT_TRUE(a.is_ok());
  ASSERT_TRUE(reused->score(p1, {" positive", " negative"}).is_ok());
  const auto b = reused->score(p2, {" positive", " negative"});
  ASSERT_TRUE(b.is_ok());
  for (size_t i = 0; i < 2; ++i) EXPECT_NEAR(a->logprobs[i], b->logprobs[i], 1e-4);
  EXPECT_NE(a->logprobs[0], a->logprobs[1]);
}

TEST(LocalBackend, SeededSamplingIsReproducible) {
  auto b = make("qt-base", 1);
  ASSERT_TRUE(b);
  CompletionRequest r;
  r.prompt = "Task: summary\nDialogue: Ann: hi\nBob: hello\nAnswer:";
  r.max_tokens = 16;
  r.temperature = 1.5;
  r.seed = 7;
  r.n = 3;
  auto x = b->complete(r);
  auto y = b->complete(r);
  ASSERT_TRUE(x.is_ok() && y.is_ok());
  ASSERT_EQ(x->choices.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(x->choices[i].text, y->choices[i].text);
  // Different seeds per choice: at temperature 1.5 three 16-token samples are not all equal.
  EXPECT_FALSE(x->choices[0].text == x->choices[1].text && x->choices[1].text == x->choices[2].text);
}

TEST(LocalBackend, StopStringsEndTheText) {
  auto b = make("qt-base", 1);
  ASSERT_TRUE(b);
  const GoldenCase c = load_golden("qt-base").at(0);  // greedy " positive"
  CompletionRequest r = golden_request(c);
  r.stop = {"sit"};
  auto out = b->complete(r);
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out->text(), " po");
  EXPECT_EQ(out->choices[0].finish_reason, "stop");
}

TEST(LocalBackend, IdentityIsTheFileHash) {
  auto b = make("qt-sst2", 1);
  ASSERT_TRUE(b);
  auto cache = AnswerCache::open(":memory:");
  ASSERT_TRUE(cache.is_ok());
  auto h = (*cache)->file_sha256(shared_path("taskmodels/qt-sst2.gguf"));
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(b->identity(), *h);
  EXPECT_EQ(b->identity().size(), 64u);
  EXPECT_EQ(b->context_length(), 512);
  EXPECT_EQ(*b->count_tokens(load_golden("qt-sst2").at(0).prompt),
            static_cast<int64_t>(load_golden("qt-sst2").at(0).prompt_tokens.size()));
}

TEST(LocalBackend, BadInputGivesClearErrors) {
  LocalBackendOptions o;
  o.name = "missing";
  o.path = "/nonexistent/model.gguf";
  auto missing = LocalBackend::create(o);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().to_string().find("missing"), std::string::npos);

  auto b = make("qt-base", 1);
  ASSERT_TRUE(b);
  CompletionRequest too_long;
  for (int i = 0; i < 400; ++i) too_long.prompt += "word number " + std::to_string(i) + " ";
  auto r = b->complete(too_long);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kOutOfRange);
  EXPECT_NE(r.status().to_string().find("context"), std::string::npos);

  CompletionRequest zero;
  zero.prompt = "hi";
  zero.max_tokens = 0;
  EXPECT_EQ(b->complete(zero).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(b->score("hi", {}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(b->score("hi", {""}).status().code(), ErrorCode::kInvalidArgument);
  // The backend still works after errors.
  EXPECT_TRUE(b->complete(golden_request(load_golden("qt-base").at(0))).is_ok());
}

// Chat requests go through the model's (built-in family) template: exactly one BOS.
TEST(LocalBackend, ChatUsesTheTemplateWithOneBos) {
  auto b = make("qt-base", 1);
  ASSERT_TRUE(b);
  CompletionRequest r;
  r.messages = {{"user", "hello"}};
  r.max_tokens = 4;
  auto toks = b->prompt_tokens(r);
  ASSERT_TRUE(toks.is_ok()) << toks.status().to_string();
  ASSERT_FALSE(toks->empty());
  EXPECT_EQ(toks->front(), b->tokenizer().bos());
  EXPECT_EQ(std::count(toks->begin(), toks->end(), b->tokenizer().bos()), 1);
  const std::string text = b->tokenizer().decode(*toks);
  EXPECT_NE(text.find("hello"), std::string::npos);
  EXPECT_TRUE(b->complete(r).is_ok());
}

}  // namespace
}  // namespace quorum::backend
