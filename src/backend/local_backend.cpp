// LocalBackend: requests answered by the engine (see local_backend.h).
#include "backend/local_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "core/sha256.h"
#include "engine/generate.h"
#include "engine/scoring.h"

namespace quorum::backend {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return !prefix.empty() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

// A session borrowed from the pool; returned on destruction.
class LocalBackend::Lease {
 public:
  Lease(LocalBackend* owner, std::unique_ptr<Session> session)
      : owner_(owner), session_(std::move(session)) {}
  Lease(Lease&& other) noexcept : owner_(other.owner_), session_(std::move(other.session_)) {}
  Lease& operator=(Lease&&) = delete;
  Lease(const Lease&) = delete;
  ~Lease() {
    if (session_) owner_->release(std::move(session_));
  }
  Session& operator*() const { return *session_; }

 private:
  LocalBackend* owner_;
  std::unique_ptr<Session> session_;
};

Result<std::unique_ptr<LocalBackend>> LocalBackend::create(const LocalBackendOptions& options) {
  auto model = Model::load(options.path);
  if (!model) return Status(model.status()).with_context("model '" + options.name + "'");
  return create(options, std::move(model).value());
}

Result<std::unique_ptr<LocalBackend>> LocalBackend::create(const LocalBackendOptions& options,
                                                           std::shared_ptr<const Model> model) {
  const std::string where = "model '" + options.name + "' (" + options.path + ")";
  if (!model) return Error(ErrorCode::kInvalidArgument, "no model given").where(where);
  if (options.max_sessions < 1 || options.threads_per_session < 1) {
    return Error(ErrorCode::kInvalidArgument, "max_sessions and threads_per_session must be >= 1")
        .where(where)
        .actual(fmt::format("max_sessions {}, threads_per_session {}", options.max_sessions,
                            options.threads_per_session));
  }
  auto tok = tokenizer::Tokenizer::from_gguf(model->file());
  if (!tok) return Status(tok.status()).with_context(where);
  const int64_t n_ctx = options.n_ctx > 0 ? options.n_ctx : model->hparams().n_ctx_train;
  if (n_ctx <= 0) {
    return Error(ErrorCode::kInvalidArgument, "the model declares no context length")
        .where(where)
        .hint("set LocalBackendOptions::n_ctx");
  }
  std::string identity = options.identity;
  if (identity.empty()) {
    auto h = sha256_file(options.path.empty() ? model->path() : options.path);
    if (!h) return Status(h.status()).with_context(where);
    identity = std::move(h).value();
  }
  std::unique_ptr<LocalBackend> b(
      new LocalBackend(options, std::move(model), std::move(tok).value(), std::move(identity), n_ctx));
  // The chat template is optional: plain prompts work without one.
  if (!options.chat_template.empty()) {
    auto t = ChatTemplate::parse(options.chat_template);
    if (!t) return Status(t.status()).with_context(where + ": chat_template");
    b->chat_template_ = std::move(t).value();
  } else if (auto t = ChatTemplate::from_gguf(b->model_->file())) {
    b->chat_template_ = std::move(t).value();
  } else if (auto family = ChatTemplate::guess_family(b->model_->file())) {
    auto builtin = ChatTemplate::builtin(*family);
    if (builtin) b->chat_template_ = std::move(builtin).value();
    else b->template_error_ = builtin.status();
  } else {
    b->template_error_ = t.status();
  }
  return b;
}

LocalBackend::LocalBackend(LocalBackendOptions options, std::shared_ptr<const Model> model,
                           std::shared_ptr<const tokenizer::Tokenizer> tok, std::string identity,
                           int64_t n_ctx)
    : options_(std::move(options)),
      model_(std::move(model)),
      tokenizer_(std::move(tok)),
      identity_(std::move(identity)),
      n_ctx_(n_ctx) {}

LocalBackend::~LocalBackend() = default;

int LocalBackend::sessions_created() const {
  std::lock_guard<std::mutex> lock(pool_mu_);
  return created_;
}

Result<LocalBackend::Lease> LocalBackend::acquire(const std::vector<int32_t>& tokens) {
  {
    std::unique_lock<std::mutex> lock(pool_mu_);
    pool_cv_.wait(lock, [&] { return !idle_.empty() || created_ < options_.max_sessions; });
    if (!idle_.empty()) {
      size_t best = 0, best_len = 0;
      for (size_t i = 0; i < idle_.size(); ++i) {
        const size_t len = common_prefix(idle_[i]->tokens(), tokens);
        if (i == 0 || len > best_len) best = i, best_len = len;
      }
      std::unique_ptr<Session> s = std::move(idle_[best]);
      idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(best));
      return Lease(this, std::move(s));
    }
    ++created_;  // reserve the slot while creating outside the lock
  }
  SessionOptions so;
  so.n_ctx = n_ctx_;
  so.kv_type = options_.kv_type;
  so.n_threads = options_.threads_per_session;
  auto s = Session::create(model_, so);
  if (!s) {
    std::lock_guard<std::mutex> lock(pool_mu_);
    --created_;
    pool_cv_.notify_one();
    return Status(s.status()).with_context("model '" + options_.name + "'");
  }
  return Lease(this, std::move(s).value());
}

