// `quorum convert IN OUT [--type f32|f16|bf16] [--vocab FILE]`: between GGUF and Hugging Face
// safetensors, and from llama2.c checkpoints. OUT's name picks the format (*.gguf -> GGUF,
// *.safetensors or a directory -> safetensors + config.json).
#include <fmt/format.h>

#include <memory>

#include "commands.h"
#include "io/convert.h"

namespace quorum::cli {

RunFn setup_convert(CLI::App& sub) {
  struct Opts {
    std::string in, out, type, vocab;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("in", o->in, "Input model: .gguf, .safetensors, HF directory or llama2.c .bin")->required();
  sub.add_option("out", o->out, "Output: *.gguf, *.safetensors or a directory (HF layout)")->required();
  sub.add_option("--type", o->type, "Float type of the output tensors (default: keep)")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}));
  sub.add_option("--vocab", o->vocab,
                 "llama2.c input: tokenizer.bin, SentencePiece .model, .vocab or GGUF with the vocabulary");
  return [o]() -> int {
    ConvertOptions opts;
    if (!o->type.empty()) opts.type = dtype_from_name(o->type);
    opts.vocab_path = o->vocab;
    const Status s = convert_model(o->in, o->out, opts);
    if (!s) return report_error(s);
    fmt::print("wrote {} ({})\n", o->out,
               output_format_for(o->out) == OutputFormat::kGguf ? "GGUF" : "safetensors");
    return 0;
  };
}

}  // namespace quorum::cli
