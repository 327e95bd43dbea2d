// `quorum info MODEL [--json] [--vocab F]`: what a model file holds (any format), without
// loading weights for inference.
#include <fmt/format.h>

#include <memory>

#include "commands.h"
#include "model/summary.h"

namespace quorum::cli {

RunFn setup_info(CLI::App& sub) {
  struct Opts {
    std::string path, vocab;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("model", o->path,
                 "GGUF file, Hugging Face model directory (config.json + safetensors) or "
                 "llama2.c .bin")
      ->required();
  sub.add_flag("--json", o->json, "Print machine-readable JSON");
  sub.add_option("--vocab", o->vocab,
                 "llama2.c only: tokenizer.bin, SentencePiece .model, .vocab or GGUF to take the "
                 "vocabulary from");
  return [o]() -> int {
    OpenModelOptions opts;
    opts.vocab_path = o->vocab;
    auto s = summarize_model(o->path, opts);
    if (!s) return report_error(s.status());
    if (o->json) {
      fmt::print("{}\n", summary_to_json(*s).dump(2));
    } else {
      fmt::print("{}", summary_to_text(*s));
    }
    return 0;
  };
}

}  // namespace quorum::cli
