// HttpBackend against a real loopback HTTP server answering like an OpenAI server.
#include "backend/http_backend.h"

#include <gtest/gtest.h>

#include <thread>

#include "backend/openai_test_server.h"

namespace quorum::backend {
namespace {

using quorum::testing::OpenAiTestServer;

std::map<std::string, std::string> table() {
  return {{"Task: sentiment\nText: great\nAnswer:", " positive"},
          {"hello", "world"}};
}

std::unique_ptr<HttpBackend> make(const OpenAiTestServer& server, const std::string& model,
                                  double timeout_s = 10.0, int retries = 3, int concurrency = 4) {
  HttpBackendOptions o;
  o.name = "m-" + model;
  o.base_url = server.url() + "/v1/";
  o.model = model;
  o.api_key = "sk-test";
  o.timeout_s = timeout_s;
  o.max_retries = retries;
  o.backoff_initial_s = 0.01;
  o.max_concurrency = concurrency;
  auto b = HttpBackend::create(o);
  EXPECT_TRUE(b.is_ok()) << b.status().to_string();
  return std::move(b).value();
}

TEST(HttpBackend, CompletionSendsParametersAndParsesText) {
  OpenAiTestServer server(table());
  auto b = make(server, "qt-base");
  CompletionRequest r;
  r.prompt = "Task: sentiment\nText: great\nAnswer:";
  r.max_tokens = 7;
  r.seed = 42;
  r.stop = {"\n"};
  auto c = b->complete(r);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->text(), " positive");
  EXPECT_EQ(c->choices[0].finish_reason, "stop");
  EXPECT_EQ(c->model, "qt-base");
  EXPECT_EQ(c->completion_tokens, 9);
  EXPECT_TRUE(c->choices[0].logprobs.empty());
  EXPECT_EQ(server.last_authorization(), "Bearer sk-test");
  const auto sent = nlohmann::json::parse(server.last_body());
  EXPECT_EQ(sent["model"], "qt-base");
  EXPECT_EQ(sent["max_tokens"], 7);
  EXPECT_EQ(sent["temperature"], 0.0);
  EXPECT_EQ(sent["seed"], 42);
  EXPECT_EQ(sent["stop"], nlohmann::json::array({"\n"}));
  EXPECT_FALSE(sent.contains("logprobs"));
  EXPECT_EQ(b->identity(), "http|" + server.url() + "|qt-base");
}

TEST(HttpBackend, LegacyLogprobsWithTopAlternatives) {
  OpenAiTestServer server(table());
  auto b = make(server, "m");
  CompletionRequest r;
  r.prompt = "hello";
  r.logprobs = true;
  r.top_logprobs = 2;
  auto c = b->complete(r);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  ASSERT_EQ(c->choices[0].logprobs.size(), 5u);
  EXPECT_EQ(c->choices[0].logprobs[1].token, "o");
  EXPECT_DOUBLE_EQ(c->choices[0].logprobs[1].logprob, -0.1);
  ASSERT_EQ(c->choices[0].logprobs[1].top.size(), 2u);
  EXPECT_EQ(c->choices[0].logprobs[1].top[0].token, "o");  // sorted, most likely first
  EXPECT_EQ(c->choices[0].logprobs[1].top[1].token, "~");
  EXPECT_EQ(nlohmann::json::parse(server.last_body())["logprobs"], 2);
}

TEST(HttpBackend, ChatCompletionWithLogprobs) {
  OpenAiTestServer server(table());
  auto b = make(server, "m");
  CompletionRequest r;
  r.messages = {{"system", "be brief"}, {"user", "hello"}};
  r.logprobs = true;
  r.top_logprobs = 1;
  auto c = b->complete(r);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->text(), "world");
  ASSERT_EQ(c->choices[0].logprobs.size(), 5u);
  EXPECT_EQ(c->choices[0].logprobs[0].token, "w");
  ASSERT_EQ(c->choices[0].logprobs[0].top.size(), 1u);
  const auto sent = nlohmann::json::parse(server.last_body());
  EXPECT_EQ(sent["messages"].size(), 2u);
  EXPECT_EQ(sent["logprobs"], true);
  EXPECT_EQ(sent["top_logprobs"], 1);
}

TEST(HttpBackend, SlowServerTimesOut) {
  OpenAiTestServer server(table());
  server.slow_ms = 1200;
  auto b = make(server, "slow", /*timeout_s=*/0.3);
  CompletionRequest r;
  r.prompt = "hello";
  auto c = b->complete(r);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kTimeout) << c.status().to_string();
  EXPECT_NE(c.status().message().find("timed out"), std::string::npos);
  EXPECT_EQ(b->attempts(), 1);  // a timeout is not retried
}

