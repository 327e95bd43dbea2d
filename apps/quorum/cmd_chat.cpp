// `quorum chat -m MODEL [--system TEXT] [sampling flags]`: an interactive conversation using the
// model's chat template. Each line read from stdin is a user turn; the reply streams to stdout.
// The session keeps its KV cache across turns: the conversation is re-rendered each turn and
// prefill() recomputes only what differs from the cached tokens. `/reset` starts over, `/exit`
// or end of input ends. With piped stdin it runs non-interactively (no prompts are printed).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "engine_cli.h"

namespace quorum::cli {

namespace {

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

}  // namespace

RunFn setup_chat(CLI::App& sub) {
  struct Opts {
    std::string model, system, chat_template;
    GenerationFlags flags;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("-m,--model", o->model, "Model: GGUF file, Hugging Face folder or llama2.c .bin")
      ->required();
  sub.add_option("--system", o->system, "System message at the start of the conversation");
  sub.add_option("--chat-template", o->chat_template,
                 "Use a built-in template (llama2, llama3, mistral, zephyr, phi3, chatml, gemma) "
                 "instead of the model's");
  add_generation_flags(sub, o->flags);
  sub.footer("Type a message and press Enter. Commands: /reset (forget the conversation), /exit.");
  return [o]() -> int {
    auto m = load_model_and_tokenizer(o->model, o->flags.vocab,
                                      o->flags.no_mmap ? LoadMode::kRead : LoadMode::kMap);
    if (!m) return report_error(m.status());
    auto tmpl = load_chat_template(*m, o->chat_template);
    if (!tmpl) return report_error(tmpl.status());
    auto session = Session::create(m->model, session_options(o->flags));
    if (!session) return report_error(session.status());
    Session& s = **session;
    GenerateOptions go = o->flags.gen;
    if (go.max_tokens < 0) go.max_tokens = s.n_ctx();
    const bool interactive = isatty(STDIN_FILENO) != 0;
    std::vector<ChatTurn> turns;
    auto reset = [&] {
      turns.clear();
      if (!o->system.empty()) turns.push_back({"system", o->system});
    };
    reset();
    int turn = 0;
    std::string line;
    while (true) {
      if (interactive) fmt::print(stderr, "> ");
      if (!std::getline(std::cin, line)) break;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line == "/exit" || line == "/quit") break;
      if (line == "/reset") {
        reset();
        if (Status st = s.rewind(0); !st) return report_error(st);
        fmt::print(stderr, "[conversation reset]\n");
        continue;
      }
      if (line.empty()) continue;
      turns.push_back({"user", line});
      auto prompt = chat_prompt_tokens(*m, *tmpl, turns);
      Status fits = prompt ? check_prompt_fits(*prompt, s.n_ctx()) : prompt.status();
      if (!fits) {
        turns.pop_back();
        report_error(fits);
        fmt::print(stderr, "(the conversation is unchanged; /reset starts a new one)\n");
        continue;
      }
      // prefill() recomputes at least the last prompt token.
      const size_t reused = std::min(common_prefix(s.tokens(), *prompt), prompt->size() - 1);
      GenerateHooks hooks = tokenizer_hooks(*m->tokenizer);
      StopSafeStream stream(go.stop);
      hooks.on_token = [&](const GeneratedToken&, const std::string& piece) { stream.add(piece); };
      auto g = generate(s, *prompt, go, hooks);
      if (!g) {
        fmt::print("\n");
        return report_error(g.status());
      }
      stream.finish(g->text);
      fmt::print("\n");
      std::fflush(stdout);
      turns.push_back({"assistant", g->text});
      ++turn;
      fmt::print(stderr, "[turn {}: {} prompt tokens, {} reused from the cache, {} generated, stop: {}]\n",
                 turn, prompt->size(), reused, g->tokens.size(), stop_reason_name(g->reason));
    }
    if (interactive) fmt::print(stderr, "\n");
    return 0;
  };
}

}  // namespace quorum::cli
