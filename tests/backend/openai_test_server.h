// A loopback HTTP server (127.0.0.1, ephemeral port) that answers like an OpenAI-compatible
// server from a table, for testing HttpBackend and everything above it against real HTTP.
//
// The answer to a request is table[prompt] (chat: the last message's content), or "" if absent.
// The requested "model" selects a behaviour:
//   any name      normal answers (logprobs included when asked)
//   "slow"        sleeps `slow_ms` before answering (timeouts)
//   "flaky"       answers HTTP 500 to the first `flaky_failures` requests, then normally
//   "ratelimit"   answers HTTP 429 with Retry-After: 0 once, then normally
//   "malformed"   answers 200 with a body that is not JSON
//   "nochoices"   answers 200 with valid JSON lacking "choices"
//   "concurrency" holds each request `slow_ms` and records the most requests in flight at once
// The server counts requests per prompt so tests can prove which calls reached it.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace quorum::testing {

class OpenAiTestServer {
 public:
  explicit OpenAiTestServer(std::map<std::string, std::string> table);
  ~OpenAiTestServer();

  std::string url() const;  // "http://127.0.0.1:PORT"
  int64_t requests() const { return requests_.load(); }
  int64_t requests_for(const std::string& prompt);
  int max_in_flight() const { return max_in_flight_.load(); }
  std::string last_authorization();
  std::string last_body();

  // Answers for one model name (takes precedence over the shared table for that model).
  void set_model_table(const std::string& model, std::map<std::string, std::string> table);

  int slow_ms = 2000;
  int flaky_failures = 2;
  // When >= 0: requests after the first `fail_after` ones get HTTP 503 (a server going down).
  std::atomic<int64_t> fail_after{-1};

 private:
  std::map<std::string, std::string> table_;
  std::map<std::string, std::map<std::string, std::string>> model_tables_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int64_t> requests_{0};
  std::atomic<int> in_flight_{0}, max_in_flight_{0};
  std::atomic<int> flaky_seen_{0}, ratelimit_seen_{0};
  std::mutex mu_;
  std::map<std::string, int64_t> per_prompt_;
  std::string last_auth_, last_body_;
};

}  // namespace quorum::testing
