// Session behaviour on a real model (stories260K): batched decode equals token-by-token decode,
// rewind/prefill/fork reproduce the same logits, F32 cache option, and clear input errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <thread>

#include "engine/sampling.h"
#include "engine/session.h"
#include "testing/shared_data.h"

namespace quorum {
namespace {

std::shared_ptr<const Model> stories() {
  auto m = Model::load(testing::shared_path("models/stories260K/stories260K.gguf"));
  EXPECT_TRUE(m.is_ok()) << m.status().to_string();
  return m.is_ok() ? *m : nullptr;
}

std::unique_ptr<Session> make(const std::shared_ptr<const Model>& m, SessionOptions o = {}) {
  if (o.n_ctx == 0) o.n_ctx = 128;
  if (o.n_threads == 0) o.n_threads = 2;
  auto s = Session::create(m, o);
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return std::move(s).value();
}

const std::vector<int32_t> kPrompt = {1, 403, 407, 261, 378, 261, 316, 6, 442, 289, 330};

double max_diff(std::span<const float> a, std::span<const float> b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(double(a[i]) - b[i]));
  return d;
}

TEST(SessionTest, BatchedDecodeEqualsTokenByToken) {
  auto m = stories();
  auto a = make(m), b = make(m);
  auto all = a->decode(kPrompt, LogitsMode::kAll);
  ASSERT_TRUE(all.is_ok());
  const auto n_vocab = static_cast<size_t>(a->n_vocab());
  ASSERT_EQ(all->size(), kPrompt.size() * n_vocab);
  const std::vector<float> batched(all->begin(), all->end());
  for (size_t i = 0; i < kPrompt.size(); ++i) {
    auto one = b->decode(std::span<const int32_t>(&kPrompt[i], 1));
    ASSERT_TRUE(one.is_ok());
    // Same arithmetic per row; only the matmul tiling may change the summation order.
    EXPECT_LT(max_diff(*one, std::span<const float>(batched).subspan(i * n_vocab, n_vocab)), 1e-4)
        << "position " << i;
  }
  EXPECT_EQ(a->position(), static_cast<int64_t>(kPrompt.size()));
}

TEST(SessionTest, ReadIntoMemoryGivesTheMappedLogits) {
  // LoadMode::kRead (--no-mmap) only moves the bytes: the logits must be bit-identical.
  ModelOptions mo;
  mo.load_mode = LoadMode::kRead;
  auto read = Model::load(testing::shared_path("models/stories260K/stories260K.gguf"), mo);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  auto a = make(stories()), b = make(*read);
  auto la = a->decode(kPrompt, LogitsMode::kAll);
  ASSERT_TRUE(la.is_ok());
  const std::vector<float> mapped(la->begin(), la->end());
  auto lb = b->decode(kPrompt, LogitsMode::kAll);
  ASSERT_TRUE(lb.is_ok());
  ASSERT_EQ(mapped.size(), lb->size());
  EXPECT_EQ(std::memcmp(mapped.data(), lb->data(), mapped.size() * sizeof(float)), 0);
}

TEST(SessionTest, SmallBatchesGiveTheSameLogits) {
  auto m = stories();
  SessionOptions o;
  o.n_batch = 3;  // forces 4 forward passes for 11 tokens
  auto a = make(m, o), b = make(m);
  auto la = a->decode(kPrompt);
  auto lb = b->decode(kPrompt);
  ASSERT_TRUE(la.is_ok() && lb.is_ok());
  EXPECT_LT(max_diff(*la, *lb), 1e-4);
}

TEST(SessionTest, RewindPrefillAndForkReuseThePrefix) {
  auto m = stories();
  auto s = make(m);
  auto full = s->decode(kPrompt);
  ASSERT_TRUE(full.is_ok());
  const std::vector<float> ref(full->begin(), full->end());

  ASSERT_TRUE(s->rewind(5).is_ok());
  EXPECT_EQ(s->position(), 5);
  auto again = s->decode(std::span<const int32_t>(kPrompt).subspan(5));
  ASSERT_TRUE(again.is_ok());
  EXPECT_LT(max_diff(*again, ref), 1e-5);

  // Fork at 6 tokens, continue both with the rest: same result.
  ASSERT_TRUE(s->rewind(6).is_ok());
  auto f = s->fork();
  ASSERT_TRUE(f.is_ok());
  auto lf = (*f)->decode(std::span<const int32_t>(kPrompt).subspan(6));
  ASSERT_TRUE(lf.is_ok());
  EXPECT_LT(max_diff(*lf, ref), 1e-5);

  // prefill of the same prompt recomputes only the last token.
  auto p = s->prefill(kPrompt);
  ASSERT_TRUE(p.is_ok());
  EXPECT_LT(max_diff(*p, ref), 1e-5);
  EXPECT_EQ(s->tokens(), kPrompt);
}

TEST(SessionTest, F32CacheIsCloseToF16Cache) {
  auto m = stories();
  SessionOptions o;
  o.kv_type = KvType::kF32;
  auto a = make(m, o), b = make(m);
  auto la = a->decode(kPrompt);
  auto lb = b->decode(kPrompt);
  ASSERT_TRUE(la.is_ok() && lb.is_ok());
  const double d = max_diff(*la, *lb);
  EXPECT_GT(d, 0.0);   // the F16 rounding is really applied
  EXPECT_LT(d, 0.05);  // and only changes the logits a little
  EXPECT_EQ(argmax(*la), argmax(*lb));
}

TEST(SessionTest, InputErrors) {
  auto m = stories();
  auto s = make(m);
  auto empty = s->decode({});
  ASSERT_FALSE(empty.is_ok());
  EXPECT_EQ(empty.status().code(), ErrorCode::kInvalidArgument);

  std::vector<int32_t> bad = {1, 512};
  auto oov = s->decode(bad);
  ASSERT_FALSE(oov.is_ok());
  EXPECT_NE(oov.status().message().find("512"), std::string::npos);
  EXPECT_EQ(s->position(), 0);  // nothing was consumed

  std::vector<int32_t> longp(129, 1);
  auto too_long = s->decode(longp);
  ASSERT_FALSE(too_long.is_ok());
  EXPECT_EQ(too_long.status().code(), ErrorCode::kOutOfRange);

  EXPECT_FALSE(s->rewind(3).is_ok());

  SessionOptions huge;
  huge.n_ctx = int64_t(1) << 40;
  auto big = Session::create(m, huge);
  ASSERT_FALSE(big.is_ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kOutOfMemory);
}

// 8 sessions on one Model in 8 threads generate exactly what 8 sequential runs generate.
TEST(SessionTest, ConcurrentSessionsMatchSequentialRuns) {
  auto m = stories();
  auto run = [&](int i) {
    SessionOptions o;
    o.n_ctx = 64;
    o.n_threads = 1;
    auto s = Session::create(m, o);
    std::vector<int32_t> toks = {1, static_cast<int32_t>(300 + 7 * i)};
    Sampler sampler([&] {
      SamplingParams p;
      p.seed = 100 + static_cast<uint64_t>(i);
      return p;
    }());
    auto l = (*s)->decode(toks);
    for (int step = 0; step < 24 && l.is_ok(); ++step) {
      const int32_t next = sampler.sample(*l, toks);
      toks.push_back(next);
      l = (*s)->decode(std::span<const int32_t>(&toks.back(), 1));
    }
    return toks;
  };
  std::vector<std::vector<int32_t>> sequential, parallel(8);
  for (int i = 0; i < 8; ++i) sequential.push_back(run(i));
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([&, i] { parallel[i] = run(i); });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(parallel[i], sequential[i]) << "session " << i;
    EXPECT_EQ(parallel[i].size(), 26u);
  }
}

}  // namespace
}  // namespace quorum
