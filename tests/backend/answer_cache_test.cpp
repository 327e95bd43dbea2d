// AnswerCache: sha256 against published test vectors, file-hash caching, round trips, threads,
// persistence, and CachingBackend in front of a real HTTP backend (server request counts prove
// which answers were recomputed).
#include "backend/answer_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "backend/http_backend.h"
#include "backend/openai_test_server.h"
#include "testing/shared_data.h"

namespace quorum::backend {
namespace {

using quorum::testing::OpenAiTestServer;

TEST(Sha256, MatchesFips180Vectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 1,000,000 x 'a' spans several 1 MiB stream buffers' worth of logic when read from a file.
  const std::string dir = quorum::testing::temp_dir("sha");
  const std::string path = dir + "/a.bin";
  std::ofstream(path, std::ios::binary) << std::string(1000000, 'a');
  auto h = sha256_file(path);
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(*h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(AnswerCache, FileHashIsCachedByPathSizeMtime) {
  const std::string dir = quorum::testing::temp_dir("fh");
  const std::string path = dir + "/m.gguf";
  std::ofstream(path, std::ios::binary) << "first";
  auto cache = AnswerCache::open(dir + "/cache.sqlite");
  ASSERT_TRUE(cache.is_ok()) << cache.status().to_string();
  auto h1 = (*cache)->file_sha256(path);
  ASSERT_TRUE(h1.is_ok());
  EXPECT_EQ(*h1, sha256_hex("first"));
  // Same size, same mtime, different bytes: the stored hash is reused (the file is not re-read).
  const auto mtime = std::filesystem::last_write_time(path);
  std::ofstream(path, std::ios::binary) << "FIRST";
  std::filesystem::last_write_time(path, mtime);
  EXPECT_EQ(*(*cache)->file_sha256(path), sha256_hex("first"));
  // A different size invalidates it.
  std::ofstream(path, std::ios::binary) << "second!";
  EXPECT_EQ(*(*cache)->file_sha256(path), sha256_hex("second!"));
  auto missing = (*cache)->file_sha256(dir + "/none.gguf");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
}

TEST(AnswerCache, CompletionRoundTripAndKeySensitivity) {
  auto cache = AnswerCache::open(":memory:");
  ASSERT_TRUE(cache.is_ok());
  Completion c;
  c.model = "qt-base";
  c.prompt_tokens = 12;
  c.completion_tokens = 2;
  c.seconds = 0.123456789;
  c.choices.push_back({" positive", "stop", {{" pos", -0.25, {{" pos", -0.25}, {" neg", -1.75}}}}});
  CompletionRequest r;
  r.prompt = "p";
  const std::string key = AnswerCache::completion_key("id", r);
  ASSERT_TRUE((*cache)->put_completion(key, "id", c).is_ok());
  auto got = (*cache)->get_completion(key);
  ASSERT_TRUE(got.is_ok() && got->has_value());
  EXPECT_EQ(to_json(**got), to_json(c));
  // Every parameter and the identity are part of the key.
  CompletionRequest r2 = r;
  r2.max_tokens = 65;
  CompletionRequest r3 = r;
  r3.seed = 1;
  CompletionRequest r4 = r;
  r4.temperature = 0.7;
  for (const std::string& k :
       {AnswerCache::completion_key("id2", r), AnswerCache::completion_key("id", r2),
        AnswerCache::completion_key("id", r3), AnswerCache::completion_key("id", r4)}) {
    EXPECT_NE(k, key);
    EXPECT_FALSE((*cache)->get_completion(k)->has_value());
  }
  Scores s{{-0.5, -3.25}, 0.01, false};
  const std::string sk = AnswerCache::score_key("id", "p", {" a", " b"});
  EXPECT_NE(sk, AnswerCache::score_key("id", "p", {" b", " a"}));
  ASSERT_TRUE((*cache)->put_scores(sk, "id", s).is_ok());
  auto gs = (*cache)->get_scores(sk);
  ASSERT_TRUE(gs.is_ok() && gs->has_value());
  EXPECT_EQ((*gs)->logprobs, s.logprobs);
  EXPECT_DOUBLE_EQ((*gs)->seconds, 0.01);
}

TEST(AnswerCache, ManyThreadsAndPersistence) {
  const std::string dir = quorum::testing::temp_dir("mt");
  const std::string path = dir + "/sub/cache.sqlite";
  {
    auto cache = AnswerCache::open(path);
    ASSERT_TRUE(cache.is_ok()) << cache.status().to_string();
    std::shared_ptr<AnswerCache> shared = std::move(cache).value();
    std::vector<std::thread> threads;
    std::atomic<int> errors{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          Completion c;
          c.choices.push_back({std::to_string(t * 1000 + i), "stop", {}});
          const std::string key = "k" + std::to_string(t) + "-" + std::to_string(i);
          if (!shared->put_completion(key, "id", c).is_ok()) errors.fetch_add(1);
          auto back = shared->get_completion(key);
          if (!back.is_ok() || !back->has_value() || (*back)->text() != c.text()) errors.fetch_add(1);
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(*shared->count(), 200);
  }
  auto reopened = AnswerCache::open(path);
  ASSERT_TRUE(reopened.is_ok());
  EXPECT_EQ(*(*reopened)->count(), 200);
  EXPECT_EQ((*(*reopened)->get_completion("k3-49"))->text(), "3049");
}

TEST(CachingBackend, SecondAskCostsNoRequest) {
  OpenAiTestServer server({{"hello", "world"}, {"bye", "later"}});
  HttpBackendOptions o;
  o.name = "remote";
  o.base_url = server.url();
  o.model = "m";
  auto http = HttpBackend::create(o);
  ASSERT_TRUE(http.is_ok());
  const std::string dir = quorum::testing::temp_dir("cb");
  std::shared_ptr<Backend> inner = std::move(http).value();
  {
    auto cache = AnswerCache::open(dir + "/c.sqlite");
    ASSERT_TRUE(cache.is_ok());
    CachingBackend b(inner, std::move(cache).value());
    CompletionRequest r;
    r.prompt = "hello";
    auto first = b.complete(r);
    ASSERT_TRUE(first.is_ok());
    EXPECT_FALSE(first->from_cache);
    auto second = b.complete(r);
    ASSERT_TRUE(second.is_ok());
    EXPECT_TRUE(second->from_cache);
    EXPECT_EQ(second->text(), "world");
    EXPECT_DOUBLE_EQ(second->seconds, first->seconds);  // the original inference time is kept
    EXPECT_EQ(server.requests_for("hello"), 1);
    r.max_tokens = 3;  // other parameters: a new answer
    ASSERT_TRUE(b.complete(r).is_ok());
    EXPECT_EQ(server.requests_for("hello"), 2);
    EXPECT_EQ(b.hits(), 1);
    EXPECT_EQ(b.misses(), 2);
    // Errors are not cached.
    auto s = b.score("hello", {" x"});
    EXPECT_EQ(s.status().code(), ErrorCode::kUnsupported);
  }
  auto cache = AnswerCache::open(dir + "/c.sqlite");
  ASSERT_TRUE(cache.is_ok());
  EXPECT_EQ(*(*cache)->count(), 2);
  CachingBackend again(inner, std::move(cache).value());
  CompletionRequest r;
  r.prompt = "hello";
  EXPECT_EQ(again.complete(r)->text(), "world");
  EXPECT_EQ(server.requests_for("hello"), 2);  // answered from the file after reopening
}

}  // namespace
}  // namespace quorum::backend
