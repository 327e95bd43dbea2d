// JSON forms of requests and completions (the AnswerCache stores them; see backend.h).
#include "backend/backend.h"

namespace quorum::backend {

using nlohmann::json;

Result<int64_t> Backend::count_tokens(const std::string&) {
  return Error(ErrorCode::kUnsupported, "this backend cannot count prompt tokens")
      .where("model '" + name() + "'");
}

json to_json(const CompletionRequest& r) {
  json j;
  if (r.is_chat()) {
    json msgs = json::array();
    for (const auto& m : r.messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
    j["messages"] = std::move(msgs);
  } else {
    j["prompt"] = r.prompt;
  }
  j["max_tokens"] = r.max_tokens;
  j["temperature"] = r.temperature;
  j["seed"] = r.seed ? json(*r.seed) : json(nullptr);
  j["stop"] = r.stop;
  j["logprobs"] = r.logprobs;
  j["top_logprobs"] = r.top_logprobs;
  j["n"] = r.n;
  return j;
}

json to_json(const Completion& c) {
  json choices = json::array();
  for (const auto& ch : c.choices) {
    json lps = json::array();
    for (const auto& t : ch.logprobs) {
      json top = json::array();
      for (const auto& a : t.top) top.push_back({a.token, a.logprob});
      lps.push_back({{"token", t.token}, {"logprob", t.logprob}, {"top", std::move(top)}});
    }
    choices.push_back(
        {{"text", ch.text}, {"finish_reason", ch.finish_reason}, {"logprobs", std::move(lps)}});
  }
  return {{"choices", std::move(choices)},
          {"model", c.model},
          {"prompt_tokens", c.prompt_tokens},
          {"completion_tokens", c.completion_tokens},
          {"seconds", c.seconds}};
}

Result<Completion> completion_from_json(const json& j) {
  try {
    Completion c;
    for (const json& ch : j.at("choices")) {
      Choice out;
      out.text = ch.at("text").get<std::string>();
      out.finish_reason = ch.at("finish_reason").get<std::string>();
      for (const json& t : ch.at("logprobs")) {
        TokenLogprob tl{t.at("token").get<std::string>(), t.at("logprob").get<double>(), {}};
        for (const json& a : t.at("top")) {
          tl.top.push_back({a.at(0).get<std::string>(), a.at(1).get<double>()});
        }
        out.logprobs.push_back(std::move(tl));
      }
      c.choices.push_back(std::move(out));
    }
    c.model = j.at("model").get<std::string>();
    c.prompt_tokens = j.at("prompt_tokens").get<int>();
    c.completion_tokens = j.at("completion_tokens").get<int>();
    c.seconds = j.at("seconds").get<double>();
    if (c.choices.empty()) throw std::runtime_error("no choices");
    return c;
  } catch (const std::exception& e) {
    return Error(ErrorCode::kCorruptFile, "stored completion is malformed").actual(e.what());
  }
}

}  // namespace quorum::backend
