// HttpBackend: OpenAI-compatible client over libcurl (see http_backend.h).
#include "backend/http_backend.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace quorum::backend {

namespace {

using nlohmann::json;

std::string snippet(const std::string& body) {
  constexpr size_t kMax = 200;
  std::string s = body.size() > kMax ? body.substr(0, kMax) + "..." : body;
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  const std::string line(data, size * n);
  constexpr std::string_view kKey = "retry-after:";
  if (line.size() > kKey.size()) {
    std::string head = line.substr(0, kKey.size());
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (head == kKey) {
      char* end = nullptr;
      const double v = std::strtod(line.c_str() + kKey.size(), &end);
      if (end != line.c_str() + kKey.size() && v >= 0) *static_cast<double*>(user) = v;
    }
  }
  return size * n;
}

// Reads an optional number field as int.
int int_or(const json& j, const char* key, int fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int>() : fallback;
}

// Chat-style logprobs ({"content": [{"token","logprob","top_logprobs":[...]}]}), which
// llama.cpp's server also uses for /v1/completions.
Status parse_logprobs_content(const json& content, std::vector<TokenLogprob>& out) {
  if (!content.is_array()) {
    return Error(ErrorCode::kCorruptFile, "logprobs.content is not an array");
  }
  for (const json& t : content) {
    if (!t.is_object() || !t.contains("token") || !t.contains("logprob") ||
        !t["logprob"].is_number()) {
      return Error(ErrorCode::kCorruptFile, "a logprobs.content entry lacks token/logprob")
          .actual(snippet(t.dump()));
    }
    TokenLogprob tl{t["token"].get<std::string>(), t["logprob"].get<double>(), {}};
    if (auto top = t.find("top_logprobs"); top != t.end() && top->is_array()) {
      for (const json& a : *top) {
        if (a.contains("token") && a.contains("logprob") && a["logprob"].is_number()) {
          tl.top.push_back({a["token"].get<std::string>(), a["logprob"].get<double>()});
        }
      }
    }
    out.push_back(std::move(tl));
  }
  return Status::ok();
}

// Legacy completions logprobs ({"tokens", "token_logprobs", "top_logprobs": [{tok: lp}]}).
Status parse_logprobs_legacy(const json& lp, std::vector<TokenLogprob>& out) {
  const json& tokens = lp["tokens"];
  const json& values = lp.value("token_logprobs", json::array());
  if (!tokens.is_array() || !values.is_array() || tokens.size() != values.size()) {
    return Error(ErrorCode::kCorruptFile, "logprobs.tokens and logprobs.token_logprobs differ")
        .actual(snippet(lp.dump()));
  }
  const json tops = lp.value("top_logprobs", json::array());
  for (size_t i = 0; i < tokens.size(); ++i) {
    TokenLogprob tl{tokens[i].get<std::string>(),
                    values[i].is_number() ? values[i].get<double>() : 0.0, {}};
    if (tops.is_array() && i < tops.size() && tops[i].is_object()) {
      for (const auto& [tok, v] : tops[i].items()) {
        if (v.is_number()) tl.top.push_back({tok, v.get<double>()});
      }
      std::sort(tl.top.begin(), tl.top.end(),
                [](const TopLogprob& a, const TopLogprob& b) { return a.logprob > b.logprob; });
    }
    out.push_back(std::move(tl));
  }
  return Status::ok();
}

}  // namespace

json openai_request_body(const CompletionRequest& r, const std::string& model) {
  json body;
  body["model"] = model;
  if (r.is_chat()) {
    json msgs = json::array();
    for (const auto& m : r.messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
    body["messages"] = std::move(msgs);
    if (r.logprobs) {
      body["logprobs"] = true;
      if (r.top_logprobs > 0) body["top_logprobs"] = r.top_logprobs;
    }
  } else {
    body["prompt"] = r.prompt;
    if (r.logprobs) body["logprobs"] = r.top_logprobs;  // legacy API: the top-k count
  }
  body["max_tokens"] = r.max_tokens;
  body["temperature"] = r.temperature;
  if (r.seed) body["seed"] = *r.seed;
  if (!r.stop.empty()) body["stop"] = r.stop;
  if (r.n != 1) body["n"] = r.n;
  return body;
}

Result<Completion> parse_openai_response(const std::string& body, bool chat) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(ErrorCode::kCorruptFile, "server response is not a JSON object")
        .actual(snippet(body))
        .hint("is base_url an OpenAI-compatible server?");
  }
  if (j.contains("error")) {
    return Error(ErrorCode::kInvalidArgument, "server returned an error")
        .actual(snippet(j["error"].dump()));
  }
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty()) {
    return Error(ErrorCode::kCorruptFile, "server response has no \"choices\"")
        .actual(snippet(body));
  }
  Completion c;
  c.model = j.value("model", std::string());
  if (auto usage = j.find("usage"); usage != j.end() && usage->is_object()) {
    c.prompt_tokens = int_or(*usage, "prompt_tokens", 0);
    c.completion_tokens = int_or(*usage, "completion_tokens", 0);
  }
  for (const json& ch : *choices) {
    Choice out;
    if (chat) {
      auto msg = ch.find("message");
      if (msg == ch.end() || !msg->is_object() || !msg->contains("content")) {
        return Error(ErrorCode::kCorruptFile, "chat choice has no message.content")
            .actual(snippet(ch.dump()));
      }
      const json& content = (*msg)["content"];
      out.text = content.is_string() ? content.get<std::string>() : std::string();
    } else {
      auto text = ch.find("text");
      if (text == ch.end() || !text->is_string()) {
        return Error(ErrorCode::kCorruptFile, "completion choice has no \"text\" string")
            .actual(snippet(ch.dump()));
      }
      out.text = text->get<std::string>();
    }
    if (auto fr = ch.find("finish_reason"); fr != ch.end() && fr->is_string()) {
      out.finish_reason = fr->get<std::string>();
    }
    if (auto lp = ch.find("logprobs"); lp != ch.end() && lp->is_object()) {
      if (lp->contains("content")) {
        QUORUM_TRY(parse_logprobs_content((*lp)["content"], out.logprobs));
      } else if (lp->contains("tokens")) {
        QUORUM_TRY(parse_logprobs_legacy(*lp, out.logprobs));
      }
    }
    c.choices.push_back(std::move(out));
  }
  return c;
}

