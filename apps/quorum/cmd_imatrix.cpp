// `quorum imatrix -m MODEL -f CALIB -o FILE [--ctx 512] [--chunks N]`: the importance matrix
// (mean squared activation per weight column) as llama-imatrix computes it, written in its
// legacy .dat format (readable by `quorum quantize --imatrix` and llama-quantize). Also the
// calibration-text loader shared with `quorum quantize --method gptq`.
#include <fmt/format.h>

#include <memory>

#include "commands.h"
#include "core/mmap_file.h"
#include "core/progress.h"
#include "engine/calibrate.h"
#include "quant/imatrix.h"
#include "tokenizer/tokenizer.h"

namespace quorum::cli {

Result<CalibrationText> load_calibration_text(const Model& model, const std::string& path) {
  if (path.empty()) {
    return Error(ErrorCode::kInvalidArgument, "no calibration text given")
        .hint("pass a text file, e.g. ../shared/data/calibration/groups_merged.txt");
  }
  auto text = read_text_file(path);
  if (!text) {
    return Error(ErrorCode::kNotFound, "cannot read the calibration text")
        .where(path).actual(text.status().to_string());
  }
  QUORUM_ASSIGN_OR_RETURN(auto tok, tokenizer::Tokenizer::from_gguf(model.file()));
  CalibrationText out;
  out.tokens = tok->encode(*text, /*add_special=*/true, /*parse_special=*/false);
  out.add_bos = tok->add_bos();
  out.bos_id = tok->bos();
  return out;
}

RunFn setup_imatrix(CLI::App& sub) {
  struct Opts {
    std::string model, calib, out = "imatrix.dat";
    int64_t ctx = 512, chunks = -1;
    int threads = 0;
    bool process_output = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("-m,--model", o->model, "Model (GGUF, safetensors, llama2.c)")->required();
  sub.add_option("-f,--file", o->calib, "Calibration text (never the evaluation text)")
      ->required();
  sub.add_option("-o,--output", o->out, "Output .dat file")->capture_default_str();
  sub.add_option("-c,--ctx", o->ctx, "Tokens per chunk")->capture_default_str();
  sub.add_option("--chunks", o->chunks, "Chunks to process (-1: all the text holds)")
      ->capture_default_str();
  sub.add_option("-t,--threads", o->threads, "Threads (default: all cores)");
  sub.add_flag("--process-output", o->process_output, "Also collect output.weight");
  return [o]() -> int {
    auto model = Model::load(o->model);
    if (!model) return report_error(model.status());
    auto text = load_calibration_text(**model, o->calib);
    if (!text) return report_error(text.status());
    CalibrationOptions co;
    co.n_ctx = o->ctx;
    co.n_chunks = o->chunks;
    co.add_bos = text->add_bos;
    co.bos_id = text->bos_id;
    auto n = calibration_chunks(static_cast<int64_t>(text->tokens.size()), co);
    if (!n) return report_error(n.status());
    ProgressBar bar("imatrix", *n);
    co.progress = [&bar](const std::string&, int64_t done, int64_t) { bar.update(done); };
    SessionOptions so;
    so.n_threads = o->threads;
    quant::ImatrixCollectorOptions io;
    io.process_output = o->process_output;
    quant::ImatrixCollector collector(io);
    auto ran = run_calibration(*model, text->tokens, co, collector, so);
    bar.finish();
    if (!ran) return report_error(ran.status());
    const quant::Imatrix m = collector.result(o->calib);
    if (Status st = quant::save_imatrix(m, o->out); !st.is_ok()) return report_error(st);
    fmt::print("{}: {} entries, {} chunks of {} tokens ({} tokens in the text)\n", o->out,
               m.entries.size(), *ran, o->ctx, text->tokens.size());
    return 0;
  };
}

}  // namespace quorum::cli
