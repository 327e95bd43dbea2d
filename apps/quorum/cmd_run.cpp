// `quorum run -m MODEL -p PROMPT [-f FILE] [-n N] [sampling flags] [--chat] [--json]`: one
// generation. By default the text streams to stdout; --chat wraps the prompt in the model's chat
// template; --json prints one object with the prompt tokens, every generated token with its
// log-probability and top-10 alternatives, the text and the stop reason.
#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "engine_cli.h"

namespace quorum::cli {

namespace {

constexpr int kJsonTopLogprobs = 10;

Result<std::string> read_prompt_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorCode::kNotFound, "cannot open the prompt file").where(path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json token_json(const tokenizer::Tokenizer& tok, int32_t id) {
  return {{"id", id}, {"piece", tok.token_to_piece(id, true)}};
}

nlohmann::json generation_json(const LoadedModel& m, std::span<const int32_t> prompt,
                               const Generation& g) {
  const tokenizer::Tokenizer& tok = *m.tokenizer;
  nlohmann::json j;
  j["model"] = m.model->path();
  j["prompt_tokens"] = nlohmann::json::array();
  for (int32_t id : prompt) j["prompt_tokens"].push_back(token_json(tok, id));
  j["tokens"] = nlohmann::json::array();
  for (const GeneratedToken& t : g.tokens) {
    nlohmann::json e = token_json(tok, t.id);
    e["logprob"] = t.logprob;
    e["top"] = nlohmann::json::array();
    for (const TokenLogprob& a : t.top) {
      nlohmann::json alt = token_json(tok, a.id);
      alt["logprob"] = a.logprob;
      e["top"].push_back(std::move(alt));
    }
    j["tokens"].push_back(std::move(e));
  }
  j["text"] = g.text;
  j["stop_reason"] = stop_reason_name(g.reason);
  return j;
}

}  // namespace

RunFn setup_run(CLI::App& sub) {
  struct Opts {
    std::string model, prompt, prompt_file, system, chat_template;
    GenerationFlags flags;
    bool chat = false, json = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("-m,--model", o->model, "Model: GGUF file, Hugging Face folder or llama2.c .bin")
      ->required();
  sub.add_option("-p,--prompt", o->prompt, "Prompt text");
  sub.add_option("-f,--file", o->prompt_file, "Read the prompt from a file");
  add_generation_flags(sub, o->flags);
  sub.add_flag("--chat", o->chat, "Wrap the prompt in the model's chat template (as a user turn)");
  sub.add_option("--system", o->system, "System message for --chat");
  sub.add_option("--chat-template", o->chat_template,
                 "Use a built-in template (llama2, llama3, mistral, zephyr, phi3, chatml, gemma) "
                 "instead of the model's");
  sub.add_flag("--json", o->json,
               "Print one JSON object: prompt tokens, generated tokens with log-probabilities and "
               "their top-10 alternatives, text, stop reason");
  CLI::App* app = &sub;
  return [o, app]() -> int {
    if (app->count("--prompt") > 0 && app->count("--file") > 0) {
      return report_error(Error(ErrorCode::kInvalidArgument, "give either -p or -f, not both"));
    }
    if (app->count("--prompt") == 0 && app->count("--file") == 0) {
      return report_error(Error(ErrorCode::kInvalidArgument, "no prompt given")
                              .hint("pass -p TEXT or -f FILE"));
    }
    if (!o->prompt_file.empty()) {
      auto text = read_prompt_file(o->prompt_file);
      if (!text) return report_error(text.status());
      o->prompt = std::move(text).value();
    }
    if (o->prompt.empty()) {
      return report_error(Error(ErrorCode::kInvalidArgument, "the prompt is empty")
                              .where(o->prompt_file.empty() ? "-p" : o->prompt_file)
                              .hint("give a non-empty prompt"));
    }
    if (!o->system.empty() && !o->chat) {
      return report_error(Error(ErrorCode::kInvalidArgument, "--system needs --chat"));
    }
    auto m = load_model_and_tokenizer(o->model, o->flags.vocab,
                                      o->flags.no_mmap ? LoadMode::kRead : LoadMode::kMap);
    if (!m) return report_error(m.status());
    std::vector<int32_t> prompt;
    if (o->chat) {
      auto tmpl = load_chat_template(*m, o->chat_template);
      if (!tmpl) return report_error(tmpl.status());
      std::vector<ChatTurn> turns;
      if (!o->system.empty()) turns.push_back({"system", o->system});
      turns.push_back({"user", o->prompt});
      auto ids = chat_prompt_tokens(*m, *tmpl, turns);
      if (!ids) return report_error(ids.status());
      prompt = std::move(ids).value();
    } else {
      prompt = m->tokenizer->encode(o->prompt, /*add_special=*/true, /*parse_special=*/false);
    }
    auto session = Session::create(m->model, session_options(o->flags));
    if (!session) return report_error(session.status());
    Session& s = **session;
    if (Status st = check_prompt_fits(prompt, s.n_ctx()); !st) return report_error(st);
    GenerateOptions go = o->flags.gen;
    if (go.max_tokens < 0) go.max_tokens = s.n_ctx();
    if (o->json) go.top_logprobs = kJsonTopLogprobs;
    GenerateHooks hooks = tokenizer_hooks(*m->tokenizer);
    StopSafeStream stream(go.stop);
    if (!o->json) hooks.on_token = [&](const GeneratedToken&, const std::string& piece) { stream.add(piece); };
    const auto t0 = std::chrono::steady_clock::now();
    auto g = generate(s, prompt, go, hooks);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!g) {
      if (!o->json) std::fputc('\n', stdout);
      return report_error(g.status());
    }
    if (o->json) {
      fmt::print("{}\n", generation_json(*m, prompt, *g).dump(
                             2, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
      stream.finish(g->text);
      fmt::print("\n");
      fmt::print(stderr, "[{} prompt + {} generated tokens in {:.2f} s, stop: {}]\n", prompt.size(),
                 g->tokens.size(), secs, stop_reason_name(g->reason));
    }
    return 0;
  };
}

}  // namespace quorum::cli