Result<std::unique_ptr<HttpBackend>> HttpBackend::create(HttpBackendOptions options) {
  if (options.base_url.rfind("http://", 0) != 0 && options.base_url.rfind("https://", 0) != 0) {
    return Error(ErrorCode::kInvalidArgument, "remote model url must start with http:// or https://")
        .where("model '" + options.name + "'")
        .actual(options.base_url);
  }
  if (options.max_concurrency < 1 || options.max_retries < 0 || options.timeout_s <= 0) {
    return Error(ErrorCode::kInvalidArgument, "bad HTTP backend limits")
        .where("model '" + options.name + "'")
        .expected("max_concurrency >= 1, max_retries >= 0, timeout > 0")
        .actual(fmt::format("max_concurrency={}, max_retries={}, timeout={}",
                            options.max_concurrency, options.max_retries, options.timeout_s));
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    return Error(ErrorCode::kInternal, "libcurl failed to initialise");
  }
  return std::unique_ptr<HttpBackend>(new HttpBackend(std::move(options)));
}

HttpBackend::HttpBackend(HttpBackendOptions options)
    : options_(std::move(options)), slots_(options_.max_concurrency) {
  root_ = options_.base_url;
  while (!root_.empty() && root_.back() == '/') root_.pop_back();
  if (root_.size() >= 3 && root_.compare(root_.size() - 3, 3, "/v1") == 0) {
    root_.resize(root_.size() - 3);
  }
}

HttpBackend::~HttpBackend() { curl_global_cleanup(); }

std::string HttpBackend::identity() const { return "http|" + root_ + "|" + options_.model; }

Result<HttpBackend::HttpReply> HttpBackend::post_once(const std::string& path,
                                                      const std::string& body) {
  attempts_.fetch_add(1);
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Error(ErrorCode::kInternal, "curl_easy_init failed");
  HttpReply reply;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  if (!options_.api_key.empty()) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + options_.api_key).c_str());
  }
  const std::string url = root_ + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // required with threads
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_s * 1000));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout_s * 1000));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.retry_after_s);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return Error(ErrorCode::kTimeout, "request timed out")
        .where(url)
        .expected(fmt::format("an answer within {:g} s", options_.timeout_s))
        .hint("raise the model's timeout or check the server load");
  }
  if (rc != CURLE_OK) {
    return Error(ErrorCode::kIoError, std::string("HTTP request failed: ") + curl_easy_strerror(rc))
        .where(url);
  }
  return reply;
}

Result<std::string> HttpBackend::post(const std::string& path, const std::string& body) {
  double backoff = options_.backoff_initial_s;
  Status last;
  for (int attempt = 0; attempt <= options_.max_retries; ++attempt) {
    double wait = backoff;
    {
      slots_.acquire();
      Result<HttpReply> r = post_once(path, body);
      slots_.release();
      if (!r) {
        if (r.status().code() != ErrorCode::kIoError) return r.status();  // timeouts: no retry
        last = r.status();
      } else if (r->status == 200) {
        return std::move(r->body);
      } else if (r->status == 429 || r->status >= 500) {
        last = Error(ErrorCode::kIoError, fmt::format("server answered HTTP {}", r->status))
                   .where(root_ + path)
                   .actual(snippet(r->body));
        if (r->retry_after_s >= 0) wait = std::max(wait, r->retry_after_s);
      } else {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("server rejected the request with HTTP {}", r->status))
            .where(root_ + path)
            .actual(snippet(r->body))
            .hint(r->status == 401 || r->status == 403 ? "check the api key"
                                                       : "check the model id and parameters");
      }
    }
    if (attempt == options_.max_retries) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(wait, options_.backoff_max_s)));
    backoff *= 2;
  }
  Status s = last;
  return s.with_context(fmt::format("model '{}': giving up after {} attempts", options_.name,
                                    options_.max_retries + 1));
}

Result<Completion> HttpBackend::complete(const CompletionRequest& request) {
  const bool chat = request.is_chat();
  const std::string body = openai_request_body(request, options_.model).dump();
  const auto t0 = std::chrono::steady_clock::now();
  Result<std::string> reply = post(chat ? "/v1/chat/completions" : "/v1/completions", body);
  if (!reply) return reply.status();
  Result<Completion> c = parse_openai_response(*reply, chat);
  if (!c) {
    Status s = c.status();
    return s.with_context("model '" + options_.name + "'");
  }
  c->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return c;
}

Result<Scores> HttpBackend::score(const std::string&, const std::vector<std::string>&) {
  return Error(ErrorCode::kUnsupported, "remote models cannot score continuations")
      .where("model '" + options_.name + "' (" + root_ + ")")
      .hint("use `mode: generate` for remote models; label scoring needs a local model");
}

}  // namespace quorum::backend
