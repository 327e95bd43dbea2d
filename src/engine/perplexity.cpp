// Perplexity and KL divergence (see perplexity.h for the chunking rules).
#include "engine/perplexity.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "engine/sampling.h"

namespace quorum {

namespace {

Result<int64_t> count_chunks(std::span<const int32_t> tokens, const PerplexityOptions& o) {
  if (o.n_ctx < 4) {
    return Error(ErrorCode::kInvalidArgument, "perplexity context too small")
        .expected(">= 4 tokens")
        .actual(std::to_string(o.n_ctx));
  }
  const auto available = static_cast<int64_t>(tokens.size()) / o.n_ctx;
  if (available == 0) {
    return Error(ErrorCode::kInvalidArgument, "the text is too short for one chunk")
        .expected(fmt::format("at least {} tokens (2 x --ctx would give a usable score)", o.n_ctx))
        .actual(fmt::format("{} tokens", tokens.size()))
        .hint("use a longer text or a smaller --ctx");
  }
  return o.n_chunks < 0 ? available : std::min(available, o.n_chunks);
}

// Evaluates chunk `c` from an empty cache; returns all logits [n_ctx, n_vocab].
Result<std::span<const float>> eval_chunk(Session& s, std::span<const int32_t> tokens, int64_t c,
                                          const PerplexityOptions& o, std::vector<int32_t>& buf) {
  buf.assign(tokens.begin() + c * o.n_ctx, tokens.begin() + (c + 1) * o.n_ctx);
  if (o.add_bos) buf[0] = o.bos_id;
  QUORUM_TRY(s.rewind(0));
  return s.decode(buf, LogitsMode::kAll);
}

struct LogSoftmaxRow {
  float max = 0;
  double log_sum = 0;
  double logprob(std::span<const float> l, int32_t id) const {
    return static_cast<double>(l[static_cast<size_t>(id)] - max) - log_sum;
  }
};

LogSoftmaxRow row_stats(std::span<const float> l) {
  LogSoftmaxRow r;
  r.max = *std::max_element(l.begin(), l.end());
  double sum = 0;
  for (float x : l) sum += std::exp(static_cast<double>(x - r.max));
  r.log_sum = std::log(sum);
  return r;
}

struct NllAccumulator {
  double nll = 0, nll2 = 0;
  int64_t count = 0;
  void add(double logprob) {
    nll -= logprob;
    nll2 += logprob * logprob;
    ++count;
  }
  double ppl() const { return std::exp(nll / static_cast<double>(count)); }
  void finish(PerplexityResult& r) const {
    const double mean = nll / static_cast<double>(count);
    const double var = nll2 / static_cast<double>(count) - mean * mean;
    r.ppl = std::exp(mean);
    r.ppl_err = var > 0 && count > 1 ? std::sqrt(var / static_cast<double>(count - 1)) * r.ppl : 0;
    r.n_scored = count;
  }
};

Result<std::unique_ptr<Session>> make_session(const std::shared_ptr<const Model>& model,
                                              const PerplexityOptions& o, SessionOptions so) {
  so.n_ctx = o.n_ctx;
  so.n_batch = o.n_ctx;
  return Session::create(model, so);
}

}  // namespace

namespace {

// llama-perplexity's pass over the chunks: evaluates each chunk, scores the second half of it
// and hands every scored logits row ([n_vocab]) to `on_row` (kl_base keeps them).
Result<PerplexityResult> scan_chunks(const std::shared_ptr<const Model>& model,
                                     std::span<const int32_t> tokens,
                                     const PerplexityOptions& options,
                                     SessionOptions session_options, const char* label,
                                     const std::function<void(std::span<const float>)>& on_row) {
  QUORUM_ASSIGN_OR_RETURN(const int64_t n_chunks, count_chunks(tokens, options));
  QUORUM_ASSIGN_OR_RETURN(std::unique_ptr<Session> s,
                          make_session(model, options, session_options));
  const int64_t first = options.n_ctx / 2;
  const auto n_vocab = static_cast<size_t>(s->n_vocab());
  PerplexityResult out;
  NllAccumulator acc;
  std::vector<int32_t> buf;
  for (int64_t c = 0; c < n_chunks; ++c) {
    QUORUM_ASSIGN_OR_RETURN(std::span<const float> logits, eval_chunk(*s, tokens, c, options, buf));
    const int32_t* next = tokens.data() + c * options.n_ctx;
    for (int64_t i = first; i < options.n_ctx - 1; ++i) {
      const std::span<const float> row = logits.subspan(static_cast<size_t>(i) * n_vocab, n_vocab);
      acc.add(row_stats(row).logprob(row, next[i + 1]));
      if (on_row) on_row(row);
    }
    out.chunk_ppl.push_back(acc.ppl());
    if (options.on_chunk) options.on_chunk(c, out.chunk_ppl.back());
    if (options.progress) options.progress(label, c + 1, n_chunks);
  }
  out.n_chunks = n_chunks;
  acc.finish(out);
  return out;
}

}  // namespace

Result<PerplexityResult> perplexity(const std::shared_ptr<const Model>& model,
                                    std::span<const int32_t> tokens,
                                    const PerplexityOptions& options,
                                    SessionOptions session_options) {
  return scan_chunks(model, tokens, options, std::move(session_options), "perplexity", nullptr);
}

namespace {

// The per-token sums of kl_divergence; add() takes one chunk's scored rows of both models.
struct KlAccumulator {
  KlResult out;
  NllAccumulator acc_b, acc_t;
  double kld_sum = 0, kld2_sum = 0, dp_sum = 0, dp2_sum = 0, lr_sum = 0, lr2_sum = 0;
  int64_t same = 0, n = 0;

