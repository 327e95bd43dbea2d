// The table-driven OpenAI-compatible loopback server for tests (see openai_test_server.h).
#include "backend/openai_test_server.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>

namespace quorum::testing {

using nlohmann::json;

OpenAiTestServer::OpenAiTestServer(std::map<std::string, std::string> table)
    : table_(std::move(table)), server_(std::make_unique<httplib::Server>()) {
  auto handler = [this](bool chat) {
    return [this, chat](const httplib::Request& req, httplib::Response& res) {
      requests_.fetch_add(1);
      const int now = in_flight_.fetch_add(1) + 1;
      int prev = max_in_flight_.load();
      while (now > prev && !max_in_flight_.compare_exchange_weak(prev, now)) {
      }
      struct Leave {
        std::atomic<int>& n;
        ~Leave() { n.fetch_sub(1); }
      } leave{in_flight_};

      json body = json::parse(req.body, nullptr, false);
      const std::string model = body.is_object() ? body.value("model", "") : "";
      std::string prompt;
      if (body.is_object() && chat && body.contains("messages") && !body["messages"].empty()) {
        prompt = body["messages"].back().value("content", "");
      } else if (body.is_object()) {
        prompt = body.value("prompt", "");
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        per_prompt_[prompt] += 1;
        last_auth_ = req.get_header_value("Authorization");
        last_body_ = req.body;
      }
      const int64_t fa = fail_after.load();
      if (fa >= 0 && requests_.load() > fa) {
        res.status = 503;
        res.set_content("{\"error\":\"server going down\"}", "application/json");
        return;
      }
      if (model == "slow" || model == "concurrency") {
        std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms));
      }
      if (model == "flaky" && flaky_seen_.fetch_add(1) < flaky_failures) {
        res.status = 500;
        res.set_content("{\"error\":\"overloaded\"}", "application/json");
        return;
      }
      if (model == "ratelimit" && ratelimit_seen_.fetch_add(1) < 1) {
        res.status = 429;
        res.set_header("Retry-After", "0");
        res.set_content("{\"error\":\"rate limited\"}", "application/json");
        return;
      }
      if (model == "malformed") {
        res.set_content("<html>not json", "text/html");
        return;
      }
      if (model == "nochoices") {
        res.set_content("{\"id\":\"x\",\"object\":\"text_completion\"}", "application/json");
        return;
      }
      std::string text;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto mt = model_tables_.find(model);
        const auto& table = mt != model_tables_.end() ? mt->second : table_;
        auto it = table.find(prompt);
        text = it != table.end() ? it->second : "";
      }
      // Fake tokenization: one "token" per character, log-probability -0.1 each.
      json choice = {{"index", 0}, {"finish_reason", "stop"}};
      const bool want_lp = chat ? body.value("logprobs", false) : body.contains("logprobs");
      if (chat) {
        choice["message"] = {{"role", "assistant"}, {"content", text}};
        if (want_lp) {
          json content = json::array();
          for (char c : text) {
            content.push_back({{"token", std::string(1, c)},
                               {"logprob", -0.1},
                               {"top_logprobs", json::array({{{"token", std::string(1, c)},
                                                              {"logprob", -0.1}}})}});
          }
          choice["logprobs"] = {{"content", content}};
        }
      } else {
        choice["text"] = text;
        if (want_lp) {
          json tokens = json::array(), lps = json::array(), tops = json::array();
          for (char c : text) {
            tokens.push_back(std::string(1, c));
            lps.push_back(-0.1);
            tops.push_back({{std::string(1, c), -0.1}, {"~", -2.5}});
          }
          choice["logprobs"] = {{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}};
        }
      }
      json out = {{"id", "cmpl-test"},
                  {"object", chat ? "chat.completion" : "text_completion"},
                  {"model", model},
                  {"choices", json::array({choice})},
                  {"usage",
                   {{"prompt_tokens", static_cast<int>(prompt.size())},
                    {"completion_tokens", static_cast<int>(text.size())}}}};
      res.set_content(out.dump(), "application/json");
    };
  };
  server_->Post("/v1/completions", handler(false));
  server_->Post("/v1/chat/completions", handler(true));
  server_->new_task_queue = [] { return new httplib::ThreadPool(16); };
  port_ = server_->bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() is a no-op until the loop runs, so wait for it (bounded: 10 s).
  for (int i = 0; i < 10000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

OpenAiTestServer::~OpenAiTestServer() {
  server_->stop();
  thread_.join();
}

void OpenAiTestServer::set_model_table(const std::string& model,
                                       std::map<std::string, std::string> table) {
  std::lock_guard<std::mutex> lock(mu_);
  model_tables_[model] = std::move(table);
}

std::string OpenAiTestServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

int64_t OpenAiTestServer::requests_for(const std::string& prompt) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_prompt_.find(prompt);
  return it == per_prompt_.end() ? 0 : it->second;
}

std::string OpenAiTestServer::last_authorization() {
  std::lock_guard<std::mutex> lock(mu_);
  return last_auth_;
}

std::string OpenAiTestServer::last_body() {
  std::lock_guard<std::mutex> lock(mu_);
  return last_body_;
}

}  // namespace quorum::testing