void LocalBackend::release(std::unique_ptr<Session> session) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  idle_.push_back(std::move(session));
  pool_cv_.notify_one();
}

Status LocalBackend::check_prompt(const std::vector<int32_t>& tokens, const char* what) const {
  if (tokens.empty()) {
    return Error(ErrorCode::kInvalidArgument, fmt::format("the {} has no tokens", what))
        .where("model '" + options_.name + "'")
        .hint("give a non-empty prompt (this model adds no BOS token)");
  }
  if (static_cast<int64_t>(tokens.size()) >= n_ctx_) {
    return Error(ErrorCode::kOutOfRange, fmt::format("the {} does not fit the context", what))
        .where("model '" + options_.name + "'")
        .expected(fmt::format("fewer than {} tokens", n_ctx_))
        .actual(fmt::format("{} tokens", tokens.size()))
        .hint("shorten the input");
  }
  return Status::ok();
}

Result<std::vector<int32_t>> LocalBackend::prompt_tokens(const CompletionRequest& request) const {
  if (!request.is_chat()) {
    return tokenizer_->encode(request.prompt, /*add_special=*/true, /*parse_special=*/false);
  }
  if (!chat_template_) {
    Status s = template_error_;
    return s.with_context("model '" + options_.name + "' has no chat template");
  }
  nlohmann::json messages = nlohmann::json::array();
  for (const ChatMessage& m : request.messages) {
    messages.push_back({{"role", m.role}, {"content", m.content}});
  }
  ChatRenderOptions ro;
  ro.add_generation_prompt = true;
  if (tokenizer_->bos() >= 0) ro.bos_token = tokenizer_->token_to_piece(tokenizer_->bos(), true);
  if (tokenizer_->eos() >= 0) ro.eos_token = tokenizer_->token_to_piece(tokenizer_->eos(), true);
  std::string text;
  {
    std::lock_guard<std::mutex> lock(template_mu_);
    auto r = chat_template_->render(messages, ro);
    if (!r) return Status(r.status()).with_context("model '" + options_.name + "': chat template");
    text = std::move(r).value();
  }
  // The template may write BOS itself; add it only when it did not (no double BOS).
  const bool add_special = !starts_with(text, ro.bos_token);
  return tokenizer_->encode(text, add_special, /*parse_special=*/true);
}

Result<int64_t> LocalBackend::count_tokens(const std::string& prompt) {
  return static_cast<int64_t>(tokenizer_->encode(prompt, true, false).size());
}