  KlAccumulator() {
    out.min_dp = 1.0;
    out.max_dp = -1.0;
  }

  // base_rows: [n_ctx - 1 - first][n_vocab] (scored positions first .. n_ctx-2);
  // test_logits: [n_ctx][n_vocab] (all positions); next: the chunk's tokens.
  void add(std::span<const float> base_rows, std::span<const float> test_logits, const int32_t* next,
           int64_t first, int64_t n_ctx, size_t n_vocab) {
    for (int64_t i = first; i < n_ctx - 1; ++i) {
      const std::span<const float> rb = base_rows.subspan(static_cast<size_t>(i - first) * n_vocab, n_vocab);
      const std::span<const float> rt = test_logits.subspan(static_cast<size_t>(i) * n_vocab, n_vocab);
      const LogSoftmaxRow sb_row = row_stats(rb), st_row = row_stats(rt);
      double kld = 0;
      for (size_t v = 0; v < n_vocab; ++v) {
        const double lpb = static_cast<double>(rb[v] - sb_row.max) - sb_row.log_sum;
        const double lpt = static_cast<double>(rt[v] - st_row.max) - st_row.log_sum;
        kld += std::exp(lpb) * (lpb - lpt);
      }
      const int32_t tok = next[i + 1];
      const double lpb = sb_row.logprob(rb, tok), lpt = st_row.logprob(rt, tok);
      acc_b.add(lpb);
      acc_t.add(lpt);
      const double dp = std::exp(lpt) - std::exp(lpb);
      kld_sum += kld;
      out.token_kld.push_back(static_cast<float>(kld));
      kld2_sum += kld * kld;
      out.max_kld = std::max(out.max_kld, kld);
      dp_sum += dp;
      dp2_sum += dp * dp;
      out.min_dp = std::min(out.min_dp, dp);
      out.max_dp = std::max(out.max_dp, dp);
      lr_sum += lpb - lpt;
      lr2_sum += (lpb - lpt) * (lpb - lpt);
      same += argmax(rb) == argmax(rt) ? 1 : 0;
      ++n;
    }
    out.base.chunk_ppl.push_back(acc_b.ppl());
    out.test.chunk_ppl.push_back(acc_t.ppl());
  }

