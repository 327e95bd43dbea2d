// `quorum perplexity -m MODEL -f TEXT [--ctx 512] [--chunks N] [-t T] [--kl-base BASE] [--json]`:
// perplexity as llama-perplexity computes it (the whole text tokenized once with BOS, chunks of
// --ctx tokens each starting with BOS, the second half of every chunk scored), and with
// --kl-base the KL divergence of MODEL from BASE over the same chunks, Δp statistics and the
// same-top-1 rate, each with its standard error.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "commands.h"
#include "core/progress.h"
#include "engine/perplexity.h"
#include "engine_cli.h"

namespace quorum::cli {

namespace {

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot open the text file").where(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.empty()) {
    return Error(ErrorCode::kInvalidArgument, "the text file is empty")
        .where(path)
        .hint("perplexity needs a text of at least 2 x --ctx tokens");
  }
  return text;
}

// Both tokenizers must map text to the same ids, or the comparison is meaningless.
Status check_same_vocab(const LoadedModel& base, const LoadedModel& test) {
  const auto& a = base.tokenizer->vocab().tokens;
  const auto& b = test.tokenizer->vocab().tokens;
  if (a.size() != b.size() || base.model->hparams().n_vocab != test.model->hparams().n_vocab) {
    return Error(ErrorCode::kInvalidArgument, "the base and test models have different vocabularies")
        .expected(fmt::format("{} tokens (base)", base.model->hparams().n_vocab))
        .actual(fmt::format("{} tokens", test.model->hparams().n_vocab))
        .hint("KL divergence compares two versions of one model (e.g. F32 and a quantization)");
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].text != b[i].text) {
      return Error(ErrorCode::kInvalidArgument, "the base and test models have different vocabularies")
          .where(fmt::format("token {}", i))
          .expected(fmt::format("'{}' (base)", a[i].text))
          .actual(fmt::format("'{}'", b[i].text));
    }
  }
  return Status::ok();
}

std::string chunk_list(const std::vector<double>& ppl) {
  std::string s;
  for (size_t i = 0; i < ppl.size(); ++i) s += fmt::format("[{}]{:.4f},", i + 1, ppl[i]);
  return s;
}

nlohmann::json ppl_json(const PerplexityResult& r) {
  return {{"ppl", r.ppl},           {"ppl_err", r.ppl_err},   {"n_chunks", r.n_chunks},
          {"n_scored", r.n_scored}, {"chunk_ppl", r.chunk_ppl}};
}

void print_kl(const KlResult& k) {
  fmt::print("{}\n\n", chunk_list(k.test.chunk_ppl));
  fmt::print("====== Perplexity statistics ======\n");
  fmt::print("Mean PPL(Q)                   : {:13.6f} ± {:12.6f}\n", k.test.ppl, k.test.ppl_err);
  fmt::print("Mean PPL(base)                : {:13.6f} ± {:12.6f}\n", k.base.ppl, k.base.ppl_err);
  fmt::print("Mean ln(PPL(Q)/PPL(base))     : {:13.6f} ± {:12.6f}\n", k.ln_ppl_ratio,
             k.ln_ppl_ratio_err);
  fmt::print("\n====== KL divergence statistics ======\n");
  fmt::print("Mean    KLD: {:10.6f} ± {:10.6f}\n", k.mean_kld, k.kld_err);
  fmt::print("Maximum KLD: {:10.6f}\n", k.max_kld);
  fmt::print("\n====== Token probability statistics ======\n");
  fmt::print("Mean    Δp: {:8.3f} %\n", 100 * k.mean_dp);
  fmt::print("RMS     Δp: {:8.3f} %\n", 100 * k.rms_dp);
  fmt::print("Minimum Δp: {:8.3f} %\n", 100 * k.min_dp);
  fmt::print("Maximum Δp: {:8.3f} %\n", 100 * k.max_dp);
  fmt::print("Same top p: {:8.3f} ± {:.3f} %\n", 100 * k.same_top, 100 * k.same_top_err);
}

nlohmann::json kl_json(const KlResult& k) {
  return {{"test", ppl_json(k.test)},
          {"base", ppl_json(k.base)},
          {"ln_ppl_ratio", k.ln_ppl_ratio},
          {"ln_ppl_ratio_err", k.ln_ppl_ratio_err},
          {"mean_kld", k.mean_kld},
          {"kld_err", k.kld_err},
          {"max_kld", k.max_kld},
          {"mean_dp", k.mean_dp},
          {"rms_dp", k.rms_dp},
          {"min_dp", k.min_dp},
          {"max_dp", k.max_dp},
          {"same_top", k.same_top},
          {"same_top_err", k.same_top_err}};
}

}  // namespace