Result<Completion> LocalBackend::complete(const CompletionRequest& request) {
  const auto t0 = Clock::now();
  const std::string where = "model '" + options_.name + "'";
  if (request.max_tokens < 1 || request.n < 1 || request.top_logprobs < 0) {
    return Error(ErrorCode::kInvalidArgument, "bad request parameters")
        .where(where)
        .expected("max_tokens >= 1, n >= 1, top_logprobs >= 0")
        .actual(fmt::format("max_tokens {}, n {}, top_logprobs {}", request.max_tokens, request.n,
                            request.top_logprobs));
  }
  QUORUM_ASSIGN_OR_RETURN(std::vector<int32_t> tokens, prompt_tokens(request));
  QUORUM_TRY(check_prompt(tokens, "prompt"));

  GenerateOptions go;
  go.max_tokens = request.max_tokens;
  go.stop = request.stop;
  go.top_logprobs = request.logprobs ? request.top_logprobs : 0;
  if (request.temperature > 0.0) {
    go.sampling.temperature = static_cast<float>(request.temperature);
    go.sampling.top_k = 0;
    go.sampling.top_p = 1.0f;
    go.sampling.min_p = 0.0f;
  } else {
    go.sampling = SamplingParams::greedy();
  }
  const uint64_t seed = request.seed ? *request.seed : std::random_device{}();
  GenerateHooks hooks;
  const tokenizer::Tokenizer& tok = *tokenizer_;
  hooks.piece = [&tok](int32_t id) { return tok.token_to_piece(id, /*special=*/false); };
  hooks.is_eog = [&tok](int32_t id) { return tok.is_eog(id); };

  Completion out;
  out.model = options_.name;
  out.prompt_tokens = static_cast<int>(tokens.size());
  QUORUM_ASSIGN_OR_RETURN(Lease lease, acquire(tokens));
  for (int c = 0; c < request.n; ++c) {
    go.sampling.seed = seed + static_cast<uint64_t>(c);
    auto gen = generate(*lease, tokens, go, hooks);
    if (!gen) return Status(gen.status()).with_context(where);
    Choice choice;
    choice.text = std::move(gen->text);
    const bool stopped = gen->reason == StopReason::kEndOfGeneration ||
                         gen->reason == StopReason::kStopString;
    choice.finish_reason = stopped ? "stop" : "length";
    size_t n_tokens = gen->tokens.size();
    if (gen->reason == StopReason::kEndOfGeneration && n_tokens > 0) --n_tokens;  // EOG is no text
    out.completion_tokens += static_cast<int>(n_tokens);
    if (request.logprobs) {
      for (size_t i = 0; i < n_tokens; ++i) {
        const GeneratedToken& g = gen->tokens[i];
        TokenLogprob t{tok.token_to_piece(g.id, false), g.logprob, {}};
        for (const auto& alt : g.top) t.top.push_back({tok.token_to_piece(alt.id, false), alt.logprob});
        choice.logprobs.push_back(std::move(t));
      }
    }
    out.choices.push_back(std::move(choice));
  }
  out.seconds = since(t0);
  return out;
}

Result<Scores> LocalBackend::score(const std::string& prompt,
                                   const std::vector<std::string>& continuations) {
  const auto t0 = Clock::now();
  const std::string where = "model '" + options_.name + "'";
  if (continuations.empty()) {
    return Error(ErrorCode::kInvalidArgument, "no continuations to score").where(where);
  }
  const std::vector<int32_t> prompt_ids = tokenizer_->encode(prompt, true, false);
  QUORUM_TRY(check_prompt(prompt_ids, "prompt"));
  // Split each prompt + continuation where its tokens leave the prompt's.
  struct Split {
    std::vector<int32_t> full;
    size_t common = 0;
  };
  std::vector<Split> splits;
  for (size_t i = 0; i < continuations.size(); ++i) {
    Split s;
    s.full = tokenizer_->encode(prompt + continuations[i], true, false);
    s.common = common_prefix(prompt_ids, s.full);
    if (s.common == s.full.size()) {
      return Error(ErrorCode::kInvalidArgument, "a continuation adds no tokens to the prompt")
          .where(fmt::format("{}, continuation {} ('{}')", where, i, continuations[i]));
    }
    if (s.common == 0) {
      return Error(ErrorCode::kInvalidArgument, "the continuation changes the prompt's first token")
          .where(fmt::format("{}, continuation {} ('{}')", where, i, continuations[i]))
          .hint("this model adds no BOS token; score after a non-empty prompt");
    }
    if (static_cast<int64_t>(s.full.size()) > n_ctx_) {
      return Error(ErrorCode::kOutOfRange, "prompt + continuation does not fit the context")
          .where(fmt::format("{}, continuation {}", where, i))
          .expected(fmt::format("at most {} tokens", n_ctx_))
          .actual(fmt::format("{} tokens", s.full.size()));
    }
    splits.push_back(std::move(s));
  }
  Scores out;
  QUORUM_ASSIGN_OR_RETURN(Lease lease, acquire(prompt_ids));
  for (const Split& s : splits) {
    const std::span<const int32_t> all(s.full);
    auto r = score_continuation(*lease, all.first(s.common), all.subspan(s.common));
    if (!r) return Status(r.status()).with_context(where);
    out.logprobs.push_back(r->logprob);
  }
  out.seconds = since(t0);
  return out;
}

}  // namespace quorum::backend