  KlResult finish(int64_t n_chunks) {
    const auto dn = static_cast<double>(n);
    auto err = [&](double sum, double sum2) {
      const double mean = sum / dn;
      const double var = sum2 / dn - mean * mean;
      return var > 0 && n > 1 ? std::sqrt(var / (dn - 1)) : 0.0;
    };
    acc_b.finish(out.base);
    acc_t.finish(out.test);
    out.base.n_chunks = out.test.n_chunks = n_chunks;
    out.mean_kld = kld_sum / dn;
    out.kld_err = err(kld_sum, kld2_sum);
    out.mean_dp = dp_sum / dn;
    out.rms_dp = std::sqrt(dp2_sum / dn);
    out.ln_ppl_ratio = lr_sum / dn;
    out.ln_ppl_ratio_err = err(lr_sum, lr2_sum);
    out.same_top = static_cast<double>(same) / dn;
    out.same_top_err = n > 1 ? std::sqrt(out.same_top * (1 - out.same_top) / (dn - 1)) : 0.0;
    return std::move(out);
  }
};

Status check_vocab(int64_t base_vocab, int64_t test_vocab) {
  if (base_vocab == test_vocab) return Status::ok();
  return Error(ErrorCode::kInvalidArgument, "the models have different vocabularies")
      .expected(fmt::format("{} tokens (base)", base_vocab))
      .actual(fmt::format("{} tokens", test_vocab));
}

}  // namespace

Result<KlResult> kl_divergence(const std::shared_ptr<const Model>& base,
                               const std::shared_ptr<const Model>& test,
                               std::span<const int32_t> tokens, const PerplexityOptions& options,
                               SessionOptions session_options) {
  QUORUM_TRY(check_vocab(base->hparams().n_vocab, test->hparams().n_vocab));
  QUORUM_ASSIGN_OR_RETURN(const int64_t n_chunks, count_chunks(tokens, options));
  QUORUM_ASSIGN_OR_RETURN(std::unique_ptr<Session> sb, make_session(base, options, session_options));
  QUORUM_ASSIGN_OR_RETURN(std::unique_ptr<Session> st, make_session(test, options, session_options));
  const int64_t first = options.n_ctx / 2;
  const auto n_vocab = static_cast<size_t>(sb->n_vocab());
  KlAccumulator acc;
  std::vector<int32_t> buf;
  std::vector<float> base_rows;
  for (int64_t c = 0; c < n_chunks; ++c) {
    QUORUM_ASSIGN_OR_RETURN(std::span<const float> lb, eval_chunk(*sb, tokens, c, options, buf));
    base_rows.assign(lb.begin() + first * static_cast<int64_t>(n_vocab),
                     lb.begin() + (options.n_ctx - 1) * static_cast<int64_t>(n_vocab));
    QUORUM_ASSIGN_OR_RETURN(std::span<const float> lt, eval_chunk(*st, tokens, c, options, buf));
    acc.add(base_rows, lt, tokens.data() + c * options.n_ctx, first, options.n_ctx, n_vocab);
    if (options.on_chunk) options.on_chunk(c, acc.out.test.chunk_ppl.back());
    if (options.progress) options.progress("kl-divergence", c + 1, n_chunks);
  }
  return acc.finish(n_chunks);
}

uint64_t KlBase::bytes(int64_t n_chunks, int64_t n_ctx, int64_t n_vocab) {
  return static_cast<uint64_t>(n_chunks) * static_cast<uint64_t>(n_ctx - 1 - n_ctx / 2) *
         static_cast<uint64_t>(n_vocab) * sizeof(float);
}

Result<KlBase> kl_base(const std::shared_ptr<const Model>& base, std::span<const int32_t> tokens,
                       const PerplexityOptions& options, SessionOptions session_options) {
  QUORUM_ASSIGN_OR_RETURN(const int64_t n_chunks, count_chunks(tokens, options));
  KlBase kb;
  kb.n_ctx = options.n_ctx;
  kb.n_chunks = n_chunks;
  kb.n_vocab = base->hparams().n_vocab;
  kb.tokens.assign(tokens.begin(), tokens.begin() + n_chunks * options.n_ctx);
  kb.logits.reserve(KlBase::bytes(n_chunks, options.n_ctx, kb.n_vocab) / sizeof(float));
  QUORUM_ASSIGN_OR_RETURN(
      kb.ppl, scan_chunks(base, tokens, options, std::move(session_options), "kl-divergence base",
                          [&kb](std::span<const float> row) {
                            kb.logits.insert(kb.logits.end(), row.begin(), row.end());
                          }));
  return kb;
}

Result<KlResult> kl_divergence(const KlBase& base, const std::shared_ptr<const Model>& test,
                               std::span<const int32_t> tokens, const PerplexityOptions& options,
                               SessionOptions session_options) {
  QUORUM_TRY(check_vocab(base.n_vocab, test->hparams().n_vocab));
  QUORUM_ASSIGN_OR_RETURN(const int64_t n_chunks, count_chunks(tokens, options));
  if (options.n_ctx != base.n_ctx || n_chunks != base.n_chunks ||
      !std::equal(base.tokens.begin(), base.tokens.end(), tokens.begin())) {
    return Error(ErrorCode::kInvalidArgument, "the KL base was computed on other chunks")
        .expected(fmt::format("the base's {} chunks of {} tokens", base.n_chunks, base.n_ctx))
        .actual(fmt::format("{} chunks of {} tokens{}", n_chunks, options.n_ctx,
                            options.n_ctx == base.n_ctx && n_chunks == base.n_chunks ? " (other tokens)" : ""));
  }
  QUORUM_ASSIGN_OR_RETURN(std::unique_ptr<Session> st, make_session(test, options, session_options));
  const int64_t first = options.n_ctx / 2;
  const auto n_vocab = static_cast<size_t>(base.n_vocab);
  const size_t chunk_floats = static_cast<size_t>(options.n_ctx - 1 - first) * n_vocab;
  KlAccumulator acc;
  std::vector<int32_t> buf;
  for (int64_t c = 0; c < n_chunks; ++c) {
    QUORUM_ASSIGN_OR_RETURN(std::span<const float> lt, eval_chunk(*st, tokens, c, options, buf));
    const std::span<const float> rows(base.logits.data() + static_cast<size_t>(c) * chunk_floats, chunk_floats);
    acc.add(rows, lt, tokens.data() + c * options.n_ctx, first, options.n_ctx, n_vocab);
    if (options.on_chunk) options.on_chunk(c, acc.out.test.chunk_ppl.back());
    if (options.progress) options.progress("kl-divergence", c + 1, n_chunks);
  }
  return acc.finish(n_chunks);
}

}  // namespace quorum