RunFn setup_perplexity(CLI::App& sub) {
  struct Opts {
    std::string model, text_file, kl_base, vocab;
    int64_t n_ctx = 512, n_chunks = -1;
    int threads = 0;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("-m,--model", o->model, "Model (with --kl-base: the model compared to the base)")
      ->required();
  sub.add_option("-f,--file", o->text_file, "Text to score (e.g. wikitext-2 wiki.test.raw)")
      ->required();
  sub.add_option("-c,--ctx", o->n_ctx, "Chunk length in tokens; the second half of each is scored")
      ->check(CLI::Range(int64_t{4}, int64_t{1} << 20))
      ->capture_default_str();
  sub.add_option("--chunks", o->n_chunks, "Chunks to score (-1: all the text holds)")
      ->capture_default_str();
  sub.add_option("-t,--threads", o->threads, "Threads (0 = all cores)")
      ->check(CLI::Range(0, 512))
      ->capture_default_str();
  sub.add_option("--kl-base", o->kl_base,
                 "Base model (e.g. the F32 original): report the KL divergence of MODEL from it");
  sub.add_option("--vocab", o->vocab, "Tokenizer for llama2.c checkpoints");
  sub.add_flag("--json", o->json, "Print the results as JSON");
  return [o]() -> int {
    if (o->n_chunks == 0 || o->n_chunks < -1) {
      return report_error(Error(ErrorCode::kInvalidArgument, "--chunks must be -1 (all) or positive")
                              .actual(std::to_string(o->n_chunks)));
    }
    auto text = read_text_file(o->text_file);
    if (!text) return report_error(text.status());
    auto m = load_model_and_tokenizer(o->model, o->vocab);
    if (!m) return report_error(m.status());
    std::optional<LoadedModel> base;
    if (!o->kl_base.empty()) {
      auto b = load_model_and_tokenizer(o->kl_base, o->vocab);
      if (!b) return report_error(b.status());
      if (Status st = check_same_vocab(*b, *m); !st) return report_error(st);
      base = std::move(b).value();
    }
    const tokenizer::Tokenizer& tok = base ? *base->tokenizer : *m->tokenizer;
    // As llama-perplexity: the whole text at once, BOS added if the vocabulary asks for it,
    // special-token text not parsed.
    const std::vector<int32_t> tokens = tok.encode(*text, /*add_special=*/true, /*parse_special=*/false);
    if (static_cast<int64_t>(tokens.size()) < 2 * o->n_ctx) {
      return report_error(Error(ErrorCode::kInvalidArgument, "the text is too short for --ctx")
                              .where(o->text_file)
                              .expected(fmt::format("at least 2 x {} = {} tokens", o->n_ctx, 2 * o->n_ctx))
                              .actual(fmt::format("{} tokens", tokens.size()))
                              .hint("use a longer text or a smaller --ctx"));
    }
    PerplexityOptions po;
    po.n_ctx = o->n_ctx;
    po.n_chunks = o->n_chunks;
    po.add_bos = tok.add_bos() && tok.bos() >= 0;
    po.bos_id = tok.bos();
    const int64_t total = o->n_chunks < 0 ? static_cast<int64_t>(tokens.size()) / o->n_ctx
                                          : std::min(o->n_chunks, static_cast<int64_t>(tokens.size()) / o->n_ctx);
    fmt::print(stderr, "{} tokens, {} chunks of {}\n", tokens.size(), total, o->n_ctx);
    ProgressBar bar(base ? "KLD" : "PPL", total);
    po.on_chunk = [&bar](int64_t c, double ppl) {
      bar.set_label(fmt::format("PPL {:.4f}", ppl));
      bar.update(c + 1);
    };
    GenerationFlags flags;
    flags.threads = o->threads;
    const SessionOptions so = session_options(flags);
    if (base) {
      auto r = kl_divergence(base->model, m->model, tokens, po, so);
      bar.finish();
      if (!r) return report_error(r.status());
      if (o->json) {
        fmt::print("{}\n", kl_json(*r).dump(2));
      } else {
        print_kl(*r);
      }
      return 0;
    }
    auto r = perplexity(m->model, tokens, po, so);
    bar.finish();
    if (!r) return report_error(r.status());
    if (o->json) {
      fmt::print("{}\n", ppl_json(*r).dump(2));
    } else {
      fmt::print("{}\n", chunk_list(r->chunk_ppl));
      fmt::print("Final estimate: PPL = {:.4f} ± {:.5f}\n", r->ppl, r->ppl_err);
    }
    return 0;
  };
}

}  // namespace quorum::cli
