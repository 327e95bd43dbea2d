// `quorum quantize IN OUT TYPE [--tensor-type P=T ...] [--imatrix F] [--threads N]
//  [--method rtn|gptq|awq] [--calib F] [--calib-tokens N] [--gptq-damp X] [--gptq-block N]
//  [--act-order] [--gptq-sequential B]`: writes a quantized copy of a GGUF model with one of llama.cpp's mixes
// (byte-identical to llama-quantize for the same type with rtn); a per-tensor progress bar goes
// to stderr. GPTQ runs the calibration text through the input model with the engine.
#include <fmt/format.h>

#include <memory>

#include "commands.h"
#include "core/progress.h"
#include "engine/calibrate.h"
#include "quant/quantize.h"

namespace quorum::cli {

RunFn setup_quantize(CLI::App& sub) {
  struct Opts {
    std::string in, out, type, imatrix, method = "rtn";
    std::vector<std::string> tensor_types, params;
    int threads = 0;
    bool list = false;
    std::string calib;
    int64_t calib_tokens = 8192;
    quant::GptqOptions gptq;
    quant::AwqOptions awq;
    bool awq_no_clip = false;
    bool awq_no_importance = false;
  };
  auto o = std::make_shared<Opts>();
  std::string types_help = "File type (mix):";
  for (const auto& f : quant::file_types()) types_help += std::string(" ") + f.name;
  sub.add_option("input", o->in, "Input GGUF (F32/F16/BF16 weights); never modified");
  sub.add_option("output", o->out, "Output GGUF");
  sub.add_option("type", o->type, types_help + " (aliases Q3_K, Q4_K, Q5_K = the _M mixes)");
  sub.add_option("--tensor-type", o->tensor_types,
                 "Override: PATTERN=TYPE (regex searched in tensor names, first match wins), "
                 "e.g. attn_v=q8_0; repeatable");
  sub.add_option("--imatrix", o->imatrix, "Importance matrix from llama-imatrix (.imatrix/.dat)");
  sub.add_option("--threads", o->threads, "Worker threads (default: all cores)");
  sub.add_option("--method", o->method, "Quantization method (see --list)");
  sub.add_option("--param", o->params,
                 "Method parameter NAME=VALUE (see --list), e.g. --param iterations=40; repeatable");
  sub.add_flag("--list", o->list, "List the file types and methods and exit");
  sub.add_option("--calib", o->calib, "Calibration text for gptq/awq (never the evaluation text)");
  sub.add_option("--calib-tokens", o->calib_tokens, "Calibration tokens for gptq/awq (chunks of 512)")
      ->capture_default_str();
  sub.add_option("--gptq-damp", o->gptq.damp, "GPTQ damping: lambda = damp * mean(diag H)")
      ->capture_default_str();
  sub.add_option("--gptq-block", o->gptq.block_size, "GPTQ lazy-batch width (columns)")
      ->capture_default_str();
  sub.add_flag("--act-order", o->gptq.act_order, "GPTQ: columns by decreasing Hessian diagonal");
  sub.add_option("--gptq-sequential", o->gptq.sequential,
                 "GPTQ: Hessians of layer N from a pass with layers < N quantized (one "
                 "calibration pass per layer)")
      ->default_val(o->gptq.sequential);
  sub.add_option("--gptq-embedding-fit", o->gptq.embedding_compensation,
                 "GPTQ: fit layer 0's attn_q/k/v to the inputs of the quantized token_embd (one "
                 "more calibration pass)")
      ->default_val(o->gptq.embedding_compensation);
  sub.add_option("--gptq-embedding-rounding", o->gptq.embedding_rounding,
                 "GPTQ: round token_embd with GPTQ for the output error of layer 0's weights "
                 "that read it (off: RTN, as llama-quantize)")
      ->default_val(o->gptq.embedding_rounding);
  sub.add_option("--awq-grid", o->awq.grid, "AWQ: alpha grid points over [0, 1)")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  sub.add_flag("--awq-no-clip", o->awq_no_clip, "AWQ: no per-group range shrink search");
  sub.add_flag("--awq-no-importance", o->awq_no_importance,
               "AWQ: quantize the scaled weights without activation importance (E[x^2]/s^2)");
  sub.add_flag("--awq-scale-qk", o->awq.scale_scores,
               "AWQ: also search scales for the attn_q/k/v group (off: s = 1 there)");
  sub.add_option("--awq-embedding-rounding", o->awq.embedding_rounding,
                 "AWQ: round token_embd as GPTQ does (for layer 0's weights that read it; no "
                 "scale can protect a one-hot input); off: RTN")
      ->default_val(o->awq.embedding_rounding);
  return [o]() -> int {
    if (o->list) {
      fmt::print("file types:\n");
      for (const auto& f : quant::file_types()) fmt::print("  {:8} {}\n", f.name, f.summary);
      fmt::print("methods:\n");
      for (const auto& m : quant::quant_methods()) {
        fmt::print("  {:8} {}\n           after: {}\n", m.name, m.summary, m.reference);
        for (const auto& p : m.params) {
          fmt::print("           {} (default {}): {}\n", p.name,
                     *p.default_value ? p.default_value : "none", p.help);
        }
      }
      return 0;
    }
    if (o->in.empty() || o->out.empty() || o->type.empty()) {
      return report_error(Error(ErrorCode::kInvalidArgument, "missing arguments")
                              .expected("quorum quantize IN OUT TYPE")
                              .hint("see quorum quantize --list for the types"));
    }
    const auto ftype = quant::file_type_from_name(o->type);
    if (!ftype) {
      return report_error(Error(ErrorCode::kInvalidArgument, "unknown quantization type")
                              .actual(o->type).hint("see quorum quantize --list"));
    }
    quant::QuantizeOptions opt;
    opt.method = o->method;
    opt.ftype = *ftype;
    opt.tensor_types = o->tensor_types;
    opt.imatrix_path = o->imatrix;
    opt.method_params = o->params;
    opt.threads = o->threads;
    opt.gptq = o->gptq;
    opt.awq = o->awq;
    opt.awq.clip = !o->awq_no_clip;
    opt.awq.importance = !o->awq_no_importance;
    if (o->method == "gptq" || o->method == "awq") {
      // The input model through the engine, for the calibration passes (read-only); the
      // quantizer reads the tensors from the same mapping.
      auto model = Model::load(o->in);
      if (!model) return report_error(model.status());
      opt.input = &(*model)->file();
      auto text = load_calibration_text(**model, o->calib);
      if (!text) return report_error(text.status());
      CalibrationOptions co;
      co.n_ctx = std::min<int64_t>(512, (*model)->hparams().n_ctx_train);
      co.n_chunks = std::max<int64_t>(1, o->calib_tokens / co.n_ctx);
      co.add_bos = text->add_bos;
      co.bos_id = text->bos_id;
      auto chunks = calibration_chunks(static_cast<int64_t>(text->tokens.size()), co);
      if (!chunks) return report_error(chunks.status());
      SessionOptions so;
      so.n_threads = o->threads;
      opt.calibrate = make_calibration_run(*model, text->tokens, co, so);
      opt.calibrate_with = make_calibration_run_with(*model, std::move(text->tokens), co, so);
    }
    std::unique_ptr<ProgressBar> bar;
    opt.on_tensor = [&bar](size_t i, size_t n, const std::string& name, DType t) {
      if (!bar) bar = std::make_unique<ProgressBar>("quantize", static_cast<int64_t>(n));
      bar->set_label(fmt::format("{} -> {}", name, dtype_name(t)));
      bar->update(static_cast<int64_t>(i));
    };
    auto rep = quant::quantize_gguf(o->in, o->out, opt);
    if (bar) {
      bar->update(static_cast<int64_t>(rep ? rep->n_tensors : 0));
      bar->finish();
    }
    if (!rep) return report_error(rep.status());
    fmt::print("{}: {} tensors ({} quantized, {} with imatrix, {} fallback), {:.2f} MiB -> {:.2f} MiB\n",
               o->out, rep->n_tensors, rep->n_quantized, rep->n_with_imatrix, rep->n_fallback,
               rep->bytes_in / 1048576.0, rep->bytes_out / 1048576.0);
    if (o->method == "gptq") {
      fmt::print("gptq: {} tensors, {} calibration passes\n", rep->n_gptq,
                 rep->calibration_passes);
    }
    for (const auto& g : rep->awq_groups) {
      if (g.applied) {
        fmt::print("awq: {:<16} alpha {:.2f}{}  calibration error {:.4g} -> {:.4g} (rtn -> awq)\n",
                   g.name, g.alpha, g.importance ? " +importance" : "", g.error_rtn, g.error_awq);
      } else {
        fmt::print("awq: {:<16} skipped: {}\n", g.name, g.note);
      }
    }
    return 0;
  };
}

}  // namespace quorum::cli
