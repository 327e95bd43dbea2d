// HttpBackend: a Backend that talks to any OpenAI-compatible server (Quorum's `quorum serve`,
// llama.cpp's server, vLLM, Ollama, OpenAI itself) over `/v1/completions` (plain prompt) and
// `/v1/chat/completions` (messages).
//
// Robustness: every request has a timeout; 429, 5xx and connection failures are retried with
// exponential backoff (a Retry-After header is honoured, capped); at most `max_concurrency`
// requests are in flight at once across all threads using this backend; a response that is not
// the expected JSON is a clear kCorruptFile error quoting the start of the body.
#pragma once

#include <atomic>
#include <memory>
#include <semaphore>
#include <string>

#include "backend/backend.h"

namespace quorum::backend {

struct HttpBackendOptions {
  std::string name;               // configured model name (for messages)
  std::string base_url;           // "http://127.0.0.1:8080" or ".../v1"; "/v1/..." is appended
  std::string model;              // the server's model id, sent as "model"
  std::string api_key;            // sent as "Authorization: Bearer <key>" when non-empty
  double timeout_s = 60.0;        // per attempt, whole request
  double connect_timeout_s = 10.0;
  int max_retries = 3;            // extra attempts after the first on 429/5xx/connection errors
  double backoff_initial_s = 0.5; // wait before the first retry; doubles each time
  double backoff_max_s = 30.0;
  int max_concurrency = 4;        // requests in flight at once
};

class HttpBackend final : public Backend {
 public:
  static Result<std::unique_ptr<HttpBackend>> create(HttpBackendOptions options);
  ~HttpBackend() override;

  const std::string& name() const override { return options_.name; }
  std::string identity() const override;
  Result<Completion> complete(const CompletionRequest& request) override;
  // OpenAI-compatible servers give no reliable prompt log-likelihoods: kUnsupported.
  Result<Scores> score(const std::string& prompt,
                       const std::vector<std::string>& continuations) override;

  // Number of HTTP attempts made so far (for tests and reports).
  int64_t attempts() const { return attempts_.load(); }

 private:
  explicit HttpBackend(HttpBackendOptions options);

  struct HttpReply {
    long status = 0;
    std::string body;
    double retry_after_s = -1.0;  // from a Retry-After header, -1 when absent
  };
  // One POST; transport failures come back as an error Status with kTimeout/kIoError.
  Result<HttpReply> post_once(const std::string& path, const std::string& body);
  // POST with retries; returns the body of a 200 reply.
  Result<std::string> post(const std::string& path, const std::string& body);

  HttpBackendOptions options_;
  std::string root_;  // base_url without trailing "/" and without "/v1"
  std::counting_semaphore<> slots_;
  std::atomic<int64_t> attempts_{0};
};

// Parses an OpenAI completion / chat-completion response body (exposed for tests).
Result<Completion> parse_openai_response(const std::string& body, bool chat);
// Builds the JSON body of a request for `model` (exposed for tests).
nlohmann::json openai_request_body(const CompletionRequest& request, const std::string& model);

}  // namespace quorum::backend
