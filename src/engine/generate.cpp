// The generation loop.
#include "engine/generate.h"

namespace quorum {

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::kMaxTokens: return "length";
    case StopReason::kEndOfGeneration: return "eog";
    case StopReason::kStopString: return "stop";
    case StopReason::kContextFull: return "context";
  }
  return "?";
}

Result<Generation> generate(Session& session, std::span<const int32_t> prompt,
                            const GenerateOptions& options, const GenerateHooks& hooks) {
  QUORUM_TRY(validate(options.sampling));
  QUORUM_ASSIGN_OR_RETURN(std::span<const float> logits, session.prefill(prompt));
  Sampler sampler(options.sampling);
  Generation out;
  std::vector<int32_t> history(prompt.begin(), prompt.end());
  for (int64_t step = 0; step < options.max_tokens; ++step) {
    GeneratedToken g;
    g.id = sampler.sample(logits, history);
    g.logprob = token_logprob(logits, g.id);
    if (options.top_logprobs > 0) g.top = top_logprobs(logits, options.top_logprobs);
    if (hooks.is_eog && hooks.is_eog(g.id)) {
      out.reason = StopReason::kEndOfGeneration;
      out.tokens.push_back(std::move(g));
      return out;
    }
    const std::string piece = hooks.piece ? hooks.piece(g.id) : std::string();
    out.text += piece;
    history.push_back(g.id);
    if (hooks.on_token) hooks.on_token(g, piece);
    out.tokens.push_back(std::move(g));
    for (const std::string& s : options.stop) {
      if (s.empty()) continue;
      // Only the tail can newly contain the stop string.
      const size_t from = out.text.size() > piece.size() + s.size() ? out.text.size() - piece.size() - s.size() : 0;
      const size_t at = out.text.find(s, from);
      if (at != std::string::npos) {
        out.text.resize(at);
        out.reason = StopReason::kStopString;
        return out;
      }
    }
    if (step + 1 == options.max_tokens) break;
    if (session.position() >= session.n_ctx()) {
      out.reason = StopReason::kContextFull;
      return out;
    }
    const int32_t id = out.tokens.back().id;
    QUORUM_ASSIGN_OR_RETURN(logits, session.decode(std::span<const int32_t>(&id, 1)));
  }
  out.reason = StopReason::kMaxTokens;
  return out;
}

}  // namespace quorum