TEST(HttpBackend, RetriesServerErrorsThenSucceeds) {
  OpenAiTestServer server(table());
  server.flaky_failures = 2;
  auto b = make(server, "flaky", 10.0, /*retries=*/3);
  CompletionRequest r;
  r.prompt = "hello";
  auto c = b->complete(r);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->text(), "world");
  EXPECT_EQ(b->attempts(), 3);
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpBackend, GivesUpAfterMaxRetries) {
  OpenAiTestServer server(table());
  server.flaky_failures = 5;
  auto b = make(server, "flaky", 10.0, /*retries=*/1);
  CompletionRequest r;
  r.prompt = "hello";
  auto c = b->complete(r);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kIoError);
  EXPECT_NE(c.status().message().find("HTTP 500"), std::string::npos) << c.status().to_string();
  EXPECT_NE(c.status().message().find("2 attempts"), std::string::npos) << c.status().to_string();
  EXPECT_EQ(server.requests(), 2);
}

TEST(HttpBackend, RetriesRateLimit) {
  OpenAiTestServer server(table());
  auto b = make(server, "ratelimit");
  CompletionRequest r;
  r.prompt = "hello";
  auto c = b->complete(r);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(server.requests(), 2);
}

TEST(HttpBackend, MalformedResponsesAreClearErrors) {
  OpenAiTestServer server(table());
  CompletionRequest r;
  r.prompt = "hello";
  auto bad = make(server, "malformed")->complete(r);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kCorruptFile);
  EXPECT_NE(bad.status().message().find("not a JSON object"), std::string::npos);
  EXPECT_NE(bad.status().message().find("<html>not json"), std::string::npos);
  auto none = make(server, "nochoices")->complete(r);
  ASSERT_FALSE(none.is_ok());
  EXPECT_EQ(none.status().code(), ErrorCode::kCorruptFile);
  EXPECT_NE(none.status().message().find("choices"), std::string::npos);
}

TEST(HttpBackend, ConnectionRefusedIsRetriedThenIoError) {
  int port = 0;
  {
    OpenAiTestServer gone(table());  // take a free port, then close it
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }
  HttpBackendOptions o;
  o.name = "gone";
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  o.model = "m";
  o.max_retries = 2;
  o.backoff_initial_s = 0.01;
  auto b = HttpBackend::create(o);
  ASSERT_TRUE(b.is_ok());
  CompletionRequest r;
  r.prompt = "hello";
  auto c = (*b)->complete(r);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kIoError) << c.status().to_string();
  EXPECT_EQ((*b)->attempts(), 3);
}

TEST(HttpBackend, ConcurrencyLimitHolds) {
  OpenAiTestServer server(table());
  server.slow_ms = 150;
  auto b = make(server, "concurrency", 10.0, 0, /*concurrency=*/2);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      CompletionRequest r;
      r.prompt = "hello";
      if (b->complete(r).is_ok()) ok.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(server.max_in_flight(), 2);  // never more than the limit, and really parallel
}

TEST(HttpBackend, ScoringIsUnsupported) {
  OpenAiTestServer server(table());
  auto s = make(server, "m")->score("p", {" a", " b"});
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(s.status().message().find("mode: generate"), std::string::npos);
}

TEST(HttpBackend, RejectsBadUrl) {
  HttpBackendOptions o;
  o.name = "x";
  o.base_url = "127.0.0.1:8080";
  auto b = HttpBackend::create(o);
  ASSERT_FALSE(b.is_ok());
  EXPECT_EQ(b.status().code(), ErrorCode::kInvalidArgument);
}

TEST(HttpBackend, ClientErrorIsNotRetried) {
  // A 404 (wrong path) is the caller's problem: one attempt, clear message.
  OpenAiTestServer server(table());
  HttpBackendOptions o;
  o.name = "x";
  o.base_url = server.url() + "/nothing-here";
  o.model = "m";
  auto b = HttpBackend::create(o);
  ASSERT_TRUE(b.is_ok());
  CompletionRequest r;
  r.prompt = "hello";
  auto c = (*b)->complete(r);
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("HTTP 404"), std::string::npos) << c.status().to_string();
  EXPECT_EQ((*b)->attempts(), 1);
}

}  // namespace
}  // namespace quorum::backend
